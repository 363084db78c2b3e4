#include "core/board/rules.hpp"

#include <algorithm>

namespace huddle::board {

namespace v1 = huddle::v1;
using boost::system::error_code;

namespace {

bool fits(const std::string& s, std::size_t max) {
  return s.size() <= max;
}
bool fits_nonempty(const std::string& s, std::size_t max) {
  return !s.empty() && s.size() <= max;
}

bool valid_tags(const google::protobuf::RepeatedPtrField<std::string>& tags,
                const BoardLimits& limits) {
  if (static_cast<std::size_t>(tags.size()) > limits.max_tags) {
    return false;
  }
  return std::all_of(tags.begin(), tags.end(),
                     [&](const std::string& t) { return fits_nonempty(t, limits.max_tag_bytes); });
}

bool valid_goal(const v1::Goal& goal, const BoardLimits& limits) {
  return fits(goal.objective(), limits.max_objective_bytes) &&
         fits(goal.success_criteria(), limits.max_criteria_bytes);
}

// Phase sets, as bit masks of v1::Phase.
constexpr unsigned bit(v1::Phase p) {
  return 1U << static_cast<unsigned>(p);
}
constexpr unsigned kAnyOpen =
    bit(v1::PHASE_COLLECT) | bit(v1::PHASE_GROUP) | bit(v1::PHASE_VOTE) | bit(v1::PHASE_DISCUSS);
constexpr unsigned kAfterCollect =
    bit(v1::PHASE_GROUP) | bit(v1::PHASE_VOTE) | bit(v1::PHASE_DISCUSS);

error_code require_phase(const BoardState& s, unsigned allowed) {
  if (s.phase() == v1::PHASE_DONE) {
    return Errc::kRoomClosed;
  }
  return (allowed & bit(s.phase())) != 0 ? error_code{} : make_error_code(Errc::kWrongPhase);
}

error_code require_facilitator(v1::Role role) {
  return is_facilitator(role) ? error_code{} : make_error_code(Errc::kPermissionDenied);
}

error_code require_contributor(v1::Role role) {
  return can_contribute(role) ? error_code{} : make_error_code(Errc::kPermissionDenied);
}

// Every hidden idea, as the reveal carries it.
google::protobuf::RepeatedPtrField<v1::RevealedIdea> hidden_ideas(const BoardState& s) {
  google::protobuf::RepeatedPtrField<v1::RevealedIdea> out;
  if (s.snapshot().hidden_idea_count() == 0) {
    return out;
  }
  for (const auto& idea : s.snapshot().ideas()) {
    if (idea.hidden()) {
      auto* r = out.Add();
      r->set_idea_id(idea.idea_id());
      r->set_text(idea.text());
      *r->mutable_tags() = idea.tags();
    }
  }
  return out;
}

uint32_t tally(const v1::Idea& idea, std::string_view member) {
  for (const auto& t : idea.votes()) {
    if (t.member_id() == member) {
      return t.count();
    }
  }
  return 0;
}

// The payload of a command event: the command itself with room_id cleared.
template <class Cmd>
Cmd as_payload(const Cmd& cmd) {
  Cmd out = cmd;
  out.clear_room_id();
  return out;
}

struct Ctx {
  const BoardState& s;
  std::string_view actor;
  v1::Role role;
  std::int64_t now;
  const BoardLimits& limits;
};

using Out = Result<v1::Event>;

#define HUDDLE_TRY(expr)                \
  do {                                  \
    if (error_code ec_ = (expr); ec_) { \
      return ec_;                       \
    }                                   \
  } while (false)

Out chat(const Ctx& c, const v1::PostChat& cmd) {
  if (!fits_nonempty(cmd.text(), c.limits.max_chat_bytes)) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  v1::Event e;
  e.mutable_chat_posted()->set_text(cmd.text());
  return e;
}

Out set_goal(const Ctx& c, const v1::SetGoal& cmd) {
  if (!valid_goal(cmd.goal(), c.limits)) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  v1::Event e;
  *e.mutable_goal_set() = as_payload(cmd);
  return e;
}

Out set_role(const Ctx& c, const v1::SetRole& cmd) {
  if (cmd.role() != v1::ROLE_FACILITATOR && cmd.role() != v1::ROLE_PARTICIPANT &&
      cmd.role() != v1::ROLE_OBSERVER) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  const auto target = c.s.role_of(cmd.member_id());
  if (target == v1::ROLE_UNSPECIFIED) {
    return Errc::kMemberNotFound;
  }
  if (target == v1::ROLE_OWNER) {
    return Errc::kPermissionDenied;  // The owner stays the owner.
  }
  v1::Event e;
  *e.mutable_role_set() = as_payload(cmd);
  return e;
}

Out set_phase(const Ctx& c, const v1::SetPhase& cmd) {
  if (cmd.phase() < v1::PHASE_COLLECT || cmd.phase() > v1::PHASE_DONE ||
      cmd.timer_minutes() > c.limits.max_timer_minutes ||
      (cmd.timer_minutes() != 0 && cmd.deadline_unix_ms() != 0) ||
      (cmd.deadline_unix_ms() != 0 &&
       (cmd.deadline_unix_ms() <= c.now ||
        cmd.deadline_unix_ms() > c.now + c.limits.max_deadline_ms))) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_facilitator(c.role));
  // Allowed in every phase: this is how a done room reopens.
  v1::Event e;
  auto* pc = e.mutable_phase_changed();
  pc->set_phase(cmd.phase());
  pc->set_ends_unix_ms(cmd.timer_minutes() != 0
                           ? c.now + std::int64_t{cmd.timer_minutes()} * 60 * 1000
                           : cmd.deadline_unix_ms());
  if (c.s.phase() == v1::PHASE_COLLECT && cmd.phase() != v1::PHASE_COLLECT) {
    *pc->mutable_revealed() = hidden_ideas(c.s);  // Ideas are hidden during collect only.
  }
  return e;
}

Out set_voting(const Ctx& c, const v1::SetVoting& cmd) {
  if (cmd.budget() < 1 || cmd.budget() > c.limits.max_vote_budget ||
      cmd.per_idea_cap() > cmd.budget()) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  // Votes already cast stay valid: the budget (and the cap) never go below them.
  for (const auto& m : c.s.snapshot().roster()) {
    if (m.votes_cast() > cmd.budget()) {
      return Errc::kBudgetBelowVotesCast;
    }
  }
  if (cmd.per_idea_cap() != 0) {
    for (const auto& idea : c.s.snapshot().ideas()) {
      for (const auto& t : idea.votes()) {
        if (t.count() > cmd.per_idea_cap()) {
          return Errc::kBudgetBelowVotesCast;
        }
      }
    }
  }
  v1::Event e;
  *e.mutable_voting_set() = as_payload(cmd);
  return e;
}

Out set_hide_ideas(const Ctx& c, const v1::SetHideIdeas& cmd) {
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  v1::Event e;
  e.mutable_hide_ideas_set()->set_hide_ideas(cmd.hide_ideas());
  if (!cmd.hide_ideas()) {
    *e.mutable_hide_ideas_set()->mutable_revealed() = hidden_ideas(c.s);
  }
  return e;
}

Out reveal_ideas(const Ctx& c) {
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  v1::Event e;
  *e.mutable_ideas_revealed()->mutable_revealed() = hidden_ideas(c.s);
  return e;
}

Out post_idea(const Ctx& c, const v1::PostIdea& cmd) {
  if (!fits_nonempty(cmd.text(), c.limits.max_idea_bytes) || !valid_tags(cmd.tags(), c.limits)) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_COLLECT)));
  if (static_cast<std::size_t>(c.s.snapshot().ideas_size()) >= c.limits.max_ideas) {
    return Errc::kLimitExceeded;
  }
  v1::Event e;
  auto* ip = e.mutable_idea_posted();
  ip->set_text(cmd.text());
  *ip->mutable_tags() = cmd.tags();
  ip->set_hidden(c.s.snapshot().options().hide_ideas());
  return e;
}

