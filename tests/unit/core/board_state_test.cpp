// BoardState: table-driven event sequences, rejections that change nothing, and the replay
// property of DESIGN invariant 5 (replaying the log rebuilds byte-identical state).
#include "core/board/board_state.hpp"

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

namespace huddle::board {
namespace {

namespace v1 = huddle::v1;

constexpr const char* kRoom = "plan-q3";

v1::Event base_event(std::uint64_t seq, std::uint64_t prev, const std::string& actor) {
  v1::Event e;
  e.set_room_id(kRoom);
  e.set_seq(seq);
  e.set_prev_seq(prev);
  e.set_time_unix_ms(1'700'000'000'000 + static_cast<std::int64_t>(seq) * 1000);
  e.mutable_actor()->set_member_id(actor);
  e.mutable_actor()->set_display_name("name of " + actor);
  return e;
}

// The creator is put in the roster by RoomCreated (as ROLE_OWNER), so it is nobody who joins later.
constexpr const char* kOwner = "olivia";

v1::Event created(std::uint64_t seq, std::uint64_t prev, const std::string& title,
                  const std::string& actor = kOwner) {
  auto e = base_event(seq, prev, actor);
  e.mutable_room_created()->set_title(title);
  return e;
}

v1::Event joined(std::uint64_t seq, std::uint64_t prev, const std::string& actor,
                 v1::Role role = v1::ROLE_UNSPECIFIED) {
  auto e = base_event(seq, prev, actor);
  e.mutable_member_joined()->set_role(role);
  return e;
}

v1::Event chat(std::uint64_t seq, std::uint64_t prev, const std::string& actor,
               const std::string& text = "an idea") {
  auto e = base_event(seq, prev, actor);
  e.mutable_chat_posted()->set_text(text);
  return e;
}

// Applies every event, failing the test on the first rejection.
BoardState replay(const std::vector<v1::Event>& events, BoardState state = {}) {
  for (const auto& e : events) {
    auto ec = state.apply(e);
    EXPECT_FALSE(ec) << "seq " << e.seq() << ": " << ec.message();
  }
  return state;
}

// ---- Table: event sequences -> snapshot fields ----

struct ExpectedEntry {
  std::string member_id;
  std::uint64_t joined_seq = 0;
  std::uint64_t chat_message_count = 0;
  std::uint64_t last_contribution_seq = 0;
  v1::Role role = v1::ROLE_PARTICIPANT;  // MemberJoined without a role joins as a participant.
};

struct SequenceCase {
  std::string name;
  std::vector<v1::Event> events;
  std::uint64_t seq = 0;
  bool created = false;
  std::string title;
  std::int64_t created_unix_ms = 0;
  std::uint64_t chat_message_count = 0;
  std::vector<ExpectedEntry> roster;  // In roster order.
};

std::vector<SequenceCase> sequence_cases() {
  const ExpectedEntry owner{kOwner, 1, 0, 0, v1::ROLE_OWNER};
  return {
      {.name = "NoEventsIsAnEmptyBoard", .events = {}},
      // The creator is in the roster from RoomCreated, as the owner, with no MemberJoined.
      {.name = "RoomCreatedSetsRoomInfoAndTheOwnerFromTheEvent",
       .events = {created(1, 0, "Q3 plan")},
       .seq = 1,
       .created = true,
       .title = "Q3 plan",
       .created_unix_ms = 1'700'000'001'000,
       .roster = {owner}},
      {.name = "JoinsKeepJoinOrderAfterTheOwner",
       .events = {created(1, 0, "t"), joined(2, 1, "bob"), joined(3, 2, "alice")},
       .seq = 3,
       .created = true,
       .title = "t",
       .created_unix_ms = 1'700'000'001'000,
       .roster = {owner, {"bob", 2}, {"alice", 3}}},
      {.name = "JoinWithARoleKeepsTheRole",
       .events = {created(1, 0, "t"), joined(2, 1, "fay", v1::ROLE_FACILITATOR),
                  joined(3, 2, "oscar", v1::ROLE_OBSERVER)},
       .seq = 3,
       .created = true,
       .title = "t",
       .created_unix_ms = 1'700'000'001'000,
       .roster = {owner,
                  {"fay", 2, 0, 0, v1::ROLE_FACILITATOR},
                  {"oscar", 3, 0, 0, v1::ROLE_OBSERVER}}},
      {.name = "ChatsCountPerMemberAndPerRoom",
       .events = {created(1, 0, "t"), joined(2, 1, "alice"), joined(3, 2, "bob"),
                  chat(4, 3, "alice"), chat(5, 4, "bob"), chat(6, 5, "alice"), chat(7, 6, kOwner)},
       .seq = 7,
       .created = true,
       .title = "t",
       .created_unix_ms = 1'700'000'001'000,
       .chat_message_count = 4,
       .roster = {{kOwner, 1, 1, 7, v1::ROLE_OWNER}, {"alice", 2, 2, 6}, {"bob", 3, 1, 5}}},
      // Invariant 1: seqs may be sparse; only the prev_seq chain matters.
      {.name = "SparseSeqsApplyWhenPrevSeqChains",
       .events = {created(10, 0, "t"), joined(15, 10, "carol"), chat(99, 15, "carol")},
       .seq = 99,
       .created = true,
       .title = "t",
       .created_unix_ms = 1'700'000'010'000,
       .chat_message_count = 1,
       .roster = {{kOwner, 10, 0, 0, v1::ROLE_OWNER}, {"carol", 15, 1, 99}}},
  };
}

TEST(BoardState, EventSequencesProduceTheExpectedSnapshot) {
  for (const auto& c : sequence_cases()) {
    SCOPED_TRACE(c.name);
    BoardState state = replay(c.events);
    const auto& snap = state.snapshot();
    EXPECT_EQ(state.seq(), Seq{c.seq});
    EXPECT_EQ(snap.seq(), c.seq);
    EXPECT_EQ(state.created(), c.created);
    if (c.created) {
      EXPECT_EQ(snap.room().room_id(), kRoom);
      EXPECT_EQ(snap.room().title(), c.title);
      EXPECT_EQ(snap.room().created_unix_ms(), c.created_unix_ms);
      EXPECT_EQ(snap.room().created_by().member_id(), kOwner);
    }
    EXPECT_EQ(snap.chat_message_count(), c.chat_message_count);
    ASSERT_EQ(snap.roster_size(), static_cast<int>(c.roster.size()));
    for (int i = 0; i < snap.roster_size(); ++i) {
      const auto& got = snap.roster(i);
      const auto& want = c.roster[static_cast<std::size_t>(i)];
      EXPECT_EQ(got.member().member_id(), want.member_id);
      EXPECT_EQ(got.member().display_name(), "name of " + want.member_id);
      EXPECT_EQ(got.joined_seq(), want.joined_seq);
      EXPECT_EQ(got.chat_message_count(), want.chat_message_count);
      EXPECT_EQ(got.last_contribution_seq(), want.last_contribution_seq);
      EXPECT_EQ(got.role(), want.role);
      EXPECT_EQ(state.role_of(want.member_id), want.role);
      EXPECT_TRUE(state.has_member(MemberId{want.member_id}));
    }
    EXPECT_FALSE(state.has_member(MemberId{"nobody"}));
    EXPECT_EQ(state.role_of("nobody"), v1::ROLE_UNSPECIFIED);
  }
}

// ---- Rejections change nothing (invariant 9 at the board level) ----

struct RejectCase {
  std::string name;
  v1::Event event;
};

// Base: created(1), alice joined(2), alice chat(3). The next valid event is prev_seq 3.
std::vector<v1::Event> reject_base() {
  return {created(1, 0, "t"), joined(2, 1, "alice"), chat(3, 2, "alice")};
}

std::vector<RejectCase> reject_cases() {
  std::vector<RejectCase> cases;
  cases.push_back({"PrevSeqBehindTheHead", chat(4, 2, "alice")});
  cases.push_back({"PrevSeqAheadOfTheHead", chat(5, 4, "alice")});
  cases.push_back({"SeqEqualToTheHead", chat(3, 3, "alice")});
  cases.push_back({"SeqBelowTheHead", chat(2, 3, "alice")});
  auto other_room = chat(4, 3, "alice");
  other_room.set_room_id("other-room");
  cases.push_back({"EventOfAnotherRoom", other_room});
  auto other_room_join = joined(4, 3, "bob");
  other_room_join.set_room_id("other-room");
  cases.push_back({"JoinOfAnotherRoom", other_room_join});
  cases.push_back({"SecondRoomCreated", created(4, 3, "again")});
  cases.push_back({"ChatFromANonMember", chat(4, 3, "mallory")});
  cases.push_back({"DuplicateMemberJoined", joined(4, 3, "alice")});
  // The creator is already in the roster: a MemberJoined for them is a duplicate too.
  cases.push_back({"MemberJoinedForTheCreator", joined(4, 3, kOwner)});
  cases.push_back({"MemberJoinedWithoutAnActor", joined(4, 3, "")});
  auto no_payload = base_event(4, 3, "alice");
  cases.push_back({"EventWithoutPayload", no_payload});
  return cases;
}

TEST(BoardState, InvalidEventsAreRejectedAndChangeNothing) {
  for (const auto& c : reject_cases()) {
    SCOPED_TRACE(c.name);
    BoardState state = replay(reject_base());
    const std::string before = state.serialize();
    EXPECT_EQ(state.apply(c.event), Errc::kInvalidArgument);
    EXPECT_EQ(state.serialize(), before);
    EXPECT_EQ(state.seq(), Seq{3});
    // The state is still usable: the next valid event applies.
    EXPECT_FALSE(state.apply(chat(4, 3, "alice")));
    EXPECT_EQ(state.seq(), Seq{4});
  }
}

TEST(BoardState, FirstEventMustChainOntoSeqZero) {
  BoardState state;
  const std::string before = state.serialize();
  EXPECT_EQ(state.apply(created(2, 1, "t")), Errc::kInvalidArgument);
  EXPECT_EQ(state.serialize(), before);
  EXPECT_FALSE(state.created());
}

TEST(BoardState, RestoredStateStillKnowsItsRoster) {
  BoardState original = replay(reject_base());
  BoardState restored(original.snapshot());
  EXPECT_TRUE(restored.has_member(MemberId{"alice"}));
  EXPECT_EQ(restored.apply(joined(4, 3, "alice")), Errc::kInvalidArgument);
  EXPECT_EQ(restored.apply(joined(4, 3, kOwner)), Errc::kInvalidArgument);
  EXPECT_EQ(restored.role_of(kOwner), v1::ROLE_OWNER);
  EXPECT_FALSE(restored.apply(chat(4, 3, "alice")));
  ASSERT_EQ(restored.snapshot().roster_size(), 2);
  EXPECT_EQ(restored.snapshot().roster(1).member().member_id(), "alice");
  EXPECT_EQ(restored.snapshot().roster(1).chat_message_count(), 2U);
}

// ---- Invariant 5: deterministic state ----

std::vector<v1::Event> fixed_log() {
  return {created(1, 0, "retro"),   joined(2, 1, "alice"),    joined(3, 2, "bob"),
          chat(4, 3, "bob", "x"),   chat(5, 4, "alice", "y"), joined(7, 5, "carol"),
          chat(8, 7, "carol", "z"), chat(9, 8, "bob", "w")};
}

// Invariant 5: replaying the same events into a fresh state gives byte-equal serialize().
TEST(BoardState, ReplayingTheSameEventsGivesByteEqualState) {
  const auto events = fixed_log();
  const std::string once = replay(events).serialize();
  const std::string twice = replay(events).serialize();
  EXPECT_FALSE(once.empty());
  EXPECT_EQ(once, twice);
}

// Invariant 5: restoring from a snapshot taken mid-way, then applying the rest, gives the same
// bytes as a full replay, for every cut point.
TEST(BoardState, SnapshotPlusRemainingEventsEqualsFullReplay) {
  const auto events = fixed_log();
  const std::string full = replay(events).serialize();
  for (std::size_t cut = 0; cut <= events.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::vector<v1::Event> head(events.begin(), events.begin() + static_cast<long>(cut));
    const std::vector<v1::Event> rest(events.begin() + static_cast<long>(cut), events.end());
    BoardState restored(replay(head).snapshot());
    EXPECT_EQ(replay(rest, std::move(restored)).serialize(), full);
  }
}

// A seeded random log of a few thousand events, with sparse seqs and rejected events mixed in.
struct RandomLog {
  std::vector<v1::Event> events;  // Only the valid ones, in order.
  std::uint64_t chats = 0;
  std::size_t rejected = 0;
};

RandomLog random_log(std::uint32_t seed, std::size_t count) {
  std::mt19937 rng(seed);
  RandomLog out;
  BoardState state;
  std::vector<std::string> members;
  std::uint64_t seq = 0;
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  auto next_seq = [&] { return seq + 1 + pick(3); };  // Sparse on purpose (invariant 1).
  auto accept = [&](const v1::Event& e) {
    auto ec = state.apply(e);
    EXPECT_FALSE(ec) << "seq " << e.seq() << ": " << ec.message();
    out.events.push_back(e);
    seq = e.seq();
  };
  auto reject = [&](const v1::Event& e) {
    const std::string before = state.serialize();
    EXPECT_EQ(state.apply(e), Errc::kInvalidArgument) << "seq " << e.seq();
    EXPECT_EQ(state.serialize(), before);
    ++out.rejected;
  };
  accept(created(next_seq(), seq, "random board"));
  while (out.events.size() < count) {
    const std::size_t roll = pick(100);
    if (roll < 10 || members.empty()) {
      std::string id = "m" + std::to_string(members.size());
      accept(joined(next_seq(), seq, id));
      members.push_back(std::move(id));
    } else if (roll < 90) {
      accept(chat(next_seq(), seq, members[pick(members.size())],
                  "idea " + std::to_string(pick(1000))));
      ++out.chats;
    } else {
      switch (pick(5)) {
        case 0: reject(chat(next_seq(), seq + 1, members[0])); break;
        case 1: reject(chat(seq, seq, members[0])); break;
        case 2: reject(joined(next_seq(), seq, members[pick(members.size())])); break;
        case 3: reject(chat(next_seq(), seq, "stranger")); break;
        default: reject(created(next_seq(), seq, "again")); break;
      }
    }
  }
  EXPECT_EQ(state.snapshot().chat_message_count(), out.chats);
  EXPECT_EQ(state.serialize(), replay(out.events).serialize());
  return out;
}

// Invariant 5: the replay property holds for a long randomized (fixed-seed) log.
TEST(BoardState, RandomizedLogReplaysToByteEqualStateFromAnySnapshot) {
  const RandomLog log = random_log(20240611U, 3000);
  ASSERT_EQ(log.events.size(), 3000U);
  EXPECT_GT(log.rejected, 100U);
  const BoardState full = replay(log.events);
  const std::string bytes = full.serialize();
  EXPECT_EQ(full.snapshot().chat_message_count(), log.chats);
  EXPECT_EQ(replay(log.events).serialize(), bytes);
  for (std::size_t cut : {std::size_t{1}, std::size_t{2}, std::size_t{499}, std::size_t{1500},
                          std::size_t{2999}, std::size_t{3000}}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::vector<v1::Event> head(log.events.begin(),
                                      log.events.begin() + static_cast<long>(cut));
    const std::vector<v1::Event> rest(log.events.begin() + static_cast<long>(cut),
                                      log.events.end());
    EXPECT_EQ(replay(rest, BoardState(replay(head).snapshot())).serialize(), bytes);
  }
}

// Invariant 5: the same seed gives the same log and the same bytes (no hidden nondeterminism
// such as hash-map iteration order leaking into serialize()).
TEST(BoardState, SameSeedGivesTheSameBytes) {
  EXPECT_EQ(replay(random_log(7U, 500).events).serialize(),
            replay(random_log(7U, 500).events).serialize());
}

// The first part of a big board (Join.snapshot_ideas): the newest ideas, and every other field
// as it is. Every field of the board is set here, so a field the copy missed would show.
TEST(BoardState, WithNewestIdeasKeepsTheNewestIdeasAndEverythingElse) {
  v1::BoardSnapshot board;
  board.mutable_room()->set_room_id("r");
  board.set_seq(50);
  board.add_roster()->mutable_member()->set_member_id("ann");
  board.set_chat_message_count(3);
  board.mutable_goal()->set_objective("win");
  board.mutable_options()->set_hide_ideas(true);
  board.mutable_phase()->set_phase(v1::PHASE_VOTE);
  board.mutable_voting()->set_budget(4);
  for (std::uint64_t id : {3U, 7U, 9U, 20U}) {
    auto* idea = board.add_ideas();
    idea->set_idea_id(id);
    idea->set_text("idea " + std::to_string(id));
  }
  board.add_groups()->set_group_id(5);
  board.add_actions()->set_action_id(6);
  board.set_hidden_idea_count(1);
  board.set_archived(true);
  const auto* d = v1::BoardSnapshot::descriptor();
  std::vector<const google::protobuf::FieldDescriptor*> set;
  board.GetReflection()->ListFields(board, &set);
  ASSERT_EQ(static_cast<int>(set.size()), d->field_count()) << "set every field of the board";

  auto without_ideas = [](v1::BoardSnapshot b) {
    b.clear_ideas();
    return b.SerializeAsString();
  };
  const auto two = with_newest_ideas(board, 2);
  EXPECT_EQ(without_ideas(two), without_ideas(board));
  ASSERT_EQ(two.ideas_size(), 2);
  EXPECT_EQ(two.ideas(0).idea_id(), 9U);
  EXPECT_EQ(two.ideas(1).idea_id(), 20U);
  EXPECT_EQ(two.ideas(1).text(), "idea 20");
  EXPECT_EQ(with_newest_ideas(board, 4).SerializeAsString(), board.SerializeAsString());
  EXPECT_EQ(with_newest_ideas(board, 100).SerializeAsString(), board.SerializeAsString());
  EXPECT_EQ(with_newest_ideas(board, 0).ideas_size(), 0);
}

}  // namespace
}  // namespace huddle::board
