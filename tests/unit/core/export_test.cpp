// Export (core/board/export.hpp): Markdown for people, CSV for spreadsheets, JSON for programs.
// Guards: the content and order people rely on, user text that cannot format Markdown or run as
// a spreadsheet formula, CSV that parses back per RFC 4180, and JSON that parses back into the
// same BoardSnapshot.
#include "core/board/export.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "board_fixture.hpp"

namespace huddle::board::testing {
namespace {

// A finished retro, built through the rules:
//   group "Process": "Fewer meetings" (3 votes, 👍 x2, comment "+1, strongly" by alice),
//                    "*bold* <script>" (2 votes), "Shorter standups" (1 vote, comment
//                    "-1 from me" by bob)
//   ungrouped:       "=HYPERLINK(...)", "Say "hi", then\nleave"
//   actions:         "Fix CI" (alice, due 2026-03-01, done), "Ask around" (bob, from
//                    "Shorter standups", open)
struct Retro {
  Session s;
  std::uint64_t standups = 0, meetings = 0, bold = 0, formula = 0, quote = 0;
  std::uint64_t group = 0, comment_plus = 0, comment_minus = 0, fix_ci = 0, ask = 0;
};

Retro retro() {
  Retro r;
  auto& s = r.s;
  s.create("owner");
  s.must("owner", cmd::set_goal("Ship faster", "Lead time under two days"));
  s.join("alice");
  s.join("bob");
  r.standups = s.must_id("alice", cmd::post_idea("Shorter standups"));
  r.meetings = s.must_id("bob", cmd::post_idea("Fewer meetings"));
  r.bold = s.must_id("alice", cmd::post_idea("*bold* <script>"));
  r.formula = s.must_id("bob", cmd::post_idea("=HYPERLINK(\"http://x\")"));
  r.quote = s.must_id("alice", cmd::post_idea("Say \"hi\", then\nleave"));
  s.must("owner", cmd::set_phase(v1::PHASE_GROUP));
  r.group = s.must_id("owner", cmd::create_group("Process"));
  for (auto id : {r.standups, r.meetings, r.bold}) {
    s.must("owner", cmd::move_idea(id, r.group));
  }
  r.comment_plus = s.must_id("alice", cmd::post_comment(r.meetings, "+1, strongly"));
  r.comment_minus = s.must_id("bob", cmd::post_comment(r.standups, "-1 from me"));
  s.must("alice", cmd::react(r.meetings, v1::REACTION_THUMBS_UP));
  s.must("bob", cmd::react(r.meetings, v1::REACTION_THUMBS_UP));
  s.must("owner", cmd::set_phase(v1::PHASE_VOTE));
  for (const char* who : {"alice", "bob", "owner"}) {
    s.must(who, cmd::vote(r.meetings));
  }
  s.must("alice", cmd::vote(r.bold));
  s.must("bob", cmd::vote(r.bold));
  s.must("owner", cmd::vote(r.standups));
  s.must("owner", cmd::set_phase(v1::PHASE_DISCUSS));
  r.fix_ci = s.must_id("owner", cmd::create_action("Fix CI", "alice", "2026-03-01"));
  r.ask = s.must_id("owner", cmd::create_action("Ask around", "bob", "", r.standups));
  s.must("alice", cmd::set_action_status(r.fix_ci, v1::ACTION_STATUS_DONE));
  return r;
}

std::string render(const v1::BoardSnapshot& b, v1::ExportFormat f) {
  auto doc = render_export(b, f);
  EXPECT_TRUE(doc.has_value());
  return doc ? doc->body : std::string();
}

std::size_t pos(const std::string& body, const std::string& needle) {
  const auto p = body.find(needle);
  EXPECT_NE(p, std::string::npos) << "missing: " << needle << "\nin:\n" << body;
  return p;
}

// ---- Markdown ----

TEST(ExportMarkdown, HasTitleGoalGroupsIdeasByVotesCommentsAndActionItems) {
  const auto r = retro();
  const std::string md = render(r.s.state.snapshot(), v1::EXPORT_FORMAT_MARKDOWN);
  EXPECT_EQ(md.rfind("# Q3 retro\n\n", 0), 0U) << md;
  pos(md, "**Goal:** Ship faster\n");
  pos(md, "**Success criteria:** Lead time under two days\n");
  pos(md, "Phase: discuss");
  pos(md, "5 ideas");
  pos(md, "2 action items");
  // Groups are headings; ideas inside a group go by votes, most first, with the counts.
  const auto group = pos(md, "\n### Process\n\n");
  const auto meetings = pos(md, "- **Fewer meetings** (3 votes) by Name of bob\n");
  const auto bold = pos(md, "(2 votes) by Name of alice\n");
  const auto standups = pos(md, "- **Shorter standups** (1 vote) by Name of alice\n");
  const auto ungrouped = pos(md, "\n### Ungrouped\n\n");
  EXPECT_LT(group, meetings);
  EXPECT_LT(meetings, bold);
  EXPECT_LT(bold, standups);
  EXPECT_LT(standups, ungrouped);
  // Reactions and comments follow their idea.
  pos(md,
      "- **Fewer meetings** (3 votes) by Name of bob\n  - Reactions: \xF0\x9F\x91\x8D 2\n"
      "  - Name of alice: \\+1, strongly\n");
  pos(md, "(1 vote) by Name of alice\n  - Name of bob: \\-1 from me\n");
  // Action items: [x] when done, owner, due date, and the idea they came from.
  const auto actions = pos(md, "\n## Action items\n\n");
  EXPECT_LT(ungrouped, actions);
  pos(md, "- [x] Fix CI: Name of alice, due 2026-03-01\n");
  pos(md, "- [ ] Ask around: Name of bob (from: Shorter standups)\n");
}

// User text is inert: Markdown and HTML characters are escaped, newlines flattened.
TEST(ExportMarkdown, EscapesUserText) {
  const auto r = retro();
  const std::string md = render(r.s.state.snapshot(), v1::EXPORT_FORMAT_MARKDOWN);
  pos(md, "- **\\*bold\\* \\<script\\>** (2 votes)");
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_EQ(md.find("*bold*"), std::string::npos);
  pos(md, "- **=HYPERLINK\\(\"http://x\"\\)** (0 votes)");
  pos(md, "- **Say \"hi\", then leave** (0 votes)");  // One line per idea.
  EXPECT_EQ(md.find("then\nleave"), std::string::npos);
}

TEST(ExportMarkdown, ABoardWithoutGroupsOrActionsSaysSo) {
  Session s;
  s.create("owner", false, false, "Plain");
  s.must("owner", cmd::post_idea("Only idea"));
  const std::string md = render(s.state.snapshot(), v1::EXPORT_FORMAT_MARKDOWN);
  pos(md, "## Ideas\n\n- **Only idea** (0 votes) by Name of owner\n");
  EXPECT_EQ(md.find("### "), std::string::npos);  // No "Ungrouped" heading without groups.
  pos(md, "## Action items\n\nNone.\n");
  pos(md, "1 idea ·");
}

// ---- CSV ----

// A strict RFC 4180 reader: CRLF records, quoted fields with "" escapes; a bare quote, CR or
// LF outside quotes is an error (std::nullopt).
std::optional<std::vector<std::vector<std::string>>> parse_csv(const std::string& s) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;       // Inside a quoted field.
  bool after_quote = false;  // Just closed a quoted field: only ',' or CRLF may follow.
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c != '"') {
        field += c;
      } else if (i + 1 < s.size() && s[i + 1] == '"') {
        field += '"';
        ++i;
      } else {
        quoted = false;
        after_quote = true;
      }
      continue;
    }
    if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      after_quote = false;
      ++i;
    } else if (after_quote || c == '\r' || c == '\n' || (c == '"' && !field.empty())) {
      return std::nullopt;
    } else if (c == '"') {
      quoted = true;
    } else {
      field += c;
    }
  }
  if (quoted || !field.empty() || !row.empty()) {
    return std::nullopt;  // The last record must end with CRLF too.
  }
  return rows;
}

