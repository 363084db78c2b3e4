// The board's state machine (core/board/rules.hpp), row by row: for every board command and
// PostChat, who may send it (role), when (phase), with which arguments (limits), what it names
// (not-found codes) and its own rule (votes, hidden ideas, board limits). Invariants 6 and 9:
// every rejection has one documented code, produces no event and leaves the state byte-equal.
#include "core/board/rules.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "board_fixture.hpp"
#include "core/board/board_state.hpp"

namespace huddle::board::testing {
namespace {

// ---- The scene every row starts from ----
//
// Members: owner (ROLE_OWNER, the creator), fac (facilitator), alice and bob (participants),
// obs (observer); "stranger" is not in the roster. Built through the rules themselves:
//   collect: alice posts A (tag "process"), bob posts B
//   group:   fac creates groups G1 "Process" and G2 "Tools"; A moves into G1; alice and bob
//            comment on A; alice reacts 👍 on A; fac creates action items "Fix CI" (owner
//            alice, due 2026-02-01, from A) and "Ask around" (owner bob)
//   collect: (hidden rows) fac turns hide_ideas on and alice posts the hidden idea H
//   then the row's phase, then the row's own setup.
struct Scene {
  Session s;
  std::uint64_t idea_a = 0;
  std::uint64_t idea_b = 0;
  std::uint64_t idea_h = 0;  // Only in hidden rows.
  std::uint64_t group_1 = 0;
  std::uint64_t group_2 = 0;
  std::uint64_t comment_alice = 0;  // On A.
  std::uint64_t comment_bob = 0;    // On A.
  std::uint64_t action_alice = 0;   // Owner alice, from A.
  std::uint64_t action_bob = 0;     // Owner bob.

  const BoardState& state() const { return s.state; }
  const v1::Idea* idea(std::uint64_t id) const { return s.state.find_idea(id); }
  const v1::RosterEntry& member(const std::string& id) const {
    static const v1::RosterEntry kNone;
    const auto* m = s.state.find_member(id);
    return m != nullptr ? *m : kNone;
  }
};

constexpr std::uint64_t kMissing = 4242;

// A board that is full with the scene's two ideas, two groups, two comments on A, two actions.
BoardLimits tight_limits() {
  BoardLimits l;
  l.max_ideas = 2;
  l.max_groups = 2;
  l.max_comments_per_idea = 2;
  l.max_actions = 2;
  return l;
}

struct Row {
  std::string name;
  std::string actor;
  v1::Phase phase = v1::PHASE_COLLECT;
  std::function<v1::ClientFrame(const Scene&)> command;
  Errc expect = Errc::kOk;            // kOk: accepted.
  bool hidden = false;                // hide_ideas on and alice's hidden idea H posted.
  bool tight = false;                 // tight_limits(): the board is full.
  std::function<void(Scene&)> setup;  // After the phase is set.
  std::function<void(const Scene&, const v1::Event&)> then;  // Accepted: the state after.
};

void PrintTo(const Row& r, std::ostream* os) {
  *os << r.name;
}

#define CMD(...)                           \
  [](const Scene& sc) -> v1::ClientFrame { \
    (void)sc;                              \
    return __VA_ARGS__;                    \
  }
#define SETUP(...) [](Scene& sc) { __VA_ARGS__; }
#define THEN(...)                            \
  [](const Scene& sc, const v1::Event& ev) { \
    (void)sc;                                \
    (void)ev;                                \
    __VA_ARGS__;                             \
  }

Scene build(const Row& r) {
  Scene sc;
  auto& s = sc.s;
  if (r.tight) {
    s.limits = tight_limits();
  }
  s.create("owner");
  s.join("fac", v1::ROLE_FACILITATOR);
  s.join("alice");
  s.join("bob");
  s.join("obs", v1::ROLE_OBSERVER);
  sc.idea_a = s.must_id("alice", cmd::post_idea("Alice's idea", {"process"}));
  sc.idea_b = s.must_id("bob", cmd::post_idea("Bob's idea"));
  s.must("fac", cmd::set_phase(v1::PHASE_GROUP));
  sc.group_1 = s.must_id("fac", cmd::create_group("Process"));
  sc.group_2 = s.must_id("fac", cmd::create_group("Tools"));
  s.must("alice", cmd::move_idea(sc.idea_a, sc.group_1));
  sc.comment_alice = s.must_id("alice", cmd::post_comment(sc.idea_a, "+1 from alice"));
  sc.comment_bob = s.must_id("bob", cmd::post_comment(sc.idea_a, "+1 from bob"));
  s.must("alice", cmd::react(sc.idea_a, v1::REACTION_THUMBS_UP));
  sc.action_alice =
      s.must_id("fac", cmd::create_action("Fix CI", "alice", "2026-02-01", sc.idea_a));
  sc.action_bob = s.must_id("fac", cmd::create_action("Ask around", "bob"));
  s.must("fac", cmd::set_phase(v1::PHASE_COLLECT));
  if (r.hidden) {
    s.must("fac", cmd::set_hide_ideas(true));
    sc.idea_h = s.must_id("alice", cmd::post_idea("Alice's secret", {"psst"}));
  }
  if (r.phase != v1::PHASE_COLLECT) {
    s.must("fac", cmd::set_phase(r.phase));
  }
  if (r.setup) {
    r.setup(sc);
  }
  return sc;
}

class RulesRow : public ::testing::TestWithParam<Row> {};

TEST_P(RulesRow, ValidatesAsDocumented) {
  const Row& r = GetParam();
  Scene sc = build(r);
  ASSERT_FALSE(HasFailure()) << "scene setup failed";
  EXPECT_EQ(sc.state().phase(), r.phase);
  const std::string before = sc.s.state.serialize();
  const std::size_t events_before = sc.s.log.size();
  const v1::ClientFrame frame = r.command(sc);

  auto result = validate_command(frame, sc.s.state, r.actor, sc.s.now, sc.s.limits);
  // Validation is pure: accepted or not, the state has not moved.
  EXPECT_EQ(sc.s.state.serialize(), before);
  if (r.expect != Errc::kOk) {
    ASSERT_FALSE(result.has_value()) << "accepted: " << result->ShortDebugString();
    EXPECT_EQ(result.error(), make_error_code(r.expect))
        << "got " << result.error().message() << ", want " << make_error_code(r.expect).message();
    // Through the room's path too: no event appended, nothing changed.
    EXPECT_FALSE(sc.s.run(r.actor, frame).has_value());
    EXPECT_EQ(sc.s.log.size(), events_before);
    EXPECT_EQ(sc.s.state.serialize(), before);
    return;
  }
  ASSERT_TRUE(result.has_value()) << "rejected: " << result.error().message();
  auto event = sc.s.run(r.actor, frame);  // Stamps and applies (must apply cleanly).
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(sc.s.log.size(), events_before + 1);
  EXPECT_EQ(deterministic_bytes(*event), deterministic_bytes(sc.s.log.back()));
  EXPECT_EQ(sc.state().seq(), Seq{event->seq()});
  if (r.then) {
    r.then(sc, *event);
  }
}

std::string row_name(const ::testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

const std::string k4000(4000, 'c');
const std::string k1000(1000, 'i');
const std::string k32(32, 't');

// ---- PostChat: contributors, any open phase, 1..4000 bytes ----
std::vector<Row> chat_rows() {
  return {
      {.name = "ParticipantChatsInCollect",
       .actor = "alice",
       .command = CMD(cmd::chat("hello")),
       .then = THEN(EXPECT_EQ(sc.state().snapshot().chat_message_count(), 1U);
                    EXPECT_EQ(sc.member("alice").chat_message_count(), 1U);
                    EXPECT_EQ(sc.member("alice").last_contribution_seq(), ev.seq());
                    EXPECT_EQ(ev.chat_posted().text(), "hello"))},
      {.name = "OwnerChatsInDiscuss",
       .actor = "owner",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::chat("hi"))},
      {.name = "FacilitatorChatsInGroup",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::chat("hi"))},
      {.name = "ChatOf4000BytesInVote",
       .actor = "bob",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::chat(k4000))},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::chat("hello")),
       .expect = Errc::kPermissionDenied},
      {.name = "StrangerIsDenied",
       .actor = "stranger",
       .command = CMD(cmd::chat("hello")),
       .expect = Errc::kPermissionDenied},
      {.name = "EmptyTextIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::chat("")),
       .expect = Errc::kInvalidArgument},
      {.name = "TextOver4000BytesIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::chat(k4000 + "c")),
       .expect = Errc::kInvalidArgument},
      {.name = "ArgumentsAreCheckedBeforeTheRole",
       .actor = "obs",
       .command = CMD(cmd::chat("")),
       .expect = Errc::kInvalidArgument},
      {.name = "DoneIsRoomClosed",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::chat("hello")),
       .expect = Errc::kRoomClosed},
      {.name = "RoleIsCheckedBeforeThePhase",
       .actor = "obs",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::chat("hello")),
       .expect = Errc::kPermissionDenied},
  };
}

