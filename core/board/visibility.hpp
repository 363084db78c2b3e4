// Visibility (invariant 6): what one member may see of an event or of the board. Pure.
//
// Two rules, decided here only:
// - Hidden ideas: an idea posted during collect while hide_ideas is on carries `hidden`; its
//   text and tags reach only its author until a reveal event carries them to everyone.
// - Anonymous rooms: the author of content (chat, ideas, comments, votes, reactions) is sent
//   only to that author; everyone else gets an empty Member, and per-member contribution figures
//   of others are zero.
// Every other member sees the same redacted bytes, so an event has at most two visibility
// classes: its actor, and everybody else (invariant 7: encoded once per class).
#pragma once

#include <string_view>

#include "huddle/v1/board.pb.h"
#include "huddle/v1/event.pb.h"

namespace huddle::board {

// True when some member must get a redacted copy of `event` (anonymous: the room's option).
[[nodiscard]] bool needs_redaction(const huddle::v1::Event& event, bool anonymous);

// `event` as `viewer` may see it. viewer "" = an outsider (HTTP export): sees nothing private.
[[nodiscard]] huddle::v1::Event redact_event(const huddle::v1::Event& event,
                                             std::string_view viewer, bool anonymous);

// False when `viewer` may see `idea` as it is (redact_idea would change nothing).
[[nodiscard]] bool idea_needs_redaction(const huddle::v1::Idea& idea, std::string_view viewer,
                                        bool anonymous);

// `idea` as `viewer` may see it, in place (anonymous: the room's option).
void redact_idea(huddle::v1::Idea& idea, std::string_view viewer, bool anonymous);

// The board as `viewer` may see it.
[[nodiscard]] huddle::v1::BoardSnapshot redact_snapshot(const huddle::v1::BoardSnapshot& board,
                                                        std::string_view viewer);

}  // namespace huddle::board