// Edit and delete: the author in collect, a facilitator in collect or group.
error_code may_change_idea(const Ctx& c, const v1::Idea* idea) {
  if (c.s.phase() == v1::PHASE_DONE) {
    return Errc::kRoomClosed;
  }
  if (idea == nullptr) {
    return Errc::kIdeaNotFound;
  }
  const bool author = idea->author().member_id() == c.actor && can_contribute(c.role);
  if (!author && !is_facilitator(c.role)) {
    return Errc::kPermissionDenied;
  }
  return require_phase(c.s, is_facilitator(c.role) ? bit(v1::PHASE_COLLECT) | bit(v1::PHASE_GROUP)
                                                   : bit(v1::PHASE_COLLECT));
}

Out edit_idea(const Ctx& c, const v1::EditIdea& cmd) {
  if (!fits_nonempty(cmd.text(), c.limits.max_idea_bytes) || !valid_tags(cmd.tags(), c.limits)) {
    return Errc::kInvalidArgument;
  }
  const auto* idea = c.s.find_idea(cmd.idea_id());
  HUDDLE_TRY(may_change_idea(c, idea));
  if (idea->hidden() && idea->author().member_id() != c.actor) {
    return Errc::kIdeaHidden;  // Nobody overwrites text they cannot see.
  }
  v1::Event e;
  auto* ie = e.mutable_idea_edited();
  ie->set_idea_id(cmd.idea_id());
  ie->set_text(cmd.text());
  *ie->mutable_tags() = cmd.tags();
  ie->set_hidden(idea->hidden());
  return e;
}

