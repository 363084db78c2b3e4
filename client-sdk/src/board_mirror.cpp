#include "huddle/board_mirror.hpp"

namespace huddle {

void BoardMirror::reset(const v1::RoomSnapshot& snapshot) {
  state_ = board::BoardState(snapshot.board());
  has_board_ = true;
}

BoardMirror::Applied BoardMirror::apply(const v1::Event& event) {
  if (!has_board_) {
    return Applied::kGap;
  }
  if (event.seq() <= seq()) {
    return Applied::kDuplicate;
  }
  // Gaps are found by prev_seq, never by seq arithmetic (invariant 1).
  if (event.prev_seq() != seq() || state_.apply(event)) {
    return Applied::kGap;
  }
  return Applied::kApplied;
}

std::uint32_t BoardMirror::votes_left(std::string_view member_id) const {
  const auto* m = state_.find_member(member_id);
  const auto budget = state_.snapshot().voting().budget();
  if (m == nullptr || m->votes_cast() >= budget) {
    return 0;
  }
  return budget - m->votes_cast();
}

}  // namespace huddle