// ---- SetGoal: facilitators, any open phase ----
std::vector<Row> set_goal_rows() {
  return {
      {.name = "FacilitatorSetsTheGoal",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::set_goal("Ship Q3", "NPS above 40")),
       .then = THEN(EXPECT_EQ(sc.state().snapshot().goal().objective(), "Ship Q3");
                    EXPECT_EQ(sc.state().snapshot().goal().success_criteria(), "NPS above 40"))},
      {.name = "OwnerSetsAGoalAtTheLimits",
       .actor = "owner",
       .command = CMD(cmd::set_goal(std::string(500, 'o'), std::string(1000, 'c')))},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .command = CMD(cmd::set_goal("x")),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::set_goal("x")),
       .expect = Errc::kPermissionDenied},
      {.name = "ObjectiveOver500BytesIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_goal(std::string(501, 'o'))),
       .expect = Errc::kInvalidArgument},
      {.name = "CriteriaOver1000BytesIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_goal("x", std::string(1001, 'c'))),
       .expect = Errc::kInvalidArgument},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::set_goal("x")),
       .expect = Errc::kRoomClosed},
  };
}

// ---- SetRole: facilitators; never on the owner, never to ROLE_OWNER ----
std::vector<Row> set_role_rows() {
  return {
      {.name = "FacilitatorMakesAParticipantAnObserver",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_role("bob", v1::ROLE_OBSERVER)),
       .then = THEN(EXPECT_EQ(sc.state().role_of("bob"), v1::ROLE_OBSERVER))},
      {.name = "OwnerPromotesAParticipant",
       .actor = "owner",
       .command = CMD(cmd::set_role("alice", v1::ROLE_FACILITATOR)),
       .then = THEN(EXPECT_EQ(sc.state().role_of("alice"), v1::ROLE_FACILITATOR))},
      {.name = "FacilitatorStepsDown",
       .actor = "fac",
       .command = CMD(cmd::set_role("fac", v1::ROLE_PARTICIPANT)),
       .then = THEN(EXPECT_EQ(sc.state().role_of("fac"), v1::ROLE_PARTICIPANT))},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .command = CMD(cmd::set_role("bob", v1::ROLE_OBSERVER)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverCannotPromoteThemself",
       .actor = "obs",
       .command = CMD(cmd::set_role("obs", v1::ROLE_FACILITATOR)),
       .expect = Errc::kPermissionDenied},
      {.name = "TheOwnersRoleCannotBeChangedByAFacilitator",
       .actor = "fac",
       .command = CMD(cmd::set_role("owner", v1::ROLE_PARTICIPANT)),
       .expect = Errc::kPermissionDenied},
      {.name = "TheOwnersRoleCannotBeChangedByTheOwner",
       .actor = "owner",
       .command = CMD(cmd::set_role("owner", v1::ROLE_FACILITATOR)),
       .expect = Errc::kPermissionDenied},
      {.name = "NobodyBecomesOwner",
       .actor = "owner",
       .command = CMD(cmd::set_role("alice", v1::ROLE_OWNER)),
       .expect = Errc::kInvalidArgument},
      {.name = "UnspecifiedRoleIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_role("alice", v1::ROLE_UNSPECIFIED)),
       .expect = Errc::kInvalidArgument},
      {.name = "UnknownMemberIsMemberNotFound",
       .actor = "fac",
       .command = CMD(cmd::set_role("nobody", v1::ROLE_PARTICIPANT)),
       .expect = Errc::kMemberNotFound},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::set_role("bob", v1::ROLE_OBSERVER)),
       .expect = Errc::kRoomClosed},
  };
}

// ---- SetPhase: facilitators, any phase (done reopens), timer xor deadline ----
std::vector<Row> set_phase_rows() {
  return {
      {.name = "FacilitatorMovesFromCollectToGroup",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_GROUP)),
       .then = THEN(const auto& p = sc.state().snapshot().phase();
                    EXPECT_EQ(p.phase(), v1::PHASE_GROUP); EXPECT_EQ(p.started_seq(), ev.seq());
                    EXPECT_EQ(p.started_unix_ms(), kNow); EXPECT_EQ(p.ends_unix_ms(), 0))},
      {.name = "OwnerStepsBackFromVoteToCollect",
       .actor = "owner",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_phase(v1::PHASE_COLLECT)),
       .then = THEN(EXPECT_EQ(sc.state().phase(), v1::PHASE_COLLECT))},
      {.name = "TheSamePhaseRestartsItsTimer",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_COLLECT, 10)),
       .then = THEN(const auto& p = sc.state().snapshot().phase();
                    EXPECT_EQ(p.phase(), v1::PHASE_COLLECT); EXPECT_EQ(p.started_seq(), ev.seq());
                    EXPECT_EQ(p.ends_unix_ms(), kNow + 10 * kMinuteMs))},
      {.name = "TimerOf1440MinutesIsAllowed",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_VOTE, 1440)),
       .then = THEN(EXPECT_EQ(sc.state().snapshot().phase().ends_unix_ms(), kNow + kDayMs))},
      {.name = "TimerOver1440MinutesIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_VOTE, 1441)),
       .expect = Errc::kInvalidArgument},
      {.name = "DeadlineAheadSetsTheEnd",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS, 0, kNow + kDayMs)),
       .then = THEN(EXPECT_EQ(sc.state().snapshot().phase().ends_unix_ms(), kNow + kDayMs))},
      {.name = "DeadlineExactly30DaysAheadIsAllowed",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS, 0, kNow + 30 * kDayMs))},
      {.name = "DeadlineOver30DaysAheadIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS, 0, kNow + 30 * kDayMs + 1)),
       .expect = Errc::kInvalidArgument},
      {.name = "DeadlineNowIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS, 0, kNow)),
       .expect = Errc::kInvalidArgument},
      {.name = "DeadlineInThePastIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS, 0, kNow - 1)),
       .expect = Errc::kInvalidArgument},
      {.name = "TimerAndDeadlineTogetherAreInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_VOTE, 5, kNow + kDayMs)),
       .expect = Errc::kInvalidArgument},
      {.name = "UnspecifiedPhaseIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_UNSPECIFIED)),
       .expect = Errc::kInvalidArgument},
      {.name = "PhaseOutOfRangeIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_phase(static_cast<v1::Phase>(6))),
       .expect = Errc::kInvalidArgument},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .command = CMD(cmd::set_phase(v1::PHASE_GROUP)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS)),
       .expect = Errc::kPermissionDenied},
      // The one command that done does not close: it is how a room reopens.
      {.name = "FacilitatorReopensADoneRoom",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS)),
       .then = THEN(EXPECT_EQ(sc.state().phase(), v1::PHASE_DISCUSS))},
      {.name = "ParticipantCannotReopenADoneRoom",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::set_phase(v1::PHASE_DISCUSS)),
       .expect = Errc::kPermissionDenied},
      {.name = "LeavingCollectRevealsHiddenIdeas",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_GROUP)),
       .hidden = true,
       .then = THEN(const auto& rev = ev.phase_changed().revealed(); ASSERT_EQ(rev.size(), 1);
                    EXPECT_EQ(rev[0].idea_id(), sc.idea_h);
                    EXPECT_EQ(rev[0].text(), "Alice's secret"); ASSERT_EQ(rev[0].tags_size(), 1);
                    EXPECT_EQ(rev[0].tags(0), "psst"); EXPECT_FALSE(sc.idea(sc.idea_h)->hidden());
                    EXPECT_EQ(sc.state().snapshot().hidden_idea_count(), 0U))},
      {.name = "StayingInCollectRevealsNothing",
       .actor = "fac",
       .command = CMD(cmd::set_phase(v1::PHASE_COLLECT)),
       .hidden = true,
       .then = THEN(EXPECT_TRUE(ev.phase_changed().revealed().empty());
                    EXPECT_TRUE(sc.idea(sc.idea_h)->hidden());
                    EXPECT_EQ(sc.state().snapshot().hidden_idea_count(), 1U))},
  };
}