Out delete_idea(const Ctx& c, const v1::DeleteIdea& cmd) {
  HUDDLE_TRY(may_change_idea(c, c.s.find_idea(cmd.idea_id())));
  v1::Event e;
  *e.mutable_idea_deleted() = as_payload(cmd);
  return e;
}

Out move_idea(const Ctx& c, const v1::MoveIdea& cmd) {
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_GROUP)));
  if (c.s.find_idea(cmd.idea_id()) == nullptr) {
    return Errc::kIdeaNotFound;
  }
  if (cmd.group_id() != 0 && c.s.find_group(cmd.group_id()) == nullptr) {
    return Errc::kGroupNotFound;
  }
  v1::Event e;
  *e.mutable_idea_moved() = as_payload(cmd);
  return e;
}

Out create_group(const Ctx& c, const v1::CreateGroup& cmd) {
  if (!fits_nonempty(cmd.name(), c.limits.max_group_name_bytes)) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_GROUP)));
  if (static_cast<std::size_t>(c.s.snapshot().groups_size()) >= c.limits.max_groups) {
    return Errc::kLimitExceeded;
  }
  v1::Event e;
  *e.mutable_group_created() = as_payload(cmd);
  return e;
}

Out rename_group(const Ctx& c, const v1::RenameGroup& cmd) {
  if (!fits_nonempty(cmd.name(), c.limits.max_group_name_bytes)) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_GROUP)));
  if (c.s.find_group(cmd.group_id()) == nullptr) {
    return Errc::kGroupNotFound;
  }
  v1::Event e;
  *e.mutable_group_renamed() = as_payload(cmd);
  return e;
}

Out merge_groups(const Ctx& c, const v1::MergeGroups& cmd) {
  if (cmd.from_group_id() == cmd.into_group_id()) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_GROUP)));
  if (c.s.find_group(cmd.from_group_id()) == nullptr ||
      c.s.find_group(cmd.into_group_id()) == nullptr) {
    return Errc::kGroupNotFound;
  }
  v1::Event e;
  *e.mutable_groups_merged() = as_payload(cmd);
  return e;
}

Out delete_group(const Ctx& c, const v1::DeleteGroup& cmd) {
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_GROUP)));
  if (c.s.find_group(cmd.group_id()) == nullptr) {
    return Errc::kGroupNotFound;
  }
  v1::Event e;
  *e.mutable_group_deleted() = as_payload(cmd);
  return e;
}