TEST(ExportCsv, TheTestParserIsStrict) {
  EXPECT_TRUE(parse_csv("a,\"b,\"\"c\"\"\r\nd\"\r\n").has_value());
  EXPECT_EQ((*parse_csv("a,\"b,\"\"c\"\"\r\nd\"\r\n"))[0][1], "b,\"c\"\r\nd");
  EXPECT_FALSE(parse_csv("a,b\nc\r\n").has_value());
  EXPECT_FALSE(parse_csv("a,b\"c\r\n").has_value());
  EXPECT_FALSE(parse_csv("a,\"b\"c\r\n").has_value());
  EXPECT_FALSE(parse_csv("a,b").has_value());
}

TEST(ExportCsv, ParsesBackIntoTheExpectedRows) {
  const auto r = retro();
  const std::string body = render(r.s.state.snapshot(), v1::EXPORT_FORMAT_CSV);
  const auto rows = parse_csv(body);
  ASSERT_TRUE(rows.has_value()) << body;
  const auto id = [](std::uint64_t v) { return std::to_string(v); };
  const std::vector<std::vector<std::string>> want = {
      {"type", "id", "group", "text", "author", "votes", "owner", "due_date", "status", "idea_id"},
      // Grouped ideas first, by votes; each idea followed by its comments.
      {"idea", id(r.meetings), "Process", "Fewer meetings", "Name of bob", "3", "", "", "", ""},
      // A leading + - = @ is prefixed with ' so a spreadsheet does not run it (CSV injection).
      {"comment", id(r.comment_plus), "Process", "'+1, strongly", "Name of alice", "", "", "", "",
       id(r.meetings)},
      {"idea", id(r.bold), "Process", "*bold* <script>", "Name of alice", "2", "", "", "", ""},
      {"idea", id(r.standups), "Process", "Shorter standups", "Name of alice", "1", "", "", "", ""},
      {"comment", id(r.comment_minus), "Process", "'-1 from me", "Name of bob", "", "", "", "",
       id(r.standups)},
      {"idea", id(r.formula), "", "'=HYPERLINK(\"http://x\")", "Name of bob", "0", "", "", "", ""},
      {"idea", id(r.quote), "", "Say \"hi\", then\nleave", "Name of alice", "0", "", "", "", ""},
      {"action", id(r.fix_ci), "", "Fix CI", "", "", "Name of alice", "2026-03-01", "done", ""},
      {"action", id(r.ask), "", "Ask around", "", "", "Name of bob", "", "open", id(r.standups)},
  };
  EXPECT_EQ(*rows, want);
  // Commas, quotes and newlines are quoted on the wire.
  EXPECT_NE(body.find(",\"Say \"\"hi\"\", then\nleave\","), std::string::npos) << body;
  EXPECT_NE(body.find(",\"'=HYPERLINK(\"\"http://x\"\")\","), std::string::npos) << body;
  EXPECT_NE(body.find(",\"'+1, strongly\","), std::string::npos) << body;
}

