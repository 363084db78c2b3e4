#include "core/board/visibility.hpp"

#include <algorithm>

namespace huddle::board {

namespace v1 = huddle::v1;

namespace {

// Events whose actor is an author of content: redacted in anonymous rooms.
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

bool hides_text(const v1::Event& e) {
  return (e.has_idea_posted() && e.idea_posted().hidden()) ||
         (e.has_idea_edited() && e.idea_edited().hidden());
}

bool is(std::string_view member_id, std::string_view viewer) {
  return !viewer.empty() && member_id == viewer;
}

}  // namespace

bool needs_redaction(const v1::Event& event, bool anonymous) {
  return (anonymous && is_content(event)) || hides_text(event);
}

v1::Event redact_event(const v1::Event& event, std::string_view viewer, bool anonymous) {
  v1::Event out = event;
  if (is(event.actor().member_id(), viewer)) {
    return out;  // Their own: nothing of it is private to them.
  }
  if (out.has_idea_posted() && out.idea_posted().hidden()) {
    out.mutable_idea_posted()->clear_text();
    out.mutable_idea_posted()->clear_tags();
  }
  if (out.has_idea_edited() && out.idea_edited().hidden()) {
    out.mutable_idea_edited()->clear_text();
    out.mutable_idea_edited()->clear_tags();
  }
  if (anonymous && is_content(event)) {
    out.clear_actor();
  }
  return out;
}

bool idea_needs_redaction(const v1::Idea& idea, std::string_view viewer, bool anonymous) {
  return anonymous || (idea.hidden() && !is(idea.author().member_id(), viewer));
}

void redact_idea(v1::Idea& idea, std::string_view viewer, bool anonymous) {
  const bool own = is(idea.author().member_id(), viewer);
  if (idea.hidden() && !own) {
    idea.clear_text();
    idea.clear_tags();
    idea.clear_comments();
  }
  if (!anonymous) {
    return;
  }
  if (!own) {
    idea.clear_author();
  }
  auto* votes = idea.mutable_votes();
  for (int i = votes->size() - 1; i >= 0; --i) {
    if (!is(votes->Get(i).member_id(), viewer)) {
      votes->DeleteSubrange(i, 1);
    }
  }
  for (auto& c : *idea.mutable_comments()) {
    if (!is(c.author().member_id(), viewer)) {
      c.clear_author();
    }
  }
  // Redacted marks sort first within their reaction, as a mirror inserts them.
  auto* marks = idea.mutable_reactions();
  for (auto& m : *marks) {
    if (!is(m.member_id(), viewer)) {
      m.clear_member_id();
    }
  }
  std::stable_sort(marks->begin(), marks->end(),
                   [](const v1::ReactionMark& a, const v1::ReactionMark& b) {
                     return a.reaction() != b.reaction() ? a.reaction() < b.reaction()
                                                         : a.member_id() < b.member_id();
                   });
}

v1::BoardSnapshot redact_snapshot(const v1::BoardSnapshot& board, std::string_view viewer) {
  v1::BoardSnapshot out = board;
  const bool anonymous = board.options().anonymous();
  for (auto& idea : *out.mutable_ideas()) {
    redact_idea(idea, viewer, anonymous);
  }
  if (anonymous) {
    for (auto& entry : *out.mutable_roster()) {
      if (is(entry.member().member_id(), viewer)) {
        continue;
      }
      entry.clear_chat_message_count();
      entry.clear_last_contribution_seq();
      entry.clear_idea_count();
      entry.clear_votes_cast();
      entry.clear_last_idea_seq();
      entry.clear_last_vote_seq();
    }
  }
  return out;
}

}  // namespace huddle::board