// A visible idea to comment on or react to.
Result<const v1::Idea*> visible_idea(const Ctx& c, std::uint64_t idea_id) {
  const auto* idea = c.s.find_idea(idea_id);
  if (idea == nullptr) {
    return Errc::kIdeaNotFound;
  }
  if (idea->hidden() && idea->author().member_id() != c.actor) {
    return Errc::kIdeaHidden;
  }
  return idea;
}

Out post_comment(const Ctx& c, const v1::PostComment& cmd) {
  if (!fits_nonempty(cmd.text(), c.limits.max_comment_bytes)) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, kAfterCollect));
  auto idea = visible_idea(c, cmd.idea_id());
  if (!idea) {
    return idea.error();
  }
  if (static_cast<std::size_t>((*idea)->comments_size()) >= c.limits.max_comments_per_idea) {
    return Errc::kLimitExceeded;
  }
  v1::Event e;
  *e.mutable_comment_posted() = as_payload(cmd);
  return e;
}

Out delete_comment(const Ctx& c, const v1::DeleteComment& cmd) {
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, kAfterCollect));
  const auto* idea = c.s.find_idea(cmd.idea_id());
  if (idea == nullptr) {
    return Errc::kIdeaNotFound;
  }
  const auto it =
      std::find_if(idea->comments().begin(), idea->comments().end(),
                   [&](const v1::Comment& x) { return x.comment_id() == cmd.comment_id(); });
  if (it == idea->comments().end()) {
    return Errc::kCommentNotFound;
  }
  if (it->author().member_id() != c.actor && !is_facilitator(c.role)) {
    return Errc::kPermissionDenied;
  }
  v1::Event e;
  *e.mutable_comment_deleted() = as_payload(cmd);
  return e;
}

Out react(const Ctx& c, const v1::React& cmd) {
  if (cmd.reaction() <= v1::REACTION_UNSPECIFIED || !v1::Reaction_IsValid(cmd.reaction())) {
    return Errc::kInvalidArgument;
  }
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, kAfterCollect));
  auto idea = visible_idea(c, cmd.idea_id());
  if (!idea) {
    return idea.error();
  }
  const bool present = std::any_of(
      (*idea)->reactions().begin(), (*idea)->reactions().end(), [&](const v1::ReactionMark& m) {
        return m.reaction() == cmd.reaction() && m.member_id() == c.actor;
      });
  if (present != cmd.remove()) {
    return Errc::kInvalidArgument;  // Already set, or nothing to remove.
  }
  v1::Event e;
  *e.mutable_reaction_set() = as_payload(cmd);
  return e;
}

Out vote(const Ctx& c, const v1::Vote& cmd) {
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_VOTE)));
  const auto* idea = c.s.find_idea(cmd.idea_id());
  if (idea == nullptr) {
    return Errc::kIdeaNotFound;
  }
  const auto& rules = c.s.snapshot().voting();
  if (c.s.find_member(c.actor)->votes_cast() >= rules.budget()) {
    return Errc::kVoteBudgetExceeded;
  }
  if (rules.per_idea_cap() != 0 && tally(*idea, c.actor) >= rules.per_idea_cap()) {
    return Errc::kVoteCapExceeded;
  }
  v1::Event e;
  *e.mutable_vote_cast() = as_payload(cmd);
  return e;
}

Out unvote(const Ctx& c, const v1::Unvote& cmd) {
  HUDDLE_TRY(require_contributor(c.role));
  HUDDLE_TRY(require_phase(c.s, bit(v1::PHASE_VOTE)));
  const auto* idea = c.s.find_idea(cmd.idea_id());
  if (idea == nullptr) {
    return Errc::kIdeaNotFound;
  }
  if (tally(*idea, c.actor) == 0) {
    return Errc::kNoVoteToRetract;
  }
  v1::Event e;
  *e.mutable_vote_retracted() = as_payload(cmd);
  return e;
}