// ---- JSON ----

// The JSON export is the proto3 JSON of the BoardSnapshot: it parses back into an equal one.
TEST(ExportJson, ParsesBackIntoAnEqualBoardSnapshot) {
  const auto r = retro();
  const auto& board = r.s.state.snapshot();
  const std::string body = render(board, v1::EXPORT_FORMAT_JSON);
  v1::BoardSnapshot parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, &parsed).ok()) << body;
  std::string report;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&report);
  EXPECT_TRUE(d.Compare(board, parsed)) << report;
  EXPECT_EQ(deterministic_bytes(parsed), deterministic_bytes(board));
  EXPECT_NE(body.find("\"title\": \"Q3 retro\""), std::string::npos) << body;
}

// ---- Formats ----

TEST(Export, EachFormatHasItsContentTypeAndExtension) {
  const auto r = retro();
  const struct {
    v1::ExportFormat format;
    const char* content_type;
    const char* extension;
  } cases[] = {
      {v1::EXPORT_FORMAT_MARKDOWN, "text/markdown; charset=utf-8", "md"},
      {v1::EXPORT_FORMAT_CSV, "text/csv; charset=utf-8", "csv"},
      {v1::EXPORT_FORMAT_JSON, "application/json; charset=utf-8", "json"},
  };
  for (const auto& c : cases) {
    auto doc = render_export(r.s.state.snapshot(), c.format);
    ASSERT_TRUE(doc.has_value());
    EXPECT_EQ(doc->content_type, c.content_type);
    EXPECT_EQ(doc->file_extension, c.extension);
    EXPECT_FALSE(doc->body.empty());
  }
}

TEST(Export, UnspecifiedOrUnknownFormatIsInvalidArgument) {
  const auto r = retro();
  for (auto f : {v1::EXPORT_FORMAT_UNSPECIFIED, static_cast<v1::ExportFormat>(42)}) {
    auto doc = render_export(r.s.state.snapshot(), f);
    ASSERT_FALSE(doc.has_value());
    EXPECT_EQ(doc.error(), Errc::kInvalidArgument);
  }
}

TEST(Export, ParseExportFormatKnowsTheDocumentedNamesOnly) {
  EXPECT_EQ(parse_export_format("md"), v1::EXPORT_FORMAT_MARKDOWN);
  EXPECT_EQ(parse_export_format("markdown"), v1::EXPORT_FORMAT_MARKDOWN);
  EXPECT_EQ(parse_export_format("csv"), v1::EXPORT_FORMAT_CSV);
  EXPECT_EQ(parse_export_format("json"), v1::EXPORT_FORMAT_JSON);
  for (const char* name : {"", "MD", "Markdown", "xml", "csv ", "jsonl", "html"}) {
    EXPECT_EQ(parse_export_format(name), v1::EXPORT_FORMAT_UNSPECIFIED) << name;
  }
}

}  // namespace
}  // namespace huddle::board::testing
