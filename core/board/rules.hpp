// Rules: validate a command against the board and the actor, producing the event to append, or
// an error that changes nothing (invariants 6 and 9). Pure: `now` is the time the room will
// stamp on the event. The matrix of roles and phases is documented in docs/PROTOCOL.md ("The
// board") and tested row by row in tests/unit/core/rules_test.cpp.
//
// Checks run in this order, so each rejection has one documented code: the room exists
// (ROOM_NOT_FOUND); the arguments keep their limits (INVALID_ARGUMENT); the actor's role
// (PERMISSION_DENIED); the phase (ROOM_CLOSED in done, else WRONG_PHASE); what the command names
// exists (IDEA_/GROUP_/COMMENT_/ACTION_/MEMBER_NOT_FOUND); then the command's own rule (votes,
// hidden ideas, board limits). Where the permission depends on authorship (edit or delete an
// idea, delete a comment, set an action's status), ROOM_CLOSED and existence come before the role.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/board/board_state.hpp"
#include "core/common/error.hpp"
#include "huddle/v1/command.pb.h"
#include "huddle/v1/event.pb.h"
#include "huddle/v1/frame.pb.h"

namespace huddle::board {

struct BoardLimits {
  std::size_t max_chat_bytes = 4000;  // A chat line, not a document; keeps events small.
  std::size_t max_title_bytes = 200;  // Fits a room list row.
  std::size_t max_display_name_bytes = 64;
  std::size_t max_idea_bytes = 1000;  // A sticky note, generously.
  std::size_t max_tags = 5;
  std::size_t max_tag_bytes = 32;
  std::size_t max_group_name_bytes = 80;
  std::size_t max_comment_bytes = 1000;
  std::size_t max_objective_bytes = 500;
  std::size_t max_criteria_bytes = 1000;
  std::size_t max_action_title_bytes = 200;
  std::size_t max_ideas = 2000;  // Live ideas in a room; keeps a snapshot and an export small.
  std::size_t max_groups = 200;
  std::size_t max_comments_per_idea = 200;
  std::size_t max_actions = 500;
  std::uint32_t max_vote_budget = 100;
  std::uint32_t max_timer_minutes = 24 * 60;
  std::int64_t max_deadline_ms = std::int64_t{30} * 24 * 3600 * 1000;  // 30 days ahead.
};

// The RoomCreated event for a CreateRoom. kInvalidArgument: bad room id, title or goal.
[[nodiscard]] Result<huddle::v1::Event> validate_create_room(const huddle::v1::CreateRoom& cmd,
                                                             const BoardLimits& limits);

// The event (payload only; the room stamps room, seq, prev_seq, time and actor) that `frame`'s
// command appends when `actor` sends it to a room whose state is `state`. Handles PostChat and
// every board command (is_board_command); anything else is kInvalidArgument.
[[nodiscard]] Result<huddle::v1::Event> validate_command(const huddle::v1::ClientFrame& frame,
                                                         const BoardState& state,
                                                         std::string_view actor,
                                                         std::int64_t now_unix_ms,
                                                         const BoardLimits& limits);

// True for the commands validate_command handles: they append exactly one event.
[[nodiscard]] bool is_board_command(huddle::v1::ClientFrame::CommandCase c) noexcept;

// YYYY-MM-DD naming a real calendar day.
[[nodiscard]] bool is_valid_date(std::string_view date) noexcept;

}  // namespace huddle::board