error_code check_action_fields(const Ctx& c, const std::string& title, const std::string& due) {
  if (!fits_nonempty(title, c.limits.max_action_title_bytes) ||
      (!due.empty() && !is_valid_date(due))) {
    return Errc::kInvalidArgument;
  }
  return {};
}

Out create_action(const Ctx& c, const v1::CreateAction& cmd) {
  HUDDLE_TRY(check_action_fields(c, cmd.title(), cmd.due_date()));
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  if (c.s.find_member(cmd.owner_id()) == nullptr) {
    return Errc::kMemberNotFound;
  }
  if (cmd.idea_id() != 0 && c.s.find_idea(cmd.idea_id()) == nullptr) {
    return Errc::kIdeaNotFound;
  }
  if (static_cast<std::size_t>(c.s.snapshot().actions_size()) >= c.limits.max_actions) {
    return Errc::kLimitExceeded;
  }
  v1::Event e;
  *e.mutable_action_created() = as_payload(cmd);
  return e;
}

Out update_action(const Ctx& c, const v1::UpdateAction& cmd) {
  HUDDLE_TRY(check_action_fields(c, cmd.title(), cmd.due_date()));
  HUDDLE_TRY(require_facilitator(c.role));
  HUDDLE_TRY(require_phase(c.s, kAnyOpen));
  if (c.s.find_action(cmd.action_id()) == nullptr) {
    return Errc::kActionNotFound;
  }
  if (c.s.find_member(cmd.owner_id()) == nullptr) {
    return Errc::kMemberNotFound;
  }
  v1::Event e;
  *e.mutable_action_updated() = as_payload(cmd);
  return e;
}

Out set_action_status(const Ctx& c, const v1::SetActionStatus& cmd) {
  if (cmd.status() != v1::ACTION_STATUS_OPEN && cmd.status() != v1::ACTION_STATUS_DONE) {
    return Errc::kInvalidArgument;
  }
  const auto* action = c.s.find_action(cmd.action_id());
  if (c.s.phase() == v1::PHASE_DONE) {
    return Errc::kRoomClosed;
  }
  if (action == nullptr) {
    return Errc::kActionNotFound;
  }
  const bool owner = action->owner().member_id() == c.actor && can_contribute(c.role);
  if (!owner && !is_facilitator(c.role)) {  // Observers are read-only, even as owners.
    return Errc::kPermissionDenied;
  }
  v1::Event e;
  *e.mutable_action_status_set() = as_payload(cmd);
  return e;
}

#undef HUDDLE_TRY

}  // namespace

