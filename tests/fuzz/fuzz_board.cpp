// fuzz_board: the board's rules and state machine (core/board: validate_command + apply) under
// command scripts built from the input bytes, played as the server plays them (the unit tests'
// Session, tests/unit/core/board_fixture.hpp: validate, stamp, apply, log).
//
// Input: byte 0 = room options (bit 0 anonymous, bit 1 hide ideas, bit 2 no archive near the
// end); bytes 1-2 = the length L of the next part (big-endian);
//   part 1 (L bytes): the choices of a random session (tests/unit/core/random_session.hpp, its
//     choose() hook): commands of every kind with ids of what exists, phases, roles, votes;
//   part 2 (the rest): raw commands, each [actor][length][ClientFrame protobuf], so field values
//     the generator never picks (any enum value, budget, timer, deadline, text) reach the rules.
//     Ids 1..64 in them name the board's ideas, groups, comments and actions by index; a
//     one-byte member id names a roster entry.
//
// Asserts:
// - every command the rules accept applies to the state (the Session fails otherwise);
// - board invariants after each part and each raw command: votes_cast <= budget and equal to
//   the member's tallies; an idea's vote_count is the sum of its tallies; tallies within the
//   per-idea cap; hidden_idea_count counts the hidden ideas, which exist only in collect with
//   hide_ideas on; ideas, groups, actions, comments, votes and reactions sorted and unique;
//   references (an idea's group, an action's idea and owner) exist; sizes within the limits;
//   the board's seq is the last event's;
// - replay (invariant 5): the accepted events replayed into a fresh BoardState, as objects and
//   from their stored bytes, serialize byte-equal to the live board; so does a stored snapshot
//   at a cut chosen by the input plus the events after it;
// - visibility: a mirror of one viewer, started from the redacted snapshot at the cut and fed
//   that viewer's redacted events, equals the live board redacted for that viewer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "board_fixture.hpp"
#include "core/board/visibility.hpp"
#include "fuzz_common.hpp"
#include "random_session.hpp"

namespace {

namespace v1 = huddle::v1;
using huddle::board::BoardState;
using huddle::board::deterministic_bytes;
using huddle::board::testing::random_members;
using huddle::board::testing::RandomOptions;
using huddle::board::testing::RandomSession;
using huddle::board::testing::Session;
using huddle::fuzz::Bytes;

// The Session reports with GoogleTest (EXPECT_*, ADD_FAILURE); outside a test run those are
// only printed, so make every failure a crash libFuzzer records.
class AbortOnFailure : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.failed()) {
      std::fprintf(stderr, "%s:%d: %s\n", r.file_name() != nullptr ? r.file_name() : "?",
                   r.line_number(), r.summary());
      std::abort();
    }
  }
};

// ---- Invariants ----

template <class Field, class Less>
void check_sorted_unique(const Field& field, Less less) {
  for (int i = 1; i < field.size(); ++i) {
    HUDDLE_FUZZ_CHECK(less(field.Get(i - 1), field.Get(i)));
  }
}

void check_invariants(const Session& s) {
  const auto& b = s.state.snapshot();
  HUDDLE_FUZZ_CHECK(!s.log.empty() && b.seq() == s.log.back().seq());
  const auto budget = b.voting().budget();
  const auto cap = b.voting().per_idea_cap();
  HUDDLE_FUZZ_CHECK(budget >= 1 && budget <= s.limits.max_vote_budget);
  HUDDLE_FUZZ_CHECK(cap <= budget);

  std::set<std::string> roster;
  for (const auto& m : b.roster()) {
    HUDDLE_FUZZ_CHECK(roster.insert(m.member().member_id()).second);
  }
  HUDDLE_FUZZ_CHECK(b.roster_size() > 0 && b.roster(0).role() == v1::ROLE_OWNER);

  std::set<std::uint64_t> groups;
  for (const auto& g : b.groups()) {
    groups.insert(g.group_id());
  }
  check_sorted_unique(b.groups(),
                      [](const auto& x, const auto& y) { return x.group_id() < y.group_id(); });
  check_sorted_unique(b.ideas(),
                      [](const auto& x, const auto& y) { return x.idea_id() < y.idea_id(); });
  check_sorted_unique(b.actions(),
                      [](const auto& x, const auto& y) { return x.action_id() < y.action_id(); });

  std::map<std::string, std::uint32_t> votes_by_member;
  std::set<std::uint64_t> ideas;
  std::uint32_t hidden = 0;
  for (const auto& idea : b.ideas()) {
    ideas.insert(idea.idea_id());
    HUDDLE_FUZZ_CHECK(idea.group_id() == 0 || groups.contains(idea.group_id()));
    std::uint32_t sum = 0;
    for (const auto& t : idea.votes()) {
      HUDDLE_FUZZ_CHECK(t.count() > 0);
      HUDDLE_FUZZ_CHECK(cap == 0 || t.count() <= cap);
      HUDDLE_FUZZ_CHECK(roster.contains(t.member_id()));
      sum += t.count();
      votes_by_member[t.member_id()] += t.count();
    }
    HUDDLE_FUZZ_CHECK(idea.vote_count() == sum);
    check_sorted_unique(idea.votes(),
                        [](const auto& x, const auto& y) { return x.member_id() < y.member_id(); });
    check_sorted_unique(idea.comments(), [](const auto& x, const auto& y) {
      return x.comment_id() < y.comment_id();
    });
    check_sorted_unique(idea.reactions(), [](const auto& x, const auto& y) {
      return x.reaction() != y.reaction() ? x.reaction() < y.reaction()
                                          : x.member_id() < y.member_id();
    });
    HUDDLE_FUZZ_CHECK(static_cast<std::size_t>(idea.comments_size()) <=
                      s.limits.max_comments_per_idea);
    if (idea.hidden()) {
      ++hidden;
    }
  }
  HUDDLE_FUZZ_CHECK(b.hidden_idea_count() == hidden);
  if (hidden > 0) {
    HUDDLE_FUZZ_CHECK(b.phase().phase() == v1::PHASE_COLLECT && b.options().hide_ideas());
  }
  for (const auto& m : b.roster()) {
    HUDDLE_FUZZ_CHECK(m.votes_cast() <= budget);
    HUDDLE_FUZZ_CHECK(m.votes_cast() == votes_by_member[m.member().member_id()]);
  }
  for (const auto& a : b.actions()) {
    HUDDLE_FUZZ_CHECK(a.idea_id() == 0 || ideas.contains(a.idea_id()));
    HUDDLE_FUZZ_CHECK(roster.contains(a.owner().member_id()));
  }
  HUDDLE_FUZZ_CHECK(static_cast<std::size_t>(b.ideas_size()) <= s.limits.max_ideas);
  HUDDLE_FUZZ_CHECK(static_cast<std::size_t>(b.groups_size()) <= s.limits.max_groups);
  HUDDLE_FUZZ_CHECK(static_cast<std::size_t>(b.actions_size()) <= s.limits.max_actions);
}

