#include "core/board/board_state.hpp"

#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace huddle::board {

BoardState::BoardState(huddle::v1::BoardSnapshot snapshot) : snap_(std::move(snapshot)) {
  index_roster();
}

void BoardState::index_roster() {
  roster_index_.clear();
  for (int i = 0; i < snap_.roster_size(); ++i) {
    roster_index_.emplace(snap_.roster(i).member().member_id(), i);
  }
}

bool BoardState::has_member(const MemberId& member) const {
  return roster_index_.contains(member.value());
}

boost::system::error_code BoardState::apply(const huddle::v1::Event& event) {
  if (event.prev_seq() != snap_.seq() || event.seq() <= snap_.seq()) {
    return Errc::kInvalidArgument;
  }
  if (snap_.has_room() && event.room_id() != snap_.room().room_id()) {
    return Errc::kInvalidArgument;
  }
  switch (event.payload_case()) {
    case huddle::v1::Event::kRoomCreated: {
      if (snap_.has_room()) {
        return Errc::kInvalidArgument;
      }
      auto* room = snap_.mutable_room();
      room->set_room_id(event.room_id());
      room->set_title(event.room_created().title());
      room->set_created_unix_ms(event.time_unix_ms());
      *room->mutable_created_by() = event.actor();
      break;
    }
    case huddle::v1::Event::kMemberJoined: {
      if (has_member(MemberId{event.actor().member_id()})) {
        return Errc::kInvalidArgument;
      }
      auto* entry = snap_.add_roster();
      *entry->mutable_member() = event.actor();
      entry->set_joined_seq(event.seq());
      roster_index_.emplace(event.actor().member_id(), snap_.roster_size() - 1);
      break;
    }
    case huddle::v1::Event::kChatPosted: {
      auto it = roster_index_.find(event.actor().member_id());
      if (it == roster_index_.end()) {
        return Errc::kInvalidArgument;
      }
      auto* entry = snap_.mutable_roster(it->second);
      entry->set_chat_message_count(entry->chat_message_count() + 1);
      entry->set_last_contribution_seq(event.seq());
      snap_.set_chat_message_count(snap_.chat_message_count() + 1);
      break;
    }
    case huddle::v1::Event::PAYLOAD_NOT_SET: return Errc::kInvalidArgument;
  }
  snap_.set_seq(event.seq());
  return {};
}

std::string BoardState::serialize() const {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    snap_.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace huddle::board
