// Rules: validate a command against the board and the actor, producing the event payload to
// append, or an error that changes nothing (invariants 6 and 9). Pure.
#pragma once

#include <cstddef>

#include "core/board/board_state.hpp"
#include "core/common/error.hpp"
#include "huddle/v1/command.pb.h"
#include "huddle/v1/event.pb.h"

namespace huddle::board {

struct BoardLimits {
  std::size_t max_chat_bytes = 4000;  // A chat line, not a document; keeps events small.
  std::size_t max_title_bytes = 200;  // Fits a room list row.
  std::size_t max_display_name_bytes = 64;
};

// The payload of the event a PostChat appends. kInvalidArgument: empty or too long.
[[nodiscard]] Result<huddle::v1::Event> validate_post_chat(const huddle::v1::PostChat& cmd,
                                                           const BoardState& state,
                                                           const BoardLimits& limits);

// The RoomCreated event for a CreateRoom. kInvalidArgument: bad room id or title.
[[nodiscard]] Result<huddle::v1::Event> validate_create_room(const huddle::v1::CreateRoom& cmd,
                                                             const BoardLimits& limits);

}  // namespace huddle::board