bool is_valid_date(std::string_view d) noexcept {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') {
    return false;
  }
  int v[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lens[3] = {4, 2, 2};
  for (int k = 0; k < 3; ++k) {
    for (std::size_t i = starts[k]; i < starts[k] + lens[k]; ++i) {
      if (d[i] < '0' || d[i] > '9') {
        return false;
      }
      v[k] = v[k] * 10 + (d[i] - '0');
    }
  }
  const int y = v[0], m = v[1], day = v[2];
  if (y < 1970 || m < 1 || m > 12 || day < 1) {
    return false;
  }
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return day <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

Result<v1::Event> validate_create_room(const v1::CreateRoom& cmd, const BoardLimits& limits) {
  if (!is_valid_room_id(cmd.room_id()) || cmd.title().size() > limits.max_title_bytes ||
      !valid_goal(cmd.goal(), limits)) {
    return Errc::kInvalidArgument;
  }
  v1::Event event;
  event.set_room_id(cmd.room_id());
  auto* rc = event.mutable_room_created();
  rc->set_title(cmd.title().empty() ? cmd.room_id() : cmd.title());
  *rc->mutable_goal() = cmd.goal();
  rc->mutable_options()->set_anonymous(cmd.anonymous());
  rc->mutable_options()->set_hide_ideas(cmd.hide_ideas());
  rc->mutable_options()->set_private_room(cmd.private_room());
  return event;
}

bool is_board_command(v1::ClientFrame::CommandCase c) noexcept {
  switch (c) {
    case v1::ClientFrame::kPostChat:
    case v1::ClientFrame::kSetGoal:
    case v1::ClientFrame::kSetRole:
    case v1::ClientFrame::kSetPhase:
    case v1::ClientFrame::kSetVoting:
    case v1::ClientFrame::kSetHideIdeas:
    case v1::ClientFrame::kRevealIdeas:
    case v1::ClientFrame::kPostIdea:
    case v1::ClientFrame::kEditIdea:
    case v1::ClientFrame::kDeleteIdea:
    case v1::ClientFrame::kMoveIdea:
    case v1::ClientFrame::kCreateGroup:
    case v1::ClientFrame::kRenameGroup:
    case v1::ClientFrame::kMergeGroups:
    case v1::ClientFrame::kDeleteGroup:
    case v1::ClientFrame::kPostComment:
    case v1::ClientFrame::kDeleteComment:
    case v1::ClientFrame::kReact:
    case v1::ClientFrame::kVote:
    case v1::ClientFrame::kUnvote:
    case v1::ClientFrame::kCreateAction:
    case v1::ClientFrame::kUpdateAction:
    case v1::ClientFrame::kSetActionStatus: return true;
    default: return false;
  }
}

Result<v1::Event> validate_command(const v1::ClientFrame& f, const BoardState& state,
                                   std::string_view actor, std::int64_t now_unix_ms,
                                   const BoardLimits& limits) {
  if (!state.created()) {
    return Errc::kRoomNotFound;
  }
  if (state.snapshot().archived()) {
    return Errc::kRoomArchived;  // Before any other check: nothing appends to an archived room.
  }
  const Ctx c{state, actor, state.role_of(actor), now_unix_ms, limits};
  switch (f.command_case()) {
    case v1::ClientFrame::kPostChat: return chat(c, f.post_chat());
    case v1::ClientFrame::kSetGoal: return set_goal(c, f.set_goal());
    case v1::ClientFrame::kSetRole: return set_role(c, f.set_role());
    case v1::ClientFrame::kSetPhase: return set_phase(c, f.set_phase());
    case v1::ClientFrame::kSetVoting: return set_voting(c, f.set_voting());
    case v1::ClientFrame::kSetHideIdeas: return set_hide_ideas(c, f.set_hide_ideas());
    case v1::ClientFrame::kRevealIdeas: return reveal_ideas(c);
    case v1::ClientFrame::kPostIdea: return post_idea(c, f.post_idea());
    case v1::ClientFrame::kEditIdea: return edit_idea(c, f.edit_idea());
    case v1::ClientFrame::kDeleteIdea: return delete_idea(c, f.delete_idea());
    case v1::ClientFrame::kMoveIdea: return move_idea(c, f.move_idea());
    case v1::ClientFrame::kCreateGroup: return create_group(c, f.create_group());
    case v1::ClientFrame::kRenameGroup: return rename_group(c, f.rename_group());
    case v1::ClientFrame::kMergeGroups: return merge_groups(c, f.merge_groups());
    case v1::ClientFrame::kDeleteGroup: return delete_group(c, f.delete_group());
    case v1::ClientFrame::kPostComment: return post_comment(c, f.post_comment());
    case v1::ClientFrame::kDeleteComment: return delete_comment(c, f.delete_comment());
    case v1::ClientFrame::kReact: return react(c, f.react());
    case v1::ClientFrame::kVote: return vote(c, f.vote());
    case v1::ClientFrame::kUnvote: return unvote(c, f.unvote());
    case v1::ClientFrame::kCreateAction: return create_action(c, f.create_action());
    case v1::ClientFrame::kUpdateAction: return update_action(c, f.update_action());
    case v1::ClientFrame::kSetActionStatus: return set_action_status(c, f.set_action_status());
    default: return Errc::kInvalidArgument;
  }
}

}  // namespace huddle::board
