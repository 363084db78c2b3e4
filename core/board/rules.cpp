#include "core/board/rules.hpp"

namespace huddle::board {

Result<huddle::v1::Event> validate_post_chat(const huddle::v1::PostChat& cmd,
                                             const BoardState& state, const BoardLimits& limits) {
  if (!state.created()) {
    return Errc::kRoomNotFound;
  }
  if (cmd.text().empty() || cmd.text().size() > limits.max_chat_bytes) {
    return Errc::kInvalidArgument;
  }
  huddle::v1::Event event;
  event.mutable_chat_posted()->set_text(cmd.text());
  return event;
}

Result<huddle::v1::Event> validate_create_room(const huddle::v1::CreateRoom& cmd,
                                               const BoardLimits& limits) {
  if (!is_valid_room_id(cmd.room_id()) || cmd.title().size() > limits.max_title_bytes) {
    return Errc::kInvalidArgument;
  }
  huddle::v1::Event event;
  event.set_room_id(cmd.room_id());
  event.mutable_room_created()->set_title(cmd.title().empty() ? cmd.room_id() : cmd.title());
  return event;
}

}  // namespace huddle::board