// ---- SetVoting: facilitators, any open phase; budget 1..100, cap 0..budget, never below
// votes already cast ----
std::vector<Row> set_voting_rows() {
  const auto alice_votes_a_a_b =
      SETUP(sc.s.must("alice", cmd::vote(sc.idea_a)); sc.s.must("alice", cmd::vote(sc.idea_a));
            sc.s.must("alice", cmd::vote(sc.idea_b)));
  return {
      {.name = "FacilitatorSetsBudgetAndCap",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_voting(3, 1)),
       .then = THEN(EXPECT_EQ(sc.state().snapshot().voting().budget(), 3U);
                    EXPECT_EQ(sc.state().snapshot().voting().per_idea_cap(), 1U))},
      {.name = "OwnerSetsTheMaximumBudgetInCollect",
       .actor = "owner",
       .command = CMD(cmd::set_voting(100))},
      {.name = "CapEqualToTheBudgetIsAllowed",
       .actor = "fac",
       .command = CMD(cmd::set_voting(3, 3))},
      {.name = "BudgetZeroIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_voting(0)),
       .expect = Errc::kInvalidArgument},
      {.name = "BudgetOver100IsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_voting(101)),
       .expect = Errc::kInvalidArgument},
      {.name = "CapAboveTheBudgetIsInvalid",
       .actor = "fac",
       .command = CMD(cmd::set_voting(3, 4)),
       .expect = Errc::kInvalidArgument},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_voting(10)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::set_voting(10)),
       .expect = Errc::kPermissionDenied},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::set_voting(10)),
       .expect = Errc::kRoomClosed},
      {.name = "BudgetBelowVotesCastIsRejected",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_voting(2)),
       .expect = Errc::kBudgetBelowVotesCast,
       .setup = alice_votes_a_a_b},
      {.name = "BudgetEqualToVotesCastIsAllowed",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_voting(3)),
       .setup = alice_votes_a_a_b,
       .then = THEN(EXPECT_EQ(sc.member("alice").votes_cast(), 3U))},
      {.name = "CapBelowVotesOnOneIdeaIsRejected",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_voting(5, 1)),
       .expect = Errc::kBudgetBelowVotesCast,
       .setup = alice_votes_a_a_b},
      {.name = "CapEqualToVotesOnOneIdeaIsAllowed",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_voting(5, 2)),
       .setup = alice_votes_a_a_b},
  };
}

// ---- SetHideIdeas: facilitators, any open phase; off reveals ----
std::vector<Row> set_hide_ideas_rows() {
  return {
      {.name = "FacilitatorTurnsItOn",
       .actor = "fac",
       .command = CMD(cmd::set_hide_ideas(true)),
       .then = THEN(EXPECT_TRUE(sc.state().snapshot().options().hide_ideas());
                    EXPECT_TRUE(ev.hide_ideas_set().revealed().empty()))},
      {.name = "OwnerTurnsItOnInGroup",
       .actor = "owner",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::set_hide_ideas(true))},
      {.name = "TurningItOffRevealsTheHiddenIdeas",
       .actor = "fac",
       .command = CMD(cmd::set_hide_ideas(false)),
       .hidden = true,
       .then =
           THEN(const auto& rev = ev.hide_ideas_set().revealed(); ASSERT_EQ(rev.size(), 1);
                EXPECT_EQ(rev[0].idea_id(), sc.idea_h); EXPECT_EQ(rev[0].text(), "Alice's secret");
                EXPECT_FALSE(sc.idea(sc.idea_h)->hidden());
                EXPECT_FALSE(sc.state().snapshot().options().hide_ideas());
                EXPECT_EQ(sc.state().snapshot().hidden_idea_count(), 0U))},
      {.name = "TurningItOnAgainRevealsNothing",
       .actor = "fac",
       .command = CMD(cmd::set_hide_ideas(true)),
       .hidden = true,
       .then = THEN(EXPECT_TRUE(ev.hide_ideas_set().revealed().empty());
                    EXPECT_TRUE(sc.idea(sc.idea_h)->hidden()))},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .command = CMD(cmd::set_hide_ideas(true)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::set_hide_ideas(false)),
       .expect = Errc::kPermissionDenied},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::set_hide_ideas(true)),
       .expect = Errc::kRoomClosed},
  };
}

// ---- RevealIdeas: facilitators, any open phase; reveals all and turns hide_ideas off ----
std::vector<Row> reveal_ideas_rows() {
  return {
      {.name = "FacilitatorRevealsEveryHiddenIdea",
       .actor = "fac",
       .command = CMD(cmd::reveal_ideas()),
       .hidden = true,
       .then =
           THEN(const auto& rev = ev.ideas_revealed().revealed(); ASSERT_EQ(rev.size(), 1);
                EXPECT_EQ(rev[0].idea_id(), sc.idea_h); EXPECT_EQ(rev[0].text(), "Alice's secret");
                EXPECT_EQ(sc.idea(sc.idea_h)->text(), "Alice's secret");
                EXPECT_FALSE(sc.idea(sc.idea_h)->hidden());
                EXPECT_FALSE(sc.state().snapshot().options().hide_ideas());
                EXPECT_EQ(sc.state().snapshot().hidden_idea_count(), 0U))},
      {.name = "RevealWithNothingHiddenTurnsHidingOff",
       .actor = "owner",
       .command = CMD(cmd::reveal_ideas()),
       .setup = SETUP(sc.s.must("fac", cmd::set_hide_ideas(true))),
       .then = THEN(EXPECT_TRUE(ev.ideas_revealed().revealed().empty());
                    EXPECT_FALSE(sc.state().snapshot().options().hide_ideas()))},
      {.name = "TheAuthorOfAHiddenIdeaIsDenied",
       .actor = "alice",
       .command = CMD(cmd::reveal_ideas()),
       .expect = Errc::kPermissionDenied,
       .hidden = true},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::reveal_ideas()),
       .expect = Errc::kPermissionDenied,
       .hidden = true},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::reveal_ideas()),
       .expect = Errc::kRoomClosed},
  };
}

// ---- PostIdea: contributors, in collect; 1..1000 bytes, up to 5 tags of 1..32 bytes ----
std::vector<Row> post_idea_rows() {
  return {
      {.name = "ParticipantPostsAnIdea",
       .actor = "alice",
       .command = CMD(cmd::post_idea("Shorter standups", {"meetings", "time"})),
       .then = THEN(
           const auto* idea = sc.idea(ev.seq()); ASSERT_NE(idea, nullptr);
           EXPECT_EQ(idea->text(), "Shorter standups"); ASSERT_EQ(idea->tags_size(), 2);
           EXPECT_EQ(idea->tags(1), "time"); EXPECT_EQ(idea->author().member_id(), "alice");
           EXPECT_EQ(idea->author().display_name(), "Name of alice"); EXPECT_FALSE(idea->hidden());
           EXPECT_EQ(idea->created_unix_ms(), kNow); EXPECT_EQ(sc.member("alice").idea_count(), 2U);
           EXPECT_EQ(sc.member("alice").last_idea_seq(), ev.seq()))},
      {.name = "FacilitatorPostsAnIdea", .actor = "fac", .command = CMD(cmd::post_idea("x"))},
      {.name = "OwnerPostsAnIdea", .actor = "owner", .command = CMD(cmd::post_idea("x"))},
      {.name = "WithHideIdeasOnTheIdeaIsHidden",
       .actor = "bob",
       .command = CMD(cmd::post_idea("Bob's secret")),
       .hidden = true,
       .then =
           THEN(EXPECT_TRUE(ev.idea_posted().hidden()); EXPECT_TRUE(sc.idea(ev.seq())->hidden());
                EXPECT_EQ(sc.state().snapshot().hidden_idea_count(), 2U))},
      {.name = "TextOf1000BytesAndFiveTagsOf32BytesAreAllowed",
       .actor = "bob",
       .command = CMD(cmd::post_idea(k1000, {k32, k32, k32, k32, k32}))},
      {.name = "EmptyTextIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::post_idea("")),
       .expect = Errc::kInvalidArgument},
      {.name = "TextOver1000BytesIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::post_idea(k1000 + "i")),
       .expect = Errc::kInvalidArgument},
      {.name = "SixTagsAreInvalid",
       .actor = "alice",
       .command = CMD(cmd::post_idea("x", {"a", "b", "c", "d", "e", "f"})),
       .expect = Errc::kInvalidArgument},
      {.name = "TagOver32BytesIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::post_idea("x", {k32 + "t"})),
       .expect = Errc::kInvalidArgument},
      {.name = "EmptyTagIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::post_idea("x", {""})),
       .expect = Errc::kInvalidArgument},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::post_idea("x")),
       .expect = Errc::kPermissionDenied},
      {.name = "StrangerIsDenied",
       .actor = "stranger",
       .command = CMD(cmd::post_idea("x")),
       .expect = Errc::kPermissionDenied},
      {.name = "GroupIsWrongPhase",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::post_idea("x")),
       .expect = Errc::kWrongPhase},
      {.name = "VoteIsWrongPhase",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::post_idea("x")),
       .expect = Errc::kWrongPhase},
      {.name = "DiscussIsWrongPhase",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_idea("x")),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::post_idea("x")),
       .expect = Errc::kRoomClosed},
      {.name = "AFullBoardIsLimitExceeded",
       .actor = "alice",
       .command = CMD(cmd::post_idea("one too many")),
       .expect = Errc::kLimitExceeded,
       .tight = true},
  };
}

