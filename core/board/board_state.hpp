// BoardState: the deterministic state of one room, built only by applying durable events.
// Pure (invariant 5): no clock, no I/O, no randomness; time comes from the event. The server's
// Room and the client SDK's mirror run this same code. Not thread-safe: one owner at a time.
#pragma once

#include <string>
#include <unordered_map>

#include "core/common/error.hpp"
#include "core/common/ids.hpp"
#include "huddle/v1/board.pb.h"
#include "huddle/v1/event.pb.h"

namespace huddle::board {

class BoardState {
 public:
  BoardState() = default;
  // Starts from a stored snapshot (the state after event snapshot.seq()).
  explicit BoardState(huddle::v1::BoardSnapshot snapshot);

  // Applies the next event of the room. Returns Errc::kInvalidArgument, and changes nothing, if
  // the event does not chain onto this state (prev_seq != seq()) or names another room.
  [[nodiscard]] boost::system::error_code apply(const huddle::v1::Event& event);

  [[nodiscard]] const huddle::v1::BoardSnapshot& snapshot() const noexcept { return snap_; }
  [[nodiscard]] Seq seq() const noexcept { return Seq{snap_.seq()}; }
  [[nodiscard]] bool created() const noexcept { return snap_.has_room(); }
  [[nodiscard]] bool has_member(const MemberId& member) const;

  // Deterministic bytes: replaying the same events always gives the same string.
  [[nodiscard]] std::string serialize() const;

 private:
  void index_roster();

  huddle::v1::BoardSnapshot snap_;
  std::unordered_map<std::string, int> roster_index_;  // member_id -> index into snap_.roster()
};

}  // namespace huddle::board
