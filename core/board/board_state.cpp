#include "core/board/board_state.hpp"

#include <algorithm>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/field_mask_util.h>

namespace huddle::board {

namespace v1 = huddle::v1;

namespace {

// Binary search in a repeated field sorted ascending by `key(element)`.
template <class Field, class Key>
int index_of(const Field& field, std::uint64_t id, Key key) {
  auto it = std::lower_bound(field.begin(), field.end(), id,
                             [&](const auto& e, std::uint64_t v) { return key(e) < v; });
  if (it == field.end() || key(*it) != id) {
    return -1;
  }
  return static_cast<int>(it - field.begin());
}

int idea_index(const v1::BoardSnapshot& s, std::uint64_t id) {
  return index_of(s.ideas(), id, [](const v1::Idea& i) { return i.idea_id(); });
}
int group_index(const v1::BoardSnapshot& s, std::uint64_t id) {
  return index_of(s.groups(), id, [](const v1::Group& g) { return g.group_id(); });
}
int action_index(const v1::BoardSnapshot& s, std::uint64_t id) {
  return index_of(s.actions(), id, [](const v1::ActionItem& a) { return a.action_id(); });
}

template <class Field>
void erase_at(Field* field, int index) {
  field->erase(field->begin() + index);
}

// Votes and reactions are kept sorted so that the serialization is deterministic.
v1::VoteTally* tally_of(v1::Idea* idea, const std::string& member_id, bool create) {
  auto* votes = idea->mutable_votes();
  auto it = std::lower_bound(
      votes->begin(), votes->end(), member_id,
      [](const v1::VoteTally& t, const std::string& m) { return t.member_id() < m; });
  if (it != votes->end() && it->member_id() == member_id) {
    return &*it;
  }
  if (!create) {
    return nullptr;
  }
  const auto pos = it - votes->begin();
  votes->Add()->set_member_id(member_id);
  std::rotate(votes->begin() + pos, votes->end() - 1, votes->end());
  return &(*votes)[static_cast<int>(pos)];
}

bool reaction_less(const v1::ReactionMark& a, v1::Reaction r, const std::string& m) {
  return a.reaction() != r ? a.reaction() < r : a.member_id() < m;
}

}  // namespace

std::string deterministic_bytes(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

BoardState::BoardState(v1::BoardSnapshot snapshot)
    : snap_(std::move(snapshot)), ideas_seq_(snap_.seq()) {
  index_roster();
}

bool can_change_ideas(v1::Event::PayloadCase kind) noexcept {
  switch (kind) {
    case v1::Event::kMemberJoined:
    case v1::Event::kChatPosted:
    case v1::Event::kGoalSet:
    case v1::Event::kRoleSet:
    case v1::Event::kGroupCreated:
    case v1::Event::kGroupRenamed:
    case v1::Event::kActionCreated:
    case v1::Event::kActionUpdated:
    case v1::Event::kActionStatusSet: return false;
    default: return true;
  }
}

void BoardState::index_roster() {
  roster_index_.clear();
  for (int i = 0; i < snap_.roster_size(); ++i) {
    roster_index_.emplace(snap_.roster(i).member().member_id(), i);
  }
}

bool BoardState::has_member(const MemberId& member) const {
  return roster_index_.contains(member.value());
}

const v1::RosterEntry* BoardState::find_member(std::string_view member_id) const {
  auto it = roster_index_.find(std::string(member_id));
  return it == roster_index_.end() ? nullptr : &snap_.roster(it->second);
}

v1::RosterEntry* BoardState::mutable_member(std::string_view member_id) {
  auto it = roster_index_.find(std::string(member_id));
  return it == roster_index_.end() ? nullptr : snap_.mutable_roster(it->second);
}

v1::Role BoardState::role_of(std::string_view member_id) const {
  const auto* m = find_member(member_id);
  return m == nullptr ? v1::ROLE_UNSPECIFIED : m->role();
}

const v1::Idea* BoardState::find_idea(std::uint64_t idea_id) const {
  const int i = idea_index(snap_, idea_id);
  return i < 0 ? nullptr : &snap_.ideas(i);
}

v1::Idea* BoardState::mutable_idea(std::uint64_t idea_id) {
  const int i = idea_index(snap_, idea_id);
  return i < 0 ? nullptr : snap_.mutable_ideas(i);
}

const v1::Group* BoardState::find_group(std::uint64_t group_id) const {
  const int i = group_index(snap_, group_id);
  return i < 0 ? nullptr : &snap_.groups(i);
}

const v1::ActionItem* BoardState::find_action(std::uint64_t action_id) const {
  const int i = action_index(snap_, action_id);
  return i < 0 ? nullptr : &snap_.actions(i);
}

boost::system::error_code BoardState::apply(const v1::Event& event) {
  if (event.prev_seq() != snap_.seq() || event.seq() <= snap_.seq()) {
    return Errc::kInvalidArgument;
  }
  if (snap_.has_room() != (event.payload_case() != v1::Event::kRoomCreated)) {
    return Errc::kInvalidArgument;  // RoomCreated first, and only first.
  }
  if (snap_.has_room() && event.room_id() != snap_.room().room_id()) {
    return Errc::kInvalidArgument;
  }
  // Every handler checks before it changes anything, so an error leaves the state as it was.
  if (auto ec = apply_payload(event)) {
    return ec;
  }
  snap_.set_seq(event.seq());
  if (can_change_ideas(event.payload_case())) {
    ideas_seq_ = Seq{event.seq()};
  }
  return {};
}

bool BoardState::reveal(const google::protobuf::RepeatedPtrField<v1::RevealedIdea>& revealed) {
  for (const auto& r : revealed) {
    if (find_idea(r.idea_id()) == nullptr) {
      return false;
    }
  }
  for (const auto& r : revealed) {
    auto* idea = mutable_idea(r.idea_id());
    if (idea->hidden()) {
      idea->set_hidden(false);
      snap_.set_hidden_idea_count(snap_.hidden_idea_count() - 1);
    }
    idea->set_text(r.text());
    *idea->mutable_tags() = r.tags();
  }
  return true;
}

boost::system::error_code BoardState::apply_payload(const v1::Event& event) {
  const std::string& actor_id = event.actor().member_id();
  // Null when the actor is redacted (a mirror in an anonymous room): totals only.
  v1::RosterEntry* actor = actor_id.empty() ? nullptr : mutable_member(actor_id);
  const bool needs_known_actor = event.payload_case() != v1::Event::kRoomCreated &&
                                 event.payload_case() != v1::Event::kMemberJoined;
  if (needs_known_actor && !actor_id.empty() && actor == nullptr) {
    return Errc::kInvalidArgument;  // Only members act.
  }
  const auto contributed = [&](std::uint64_t seq) {
    if (actor != nullptr) {
      actor->set_last_contribution_seq(seq);
    }
  };

  switch (event.payload_case()) {
    case v1::Event::kRoomCreated: {
      const auto& rc = event.room_created();
      auto* room = snap_.mutable_room();
      room->set_room_id(event.room_id());
      room->set_title(rc.title());
      room->set_created_unix_ms(event.time_unix_ms());
      *room->mutable_created_by() = event.actor();
      room->set_private_room(rc.options().private_room());
      *snap_.mutable_goal() = rc.goal();
      *snap_.mutable_options() = rc.options();
      auto* phase = snap_.mutable_phase();
      phase->set_phase(v1::PHASE_COLLECT);
      phase->set_started_unix_ms(event.time_unix_ms());
      phase->set_started_seq(event.seq());
      snap_.mutable_voting()->set_budget(5);
      auto* owner = snap_.add_roster();
      *owner->mutable_member() = event.actor();
      owner->set_joined_seq(event.seq());
      owner->set_role(v1::ROLE_OWNER);
      roster_index_.emplace(actor_id, snap_.roster_size() - 1);
      return {};
    }
    case v1::Event::kMemberJoined: {
      if (actor_id.empty() || actor != nullptr) {
        return Errc::kInvalidArgument;
      }
      auto* entry = snap_.add_roster();
      *entry->mutable_member() = event.actor();
      entry->set_joined_seq(event.seq());
      const auto role = event.member_joined().role();
      entry->set_role(role == v1::ROLE_UNSPECIFIED ? v1::ROLE_PARTICIPANT : role);
      roster_index_.emplace(actor_id, snap_.roster_size() - 1);
      return {};
    }
    case v1::Event::kChatPosted: {
      if (actor != nullptr) {
        actor->set_chat_message_count(actor->chat_message_count() + 1);
      }
      contributed(event.seq());
      snap_.set_chat_message_count(snap_.chat_message_count() + 1);
      return {};
    }
    case v1::Event::kGoalSet: *snap_.mutable_goal() = event.goal_set().goal(); return {};
    case v1::Event::kRoleSet: {
      auto* target = mutable_member(event.role_set().member_id());
      if (target == nullptr) {
        return Errc::kInvalidArgument;
      }
      target->set_role(event.role_set().role());
      return {};
    }
    case v1::Event::kPhaseChanged: {
      const auto& pc = event.phase_changed();
      if (!reveal(pc.revealed())) {
        return Errc::kInvalidArgument;
      }
      auto* phase = snap_.mutable_phase();
      phase->set_phase(pc.phase());
      phase->set_started_unix_ms(event.time_unix_ms());
      phase->set_started_seq(event.seq());
      phase->set_ends_unix_ms(pc.ends_unix_ms());
      return {};
    }
    case v1::Event::kVotingSet: {
      snap_.mutable_voting()->set_budget(event.voting_set().budget());
      snap_.mutable_voting()->set_per_idea_cap(event.voting_set().per_idea_cap());
      return {};
    }
    case v1::Event::kHideIdeasSet: {
      if (!reveal(event.hide_ideas_set().revealed())) {
        return Errc::kInvalidArgument;
      }
      snap_.mutable_options()->set_hide_ideas(event.hide_ideas_set().hide_ideas());
      return {};
    }
    case v1::Event::kIdeasRevealed: {
      if (!reveal(event.ideas_revealed().revealed())) {
        return Errc::kInvalidArgument;
      }
      snap_.mutable_options()->set_hide_ideas(false);
      return {};
    }
    case v1::Event::kIdeaPosted: {
      if (!snap_.ideas().empty() && snap_.ideas().rbegin()->idea_id() >= event.seq()) {
        return Errc::kInvalidArgument;
      }
      const auto& ip = event.idea_posted();
      auto* idea = snap_.add_ideas();
      idea->set_idea_id(event.seq());
      if (event.has_actor()) {  // A redacted (anonymous) event has none: no empty author.
        *idea->mutable_author() = event.actor();
      }
      idea->set_text(ip.text());
      *idea->mutable_tags() = ip.tags();
      idea->set_hidden(ip.hidden());
      idea->set_created_unix_ms(event.time_unix_ms());
      if (ip.hidden()) {
        snap_.set_hidden_idea_count(snap_.hidden_idea_count() + 1);
      }
      if (actor != nullptr) {
        actor->set_idea_count(actor->idea_count() + 1);
        actor->set_last_idea_seq(event.seq());
      }
      contributed(event.seq());
      return {};
    }
    case v1::Event::kIdeaEdited: {
      const auto& ie = event.idea_edited();
      auto* idea = mutable_idea(ie.idea_id());
      if (idea == nullptr) {
        return Errc::kInvalidArgument;
      }
      idea->set_text(ie.text());
      *idea->mutable_tags() = ie.tags();
      idea->set_edited_unix_ms(event.time_unix_ms());
      return {};
    }
    case v1::Event::kIdeaDeleted: {
      const int i = idea_index(snap_, event.idea_deleted().idea_id());
      if (i < 0) {
        return Errc::kInvalidArgument;
      }
      const auto& idea = snap_.ideas(i);
      for (const auto& t : idea.votes()) {
        if (auto* voter = mutable_member(t.member_id()); voter != nullptr) {
          voter->set_votes_cast(voter->votes_cast() - std::min(voter->votes_cast(), t.count()));
        }
      }
      if (idea.hidden()) {
        snap_.set_hidden_idea_count(snap_.hidden_idea_count() - 1);
      }
      for (auto& a : *snap_.mutable_actions()) {
        if (a.idea_id() == idea.idea_id()) {
          a.set_idea_id(0);
        }
      }
      erase_at(snap_.mutable_ideas(), i);
      return {};
    }
    case v1::Event::kIdeaMoved: {
      const auto& mv = event.idea_moved();
      auto* idea = mutable_idea(mv.idea_id());
      if (idea == nullptr || (mv.group_id() != 0 && find_group(mv.group_id()) == nullptr)) {
        return Errc::kInvalidArgument;
      }
      idea->set_group_id(mv.group_id());
      return {};
    }
    case v1::Event::kGroupCreated: {
      if (!snap_.groups().empty() && snap_.groups().rbegin()->group_id() >= event.seq()) {
        return Errc::kInvalidArgument;
      }
      auto* g = snap_.add_groups();
      g->set_group_id(event.seq());
      g->set_name(event.group_created().name());
      return {};
    }
    case v1::Event::kGroupRenamed: {
      const int i = group_index(snap_, event.group_renamed().group_id());
      if (i < 0) {
        return Errc::kInvalidArgument;
      }
      snap_.mutable_groups(i)->set_name(event.group_renamed().name());
      return {};
    }
    case v1::Event::kGroupsMerged: {
      const auto& gm = event.groups_merged();
      const int from = group_index(snap_, gm.from_group_id());
      if (from < 0 || group_index(snap_, gm.into_group_id()) < 0 ||
          gm.from_group_id() == gm.into_group_id()) {
        return Errc::kInvalidArgument;
      }
      for (auto& idea : *snap_.mutable_ideas()) {
        if (idea.group_id() == gm.from_group_id()) {
          idea.set_group_id(gm.into_group_id());
        }
      }
      erase_at(snap_.mutable_groups(), from);
      return {};
    }
    case v1::Event::kGroupDeleted: {
      const auto id = event.group_deleted().group_id();
      const int i = group_index(snap_, id);
      if (i < 0) {
        return Errc::kInvalidArgument;
      }
      for (auto& idea : *snap_.mutable_ideas()) {
        if (idea.group_id() == id) {
          idea.set_group_id(0);
        }
      }
      erase_at(snap_.mutable_groups(), i);
      return {};
    }
    case v1::Event::kCommentPosted: {
      auto* idea = mutable_idea(event.comment_posted().idea_id());
      if (idea == nullptr) {
        return Errc::kInvalidArgument;
      }
      auto* c = idea->add_comments();
      c->set_comment_id(event.seq());
      if (event.has_actor()) {  // As for ideas: redact_snapshot clears the field.
        *c->mutable_author() = event.actor();
      }
      c->set_text(event.comment_posted().text());
      c->set_created_unix_ms(event.time_unix_ms());
      contributed(event.seq());
      return {};
    }
    case v1::Event::kCommentDeleted: {
      auto* idea = mutable_idea(event.comment_deleted().idea_id());
      if (idea == nullptr) {
        return Errc::kInvalidArgument;
      }
      const int i = index_of(idea->comments(), event.comment_deleted().comment_id(),
                             [](const v1::Comment& c) { return c.comment_id(); });
      if (i < 0) {
        return Errc::kInvalidArgument;
      }
      erase_at(idea->mutable_comments(), i);
      return {};
    }
    case v1::Event::kReactionSet: {
      const auto& r = event.reaction_set();
      auto* idea = mutable_idea(r.idea_id());
      if (idea == nullptr) {
        return Errc::kInvalidArgument;
      }
      auto* marks = idea->mutable_reactions();
      auto it = std::lower_bound(marks->begin(), marks->end(), 0, [&](const auto& m, int) {
        return reaction_less(m, r.reaction(), actor_id);
      });
      const bool present =
          it != marks->end() && it->reaction() == r.reaction() && it->member_id() == actor_id;
      if (r.remove()) {
        if (!present) {
          return Errc::kInvalidArgument;
        }
        marks->erase(it);
        return {};
      }
      if (present && !actor_id.empty()) {
        return Errc::kInvalidArgument;
      }
      const auto pos = it - marks->begin();
      auto* m = marks->Add();
      m->set_reaction(r.reaction());
      m->set_member_id(actor_id);
      std::rotate(marks->begin() + pos, marks->end() - 1, marks->end());
      contributed(event.seq());
      return {};
    }
    case v1::Event::kVoteCast: {
      auto* idea = mutable_idea(event.vote_cast().idea_id());
      if (idea == nullptr) {
        return Errc::kInvalidArgument;
      }
      idea->set_vote_count(idea->vote_count() + 1);
      if (actor != nullptr) {
        auto* t = tally_of(idea, actor_id, true);
        t->set_count(t->count() + 1);
        actor->set_votes_cast(actor->votes_cast() + 1);
        actor->set_last_vote_seq(event.seq());
      }
      contributed(event.seq());
      return {};
    }
    case v1::Event::kVoteRetracted: {
      auto* idea = mutable_idea(event.vote_retracted().idea_id());
      if (idea == nullptr || idea->vote_count() == 0) {
        return Errc::kInvalidArgument;
      }
      v1::VoteTally* t = nullptr;
      if (actor != nullptr) {
        t = tally_of(idea, actor_id, false);
        if (t == nullptr || t->count() == 0 || actor->votes_cast() == 0) {
          return Errc::kInvalidArgument;
        }
      }
      idea->set_vote_count(idea->vote_count() - 1);
      if (t != nullptr) {
        t->set_count(t->count() - 1);
        actor->set_votes_cast(actor->votes_cast() - 1);
        actor->set_last_vote_seq(event.seq());
        if (t->count() == 0) {
          auto* votes = idea->mutable_votes();
          votes->erase(std::find_if(votes->begin(), votes->end(), [&](const v1::VoteTally& v) {
            return v.member_id() == actor_id;
          }));
        }
      }
      contributed(event.seq());
      return {};
    }
    case v1::Event::kActionCreated: {
      const auto& ac = event.action_created();
      const auto* owner = find_member(ac.owner_id());
      if (owner == nullptr || (ac.idea_id() != 0 && find_idea(ac.idea_id()) == nullptr) ||
          (!snap_.actions().empty() && snap_.actions().rbegin()->action_id() >= event.seq())) {
        return Errc::kInvalidArgument;
      }
      auto* a = snap_.add_actions();
      a->set_action_id(event.seq());
      a->set_title(ac.title());
      *a->mutable_owner() = owner->member();
      a->set_due_date(ac.due_date());
      a->set_status(v1::ACTION_STATUS_OPEN);
      a->set_idea_id(ac.idea_id());
      a->set_created_unix_ms(event.time_unix_ms());
      return {};
    }
    case v1::Event::kActionUpdated: {
      const auto& au = event.action_updated();
      const int i = action_index(snap_, au.action_id());
      const auto* owner = find_member(au.owner_id());
      if (i < 0 || owner == nullptr) {
        return Errc::kInvalidArgument;
      }
      auto* a = snap_.mutable_actions(i);
      a->set_title(au.title());
      *a->mutable_owner() = owner->member();
      a->set_due_date(au.due_date());
      return {};
    }
    case v1::Event::kActionStatusSet: {
      const int i = action_index(snap_, event.action_status_set().action_id());
      if (i < 0) {
        return Errc::kInvalidArgument;
      }
      snap_.mutable_actions(i)->set_status(event.action_status_set().status());
      return {};
    }
    case v1::Event::kRoomArchived: snap_.set_archived(true); return {};
    case v1::Event::PAYLOAD_NOT_SET: return Errc::kInvalidArgument;
  }
  return Errc::kInvalidArgument;
}

std::string BoardState::serialize() const {
  return deterministic_bytes(snap_);
}

v1::BoardSnapshot with_newest_ideas(const v1::BoardSnapshot& board, std::size_t count) {
  // Every field but `ideas`, found from the descriptor so that a field added later is copied too.
  static const google::protobuf::FieldMask kAllButIdeas = [] {
    google::protobuf::FieldMask mask;
    const auto* d = v1::BoardSnapshot::descriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->number() != v1::BoardSnapshot::kIdeasFieldNumber) {
        mask.add_paths(d->field(i)->name());
      }
    }
    return mask;
  }();
  v1::BoardSnapshot out;
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(
      board, kAllButIdeas, google::protobuf::util::FieldMaskUtil::MergeOptions(), &out);
  const int n = board.ideas_size();
  const int first = n - static_cast<int>(std::min<std::size_t>(count, static_cast<std::size_t>(n)));
  out.mutable_ideas()->Reserve(n - first);
  for (int i = first; i < n; ++i) {
    *out.add_ideas() = board.ideas(i);
  }
  return out;
}

}  // namespace huddle::board