// ---- EditIdea: its author in collect; a facilitator in collect or group; nobody edits
// another member's hidden idea. ROOM_CLOSED and existence come before the role ----
std::vector<Row> edit_idea_rows() {
  return {
      {.name = "AuthorEditsInCollect",
       .actor = "alice",
       .command = CMD(cmd::edit_idea(sc.idea_a, "Alice's idea v2", {"v2"})),
       .then = THEN(const auto* idea = sc.idea(sc.idea_a); ASSERT_NE(idea, nullptr);
                    EXPECT_EQ(idea->text(), "Alice's idea v2"); ASSERT_EQ(idea->tags_size(), 1);
                    EXPECT_EQ(idea->tags(0), "v2"); EXPECT_EQ(idea->edited_unix_ms(), kNow);
                    EXPECT_EQ(idea->author().member_id(), "alice");
                    EXPECT_EQ(idea->group_id(), sc.group_1); EXPECT_EQ(idea->comments_size(), 2);
                    EXPECT_FALSE(ev.idea_edited().hidden()))},
      {.name = "FacilitatorEditsAnotherMembersIdeaInCollect",
       .actor = "fac",
       .command = CMD(cmd::edit_idea(sc.idea_a, "tidied")),
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_a)->text(), "tidied");
                    EXPECT_EQ(sc.idea(sc.idea_a)->author().member_id(), "alice"))},
      {.name = "FacilitatorEditsInGroup",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::edit_idea(sc.idea_b, "merged wording"))},
      {.name = "OwnerEditsInGroup",
       .actor = "owner",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::edit_idea(sc.idea_a, "merged wording"))},
      {.name = "AnotherParticipantIsDenied",
       .actor = "bob",
       .command = CMD(cmd::edit_idea(sc.idea_a, "mine now")),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::edit_idea(sc.idea_a, "x")),
       .expect = Errc::kPermissionDenied},
      {.name = "AuthorDemotedToObserverIsDenied",
       .actor = "alice",
       .command = CMD(cmd::edit_idea(sc.idea_a, "x")),
       .expect = Errc::kPermissionDenied,
       .setup = SETUP(sc.s.must("fac", cmd::set_role("alice", v1::ROLE_OBSERVER)))},
      {.name = "AuthorInGroupIsWrongPhase",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::edit_idea(sc.idea_a, "x")),
       .expect = Errc::kWrongPhase},
      {.name = "FacilitatorInVoteIsWrongPhase",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::edit_idea(sc.idea_a, "x")),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::edit_idea(sc.idea_a, "x")),
       .expect = Errc::kRoomClosed},
      {.name = "DoneIsRoomClosedEvenForANonAuthor",
       .actor = "bob",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::edit_idea(sc.idea_a, "x")),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "alice",
       .command = CMD(cmd::edit_idea(kMissing, "x")),
       .expect = Errc::kIdeaNotFound},
      {.name = "MissingIdeaIsIdeaNotFoundBeforeTheRole",
       .actor = "obs",
       .command = CMD(cmd::edit_idea(kMissing, "x")),
       .expect = Errc::kIdeaNotFound},
      {.name = "FacilitatorCannotEditAHiddenIdea",
       .actor = "fac",
       .command = CMD(cmd::edit_idea(sc.idea_h, "overwritten")),
       .expect = Errc::kIdeaHidden,
       .hidden = true},
      {.name = "OwnerCannotEditAHiddenIdea",
       .actor = "owner",
       .command = CMD(cmd::edit_idea(sc.idea_h, "overwritten")),
       .expect = Errc::kIdeaHidden,
       .hidden = true},
      {.name = "AnotherParticipantIsDeniedOnAHiddenIdea",
       .actor = "bob",
       .command = CMD(cmd::edit_idea(sc.idea_h, "overwritten")),
       .expect = Errc::kPermissionDenied,
       .hidden = true},
      {.name = "AuthorEditsTheirHiddenIdea",
       .actor = "alice",
       .command = CMD(cmd::edit_idea(sc.idea_h, "Alice's secret v2")),
       .hidden = true,
       .then =
           THEN(EXPECT_TRUE(ev.idea_edited().hidden()); EXPECT_TRUE(sc.idea(sc.idea_h)->hidden());
                EXPECT_EQ(sc.idea(sc.idea_h)->text(), "Alice's secret v2");
                EXPECT_EQ(sc.state().snapshot().hidden_idea_count(), 1U))},
      {.name = "EmptyTextIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::edit_idea(sc.idea_a, "")),
       .expect = Errc::kInvalidArgument},
      {.name = "TextOver1000BytesIsInvalid",
       .actor = "alice",
       .command = CMD(cmd::edit_idea(sc.idea_a, k1000 + "i")),
       .expect = Errc::kInvalidArgument},
      {.name = "SixTagsAreInvalid",
       .actor = "alice",
       .command = CMD(cmd::edit_idea(sc.idea_a, "x", {"a", "b", "c", "d", "e", "f"})),
       .expect = Errc::kInvalidArgument},
  };
}

// ---- DeleteIdea: its author in collect; a facilitator in collect or group (hidden too) ----
std::vector<Row> delete_idea_rows() {
  return {
      {.name = "AuthorDeletesInCollect",
       .actor = "alice",
       .command = CMD(cmd::delete_idea(sc.idea_a)),
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_a), nullptr);
                    EXPECT_EQ(sc.state().snapshot().ideas_size(), 1);
                    // Action items that came from it lose the link; the count keeps it.
                    EXPECT_EQ(sc.state().find_action(sc.action_alice)->idea_id(), 0U);
                    EXPECT_EQ(sc.member("alice").idea_count(), 1U))},
      {.name = "FacilitatorDeletesInGroup",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_idea(sc.idea_b)),
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_b), nullptr))},
      {.name = "FacilitatorDeletesAHiddenIdea",
       .actor = "fac",
       .command = CMD(cmd::delete_idea(sc.idea_h)),
       .hidden = true,
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_h), nullptr);
                    EXPECT_EQ(sc.state().snapshot().hidden_idea_count(), 0U))},
      {.name = "AuthorDeletesTheirHiddenIdea",
       .actor = "alice",
       .command = CMD(cmd::delete_idea(sc.idea_h)),
       .hidden = true},
      {.name = "DeletingAVotedIdeaGivesTheVotesBack",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_idea(sc.idea_a)),
       .setup =
           SETUP(sc.s.must("fac", cmd::set_phase(v1::PHASE_VOTE));
                 sc.s.must("alice", cmd::vote(sc.idea_a)); sc.s.must("alice", cmd::vote(sc.idea_a));
                 sc.s.must("alice", cmd::vote(sc.idea_b)); sc.s.must("bob", cmd::vote(sc.idea_a));
                 sc.s.must("fac", cmd::set_phase(v1::PHASE_GROUP))),
       .then = THEN(EXPECT_EQ(sc.member("alice").votes_cast(), 1U);
                    EXPECT_EQ(sc.member("bob").votes_cast(), 0U))},
      {.name = "AnotherParticipantIsDenied",
       .actor = "bob",
       .command = CMD(cmd::delete_idea(sc.idea_a)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .command = CMD(cmd::delete_idea(sc.idea_a)),
       .expect = Errc::kPermissionDenied},
      {.name = "AuthorInGroupIsWrongPhase",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_idea(sc.idea_a)),
       .expect = Errc::kWrongPhase},
      {.name = "FacilitatorInVoteIsWrongPhase",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::delete_idea(sc.idea_a)),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::delete_idea(sc.idea_a)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "fac",
       .command = CMD(cmd::delete_idea(kMissing)),
       .expect = Errc::kIdeaNotFound},
  };
}

// ---- MoveIdea: contributors, in group; 0 ungroups ----
std::vector<Row> move_idea_rows() {
  return {
      {.name = "ParticipantMovesAnIdeaIntoAGroup",
       .actor = "bob",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::move_idea(sc.idea_b, sc.group_2)),
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_b)->group_id(), sc.group_2))},
      {.name = "GroupZeroUngroups",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::move_idea(sc.idea_a, 0)),
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_a)->group_id(), 0U))},
      {.name = "FacilitatorMovesAnIdea",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::move_idea(sc.idea_a, sc.group_2))},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::move_idea(sc.idea_b, sc.group_2)),
       .expect = Errc::kPermissionDenied},
      {.name = "CollectIsWrongPhase",
       .actor = "bob",
       .command = CMD(cmd::move_idea(sc.idea_b, sc.group_2)),
       .expect = Errc::kWrongPhase},
      {.name = "VoteIsWrongPhase",
       .actor = "bob",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::move_idea(sc.idea_b, sc.group_2)),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "bob",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::move_idea(sc.idea_b, sc.group_2)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "bob",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::move_idea(kMissing, sc.group_2)),
       .expect = Errc::kIdeaNotFound},
      {.name = "MissingGroupIsGroupNotFound",
       .actor = "bob",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::move_idea(sc.idea_b, kMissing)),
       .expect = Errc::kGroupNotFound},
  };
}