// ---- Part 2: raw commands ----

std::uint64_t nth_id(std::uint64_t v, const std::vector<std::uint64_t>& ids) {
  if (v == 0 || v > 64 || ids.empty()) {
    return v;  // 0 (none) stays; anything else names nothing, or something by accident.
  }
  return ids[(v - 1) % ids.size()];
}

// Ids 1..64 name existing things by index; one-byte member ids name roster entries.
void remap_ids(const Session& s, google::protobuf::Message& cmd) {
  const auto& b = s.state.snapshot();
  std::vector<std::uint64_t> ideas, groups, actions, comments;
  for (const auto& i : b.ideas()) {
    ideas.push_back(i.idea_id());
  }
  for (const auto& g : b.groups()) {
    groups.push_back(g.group_id());
  }
  for (const auto& a : b.actions()) {
    actions.push_back(a.action_id());
  }
  const auto* d = cmd.GetDescriptor();
  const auto* r = cmd.GetReflection();
  using FD = google::protobuf::FieldDescriptor;
  for (const char* name : {"idea_id", "group_id", "from_group_id", "into_group_id", "action_id"}) {
    const auto* f = d->FindFieldByName(name);
    if (f == nullptr || f->cpp_type() != FD::CPPTYPE_UINT64 || f->is_repeated()) {
      continue;
    }
    const std::string n = name;
    const auto& ids = n == "idea_id" ? ideas : n == "action_id" ? actions : groups;
    r->SetUInt64(&cmd, f, nth_id(r->GetUInt64(cmd, f), ids));
  }
  if (const auto* f = d->FindFieldByName("comment_id");
      f != nullptr && f->cpp_type() == FD::CPPTYPE_UINT64) {
    const auto* idea_field = d->FindFieldByName("idea_id");
    const auto* idea =
        idea_field == nullptr ? nullptr : s.state.find_idea(r->GetUInt64(cmd, idea_field));
    if (idea != nullptr) {
      for (const auto& c : idea->comments()) {
        comments.push_back(c.comment_id());
      }
    }
    r->SetUInt64(&cmd, f, nth_id(r->GetUInt64(cmd, f), comments));
  }
  // A small deadline is relative to the session's clock, so both sides of the rules' window
  // (now, now + 30 days] are reachable.
  if (const auto* f = d->FindFieldByName("deadline_unix_ms");
      f != nullptr && f->cpp_type() == FD::CPPTYPE_INT64) {
    const std::int64_t v = r->GetInt64(cmd, f);
    if (v != 0 && v > -(std::int64_t{1} << 36) && v < (std::int64_t{1} << 36)) {
      r->SetInt64(&cmd, f, s.now + v);
    }
  }
  for (const char* name : {"member_id", "owner_id"}) {
    const auto* f = d->FindFieldByName(name);
    if (f == nullptr || f->cpp_type() != FD::CPPTYPE_STRING || f->is_repeated()) {
      continue;
    }
    const std::string v = r->GetString(cmd, f);
    if (v.size() == 1 && b.roster_size() > 0) {
      const auto i = static_cast<unsigned char>(v[0]) % static_cast<unsigned>(b.roster_size());
      r->SetString(&cmd, f, b.roster(static_cast<int>(i)).member().member_id());
    }
  }
}

