#include "core/board/export.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

namespace huddle::board {

namespace v1 = huddle::v1;

namespace {

const char* phase_name(v1::Phase p) {
  switch (p) {
    case v1::PHASE_COLLECT: return "collect";
    case v1::PHASE_GROUP: return "group";
    case v1::PHASE_VOTE: return "vote";
    case v1::PHASE_DISCUSS: return "discuss";
    case v1::PHASE_DONE: return "done";
    default: return "unknown";
  }
}

const char* reaction_glyph(v1::Reaction r) {
  switch (r) {
    case v1::REACTION_THUMBS_UP: return "\xF0\x9F\x91\x8D";
    case v1::REACTION_HEART: return "\xE2\x9D\xA4\xEF\xB8\x8F";
    case v1::REACTION_LAUGH: return "\xF0\x9F\x98\x84";
    case v1::REACTION_SURPRISED: return "\xF0\x9F\x98\xAE";
    case v1::REACTION_THINKING: return "\xF0\x9F\xA4\x94";
    case v1::REACTION_CELEBRATE: return "\xF0\x9F\x8E\x89";
    default: return "?";
  }
}

// User text as inert Markdown: one line, with the characters that format escaped.
std::string md(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    if (ch == '\n' || ch == '\r' || ch == '\t') {
      out.push_back(' ');
      continue;
    }
    if (std::string_view("\\`*_{}[]()<>#+-.!|~").find(ch) != std::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(ch);
  }
  return out;
}

// RFC 4180 field; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a
// formula (CSV injection).
std::string csv(std::string_view text) {
  std::string v(text);
  if (!v.empty() && std::string_view("=+-@\t\r").find(v.front()) != std::string_view::npos) {
    v.insert(v.begin(), '\'');
  }
  if (v.find_first_of(",\"\r\n") == std::string::npos) {
    return v;
  }
  std::string out = "\"";
  for (const char ch : v) {
    if (ch == '"') {
      out.push_back('"');
    }
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

std::string author_name(const v1::Member& m) {
  return m.member_id().empty() ? std::string() : m.display_name();
}

// Ideas of one group (0 = ungrouped), most votes first, then oldest first.
std::vector<const v1::Idea*> ideas_in(const v1::BoardSnapshot& b, std::uint64_t group) {
  std::vector<const v1::Idea*> out;
  for (const auto& i : b.ideas()) {
    if (i.group_id() == group) {
      out.push_back(&i);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const v1::Idea* a, const v1::Idea* c) {
    return a->vote_count() > c->vote_count();
  });
  return out;
}

std::string idea_title(const v1::BoardSnapshot& b, std::uint64_t idea_id) {
  for (const auto& i : b.ideas()) {
    if (i.idea_id() == idea_id) {
      return i.hidden() && i.text().empty() ? "(hidden idea)" : i.text();
    }
  }
  return {};
}

void md_idea(std::string& out, const v1::Idea& idea) {
  const std::string text =
      idea.hidden() && idea.text().empty() ? "_(hidden idea)_" : md(idea.text());
  out += fmt::format("- **{}** ({} vote{})", text, idea.vote_count(),
                     idea.vote_count() == 1 ? "" : "s");
  if (const auto name = author_name(idea.author()); !name.empty()) {
    out += fmt::format(" by {}", md(name));
  }
  if (!idea.tags().empty()) {
    std::vector<std::string> tags;
    for (const auto& t : idea.tags()) {
      tags.push_back(md(t));
    }
    out += fmt::format(" [{}]", fmt::join(tags, ", "));
  }
  out += "\n";
  std::map<int, int> reactions;
  for (const auto& r : idea.reactions()) {
    ++reactions[r.reaction()];
  }
  if (!reactions.empty()) {
    std::vector<std::string> parts;
    for (const auto& [r, n] : reactions) {
      parts.push_back(fmt::format("{} {}", reaction_glyph(static_cast<v1::Reaction>(r)), n));
    }
    out += fmt::format("  - Reactions: {}\n", fmt::join(parts, " "));
  }
  for (const auto& c : idea.comments()) {
    const auto name = author_name(c.author());
    out += fmt::format("  - {}{}\n", name.empty() ? "" : md(name) + ": ", md(c.text()));
  }
}

std::string render_markdown(const v1::BoardSnapshot& b) {
  std::string out = fmt::format("# {}\n\n", md(b.room().title()));
  if (!b.goal().objective().empty()) {
    out += fmt::format("**Goal:** {}\n\n", md(b.goal().objective()));
  }
  if (!b.goal().success_criteria().empty()) {
    out += fmt::format("**Success criteria:** {}\n\n", md(b.goal().success_criteria()));
  }
  out += fmt::format("Phase: {} · {} idea{} · {} action item{}\n\n", phase_name(b.phase().phase()),
                     b.ideas_size(), b.ideas_size() == 1 ? "" : "s", b.actions_size(),
                     b.actions_size() == 1 ? "" : "s");
  out += "## Ideas\n\n";
  for (const auto& g : b.groups()) {
    out += fmt::format("### {}\n\n", md(g.name()));
    for (const auto* idea : ideas_in(b, g.group_id())) {
      md_idea(out, *idea);
    }
    out += "\n";
  }
  const auto loose = ideas_in(b, 0);
  if (!loose.empty()) {
    if (!b.groups().empty()) {
      out += "### Ungrouped\n\n";
    }
    for (const auto* idea : loose) {
      md_idea(out, *idea);
    }
    out += "\n";
  }
  out += "## Action items\n\n";
  if (b.actions().empty()) {
    out += "None.\n";
  }
  for (const auto& a : b.actions()) {
    out += fmt::format("- [{}] {}: {}", a.status() == v1::ACTION_STATUS_DONE ? "x" : " ",
                       md(a.title()), md(a.owner().display_name()));
    if (!a.due_date().empty()) {
      out += fmt::format(", due {}", a.due_date());
    }
    if (a.idea_id() != 0) {
      out += fmt::format(" (from: {})", md(idea_title(b, a.idea_id())));
    }
    out += "\n";
  }
  return out;
}

std::string render_csv(const v1::BoardSnapshot& b) {
  std::map<std::uint64_t, std::string> group_names;
  for (const auto& g : b.groups()) {
    group_names[g.group_id()] = g.name();
  }
  std::string out = "type,id,group,text,author,votes,owner,due_date,status,idea_id\r\n";
  const auto row = [&](std::initializer_list<std::string> fields) {
    std::vector<std::string> v;
    for (const auto& f : fields) {
      v.push_back(csv(f));
    }
    out += fmt::format("{}\r\n", fmt::join(v, ","));
  };
  const auto add_idea = [&](const v1::Idea& i) {
    row({"idea", std::to_string(i.idea_id()), group_names[i.group_id()],
         i.hidden() && i.text().empty() ? "(hidden idea)" : i.text(), author_name(i.author()),
         std::to_string(i.vote_count()), "", "", "", ""});
    for (const auto& c : i.comments()) {
      row({"comment", std::to_string(c.comment_id()), group_names[i.group_id()], c.text(),
           author_name(c.author()), "", "", "", "", std::to_string(i.idea_id())});
    }
  };
  for (const auto& g : b.groups()) {
    for (const auto* i : ideas_in(b, g.group_id())) {
      add_idea(*i);
    }
  }
  for (const auto* i : ideas_in(b, 0)) {
    add_idea(*i);
  }
  for (const auto& a : b.actions()) {
    row({"action", std::to_string(a.action_id()), "", a.title(), "", "", a.owner().display_name(),
         a.due_date(), a.status() == v1::ACTION_STATUS_DONE ? "done" : "open",
         a.idea_id() == 0 ? "" : std::to_string(a.idea_id())});
  }
  return out;
}

}  // namespace

v1::ExportFormat parse_export_format(std::string_view name) noexcept {
  if (name == "md" || name == "markdown") {
    return v1::EXPORT_FORMAT_MARKDOWN;
  }
  if (name == "csv") {
    return v1::EXPORT_FORMAT_CSV;
  }
  if (name == "json") {
    return v1::EXPORT_FORMAT_JSON;
  }
  return v1::EXPORT_FORMAT_UNSPECIFIED;
}

Result<ExportDocument> render_export(const v1::BoardSnapshot& board, v1::ExportFormat format) {
  switch (format) {
    case v1::EXPORT_FORMAT_MARKDOWN:
      return ExportDocument{"text/markdown; charset=utf-8", "md", render_markdown(board)};
    case v1::EXPORT_FORMAT_CSV:
      return ExportDocument{"text/csv; charset=utf-8", "csv", render_csv(board)};
    case v1::EXPORT_FORMAT_JSON: {
      ExportDocument doc{"application/json; charset=utf-8", "json", {}};
      google::protobuf::util::JsonPrintOptions opts;
      opts.add_whitespace = true;
      if (!google::protobuf::util::MessageToJsonString(board, &doc.body, opts).ok()) {
        return Errc::kInternal;
      }
      return doc;
    }
    default: return Errc::kInvalidArgument;
  }
}

}  // namespace huddle::board