// ---- CreateGroup / RenameGroup / MergeGroups / DeleteGroup: facilitators, in group ----
std::vector<Row> create_group_rows() {
  return {
      {.name = "FacilitatorCreatesAGroup",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::create_group("Culture")),
       .then = THEN(const auto* g = sc.state().find_group(ev.seq()); ASSERT_NE(g, nullptr);
                    EXPECT_EQ(g->name(), "Culture");
                    EXPECT_EQ(sc.state().snapshot().groups_size(), 3))},
      {.name = "NameOf80BytesIsAllowed",
       .actor = "owner",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::create_group(std::string(80, 'g')))},
      {.name = "EmptyNameIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::create_group("")),
       .expect = Errc::kInvalidArgument},
      {.name = "NameOver80BytesIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::create_group(std::string(81, 'g'))),
       .expect = Errc::kInvalidArgument},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::create_group("x")),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::create_group("x")),
       .expect = Errc::kPermissionDenied},
      {.name = "CollectIsWrongPhase",
       .actor = "fac",
       .command = CMD(cmd::create_group("x")),
       .expect = Errc::kWrongPhase},
      {.name = "DiscussIsWrongPhase",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_group("x")),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::create_group("x")),
       .expect = Errc::kRoomClosed},
      {.name = "TooManyGroupsIsLimitExceeded",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::create_group("third")),
       .expect = Errc::kLimitExceeded,
       .tight = true},
  };
}

std::vector<Row> rename_group_rows() {
  return {
      {.name = "FacilitatorRenamesAGroup",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::rename_group(sc.group_1, "Ways of working")),
       .then = THEN(EXPECT_EQ(sc.state().find_group(sc.group_1)->name(), "Ways of working"))},
      {.name = "EmptyNameIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::rename_group(sc.group_1, "")),
       .expect = Errc::kInvalidArgument},
      {.name = "NameOver80BytesIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::rename_group(sc.group_1, std::string(81, 'g'))),
       .expect = Errc::kInvalidArgument},
      {.name = "ParticipantIsDenied",
       .actor = "bob",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::rename_group(sc.group_1, "x")),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::rename_group(sc.group_1, "x")),
       .expect = Errc::kPermissionDenied},
      {.name = "VoteIsWrongPhase",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::rename_group(sc.group_1, "x")),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::rename_group(sc.group_1, "x")),
       .expect = Errc::kRoomClosed},
      {.name = "MissingGroupIsGroupNotFound",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::rename_group(kMissing, "x")),
       .expect = Errc::kGroupNotFound},
  };
}

std::vector<Row> merge_groups_rows() {
  return {
      {.name = "FacilitatorMergesOneGroupIntoAnother",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::merge_groups(sc.group_1, sc.group_2)),
       .then = THEN(EXPECT_EQ(sc.state().find_group(sc.group_1), nullptr);
                    ASSERT_EQ(sc.state().snapshot().groups_size(), 1);
                    EXPECT_EQ(sc.idea(sc.idea_a)->group_id(), sc.group_2);
                    EXPECT_EQ(sc.idea(sc.idea_b)->group_id(), 0U))},
      {.name = "MergingAGroupIntoItselfIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::merge_groups(sc.group_1, sc.group_1)),
       .expect = Errc::kInvalidArgument},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::merge_groups(sc.group_1, sc.group_2)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::merge_groups(sc.group_1, sc.group_2)),
       .expect = Errc::kPermissionDenied},
      {.name = "CollectIsWrongPhase",
       .actor = "fac",
       .command = CMD(cmd::merge_groups(sc.group_1, sc.group_2)),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::merge_groups(sc.group_1, sc.group_2)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingSourceIsGroupNotFound",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::merge_groups(kMissing, sc.group_2)),
       .expect = Errc::kGroupNotFound},
      {.name = "MissingTargetIsGroupNotFound",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::merge_groups(sc.group_1, kMissing)),
       .expect = Errc::kGroupNotFound},
  };
}

std::vector<Row> delete_group_rows() {
  return {
      {.name = "FacilitatorDeletesAGroupAndItsIdeasBecomeUngrouped",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_group(sc.group_1)),
       .then = THEN(EXPECT_EQ(sc.state().find_group(sc.group_1), nullptr);
                    ASSERT_NE(sc.idea(sc.idea_a), nullptr);
                    EXPECT_EQ(sc.idea(sc.idea_a)->group_id(), 0U))},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_group(sc.group_1)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_group(sc.group_1)),
       .expect = Errc::kPermissionDenied},
      {.name = "DiscussIsWrongPhase",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_group(sc.group_1)),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::delete_group(sc.group_1)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingGroupIsGroupNotFound",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_group(kMissing)),
       .expect = Errc::kGroupNotFound},
  };
}

// ---- PostComment: contributors, in group, vote or discuss; 1..1000 bytes. (IDEA_HIDDEN is
// unreachable here: ideas are hidden only during collect, where comments are WRONG_PHASE.) ----
std::vector<Row> post_comment_rows() {
  return {
      {.name = "ParticipantCommentsInDiscuss",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_comment(sc.idea_b, "Agreed")),
       .then = THEN(const auto* idea = sc.idea(sc.idea_b); ASSERT_EQ(idea->comments_size(), 1);
                    const auto& c = idea->comments(0); EXPECT_EQ(c.comment_id(), ev.seq());
                    EXPECT_EQ(c.author().member_id(), "bob"); EXPECT_EQ(c.text(), "Agreed");
                    EXPECT_EQ(c.created_unix_ms(), kNow);
                    EXPECT_EQ(sc.member("bob").last_contribution_seq(), ev.seq()))},
      {.name = "ParticipantCommentsInGroup",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::post_comment(sc.idea_a, "third")),
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_a)->comments_size(), 3);
                    EXPECT_EQ(sc.idea(sc.idea_a)->comments(2).comment_id(), ev.seq()))},
      {.name = "FacilitatorCommentsInVoteWith1000Bytes",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::post_comment(sc.idea_b, std::string(1000, 'c')))},
      {.name = "EmptyTextIsInvalid",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_comment(sc.idea_b, "")),
       .expect = Errc::kInvalidArgument},
      {.name = "TextOver1000BytesIsInvalid",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_comment(sc.idea_b, std::string(1001, 'c'))),
       .expect = Errc::kInvalidArgument},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_comment(sc.idea_b, "x")),
       .expect = Errc::kPermissionDenied},
      {.name = "CollectIsWrongPhase",
       .actor = "bob",
       .command = CMD(cmd::post_comment(sc.idea_b, "x")),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "bob",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::post_comment(sc.idea_b, "x")),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_comment(kMissing, "x")),
       .expect = Errc::kIdeaNotFound},
      {.name = "TooManyCommentsIsLimitExceeded",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_comment(sc.idea_a, "third")),
       .expect = Errc::kLimitExceeded,
       .tight = true},
      {.name = "TheLimitIsPerIdea",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::post_comment(sc.idea_b, "first on B")),
       .tight = true},
  };
}

// ---- DeleteComment: contributors, in group, vote or discuss; its author or a facilitator ----
std::vector<Row> delete_comment_rows() {
  return {
      {.name = "AuthorDeletesTheirComment",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_comment(sc.idea_a, sc.comment_alice)),
       .then = THEN(const auto* idea = sc.idea(sc.idea_a); ASSERT_EQ(idea->comments_size(), 1);
                    EXPECT_EQ(idea->comments(0).comment_id(), sc.comment_bob))},
      {.name = "FacilitatorDeletesAnotherMembersComment",
       .actor = "fac",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::delete_comment(sc.idea_a, sc.comment_bob)),
       .then = THEN(EXPECT_EQ(sc.idea(sc.idea_a)->comments_size(), 1))},
      {.name = "AnotherParticipantIsDenied",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_comment(sc.idea_a, sc.comment_alice)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_comment(sc.idea_a, sc.comment_alice)),
       .expect = Errc::kPermissionDenied},
      {.name = "AuthorDemotedToObserverIsDenied",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_comment(sc.idea_a, sc.comment_alice)),
       .expect = Errc::kPermissionDenied,
       .setup = SETUP(sc.s.must("fac", cmd::set_role("alice", v1::ROLE_OBSERVER)))},
      {.name = "CollectIsWrongPhase",
       .actor = "alice",
       .command = CMD(cmd::delete_comment(sc.idea_a, sc.comment_alice)),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::delete_comment(sc.idea_a, sc.comment_alice)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_comment(kMissing, sc.comment_alice)),
       .expect = Errc::kIdeaNotFound},
      {.name = "MissingCommentIsCommentNotFound",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_comment(sc.idea_a, kMissing)),
       .expect = Errc::kCommentNotFound},
      {.name = "ACommentOfAnotherIdeaIsCommentNotFound",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::delete_comment(sc.idea_b, sc.comment_alice)),
       .expect = Errc::kCommentNotFound},
  };
}

