// How a room reaches one connection of a member. Copied into the room at join.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/common/ids.hpp"
#include "huddle/v1/board.pb.h"
#include "server/fanout/outbox.hpp"

namespace huddle::room {

struct MemberHandle {
  std::uint64_t conn_id = 0;             // Unique per connection in this process.
  huddle::v1::Member member;             // Identity (member_id, display_name).
  std::size_t shard = 0;                 // The connection's shard: where its outbox lives.
  std::weak_ptr<fanout::Outbox> outbox;  // Weak: the session owns it (CONVENTIONS 4).
  codec::Encoding encoding = codec::Encoding::kProto;
  // Join only: the role a token grant or an invite gives (admits to a private room; a new
  // member's role). ROLE_UNSPECIFIED: none.
  huddle::v1::Role grant = huddle::v1::ROLE_UNSPECIFIED;
};

}  // namespace huddle::room
