// Invariant 6: never send what a member may not see (core/board/visibility.hpp).
// - A member's mirror, built from redact_snapshot + redact_event, is byte-equal to the redacted
//   server board after every event (the client SDK relies on this).
// - Hidden idea text reaches nobody but its author until a reveal; anonymous authors reach
//   nobody but themselves; at most two visibility classes per event.
#include "core/board/visibility.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "board_fixture.hpp"
#include "core/board/board_state.hpp"
#include "core/board/export.hpp"
#include "random_session.hpp"

namespace huddle::board::testing {
namespace {

struct VisCase {
  bool anonymous;
  bool hide_ideas;
  std::uint32_t seed;
};

std::string trace(const VisCase& c) {
  return std::string(c.anonymous ? "anonymous" : "named") +
         (c.hide_ideas ? " hide_ideas" : " open") + " seed " + std::to_string(c.seed);
}

// Every combination of the room options, two seeds each.
std::vector<VisCase> vis_cases() {
  std::vector<VisCase> out;
  for (bool anonymous : {false, true}) {
    for (bool hide : {false, true}) {
      for (std::uint32_t seed : {101U, 202U}) {
        out.push_back({anonymous, hide, seed});
      }
    }
  }
  return out;
}

const RandomSession& vis_session(const VisCase& c) {
  static std::map<std::tuple<bool, bool, std::uint32_t>, RandomSession> cache;
  const auto key = std::make_tuple(c.anonymous, c.hide_ideas, c.seed);
  auto it = cache.find(key);
  if (it == cache.end()) {
    it = cache
             .emplace(key, random_session({.seed = c.seed,
                                           .commands = 1500,
                                           .anonymous = c.anonymous,
                                           .hide_ideas = c.hide_ideas}))
             .first;
  }
  return it->second;
}

// Every member, and the outsider "" (HTTP export without a member).
std::vector<std::string> viewers() {
  std::vector<std::string> out;
  for (const auto& m : random_members()) {
    out.push_back(m.id);
  }
  out.emplace_back();
  return out;
}

std::string payload_name(const v1::Event& e) {
  if (e.payload_case() == v1::Event::PAYLOAD_NOT_SET) {
    return "(none)";
  }
  return std::string(
      v1::Event::descriptor()->FindFieldByNumber(static_cast<int>(e.payload_case()))->name());
}

std::string diff(const v1::BoardSnapshot& want, const v1::BoardSnapshot& got) {
  std::string report;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&report);
  d.Compare(want, got);
  return report.empty() ? "(no field difference: byte order)" : report;
}

std::string export_body(const v1::BoardSnapshot& board, v1::ExportFormat f) {
  auto doc = render_export(board, f);
  EXPECT_TRUE(doc.has_value());
  return doc ? doc->body : std::string();
}

constexpr v1::ExportFormat kFormats[] = {v1::EXPORT_FORMAT_MARKDOWN, v1::EXPORT_FORMAT_CSV,
                                         v1::EXPORT_FORMAT_JSON};

// ---- Commutation: apply(redact(S, v), redact(e, v)) == redact(apply(S, e), v) ----

// The mirror of every member (and of the outsider), started from the redacted board after
// RoomCreated and fed only that viewer's redacted events, serializes exactly like the server's
// board redacted for that viewer, after every single event.
TEST(Visibility, MirrorOfRedactedEventsEqualsTheRedactedBoardAfterEveryEvent) {
  std::map<std::string, int> failures;  // By event type.
  std::size_t steps = 0;
  for (const auto& c : vis_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& log = vis_session(c).session.log;
    for (const auto& v : viewers()) {
      SCOPED_TRACE("viewer \"" + v + "\"");
      BoardState full;
      ASSERT_FALSE(full.apply(log[0]));
      BoardState mirror(redact_snapshot(full.snapshot(), v));
      const bool anonymous = full.snapshot().options().anonymous();
      ASSERT_EQ(anonymous, c.anonymous);
      for (std::size_t i = 1; i < log.size(); ++i) {
        ASSERT_FALSE(full.apply(log[i]));
        const auto ec = mirror.apply(redact_event(log[i], v, anonymous));
        const auto want = redact_snapshot(full.snapshot(), v);
        ++steps;
        if (ec || mirror.serialize() != deterministic_bytes(want)) {
          if (failures[payload_name(log[i])]++ == 0) {
            ADD_FAILURE() << "mirror diverges at seq " << log[i].seq() << " ("
                          << payload_name(log[i]) << ", actor " << log[i].actor().member_id()
                          << "): "
                          << (ec ? "apply rejected the redacted event: " + ec.message()
                                 : diff(want, mirror.snapshot()));
          }
          break;  // The rest of this viewer's walk would only repeat the divergence.
        }
      }
    }
  }
  EXPECT_TRUE(failures.empty()) << [&] {
    std::string s = "failing event types:";
    for (const auto& [type, n] : failures) {
      s += " " + type + " (" + std::to_string(n) + " viewer walks)";
    }
    return s;
  }();
  EXPECT_GT(steps, 40'000U);
}

// ---- Hidden ideas ----

// The marker in an idea's text, e.g. "SECRET00042Z".
std::string marker_of(const std::string& text) {
  const auto pos = text.find(kSecretPrefix);
  return pos == std::string::npos ? std::string() : text.substr(pos, 12);
}

bool is_reveal(const v1::Event& e) {
  return e.has_phase_changed() || e.has_hide_ideas_set() || e.has_ideas_revealed();
}

// While an idea is hidden, no marker it ever carried (text or tag) appears in what any other
// viewer gets: the redacted event, the redacted board, or any export of it. When a reveal
// uncovers it, its text reaches every viewer in the reveal event and the board.
TEST(Visibility, HiddenTextReachesOnlyItsAuthorUntilRevealed) {
  std::size_t hidden_checks = 0;
  std::size_t export_checks = 0;
  std::map<std::string, std::size_t> reveals;  // Reveal event type -> ideas revealed.
  for (const auto& c : vis_cases()) {
    SCOPED_TRACE(trace(c));
    const auto& rs = vis_session(c);
    const auto& log = rs.session.log;
    BoardState full;
    std::size_t hidden_steps = 0;
    for (std::size_t i = 0; i < log.size(); ++i) {
      const auto& e = log[i];
      std::map<std::uint64_t, std::string> was_hidden;  // Idea -> author, before e.
      for (const auto& idea : full.snapshot().ideas()) {
        if (idea.hidden()) {
          was_hidden[idea.idea_id()] = idea.author().member_id();
        }
      }
      ASSERT_FALSE(full.apply(e));
      const bool anonymous = full.snapshot().options().anonymous();
      std::vector<const v1::Idea*> hidden;
      for (const auto& idea : full.snapshot().ideas()) {
        if (idea.hidden()) {
          hidden.push_back(&idea);
        }
      }
      bool uncovered = false;
      for (const auto& [id, author] : was_hidden) {
        const auto* idea = full.find_idea(id);
        uncovered = uncovered || (idea != nullptr && !idea->hidden());
      }
      if (hidden.empty() && !uncovered) {
        continue;  // Nothing is hidden, nothing was revealed: nothing to check at this step.
      }
      const bool sample_exports = !hidden.empty() && (hidden_steps++ % 10 == 0);
      for (const auto& v : viewers()) {
        const std::string ev_bytes = deterministic_bytes(redact_event(e, v, anonymous));
        const auto board = redact_snapshot(full.snapshot(), v);
        const std::string board_bytes = deterministic_bytes(board);
        std::vector<std::string> exports;
        if (sample_exports) {
          for (auto f : kFormats) {
            exports.push_back(export_body(board, f));
          }
          ++export_checks;
        }
        for (const auto* idea : hidden) {
          if (!v.empty() && idea->author().member_id() == v) {
            // The author sees their own hidden idea.
            ASSERT_TRUE(contains(board_bytes, idea->text()));
            continue;
          }
          auto it = rs.markers.find(idea->idea_id());
          ASSERT_NE(it, rs.markers.end()) << "idea " << idea->idea_id() << " has no marker";
          for (const auto& m : it->second) {
            ++hidden_checks;
            ASSERT_FALSE(contains(ev_bytes, m))
                << m << " leaks to \"" << v << "\" in " << payload_name(e) << " seq " << e.seq();
            ASSERT_FALSE(contains(board_bytes, m)) << m << " leaks to \"" << v << "\" in board";
            for (std::size_t f = 0; f < exports.size(); ++f) {
              ASSERT_FALSE(contains(exports[f], m))
                  << m << " leaks to \"" << v << "\" in export format " << kFormats[f];
            }
          }
        }
        // Ideas uncovered by this event: everyone gets their text now.
        for (const auto& [id, author] : was_hidden) {
          const auto* idea = full.find_idea(id);
          if (idea == nullptr || idea->hidden()) {
            continue;  // Deleted, or still hidden.
          }
          ASSERT_TRUE(is_reveal(e)) << "idea " << id << " uncovered by " << payload_name(e);
          ASSERT_TRUE(contains(ev_bytes, idea->text())) << "viewer \"" << v << "\"";
          ASSERT_TRUE(contains(board_bytes, idea->text())) << "viewer \"" << v << "\"";
          ASSERT_TRUE(
              contains(export_body(board, v1::EXPORT_FORMAT_MARKDOWN), marker_of(idea->text())));
          if (v.empty()) {
            ++reveals[payload_name(e)];
          }
        }
      }
    }
  }
  EXPECT_GT(hidden_checks, 2'000U);
  EXPECT_GT(export_checks, 100U);
  // All three ways to reveal happened (leaving collect, hide_ideas off, RevealIdeas).
  EXPECT_GT(reveals["phase_changed"], 0U);
  EXPECT_GT(reveals["hide_ideas_set"], 0U);
  EXPECT_GT(reveals["ideas_revealed"], 0U);
}

// ---- Anonymous rooms ----

bool is_content(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kChatPosted:
    case v1::Event::kIdeaPosted:
    case v1::Event::kIdeaEdited:
    case v1::Event::kIdeaDeleted:
    case v1::Event::kIdeaMoved:
    case v1::Event::kCommentPosted:
    case v1::Event::kCommentDeleted:
    case v1::Event::kReactionSet:
    case v1::Event::kVoteCast:
    case v1::Event::kVoteRetracted: return true;
    default: return false;
  }
}

// In anonymous rooms, the actor of a content event reaches only the actor; a member's board
// holds no other member's id or name in any idea (author, votes, comments, reactions), and
// the roster shows no other member's contribution figures.
TEST(Visibility, AnonymousAuthorsReachOnlyThemselves) {
  std::map<std::string, std::size_t> checked;  // Content event types seen.
  for (const auto& c : vis_cases()) {
    if (!c.anonymous) {
      continue;
    }
    SCOPED_TRACE(trace(c));
    const auto& log = vis_session(c).session.log;
    BoardState full;
    for (std::size_t i = 0; i < log.size(); ++i) {
      const auto& e = log[i];
      ASSERT_FALSE(full.apply(e));
      const bool content = is_content(e);
      if (content) {
        ++checked[payload_name(e)];
      }
      const std::string& actor = e.actor().member_id();
      const std::string& actor_name = e.actor().display_name();
      for (const auto& v : viewers()) {
        const std::string bytes = deterministic_bytes(redact_event(e, v, true));
        if (content) {
          const bool own = v == actor;
          ASSERT_EQ(contains(bytes, actor), own) << payload_name(e) << " to \"" << v << "\"";
          ASSERT_EQ(contains(bytes, actor_name), own) << payload_name(e) << " to \"" << v << "\"";
        }
        if (i % 7 != 0) {
          continue;  // The board is checked on a sample of the steps.
        }
        const auto board = redact_snapshot(full.snapshot(), v);
        for (const auto& idea : board.ideas()) {
          const std::string idea_bytes = deterministic_bytes(idea);
          for (const auto& m : random_members()) {
            if (m.id == v) {
              continue;
            }
            ASSERT_FALSE(contains(idea_bytes, m.id)) << m.id << " in an idea for \"" << v << "\"";
            ASSERT_FALSE(contains(idea_bytes, m.name))
                << m.name << " in an idea for \"" << v << "\"";
          }
        }
        for (int r = 0; r < board.roster_size(); ++r) {
          const auto& got = board.roster(r);
          const auto& real = full.snapshot().roster(r);
          if (!v.empty() && got.member().member_id() == v) {
            ASSERT_EQ(deterministic_bytes(got), deterministic_bytes(real));
            continue;
          }
          ASSERT_EQ(got.chat_message_count() + got.last_contribution_seq() + got.idea_count() +
                        got.votes_cast() + got.last_idea_seq() + got.last_vote_seq(),
                    0U)
              << got.member().member_id() << " for \"" << v << "\"";
          ASSERT_EQ(got.role(), real.role());  // Membership and roles stay public.
        }
      }
    }
  }
  for (const char* type :
       {"chat_posted", "idea_posted", "idea_edited", "idea_deleted", "idea_moved", "comment_posted",
        "comment_deleted", "reaction_set", "vote_cast", "vote_retracted"}) {
    EXPECT_GT(checked[type], 0U) << type;
  }
}

// needs_redaction(e) is true exactly when some viewer's bytes differ from the full event; the
// actor always gets the full event and all other viewers get identical bytes, so there are at
// most two visibility classes per event (invariant 7 encodes once per class).
TEST(Visibility, NeedsRedactionMatchesTheBytesAndThereAreAtMostTwoClasses) {
  std::size_t redacted = 0;
  std::size_t plain = 0;
  for (const auto& c : vis_cases()) {
    SCOPED_TRACE(trace(c));
    for (const auto& e : vis_session(c).session.log) {
      const std::string full = deterministic_bytes(e);
      std::set<std::string> classes;
      std::set<std::string> others;
      bool differs = false;
      auto vs = viewers();
      vs.emplace_back("idStrangerQ");  // Not in the roster: like any other non-actor.
      for (const auto& v : vs) {
        const std::string bytes = deterministic_bytes(redact_event(e, v, c.anonymous));
        classes.insert(bytes);
        differs = differs || bytes != full;
        if (v == e.actor().member_id()) {
          ASSERT_EQ(bytes, full) << payload_name(e) << ": the actor gets the full event";
        } else {
          others.insert(bytes);
        }
      }
      ASSERT_EQ(needs_redaction(e, c.anonymous), differs) << payload_name(e);
      ASSERT_EQ(others.size(), 1U) << payload_name(e);
      ASSERT_LE(classes.size(), 2U) << payload_name(e);
      ++(differs ? redacted : plain);
    }
  }
  EXPECT_GT(redacted, 1000U);
  EXPECT_GT(plain, 1000U);
}

// ---- Scenarios with exports ----

// Alice posts a hidden idea (marker in text and tag) and an action item points at it. Until
// the reveal, bob, the facilitator and the outsider see "(hidden idea)" in every format; alice
// sees her text.
struct HiddenScene {
  Session s;
  std::uint64_t idea = 0;
};

HiddenScene hidden_scene() {
  HiddenScene h;
  h.s.create("owner", false, true);
  h.s.join("alice");
  h.s.join("bob");
  h.idea = h.s.must_id("alice", cmd::post_idea("Fire SECRET00001Z now", {"tSECRET00001Z"}));
  h.s.must("owner", cmd::create_action("Follow up", "bob", "", h.idea));
  h.s.must("alice", cmd::edit_idea(h.idea, "Fire SECRET00002Z later", {"tSECRET00002Z"}));
  return h;
}

TEST(Visibility, HiddenIdeaIsHiddenInEveryExportFormatUntilRevealed) {
  auto h = hidden_scene();
  const auto& board = h.s.state.snapshot();
  ASSERT_TRUE(board.ideas(0).hidden());
  for (const char* v : {"bob", "owner", ""}) {
    SCOPED_TRACE(std::string("viewer ") + v);
    const auto red = redact_snapshot(board, v);
    EXPECT_EQ(red.ideas(0).text(), "");
    EXPECT_EQ(red.ideas(0).tags_size(), 0);
    EXPECT_TRUE(red.ideas(0).hidden());
    for (const auto& e : h.s.log) {
      EXPECT_FALSE(contains(deterministic_bytes(redact_event(e, v, false)), "SECRET"));
    }
    for (auto f : kFormats) {
      const auto body = export_body(red, f);
      EXPECT_FALSE(contains(body, "SECRET")) << f;
    }
    EXPECT_TRUE(contains(export_body(red, v1::EXPORT_FORMAT_MARKDOWN), "_(hidden idea)_"));
    EXPECT_TRUE(contains(export_body(red, v1::EXPORT_FORMAT_MARKDOWN),
                         "(from: \\(hidden idea\\))"));  // The action item's link.
    EXPECT_TRUE(contains(export_body(red, v1::EXPORT_FORMAT_CSV), ",(hidden idea),"));
  }
  const auto own = redact_snapshot(board, "alice");
  EXPECT_EQ(own.ideas(0).text(), "Fire SECRET00002Z later");
  EXPECT_TRUE(contains(export_body(own, v1::EXPORT_FORMAT_MARKDOWN), "SECRET00002Z"));
  EXPECT_TRUE(contains(export_body(own, v1::EXPORT_FORMAT_CSV), "SECRET00002Z"));
  EXPECT_TRUE(contains(export_body(own, v1::EXPORT_FORMAT_JSON), "tSECRET00002Z"));
}

// Each way to reveal carries the current text to everybody and the board shows it.
TEST(Visibility, EveryRevealCarriesTheTextToEveryone) {
  const std::vector<std::pair<std::string, v1::ClientFrame>> reveals = {
      {"RevealIdeas", cmd::reveal_ideas()},
      {"SetHideIdeasOff", cmd::set_hide_ideas(false)},
      {"LeavingCollect", cmd::set_phase(v1::PHASE_GROUP)},
      {"JumpingToDone", cmd::set_phase(v1::PHASE_DONE)},
  };
  for (const auto& [name, frame] : reveals) {
    SCOPED_TRACE(name);
    auto h = hidden_scene();
    const auto ev = h.s.must("owner", frame);
    for (const char* v : {"bob", "owner", "alice", ""}) {
      SCOPED_TRACE(std::string("viewer ") + v);
      const auto bytes = deterministic_bytes(redact_event(ev, v, false));
      EXPECT_TRUE(contains(bytes, "Fire SECRET00002Z later"));
      EXPECT_TRUE(contains(bytes, "tSECRET00002Z"));
      EXPECT_FALSE(contains(bytes, "SECRET00001Z"));  // The text before the edit is gone.
      const auto red = redact_snapshot(h.s.state.snapshot(), v);
      EXPECT_FALSE(red.ideas(0).hidden());
      EXPECT_EQ(red.ideas(0).text(), "Fire SECRET00002Z later");
      for (auto f : kFormats) {
        EXPECT_TRUE(contains(export_body(red, f), "SECRET00002Z")) << f;
      }
    }
  }
}

// An anonymous room: the author's id and name appear in nothing another viewer gets (events
// of every content type, the board's ideas, Markdown and CSV exports; in JSON only as the
// roster entry), but do for the author. The vote budget still holds for the anonymous author.
struct AnonScene {
  Session s;
  std::vector<v1::Event> author_events;  // The author's content events.
  boost::system::error_code sixth_vote;  // The author's vote past the budget of 5.
};

AnonScene anon_scene(bool anonymous) {
  AnonScene a;
  auto& s = a.s;
  s.display_names = {
      {"idOwnerQ", "nmOwnerQ"}, {"idAuthorQ", "nmAuthorQ"}, {"idOtherQ", "nmOtherQ"}};
  s.create("idOwnerQ", anonymous);
  s.join("idAuthorQ");
  s.join("idOtherQ");
  const auto by_author = [&](const v1::ClientFrame& f) {
    a.author_events.push_back(s.must("idAuthorQ", f));
    return a.author_events.back().seq();
  };
  by_author(cmd::chat("hello all"));
  const auto x1 = by_author(cmd::post_idea("Retro every week"));
  const auto x2 = by_author(cmd::post_idea("Drop it"));
  by_author(cmd::edit_idea(x1, "Retro every other week"));
  by_author(cmd::delete_idea(x2));
  const auto y = s.must_id("idOtherQ", cmd::post_idea("Pair more"));
  s.must("idOwnerQ", cmd::set_phase(v1::PHASE_GROUP));
  const auto g = s.must_id("idOwnerQ", cmd::create_group("Cadence"));
  by_author(cmd::move_idea(x1, g));
  by_author(cmd::post_comment(x1, "I mean it"));
  const auto c2 = by_author(cmd::post_comment(y, "Yes please"));
  by_author(cmd::delete_comment(y, c2));
  by_author(cmd::react(x1, v1::REACTION_HEART));
  by_author(cmd::react(y, v1::REACTION_THUMBS_UP));
  by_author(cmd::react(y, v1::REACTION_THUMBS_UP, true));
  s.must("idOtherQ", cmd::react(x1, v1::REACTION_HEART));
  s.must("idOtherQ", cmd::post_comment(x1, "Agreed"));
  s.must("idOwnerQ", cmd::set_phase(v1::PHASE_VOTE));
  for (int i = 0; i < 5; ++i) {
    by_author(cmd::vote(i % 2 == 0 ? x1 : y));
  }
  s.must("idOtherQ", cmd::vote(x1));
  by_author(cmd::unvote(y));
  by_author(cmd::vote(x1));
  auto over = s.run("idAuthorQ", cmd::vote(y));
  a.sixth_vote = over ? boost::system::error_code{} : over.error();
  s.must("idOwnerQ", cmd::set_phase(v1::PHASE_DISCUSS));
  s.must("idOwnerQ", cmd::create_action("Try it", "idOtherQ", "2026-03-01", x1));
  return a;
}

TEST(Visibility, AnonymousAuthorIsHiddenFromEveryoneElseInEventsBoardAndExports) {
  auto a = anon_scene(true);
  const auto& board = a.s.state.snapshot();
  std::set<std::string> types;
  for (const auto& e : a.author_events) {
    types.insert(payload_name(e));
    for (const char* v : {"idOtherQ", "idOwnerQ", ""}) {
      const auto bytes = deterministic_bytes(redact_event(e, v, true));
      EXPECT_FALSE(contains(bytes, "idAuthorQ")) << payload_name(e) << " to " << v;
      EXPECT_FALSE(contains(bytes, "nmAuthorQ")) << payload_name(e) << " to " << v;
      EXPECT_TRUE(needs_redaction(e, true));
    }
    const auto own = deterministic_bytes(redact_event(e, "idAuthorQ", true));
    EXPECT_TRUE(contains(own, "idAuthorQ") && contains(own, "nmAuthorQ")) << payload_name(e);
  }
  EXPECT_EQ(types,
            (std::set<std::string>{"chat_posted", "idea_posted", "idea_edited", "idea_deleted",
                                   "idea_moved", "comment_posted", "comment_deleted",
                                   "reaction_set", "vote_cast", "vote_retracted"}));

  for (const char* v : {"idOtherQ", "idOwnerQ", ""}) {
    SCOPED_TRACE(std::string("viewer ") + v);
    const auto red = redact_snapshot(board, v);
    for (const auto& idea : red.ideas()) {
      EXPECT_FALSE(contains(deterministic_bytes(idea), "idAuthorQ"));
      EXPECT_FALSE(contains(deterministic_bytes(idea), "nmAuthorQ"));
    }
    const auto md = export_body(red, v1::EXPORT_FORMAT_MARKDOWN);
    const auto csv = export_body(red, v1::EXPORT_FORMAT_CSV);
    EXPECT_FALSE(contains(md, "nmAuthorQ"));
    EXPECT_FALSE(contains(csv, "nmAuthorQ"));
    EXPECT_TRUE(contains(md, "Retro every other week"));  // The content is there, unsigned.
    // JSON holds the roster (membership is public), and nothing else about the author.
    const auto json = export_body(red, v1::EXPORT_FORMAT_JSON);
    v1::BoardSnapshot parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
    parsed.clear_roster();
    EXPECT_FALSE(contains(deterministic_bytes(parsed), "idAuthorQ"));
    EXPECT_FALSE(contains(deterministic_bytes(parsed), "nmAuthorQ"));
    // Vote totals stay public; per-member figures of the author do not.
    EXPECT_EQ(red.ideas(0).vote_count(), 5U);  // x1: 3 + 1 (other) + 1 after the unvote.
    EXPECT_EQ(red.roster(1).votes_cast(), 0U);
  }

  // The author sees themself everywhere.
  const auto own = redact_snapshot(board, "idAuthorQ");
  EXPECT_EQ(own.ideas(0).author().member_id(), "idAuthorQ");
  ASSERT_EQ(own.ideas(0).votes_size(), 1);
  EXPECT_EQ(own.ideas(0).votes(0).count(), 4U);
  EXPECT_EQ(own.roster(1).votes_cast(), 5U);
  EXPECT_TRUE(contains(export_body(own, v1::EXPORT_FORMAT_MARKDOWN), "by nmAuthorQ"));
  EXPECT_TRUE(contains(export_body(own, v1::EXPORT_FORMAT_CSV), "nmAuthorQ"));
  // ... but not the other member's authorship (their comment is unsigned).
  EXPECT_FALSE(contains(export_body(own, v1::EXPORT_FORMAT_MARKDOWN), "nmOtherQ:"));

  // The budget (5) holds for an anonymous member: the sixth vote was refused.
  EXPECT_EQ(a.sixth_vote, Errc::kVoteBudgetExceeded);
}

// The control: in a named room, the same scene shows the author to everyone.
TEST(Visibility, NamedRoomShowsAuthorsToEveryone) {
  auto a = anon_scene(false);
  const auto red = redact_snapshot(a.s.state.snapshot(), "idOtherQ");
  EXPECT_TRUE(contains(export_body(red, v1::EXPORT_FORMAT_MARKDOWN), "by nmAuthorQ"));
  EXPECT_EQ(red.roster(1).votes_cast(), 5U);
  EXPECT_EQ(a.sixth_vote, Errc::kVoteBudgetExceeded);
  for (const auto& e : a.author_events) {
    EXPECT_FALSE(needs_redaction(e, false)) << payload_name(e);
    EXPECT_TRUE(contains(deterministic_bytes(redact_event(e, "idOtherQ", false)), "nmAuthorQ"));
  }
}

}  // namespace
}  // namespace huddle::board::testing