// ---- React: contributors, in group, vote or discuss; set once, remove only what is set ----
std::vector<Row> react_rows() {
  return {
      {.name = "ParticipantReacts",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_HEART)),
       .then = THEN(
           const auto& r = sc.idea(sc.idea_a)->reactions(); ASSERT_EQ(r.size(), 2);
           EXPECT_EQ(r[0].reaction(), v1::REACTION_THUMBS_UP); EXPECT_EQ(r[0].member_id(), "alice");
           EXPECT_EQ(r[1].reaction(), v1::REACTION_HEART); EXPECT_EQ(r[1].member_id(), "bob");
           EXPECT_EQ(sc.member("bob").last_contribution_seq(), ev.seq()))},
      {.name = "TwoMembersMayGiveTheSameReaction",
       .actor = "bob",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_THUMBS_UP)),
       .then = THEN(const auto& r = sc.idea(sc.idea_a)->reactions(); ASSERT_EQ(r.size(), 2);
                    EXPECT_EQ(r[0].member_id(), "alice"); EXPECT_EQ(r[1].member_id(), "bob"))},
      {.name = "ReactingTwiceIsInvalid",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_THUMBS_UP)),
       .expect = Errc::kInvalidArgument},
      {.name = "RemovingOnesReaction",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_THUMBS_UP, true)),
       .then = THEN(EXPECT_TRUE(sc.idea(sc.idea_a)->reactions().empty()))},
      {.name = "RemovingAnAbsentReactionIsInvalid",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_THUMBS_UP, true)),
       .expect = Errc::kInvalidArgument},
      {.name = "UnspecifiedReactionIsInvalid",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_UNSPECIFIED)),
       .expect = Errc::kInvalidArgument},
      {.name = "UnknownReactionIsInvalid",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::react(sc.idea_a, static_cast<v1::Reaction>(99))),
       .expect = Errc::kInvalidArgument},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_HEART)),
       .expect = Errc::kPermissionDenied},
      {.name = "CollectIsWrongPhase",
       .actor = "bob",
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_HEART)),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "bob",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::react(sc.idea_a, v1::REACTION_HEART)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::react(kMissing, v1::REACTION_HEART)),
       .expect = Errc::kIdeaNotFound},
  };
}

// ---- Vote: contributors, in vote; budget (default 5) across the board, per-idea cap ----
void votes(Scene& sc, const std::string& who, const std::vector<std::uint64_t>& ideas) {
  for (auto id : ideas) {
    sc.s.must(who, cmd::vote(id));
  }
}

std::vector<Row> vote_rows() {
  return {
      {.name = "ParticipantVotes",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_b)),
       .then = THEN(
           const auto* idea = sc.idea(sc.idea_b); EXPECT_EQ(idea->vote_count(), 1U);
           ASSERT_EQ(idea->votes_size(), 1); EXPECT_EQ(idea->votes(0).member_id(), "alice");
           EXPECT_EQ(idea->votes(0).count(), 1U); EXPECT_EQ(sc.member("alice").votes_cast(), 1U);
           EXPECT_EQ(sc.member("alice").last_vote_seq(), ev.seq()))},
      {.name = "FacilitatorVotes",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a))},
      {.name = "TalliesAreSortedByMember",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .setup = SETUP(votes(sc, "bob", {sc.idea_a}); votes(sc, "owner", {sc.idea_a})),
       .then =
           THEN(const auto* idea = sc.idea(sc.idea_a); EXPECT_EQ(idea->vote_count(), 3U);
                ASSERT_EQ(idea->votes_size(), 3); EXPECT_EQ(idea->votes(0).member_id(), "alice");
                EXPECT_EQ(idea->votes(1).member_id(), "bob");
                EXPECT_EQ(idea->votes(2).member_id(), "owner"))},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kPermissionDenied},
      {.name = "StrangerIsDenied",
       .actor = "stranger",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kPermissionDenied},
      {.name = "CollectIsWrongPhase",
       .actor = "alice",
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kWrongPhase},
      {.name = "GroupIsWrongPhase",
       .actor = "alice",
       .phase = v1::PHASE_GROUP,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kWrongPhase},
      {.name = "DiscussIsWrongPhase",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kWrongPhase},
      {.name = "DoneIsRoomClosed",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(kMissing)),
       .expect = Errc::kIdeaNotFound},
      {.name = "TheLastVoteOfTheBudgetIsAllowed",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .setup = SETUP(votes(sc, "alice", {sc.idea_a, sc.idea_a, sc.idea_b, sc.idea_b})),
       .then = THEN(EXPECT_EQ(sc.member("alice").votes_cast(), 5U))},
      {.name = "BudgetPlusOneIsVoteBudgetExceeded",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_b)),
       .expect = Errc::kVoteBudgetExceeded,
       .setup = SETUP(votes(sc, "alice", {sc.idea_a, sc.idea_a, sc.idea_a, sc.idea_b, sc.idea_b}))},
      {.name = "TheBudgetIsPerMember",
       .actor = "bob",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_b)),
       .setup = SETUP(votes(sc, "alice", {sc.idea_a, sc.idea_a, sc.idea_a, sc.idea_b, sc.idea_b}))},
      {.name = "ALoweredBudgetIsEnforced",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kVoteBudgetExceeded,
       .setup =
           SETUP(sc.s.must("fac", cmd::set_voting(2)); votes(sc, "alice", {sc.idea_a, sc.idea_b}))},
      {.name = "PerIdeaCapIsVoteCapExceeded",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kVoteCapExceeded,
       .setup = SETUP(sc.s.must("fac", cmd::set_voting(5, 2));
                      votes(sc, "alice", {sc.idea_a, sc.idea_a}))},
      {.name = "TheCapIsPerIdea",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_b)),
       .setup = SETUP(sc.s.must("fac", cmd::set_voting(5, 2));
                      votes(sc, "alice", {sc.idea_a, sc.idea_a}))},
      {.name = "TheCapIsPerMember",
       .actor = "bob",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .setup = SETUP(sc.s.must("fac", cmd::set_voting(5, 2));
                      votes(sc, "alice", {sc.idea_a, sc.idea_a}))},
      {.name = "TheBudgetIsCheckedBeforeTheCap",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::vote(sc.idea_a)),
       .expect = Errc::kVoteBudgetExceeded,
       .setup = SETUP(sc.s.must("fac", cmd::set_voting(2, 2));
                      votes(sc, "alice", {sc.idea_a, sc.idea_a}))},
  };
}

// ---- Unvote: contributors, in vote; retracts one of the actor's own votes ----
std::vector<Row> unvote_rows() {
  return {
      {.name = "RetractsOneOfOnesVotes",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::unvote(sc.idea_a)),
       .setup = SETUP(votes(sc, "alice", {sc.idea_a, sc.idea_a})),
       .then = THEN(const auto* idea = sc.idea(sc.idea_a); EXPECT_EQ(idea->vote_count(), 1U);
                    ASSERT_EQ(idea->votes_size(), 1); EXPECT_EQ(idea->votes(0).count(), 1U);
                    EXPECT_EQ(sc.member("alice").votes_cast(), 1U);
                    EXPECT_EQ(sc.member("alice").last_vote_seq(), ev.seq()))},
      {.name = "RetractingTheLastVoteRemovesTheTally",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::unvote(sc.idea_a)),
       .setup = SETUP(votes(sc, "alice", {sc.idea_a}); votes(sc, "bob", {sc.idea_a})),
       .then = THEN(const auto* idea = sc.idea(sc.idea_a); EXPECT_EQ(idea->vote_count(), 1U);
                    ASSERT_EQ(idea->votes_size(), 1); EXPECT_EQ(idea->votes(0).member_id(), "bob");
                    EXPECT_EQ(sc.member("alice").votes_cast(), 0U))},
      {.name = "WithoutAVoteIsNoVoteToRetract",
       .actor = "bob",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::unvote(sc.idea_a)),
       .expect = Errc::kNoVoteToRetract,
       .setup = SETUP(votes(sc, "alice", {sc.idea_a}))},
      {.name = "AVoteOnAnotherIdeaDoesNotCount",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::unvote(sc.idea_b)),
       .expect = Errc::kNoVoteToRetract,
       .setup = SETUP(votes(sc, "alice", {sc.idea_a}))},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::unvote(sc.idea_a)),
       .expect = Errc::kPermissionDenied},
      {.name = "DiscussIsWrongPhase",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::unvote(sc.idea_a)),
       .expect = Errc::kWrongPhase,
       .setup =
           SETUP(sc.s.must("fac", cmd::set_phase(v1::PHASE_VOTE)); votes(sc, "alice", {sc.idea_a});
                 sc.s.must("fac", cmd::set_phase(v1::PHASE_DISCUSS)))},
      {.name = "DoneIsRoomClosed",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::unvote(sc.idea_a)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "alice",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::unvote(kMissing)),
       .expect = Errc::kIdeaNotFound},
  };
}

