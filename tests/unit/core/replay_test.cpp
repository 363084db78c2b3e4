// Invariant 5 (deterministic state) over random sessions of every board command: replaying the
// log gives byte-equal state, a snapshot plus the tail equals the full replay, the stored bytes
// of every event replay identically, and an event that does not fit the state changes nothing.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "board_fixture.hpp"
#include "core/board/board_state.hpp"
#include "random_session.hpp"

namespace huddle::board::testing {
namespace {

constexpr std::uint32_t kSeeds[] = {1U, 2U, 3U, 20240611U};

struct SessionCase {
  std::uint32_t seed;
  bool anonymous;
  bool hide_ideas;
};

// Each seed once; the room options vary with the seed so every combination is replayed.
std::vector<SessionCase> session_cases() {
  std::vector<SessionCase> out;
  int i = 0;
  for (auto seed : kSeeds) {
    out.push_back({seed, (i & 1) != 0, (i & 2) == 0});
    ++i;
  }
  return out;
}

const RandomSession& session_for(const SessionCase& c) {
  static std::map<std::uint32_t, RandomSession> cache;
  auto it = cache.find(c.seed);
  if (it == cache.end()) {
    it = cache
             .emplace(c.seed, random_session({.seed = c.seed,
                                              .commands = 3000,
                                              .anonymous = c.anonymous,
                                              .hide_ideas = c.hide_ideas}))
             .first;
  }
  return it->second;
}

std::string trace(const SessionCase& c) {
  return "seed " + std::to_string(c.seed) + (c.anonymous ? " anonymous" : "") +
         (c.hide_ideas ? " hide_ideas" : "");
}

// The generator really exercises the state machine: every kind of event is accepted, and the
// interesting rejections happen, including votes past the budget. Otherwise the properties
// below would hold vacuously.
TEST(Replay, RandomSessionsCoverEveryEventKindAndTheMainRejections) {
  for (const auto& c : session_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& rs = session_for(c);
    EXPECT_EQ(rs.attempted, 3000U);
    EXPECT_GT(rs.session.log.size(), 1000U);
    const auto* d = v1::Event::descriptor();
    for (int i = 0; i < d->oneof_decl(0)->field_count(); ++i) {
      const auto* field = d->oneof_decl(0)->field(i);
      if (field->number() == v1::Event::kRoomCreated ||
          field->number() == v1::Event::kMemberJoined ||
          field->number() == v1::Event::kRoomArchived) {
        continue;  // Not commands: the generator appends them directly.
      }
      EXPECT_GT(rs.accepted.count(field->number()), 0U) << "no accepted " << field->name();
    }
    for (Errc e :
         {Errc::kInvalidArgument, Errc::kPermissionDenied, Errc::kWrongPhase, Errc::kRoomClosed,
          Errc::kIdeaNotFound, Errc::kGroupNotFound, Errc::kCommentNotFound, Errc::kActionNotFound,
          Errc::kMemberNotFound, Errc::kVoteBudgetExceeded, Errc::kNoVoteToRetract,
          Errc::kLimitExceeded, Errc::kRoomArchived}) {
      EXPECT_GT(rs.rejected.count(e), 0U) << make_error_code(e).message();
    }
  }
}

// Invariant 5: replaying the log from an empty BoardState gives the bytes of the live state.
TEST(Replay, ReplayFromSeqOneIsByteEqualToTheLiveState) {
  for (const auto& c : session_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& rs = session_for(c);
    const std::string live = rs.session.state.serialize();
    EXPECT_EQ(replay(rs.session.log).serialize(), live);
    EXPECT_EQ(deterministic_bytes(rs.session.state.snapshot()), live);
    EXPECT_EQ(rs.session.state.snapshot().seq(), rs.session.log.back().seq());
  }
}

// ideas_seq() (the server shares pages of ideas across the heads it spans): replaying every
// event of the random sessions, an event that changes the ideas' bytes moves ideas_seq to its
// seq, and the kinds that can_change_ideas says leave them alone do, every time.
TEST(Replay, IdeasSeqMovesWithEveryEventThatChangesTheIdeas) {
  auto ideas_bytes = [](const BoardState& s) {
    std::string out;
    for (const auto& idea : s.snapshot().ideas()) {
      out += deterministic_bytes(idea);
    }
    return out;
  };
  for (const auto& c : session_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& rs = session_for(c);
    BoardState state;
    std::map<int, int> unchanged_by_kind;  // Events of a whitelisted kind seen, by kind.
    for (const auto& e : rs.session.log) {
      const auto before = ideas_bytes(state);
      const auto seq_before = state.ideas_seq();
      ASSERT_FALSE(state.apply(e));
      if (ideas_bytes(state) != before) {
        ASSERT_EQ(state.ideas_seq(), Seq{e.seq()}) << e.ShortDebugString();
      }
      if (can_change_ideas(e.payload_case())) {
        EXPECT_EQ(state.ideas_seq(), Seq{e.seq()});
      } else {
        EXPECT_EQ(state.ideas_seq(), seq_before);
        ++unchanged_by_kind[e.payload_case()];
      }
    }
    // Every kind on the list was seen, so the check above is not vacuous for any of them.
    for (const auto kind :
         {v1::Event::kMemberJoined, v1::Event::kChatPosted, v1::Event::kGoalSet,
          v1::Event::kRoleSet, v1::Event::kGroupCreated, v1::Event::kGroupRenamed,
          v1::Event::kActionCreated, v1::Event::kActionUpdated, v1::Event::kActionStatusSet}) {
      EXPECT_GT(unchanged_by_kind[kind], 0) << kind;
    }
    // A state started from a snapshot starts at the snapshot's seq.
    EXPECT_EQ(BoardState(state.snapshot()).ideas_seq(), state.seq());
  }
}

// Invariant 5: the same seed gives the same log and the same bytes (no hidden
// nondeterminism, e.g. hash-map order, in the rules or the state).
TEST(Replay, TheSameSeedGivesTheSameLogAndBytes) {
  const auto a = random_session({.seed = 99, .commands = 800, .anonymous = true});
  const auto b = random_session({.seed = 99, .commands = 800, .anonymous = true});
  ASSERT_EQ(a.session.log.size(), b.session.log.size());
  for (std::size_t i = 0; i < a.session.log.size(); ++i) {
    ASSERT_EQ(deterministic_bytes(a.session.log[i]), deterministic_bytes(b.session.log[i]))
        << "event " << i;
  }
  EXPECT_EQ(a.session.state.serialize(), b.session.state.serialize());
}

// Invariant 5: a stored snapshot (as bytes) at seq S plus the events after S gives the same
// bytes as the replay from seq 1, for several cut points S.
TEST(Replay, SnapshotAtAnyCutPlusTheTailEqualsTheFullReplay) {
  for (const auto& c : session_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& log = session_for(c).session.log;
    const std::string full = replay(log).serialize();
    const std::size_t n = log.size();
    for (std::size_t cut :
         {std::size_t{1}, std::size_t{2}, n / 7, n / 3, n / 2, 2 * n / 3, n - 1, n}) {
      SCOPED_TRACE("cut after " + std::to_string(cut) + " events");
      const std::vector<v1::Event> head(log.begin(), log.begin() + static_cast<long>(cut));
      const std::vector<v1::Event> tail(log.begin() + static_cast<long>(cut), log.end());
      // The snapshot goes through its stored bytes, as the snapshots column family keeps it.
      std::string stored;
      ASSERT_TRUE(replay(head).snapshot().SerializeToString(&stored));
      v1::BoardSnapshot loaded;
      ASSERT_TRUE(loaded.ParseFromString(stored));
      BoardState restored(std::move(loaded));
      EXPECT_EQ(restored.seq(), Seq{log[cut - 1].seq()});
      EXPECT_EQ(replay(tail, std::move(restored)).serialize(), full);
    }
  }
}

// The log stores event bytes: every event round-trips through SerializeToString /
// ParseFromString unchanged, and replaying the parsed events gives the same state.
TEST(Replay, StoredEventBytesRoundTripAndReplayIdentically) {
  for (const auto& c : session_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& log = session_for(c).session.log;
    std::vector<v1::Event> parsed;
    parsed.reserve(log.size());
    for (const auto& e : log) {
      std::string bytes;
      ASSERT_TRUE(e.SerializeToString(&bytes));
      v1::Event back;
      ASSERT_TRUE(back.ParseFromString(bytes));
      ASSERT_EQ(deterministic_bytes(back), deterministic_bytes(e)) << "seq " << e.seq();
      parsed.push_back(std::move(back));
    }
    // Step by step, so a divergence names its event.
    BoardState a;
    BoardState b;
    for (std::size_t i = 0; i < log.size(); ++i) {
      ASSERT_FALSE(a.apply(log[i]));
      ASSERT_FALSE(b.apply(parsed[i]));
      ASSERT_EQ(a.serialize(), b.serialize()) << "seq " << log[i].seq();
    }
  }
}

// ---- Events that do not fit the state are rejected and change nothing (invariants 1, 9) ----

constexpr std::uint64_t kMissing = 987'654;

// Variants of `next` (the event that does apply after `state`) that must not apply.
std::vector<std::pair<std::string, v1::Event>> broken_variants(const v1::Event& next) {
  std::vector<std::pair<std::string, v1::Event>> out;
  const auto add = [&](const std::string& why, auto&& mutate) {
    v1::Event e = next;
    mutate(e);
    out.emplace_back(why, std::move(e));
  };
  add("prev_seq ahead", [](v1::Event& e) { e.set_prev_seq(e.prev_seq() + 1); });
  if (next.prev_seq() > 0) {
    add("prev_seq behind", [](v1::Event& e) { e.set_prev_seq(e.prev_seq() - 1); });
    add("seq not above the head", [](v1::Event& e) { e.set_seq(e.prev_seq()); });
    add("another room", [](v1::Event& e) { e.set_room_id("other-room"); });
  }
  if (!next.has_room_created() && !next.has_member_joined()) {
    add("actor not in the roster",
        [](v1::Event& e) { e.mutable_actor()->set_member_id("idStrangerQ"); });
  }
  switch (next.payload_case()) {
    case v1::Event::kMemberJoined:
      add("join without actor", [](v1::Event& e) { e.clear_actor(); });
      break;
    case v1::Event::kRoleSet:
      add("missing member", [](v1::Event& e) { e.mutable_role_set()->set_member_id("nobody"); });
      break;
    case v1::Event::kIdeaEdited:
      add("missing idea", [](v1::Event& e) { e.mutable_idea_edited()->set_idea_id(kMissing); });
      break;
    case v1::Event::kIdeaDeleted:
      add("missing idea", [](v1::Event& e) { e.mutable_idea_deleted()->set_idea_id(kMissing); });
      break;
    case v1::Event::kIdeaMoved:
      add("missing idea", [](v1::Event& e) { e.mutable_idea_moved()->set_idea_id(kMissing); });
      add("missing group", [](v1::Event& e) { e.mutable_idea_moved()->set_group_id(kMissing); });
      break;
    case v1::Event::kGroupRenamed:
      add("missing group", [](v1::Event& e) { e.mutable_group_renamed()->set_group_id(kMissing); });
      break;
    case v1::Event::kGroupsMerged:
      add("missing from",
          [](v1::Event& e) { e.mutable_groups_merged()->set_from_group_id(kMissing); });
      add("missing into",
          [](v1::Event& e) { e.mutable_groups_merged()->set_into_group_id(kMissing); });
      break;
    case v1::Event::kGroupDeleted:
      add("missing group", [](v1::Event& e) { e.mutable_group_deleted()->set_group_id(kMissing); });
      break;
    case v1::Event::kCommentPosted:
      add("missing idea", [](v1::Event& e) { e.mutable_comment_posted()->set_idea_id(kMissing); });
      break;
    case v1::Event::kCommentDeleted:
      add("missing idea", [](v1::Event& e) { e.mutable_comment_deleted()->set_idea_id(kMissing); });
      add("missing comment",
          [](v1::Event& e) { e.mutable_comment_deleted()->set_comment_id(kMissing); });
      break;
    case v1::Event::kReactionSet:
      add("missing idea", [](v1::Event& e) { e.mutable_reaction_set()->set_idea_id(kMissing); });
      break;
    case v1::Event::kVoteCast:
      add("missing idea", [](v1::Event& e) { e.mutable_vote_cast()->set_idea_id(kMissing); });
      break;
    case v1::Event::kVoteRetracted:
      add("missing idea", [](v1::Event& e) { e.mutable_vote_retracted()->set_idea_id(kMissing); });
      break;
    case v1::Event::kActionCreated:
      add("missing owner",
          [](v1::Event& e) { e.mutable_action_created()->set_owner_id("nobody"); });
      add("missing idea", [](v1::Event& e) { e.mutable_action_created()->set_idea_id(kMissing); });
      break;
    case v1::Event::kActionUpdated:
      add("missing action",
          [](v1::Event& e) { e.mutable_action_updated()->set_action_id(kMissing); });
      add("missing owner",
          [](v1::Event& e) { e.mutable_action_updated()->set_owner_id("nobody"); });
      break;
    case v1::Event::kActionStatusSet:
      add("missing action",
          [](v1::Event& e) { e.mutable_action_status_set()->set_action_id(kMissing); });
      break;
    case v1::Event::kPhaseChanged:
      add("reveals a missing idea",
          [](v1::Event& e) { e.mutable_phase_changed()->add_revealed()->set_idea_id(kMissing); });
      break;
    case v1::Event::kHideIdeasSet:
      add("reveals a missing idea",
          [](v1::Event& e) { e.mutable_hide_ideas_set()->add_revealed()->set_idea_id(kMissing); });
      break;
    case v1::Event::kIdeasRevealed:
      add("reveals a missing idea",
          [](v1::Event& e) { e.mutable_ideas_revealed()->add_revealed()->set_idea_id(kMissing); });
      break;
    default: break;
  }
  return out;
}

// Invariant 1/9: at every position of the log, an event that does not chain, names another
// room or actor outside the roster, or names something the board lacks is rejected by apply()
// with INVALID_ARGUMENT and changes nothing; the real next event still applies afterwards.
TEST(Replay, EventsThatDoNotFitTheStateAreRejectedAndChangeNothing) {
  std::map<std::string, int> checked;  // By payload and mutation, to show coverage.
  for (const auto& c : session_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& log = session_for(c).session.log;
    BoardState state;
    // Position 0 too: only a RoomCreated chaining onto 0 starts a room.
    for (std::size_t i = 0; i < log.size(); ++i) {
      const std::string before = state.serialize();
      std::string tried;
      for (const auto& [why, bad] : broken_variants(log[i])) {
        ASSERT_EQ(state.apply(bad), Errc::kInvalidArgument)
            << why << " accepted: " << bad.ShortDebugString();
        ASSERT_EQ(state.seq(), Seq{log[i].prev_seq()}) << why;
        tried += why + "; ";
        ++checked[std::string(bad.GetDescriptor()
                                  ->FindFieldByNumber(static_cast<int>(bad.payload_case()))
                                  ->name()) +
                  ": " + why];
      }
      // Once per position (serializing is the cost): no rejected variant changed anything.
      ASSERT_EQ(state.serialize(), before) << "after rejecting: " << tried;
      ASSERT_FALSE(state.apply(log[i])) << log[i].ShortDebugString();
      // A replayed (duplicate) event is rejected too: it no longer chains.
      const std::string after = state.serialize();
      ASSERT_EQ(state.apply(log[i]), Errc::kInvalidArgument);
      ASSERT_EQ(state.serialize(), after);
    }
  }
  // Every "names something missing" mutation above was exercised at least once.
  for (const char* key :
       {"idea_edited: missing idea", "idea_deleted: missing idea", "idea_moved: missing idea",
        "idea_moved: missing group", "comment_posted: missing idea",
        "comment_deleted: missing comment", "reaction_set: missing idea", "vote_cast: missing idea",
        "vote_retracted: missing idea", "action_created: missing idea",
        "action_updated: missing action", "action_status_set: missing action",
        "groups_merged: missing into", "phase_changed: reveals a missing idea",
        "ideas_revealed: reveals a missing idea", "role_set: missing member"}) {
    EXPECT_GT(checked[key], 0) << key;
  }
}

// A snapshot-started state rejects exactly what the replayed one rejects: the roster index is
// rebuilt from the snapshot (a MemberJoined for a member already in it is refused).
TEST(Replay, ARestoredStateRejectsADuplicateJoin) {
  const auto& rs = session_for(session_cases()[0]);
  BoardState restored(rs.session.state.snapshot());
  for (const auto& m : random_members()) {
    v1::Event join = rs.session.stamp({}, m.id);
    join.mutable_member_joined()->set_role(v1::ROLE_PARTICIPANT);
    EXPECT_EQ(restored.apply(join), Errc::kInvalidArgument) << m.id;
  }
  EXPECT_EQ(restored.serialize(), rs.session.state.serialize());
}

}  // namespace
}  // namespace huddle::board::testing