// HUDDLE_FUZZ_DEBUG=1 in the environment: print what each input did (to read a crasher).
const bool kDebug = std::getenv("HUDDLE_FUZZ_DEBUG") != nullptr;

void run_raw_commands(Session& s, Bytes& in) {
  const auto& members = random_members();
  while (!in.empty()) {
    const std::uint8_t who = in.byte();
    const std::size_t len = in.byte();
    v1::ClientFrame frame;
    if (!frame.ParseFromString(in.take(len))) {
      continue;
    }
    const auto* oneof = v1::ClientFrame::descriptor()->FindOneofByName("command");
    const auto* field = frame.GetReflection()->GetOneofFieldDescriptor(frame, oneof);
    if (field == nullptr ||
        field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    remap_ids(s, *frame.GetReflection()->MutableMessage(&frame, field));
    const std::string actor =
        who == 0xff ? std::string("idStrangerQ") : members[who % members.size()].id;
    s.now += 1 + (who & 0x3f) * 1000;
    s.seq_gap = 1 + (who >> 6);
    const auto before = s.state.serialize();
    const auto log_size = s.log.size();
    auto result = s.run(actor, frame);
    if (kDebug) {
      std::fprintf(stderr, "raw %s by %s: %s\n", frame.ShortDebugString().c_str(), actor.c_str(),
                   result ? "accepted" : result.error().message().c_str());
    }
    if (!result) {
      // Rejected: nothing changed (invariant 9).
      HUDDLE_FUZZ_CHECK(s.log.size() == log_size && s.state.serialize() == before);
    }
    check_invariants(s);
  }
}

// ---- Replay and mirrors ----

void check_replay(const Session& s, std::size_t cut, const std::string& viewer) {
  const std::string live = s.state.serialize();
  HUDDLE_FUZZ_CHECK(deterministic_bytes(s.state.snapshot()) == live);

  // From the events as objects.
  HUDDLE_FUZZ_CHECK(huddle::board::testing::replay(s.log).serialize() == live);

  // From their stored bytes.
  BoardState parsed;
  for (const auto& e : s.log) {
    v1::Event back;
    HUDDLE_FUZZ_CHECK(back.ParseFromString(e.SerializeAsString()));
    HUDDLE_FUZZ_CHECK(!parsed.apply(back));
  }
  HUDDLE_FUZZ_CHECK(parsed.serialize() == live);

  // A stored snapshot after `cut` events, then the rest.
  const std::vector<v1::Event> head(s.log.begin(), s.log.begin() + static_cast<long>(cut));
  const std::vector<v1::Event> tail(s.log.begin() + static_cast<long>(cut), s.log.end());
  const BoardState at_cut = huddle::board::testing::replay(head);
  v1::BoardSnapshot stored;
  HUDDLE_FUZZ_CHECK(stored.ParseFromString(at_cut.snapshot().SerializeAsString()));
  BoardState restored(stored);
  for (const auto& e : tail) {
    HUDDLE_FUZZ_CHECK(!restored.apply(e));
  }
  HUDDLE_FUZZ_CHECK(restored.serialize() == live);

  // One viewer's mirror from the cut (the SDK's BoardMirror runs this).
  const bool anonymous = s.state.snapshot().options().anonymous();
  BoardState mirror(huddle::board::redact_snapshot(at_cut.snapshot(), viewer));
  for (const auto& e : tail) {
    HUDDLE_FUZZ_CHECK(!mirror.apply(huddle::board::redact_event(e, viewer, anonymous)));
  }
  HUDDLE_FUZZ_CHECK(mirror.serialize() == deterministic_bytes(huddle::board::redact_snapshot(
                                              s.state.snapshot(), viewer)));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  huddle::fuzz::quiet_protobuf_logs();
  ::testing::UnitTest::GetInstance()->listeners().Append(new AbortOnFailure);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::uint8_t flags = in.byte();
  const std::size_t part1 = (std::size_t{in.byte()} << 8) | in.byte();
  Bytes choices(in.position(), std::min(part1, in.left()));
  in.take(part1);

  RandomOptions options;
  options.anonymous = (flags & 1) != 0;
  options.hide_ideas = (flags & 2) != 0;
  options.archive_near_end = (flags & 4) == 0;
  options.commands = std::min<std::size_t>(choices.left() / 3, 1000);
  options.choose = [&choices](std::uint64_t n) { return choices.below(n); };
  RandomSession rs = huddle::board::testing::random_session(options);
  Session& s = rs.session;
  if (kDebug) {
    std::fprintf(stderr, "session: %zu commands, %zu events\n", rs.attempted, s.log.size());
  }
  check_invariants(s);

  run_raw_commands(s, in);

  // The cut and the viewer: from the flags' high bits, so every input has them.
  const std::size_t cut = 1 + (flags >> 3) * (s.log.size() - 1) / 31;
  const auto& members = random_members();
  const std::size_t v = (flags >> 3) % (members.size() + 1);
  check_replay(s, cut, v == members.size() ? std::string() : members[v].id);
  return 0;
}