// ---- CreateAction / UpdateAction: facilitators, any open phase; title 1..200 bytes, a real
// YYYY-MM-DD or empty, an owner in the roster ----
std::vector<Row> create_action_rows() {
  const auto bad_date = [](const char* name, const char* date) {
    return Row{.name = name,
               .actor = "fac",
               .phase = v1::PHASE_DISCUSS,
               .command = [date](const Scene&) { return cmd::create_action("t", "bob", date); },
               .expect = Errc::kInvalidArgument};
  };
  return {
      {.name = "FacilitatorCreatesAnActionItem",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("Write the doc", "bob", "2026-03-31", sc.idea_b)),
       .then = THEN(
           const auto* a = sc.state().find_action(ev.seq()); ASSERT_NE(a, nullptr);
           EXPECT_EQ(a->title(), "Write the doc"); EXPECT_EQ(a->owner().member_id(), "bob");
           EXPECT_EQ(a->owner().display_name(), "Name of bob");
           EXPECT_EQ(a->due_date(), "2026-03-31"); EXPECT_EQ(a->status(), v1::ACTION_STATUS_OPEN);
           EXPECT_EQ(a->idea_id(), sc.idea_b); EXPECT_EQ(a->created_unix_ms(), kNow))},
      {.name = "OwnerCreatesOneInCollectWithoutDateOrIdea",
       .actor = "owner",
       .command = CMD(cmd::create_action("t", "alice")),
       .then = THEN(EXPECT_EQ(sc.state().find_action(ev.seq())->due_date(), "");
                    EXPECT_EQ(sc.state().find_action(ev.seq())->idea_id(), 0U))},
      {.name = "AnObserverMayOwnAnActionItem",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::create_action("t", "obs"))},
      {.name = "LeapDayIsAValidDate",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("t", "bob", "2028-02-29"))},
      {.name = "TitleOf200BytesIsAllowed",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action(std::string(200, 'a'), "bob"))},
      bad_date("February30IsInvalid", "2026-02-30"),
      bad_date("February29OfACommonYearIsInvalid", "2026-02-29"),
      bad_date("Month13IsInvalid", "2026-13-01"),
      bad_date("ShortYearAndUnpaddedFieldsAreInvalid", "26-1-1"),
      bad_date("UnpaddedMonthIsInvalid", "2026-1-01"),
      bad_date("DayZeroIsInvalid", "2026-01-00"),
      bad_date("SlashesAreInvalid", "2026/01/01"),
      {.name = "EmptyTitleIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("", "bob")),
       .expect = Errc::kInvalidArgument},
      {.name = "TitleOver200BytesIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action(std::string(201, 'a'), "bob")),
       .expect = Errc::kInvalidArgument},
      {.name = "ParticipantIsDenied",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("t", "alice")),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("t", "obs")),
       .expect = Errc::kPermissionDenied},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::create_action("t", "bob")),
       .expect = Errc::kRoomClosed},
      {.name = "OwnerNotInTheRosterIsMemberNotFound",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("t", "stranger")),
       .expect = Errc::kMemberNotFound},
      {.name = "MissingIdeaIsIdeaNotFound",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("t", "bob", "", kMissing)),
       .expect = Errc::kIdeaNotFound},
      {.name = "TooManyActionItemsIsLimitExceeded",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::create_action("t", "bob")),
       .expect = Errc::kLimitExceeded,
       .tight = true},
  };
}

std::vector<Row> update_action_rows() {
  return {
      {.name = "FacilitatorReplacesTitleOwnerAndDueDate",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::update_action(sc.action_alice, "Fix CI for good", "bob", "2026-04-01")),
       .then = THEN(
           const auto* a = sc.state().find_action(sc.action_alice);
           EXPECT_EQ(a->title(), "Fix CI for good"); EXPECT_EQ(a->owner().member_id(), "bob");
           EXPECT_EQ(a->due_date(), "2026-04-01"); EXPECT_EQ(a->status(), v1::ACTION_STATUS_OPEN);
           EXPECT_EQ(a->idea_id(), sc.idea_a))},
      {.name = "AnEmptyDueDateClearsIt",
       .actor = "owner",
       .command = CMD(cmd::update_action(sc.action_alice, "Fix CI", "alice", "")),
       .then = THEN(EXPECT_EQ(sc.state().find_action(sc.action_alice)->due_date(), ""))},
      {.name = "InvalidDateIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::update_action(sc.action_alice, "t", "alice", "2026-02-30")),
       .expect = Errc::kInvalidArgument},
      {.name = "EmptyTitleIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::update_action(sc.action_alice, "", "alice")),
       .expect = Errc::kInvalidArgument},
      {.name = "TheActionsOwnerIsDeniedIfAParticipant",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::update_action(sc.action_alice, "t", "alice")),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::update_action(sc.action_alice, "t", "alice")),
       .expect = Errc::kPermissionDenied},
      {.name = "DoneIsRoomClosed",
       .actor = "fac",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::update_action(sc.action_alice, "t", "alice")),
       .expect = Errc::kRoomClosed},
      {.name = "MissingActionIsActionNotFound",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::update_action(kMissing, "t", "alice")),
       .expect = Errc::kActionNotFound},
      {.name = "OwnerNotInTheRosterIsMemberNotFound",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::update_action(sc.action_alice, "t", "stranger")),
       .expect = Errc::kMemberNotFound},
  };
}

// ---- SetActionStatus: the action's owner or a facilitator, any open phase. ROOM_CLOSED and
// existence come before the role ----
std::vector<Row> set_action_status_rows() {
  return {
      {.name = "TheActionsOwnerMarksItDone",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_DONE)),
       .then = THEN(
           EXPECT_EQ(sc.state().find_action(sc.action_alice)->status(), v1::ACTION_STATUS_DONE))},
      {.name = "TheActionsOwnerReopensIt",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_OPEN)),
       .setup = SETUP(
           sc.s.must("alice", cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_DONE))),
       .then = THEN(
           EXPECT_EQ(sc.state().find_action(sc.action_alice)->status(), v1::ACTION_STATUS_OPEN))},
      {.name = "FacilitatorSetsAnyActionsStatus",
       .actor = "fac",
       .phase = v1::PHASE_VOTE,
       .command = CMD(cmd::set_action_status(sc.action_bob, v1::ACTION_STATUS_DONE))},
      {.name = "AllowedInCollectToo",
       .actor = "alice",
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_DONE))},
      {.name = "AParticipantWhoIsNotTheOwnerIsDenied",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_DONE)),
       .expect = Errc::kPermissionDenied},
      {.name = "ObserverIsDenied",
       .actor = "obs",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_DONE)),
       .expect = Errc::kPermissionDenied},
      // Observers are read-only, even on an action they own.
      {.name = "TheOwnerTurnedObserverIsDenied",
       .actor = "alice",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_DONE)),
       .expect = Errc::kPermissionDenied,
       .setup = SETUP(sc.s.must("owner", cmd::set_role("alice", v1::ROLE_OBSERVER)))},
      {.name = "DoneIsRoomClosed",
       .actor = "alice",
       .phase = v1::PHASE_DONE,
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_DONE)),
       .expect = Errc::kRoomClosed},
      {.name = "MissingActionIsActionNotFound",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(kMissing, v1::ACTION_STATUS_DONE)),
       .expect = Errc::kActionNotFound},
      {.name = "MissingActionIsActionNotFoundBeforeTheRole",
       .actor = "bob",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(kMissing, v1::ACTION_STATUS_DONE)),
       .expect = Errc::kActionNotFound},
      {.name = "UnspecifiedStatusIsInvalid",
       .actor = "fac",
       .phase = v1::PHASE_DISCUSS,
       .command = CMD(cmd::set_action_status(sc.action_alice, v1::ACTION_STATUS_UNSPECIFIED)),
       .expect = Errc::kInvalidArgument},
  };
}

#undef CMD
#undef SETUP
#undef THEN

