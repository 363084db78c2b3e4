// BoardState: the deterministic state of one room, built only by applying durable events.
// Pure (invariant 5): no clock, no I/O, no randomness; time comes from the event. The server's
// Room and the client SDK's mirror run this same code. Not thread-safe: one owner at a time.
//
// A mirror applies events as the server sent them to its member, so apply() accepts redacted
// events (core/board/visibility.hpp): an empty actor updates only totals, a hidden idea has no
// text. apply(redact(S, v), redact(e, v)) == redact(apply(S, e), v) is tested for every event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/common/error.hpp"
#include "core/common/ids.hpp"
#include "huddle/v1/board.pb.h"
#include "huddle/v1/event.pb.h"

namespace huddle::board {

class BoardState {
 public:
  BoardState() = default;
  // Starts from a stored snapshot (the state after event snapshot.seq()), or from a snapshot the
  // server sent to a member (a mirror).
  explicit BoardState(huddle::v1::BoardSnapshot snapshot);

  // Applies the next event of the room. Returns Errc::kInvalidArgument, and changes nothing, if
  // the event does not chain onto this state (prev_seq != seq()), names another room, or refers
  // to something the board does not have. Events are validated by rules.hpp before they are
  // appended, so on the server a failure here is a bug or a corrupt log.
  [[nodiscard]] boost::system::error_code apply(const huddle::v1::Event& event);

  [[nodiscard]] const huddle::v1::BoardSnapshot& snapshot() const noexcept { return snap_; }
  [[nodiscard]] Seq seq() const noexcept { return Seq{snap_.seq()}; }
  // The seq of the last applied event that may have changed `ideas` (which ideas, their order or
  // any of their fields; see can_change_ideas), or of the snapshot this state started from. The
  // ideas read at any head since then are the same: the server shares pages of them across heads.
  [[nodiscard]] Seq ideas_seq() const noexcept { return ideas_seq_; }
  [[nodiscard]] bool created() const noexcept { return snap_.has_room(); }
  [[nodiscard]] bool has_member(const MemberId& member) const;

  // Look-ups; nullptr when absent.
  [[nodiscard]] const huddle::v1::RosterEntry* find_member(std::string_view member_id) const;
  [[nodiscard]] const huddle::v1::Idea* find_idea(std::uint64_t idea_id) const;
  [[nodiscard]] const huddle::v1::Group* find_group(std::uint64_t group_id) const;
  [[nodiscard]] const huddle::v1::ActionItem* find_action(std::uint64_t action_id) const;
  // ROLE_UNSPECIFIED for someone not in the roster.
  [[nodiscard]] huddle::v1::Role role_of(std::string_view member_id) const;
  [[nodiscard]] huddle::v1::Phase phase() const noexcept { return snap_.phase().phase(); }

  // Deterministic bytes: replaying the same events always gives the same string.
  [[nodiscard]] std::string serialize() const;

 private:
  // Applies the payload to `snap_`; on error snap_ may be half-changed (apply() restores it).
  [[nodiscard]] boost::system::error_code apply_payload(const huddle::v1::Event& event);
  void index_roster();
  huddle::v1::RosterEntry* mutable_member(std::string_view member_id);
  huddle::v1::Idea* mutable_idea(std::uint64_t idea_id);
  bool reveal(const google::protobuf::RepeatedPtrField<huddle::v1::RevealedIdea>& revealed);

  huddle::v1::BoardSnapshot snap_;
  std::unordered_map<std::string, int> roster_index_;  // member_id -> index into snap_.roster()
  Seq ideas_seq_{};
};

// False for the events that never touch `ideas` (a join, a chat line, the goal, a role, groups
// being created or renamed, action items); true for every other kind, new kinds included.
[[nodiscard]] bool can_change_ideas(huddle::v1::Event::PayloadCase kind) noexcept;

// Role checks shared by the rules and the clients.
[[nodiscard]] constexpr bool is_facilitator(huddle::v1::Role r) noexcept {
  return r == huddle::v1::ROLE_OWNER || r == huddle::v1::ROLE_FACILITATOR;
}
[[nodiscard]] constexpr bool can_contribute(huddle::v1::Role r) noexcept {
  return is_facilitator(r) || r == huddle::v1::ROLE_PARTICIPANT;
}

// `board` with only its `count` newest ideas (the highest idea_ids; all when it has fewer): the
// first part of a big board (Join.snapshot_ideas). Everything else is copied as it is.
[[nodiscard]] huddle::v1::BoardSnapshot with_newest_ideas(const huddle::v1::BoardSnapshot& board,
                                                          std::size_t count);

// Serializes a message with deterministic map and field order (invariant 5 compares these).
[[nodiscard]] std::string deterministic_bytes(const google::protobuf::MessageLite& message);

}  // namespace huddle::board
