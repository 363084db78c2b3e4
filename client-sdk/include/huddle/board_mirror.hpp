// BoardMirror: a room's board kept locally by applying the events the server sends, with the
// same core/board code the server runs (DESIGN.md invariant 5). It starts from the snapshot the
// server sent this member (already redacted for them), so it equals what the server would send
// them now (docs/PROTOCOL.md, "Visibility"). Not thread-safe: one owner (the Client's strand).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/board/board_state.hpp"
#include "huddle/v1/event.pb.h"
#include "huddle/v1/frame.pb.h"

namespace huddle {

class BoardMirror {
 public:
  enum class Applied {
    kApplied,    // The next event: applied.
    kDuplicate,  // Already applied (seq at or below the mirror's): ignored.
    kGap,        // Does not chain (prev_seq != the mirror's seq) or does not apply: resync.
  };

  // Replaces the board with a snapshot (SNAPSHOT or RESET resume, or a fresh join).
  void reset(const huddle::v1::RoomSnapshot& snapshot);
  [[nodiscard]] Applied apply(const huddle::v1::Event& event);

  [[nodiscard]] bool has_board() const noexcept { return has_board_; }
  // Seq of the last event applied (or of the snapshot); 0 before the first snapshot.
  [[nodiscard]] std::uint64_t seq() const noexcept { return state_.seq().value(); }
  [[nodiscard]] const board::BoardState& state() const noexcept { return state_; }
  [[nodiscard]] const huddle::v1::BoardSnapshot& snapshot() const noexcept {
    return state_.snapshot();
  }
  // budget - votes cast by `member_id` (0 if not in the roster).
  [[nodiscard]] std::uint32_t votes_left(std::string_view member_id) const;

 private:
  board::BoardState state_;
  bool has_board_ = false;
};

}  // namespace huddle