INSTANTIATE_TEST_SUITE_P(PostChat, RulesRow, ::testing::ValuesIn(chat_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(SetGoal, RulesRow, ::testing::ValuesIn(set_goal_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(SetRole, RulesRow, ::testing::ValuesIn(set_role_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(SetPhase, RulesRow, ::testing::ValuesIn(set_phase_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(SetVoting, RulesRow, ::testing::ValuesIn(set_voting_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(SetHideIdeas, RulesRow, ::testing::ValuesIn(set_hide_ideas_rows()),
                         row_name);
INSTANTIATE_TEST_SUITE_P(RevealIdeas, RulesRow, ::testing::ValuesIn(reveal_ideas_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(PostIdea, RulesRow, ::testing::ValuesIn(post_idea_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(EditIdea, RulesRow, ::testing::ValuesIn(edit_idea_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(DeleteIdea, RulesRow, ::testing::ValuesIn(delete_idea_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(MoveIdea, RulesRow, ::testing::ValuesIn(move_idea_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(CreateGroup, RulesRow, ::testing::ValuesIn(create_group_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(RenameGroup, RulesRow, ::testing::ValuesIn(rename_group_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(MergeGroups, RulesRow, ::testing::ValuesIn(merge_groups_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(DeleteGroup, RulesRow, ::testing::ValuesIn(delete_group_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(PostComment, RulesRow, ::testing::ValuesIn(post_comment_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(DeleteComment, RulesRow, ::testing::ValuesIn(delete_comment_rows()),
                         row_name);
INSTANTIATE_TEST_SUITE_P(React, RulesRow, ::testing::ValuesIn(react_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(Vote, RulesRow, ::testing::ValuesIn(vote_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(Unvote, RulesRow, ::testing::ValuesIn(unvote_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(CreateAction, RulesRow, ::testing::ValuesIn(create_action_rows()),
                         row_name);
INSTANTIATE_TEST_SUITE_P(UpdateAction, RulesRow, ::testing::ValuesIn(update_action_rows()),
                         row_name);
INSTANTIATE_TEST_SUITE_P(SetActionStatus, RulesRow, ::testing::ValuesIn(set_action_status_rows()),
                         row_name);

// ---- The table itself ----

std::vector<Row> all_rows() {
  std::vector<Row> all;
  for (auto rows : {chat_rows(),          set_goal_rows(),         set_role_rows(),
                    set_phase_rows(),     set_voting_rows(),       set_hide_ideas_rows(),
                    reveal_ideas_rows(),  post_idea_rows(),        edit_idea_rows(),
                    delete_idea_rows(),   move_idea_rows(),        create_group_rows(),
                    rename_group_rows(),  merge_groups_rows(),     delete_group_rows(),
                    post_comment_rows(),  delete_comment_rows(),   react_rows(),
                    vote_rows(),          unvote_rows(),           create_action_rows(),
                    update_action_rows(), set_action_status_rows()}) {
    all.insert(all.end(), rows.begin(), rows.end());
  }
  return all;
}

// Every command validate_command handles has rows that accept it, reject it by role and reject
// it in done; every command limited by phase has a WRONG_PHASE row.
TEST(RulesTable, EveryBoardCommandHasAcceptedAndRejectedRows) {
  std::map<int, std::set<Errc>> outcomes;
  for (const auto& r : all_rows()) {
    Scene sc = build(r);
    outcomes[r.command(sc).command_case()].insert(r.expect);
  }
  const auto* oneof = v1::ClientFrame::descriptor()->FindOneofByName("command");
  int board_commands = 0;
  for (int i = 0; i < oneof->field_count(); ++i) {
    const int number = oneof->field(i)->number();
    if (!is_board_command(static_cast<v1::ClientFrame::CommandCase>(number))) {
      continue;
    }
    ++board_commands;
    SCOPED_TRACE(oneof->field(i)->name());
    const auto& got = outcomes[number];
    EXPECT_TRUE(got.contains(Errc::kOk));
    EXPECT_TRUE(got.contains(Errc::kPermissionDenied));
    if (number != v1::ClientFrame::kSetPhase) {
      EXPECT_TRUE(got.contains(Errc::kRoomClosed));  // SetPhase reopens a done room.
    }
    const bool any_open_phase =
        number == v1::ClientFrame::kPostChat || number == v1::ClientFrame::kSetGoal ||
        number == v1::ClientFrame::kSetRole || number == v1::ClientFrame::kSetPhase ||
        number == v1::ClientFrame::kSetVoting || number == v1::ClientFrame::kSetHideIdeas ||
        number == v1::ClientFrame::kRevealIdeas || number == v1::ClientFrame::kCreateAction ||
        number == v1::ClientFrame::kUpdateAction || number == v1::ClientFrame::kSetActionStatus;
    if (!any_open_phase) {
      EXPECT_TRUE(got.contains(Errc::kWrongPhase));
    }
  }
  EXPECT_EQ(board_commands, 23);
}

// ---- Outside the table ----

// Before RoomCreated there is no room: every board command is ROOM_NOT_FOUND.
TEST(Rules, EveryCommandOnAMissingRoomIsRoomNotFound) {
  const BoardState empty;
  for (const auto& r : all_rows()) {
    Scene sc = build({.name = "", .actor = "", .command = {}});
    const auto frame = r.command(sc);
    auto result = validate_command(frame, empty, r.actor, kNow, {});
    ASSERT_FALSE(result.has_value()) << r.name;
    EXPECT_EQ(result.error(), Errc::kRoomNotFound) << r.name;
  }
}

// validate_command handles PostChat and the board commands only; the rest is the session's.
TEST(Rules, CommandsThatAreNotBoardCommandsAreInvalidArgument) {
  Scene sc = build({.name = "", .actor = "", .command = {}});
  std::vector<v1::ClientFrame> frames(6);
  frames[0].mutable_hello()->set_display_name("x");
  frames[1].mutable_join()->set_room_id(kRoom);
  frames[2].mutable_export_()->set_room_id(kRoom);
  frames[3].mutable_create_room()->set_room_id("other");
  frames[4].mutable_mark_read()->set_room_id(kRoom);
  // frames[5]: no command at all.
  const std::string before = sc.s.state.serialize();
  for (const auto& f : frames) {
    EXPECT_FALSE(is_board_command(f.command_case()));
    auto result = validate_command(f, sc.s.state, "owner", kNow, {});
    ASSERT_FALSE(result.has_value()) << f.ShortDebugString();
    EXPECT_EQ(result.error(), Errc::kInvalidArgument);
  }
  EXPECT_EQ(sc.s.state.serialize(), before);
}

// CreateRoom: id pattern, title and goal limits; the title defaults to the room id.
TEST(Rules, CreateRoomValidatesIdTitleAndGoal) {
  const BoardLimits limits;
  v1::CreateRoom ok;
  ok.set_room_id("team-retro_1");
  ok.set_anonymous(true);
  ok.set_hide_ideas(true);
  ok.mutable_goal()->set_objective("Learn");
  auto ev = validate_create_room(ok, limits);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->room_id(), "team-retro_1");
  EXPECT_EQ(ev->room_created().title(), "team-retro_1");
  EXPECT_TRUE(ev->room_created().options().anonymous());
  EXPECT_TRUE(ev->room_created().options().hide_ideas());
  EXPECT_EQ(ev->room_created().goal().objective(), "Learn");

  const auto invalid = [&](auto mutate) {
    v1::CreateRoom c = ok;
    mutate(c);
    auto r = validate_create_room(c, limits);
    return !r.has_value() && r.error() == Errc::kInvalidArgument;
  };
  EXPECT_TRUE(invalid([](v1::CreateRoom& c) { c.set_room_id("Team Retro"); }));
  EXPECT_TRUE(invalid([](v1::CreateRoom& c) { c.set_room_id(""); }));
  EXPECT_TRUE(invalid([](v1::CreateRoom& c) { c.set_title(std::string(201, 't')); }));
  EXPECT_TRUE(
      invalid([](v1::CreateRoom& c) { c.mutable_goal()->set_objective(std::string(501, 'o')); }));
  EXPECT_TRUE(invalid(
      [](v1::CreateRoom& c) { c.mutable_goal()->set_success_criteria(std::string(1001, 'c')); }));
  EXPECT_FALSE(invalid([](v1::CreateRoom& c) { c.set_title(std::string(200, 't')); }));
}

TEST(Rules, IsValidDateAcceptsOnlyRealCalendarDays) {
  for (const char* d :
       {"2026-01-01", "2026-12-31", "2024-02-29", "2000-02-29", "1970-01-01", "2026-04-30"}) {
    EXPECT_TRUE(is_valid_date(d)) << d;
  }
  for (const char* d :
       {"2026-02-30", "2026-13-01", "26-1-1", "2026-1-01", "2026-01-1", "1900-02-29", "2100-02-29",
        "2026-04-31", "2026-00-10", "1969-12-31", "2026-01-01 ", "2026_01_01", "", "abcd-ef-gh"}) {
    EXPECT_FALSE(is_valid_date(d)) << d;
  }
}

}  // namespace
}  // namespace huddle::board::testing
