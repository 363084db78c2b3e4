#include "random_session.hpp"

#include <array>
#include <cstdio>
#include <random>

namespace huddle::board::testing {

namespace {

enum Kind : int {
  kChat,
  kSetGoal,
  kSetRole,
  kSetPhase,
  kSetVoting,
  kSetHideIdeas,
  kRevealIdeas,
  kPostIdea,
  kEditIdea,
  kDeleteIdea,
  kMoveIdea,
  kCreateGroup,
  kRenameGroup,
  kMergeGroups,
  kDeleteGroup,
  kPostComment,
  kDeleteComment,
  kReact,
  kVote,
  kUnvote,
  kCreateAction,
  kUpdateAction,
  kSetActionStatus,
  kKinds
};

using Weights = std::array<int, kKinds>;

// Commands that make sense in each phase, weighted so that sessions spend real time in every
// phase (votes pile up past the budget, groups are merged, comments deleted, ...).
Weights phase_weights(v1::Phase p) {
  Weights w{};
  w[kChat] = 3;
  w[kSetGoal] = 1;
  w[kSetRole] = 1;
  w[kSetPhase] = 4;
  w[kSetHideIdeas] = 1;
  switch (p) {
    case v1::PHASE_COLLECT:
      w[kPostIdea] = 30;
      w[kEditIdea] = 10;
      w[kDeleteIdea] = 6;
      w[kSetHideIdeas] = 4;
      w[kRevealIdeas] = 2;
      break;
    case v1::PHASE_GROUP:
      w[kCreateGroup] = 6;
      w[kRenameGroup] = 3;
      w[kMergeGroups] = 2;
      w[kDeleteGroup] = 2;
      w[kMoveIdea] = 15;
      w[kPostComment] = 8;
      w[kDeleteComment] = 3;
      w[kReact] = 6;
      w[kEditIdea] = 3;
      w[kDeleteIdea] = 2;
      break;
    case v1::PHASE_VOTE:
      w[kVote] = 30;
      w[kUnvote] = 10;
      w[kSetVoting] = 3;
      w[kPostComment] = 4;
      w[kReact] = 4;
      break;
    case v1::PHASE_DISCUSS:
      w[kPostComment] = 10;
      w[kDeleteComment] = 4;
      w[kReact] = 8;
      w[kCreateAction] = 6;
      w[kUpdateAction] = 3;
      w[kSetActionStatus] = 5;
      w[kSetGoal] = 2;
      w[kSetRole] = 2;
      break;
    default:  // Done: mostly reopen; the rest is rejected with ROOM_CLOSED.
      w[kSetPhase] = 12;
      break;
  }
  return w;
}

bool facilitator_kind(Kind k) {
  switch (k) {
    case kSetGoal:
    case kSetRole:
    case kSetPhase:
    case kSetVoting:
    case kSetHideIdeas:
    case kRevealIdeas:
    case kCreateGroup:
    case kRenameGroup:
    case kMergeGroups:
    case kDeleteGroup:
    case kCreateAction:
    case kUpdateAction: return true;
    default: return false;
  }
}

class Generator {
 public:
  Generator(const RandomOptions& o, RandomSession& out) : o_(o), out_(out), rng_(o.seed) {}

  void run() {
    auto& s = out_.session;
    s.limits.max_ideas = 40;  // Small boards keep the per-step property checks fast.
    s.limits.max_groups = 8;
    s.limits.max_comments_per_idea = 6;
    s.limits.max_actions = 12;
    for (const auto& m : random_members()) {
      s.display_names[m.id] = m.name;
    }
    const auto& members = random_members();
    s.create(members[0].id, o_.anonymous, o_.hide_ideas);
    joined_.push_back(members[0].id);
    for (std::size_t i = 1; i + 1 < members.size(); ++i) {
      s.join(members[i].id, members[i].role);
      joined_.push_back(members[i].id);
    }
    for (std::size_t i = 0; i < o_.commands; ++i) {
      s.now += 1 + static_cast<std::int64_t>(pick(3000));
      s.seq_gap = 1 + pick(3);     // Sparse seqs (invariant 1).
      if (i == o_.commands / 3) {  // A late joiner: MemberJoined in the middle of the log.
        s.join(members.back().id, members.back().role);
        joined_.push_back(members.back().id);
      }
      if (o_.archive_near_end && o_.commands >= 100 && i == o_.commands - 20) {
        s.archive("over");  // The last 20 commands meet an archived room.
      }
      step();
    }
  }

 private:
  std::uint64_t pick(std::uint64_t n) {
    if (o_.choose) {
      return o_.choose(n) % n;
    }
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }
  // A kind by weight.
  Kind weighted(const Weights& w) {
    if (!o_.choose) {
      std::discrete_distribution<int> d(w.begin(), w.end());
      return static_cast<Kind>(d(rng_));
    }
    int total = 0;
    for (int x : w) {
      total += x;
    }
    auto r = static_cast<int>(pick(static_cast<std::uint64_t>(total)));
    for (int k = 0; k < kKinds; ++k) {
      if (r < w[static_cast<std::size_t>(k)]) {
        return static_cast<Kind>(k);
      }
      r -= w[static_cast<std::size_t>(k)];
    }
    return kChat;
  }
  bool chance(int percent) { return pick(100) < static_cast<std::uint64_t>(percent); }
  const BoardState& state() const { return out_.session.state; }
  const v1::BoardSnapshot& snap() const { return out_.session.state.snapshot(); }

  std::string any_member() { return joined_[pick(joined_.size())]; }
  std::string facilitator() {
    std::vector<std::string> f;
    for (const auto& m : joined_) {
      if (is_facilitator(state().role_of(m))) {
        f.push_back(m);
      }
    }
    return f[pick(f.size())];  // The owner is always there.
  }
  std::string actor_for(Kind k) {
    if (chance(1)) {
      return "idStrangerQ";  // Not in the roster.
    }
    return facilitator_kind(k) && chance(75) ? facilitator() : any_member();
  }

  std::uint64_t idea_id() {
    if (snap().ideas().empty() || chance(5)) {
      return 900'000 + pick(10);  // Missing.
    }
    return snap().ideas(static_cast<int>(pick(snap().ideas_size()))).idea_id();
  }
  std::uint64_t group_id(bool allow_zero) {
    if (allow_zero && chance(15)) {
      return 0;
    }
    if (snap().groups().empty() || chance(5)) {
      return 800'000 + pick(10);
    }
    return snap().groups(static_cast<int>(pick(snap().groups_size()))).group_id();
  }
  std::uint64_t action_id() {
    if (snap().actions().empty() || chance(5)) {
      return 700'000 + pick(10);
    }
    return snap().actions(static_cast<int>(pick(snap().actions_size()))).action_id();
  }
  // An existing (idea, comment) pair, or a missing one.
  std::pair<std::uint64_t, std::uint64_t> comment_ref() {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> all;
    for (const auto& i : snap().ideas()) {
      for (const auto& c : i.comments()) {
        all.emplace_back(i.idea_id(), c.comment_id());
      }
    }
    if (all.empty() || chance(5)) {
      return {idea_id(), 600'000 + pick(10)};
    }
    return all[pick(all.size())];
  }
  // Occasionally empty (INVALID_ARGUMENT).
  std::string text(const char* what) {
    if (chance(2)) {
      return {};
    }
    return std::string(what) + " " + std::to_string(counter_++);
  }
  std::string marker() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%05dZ", kSecretPrefix, marker_++);
    return buf;
  }
  std::string date() {
    static const char* const kDates[] = {"", "2026-02-28", "2026-03-31", "2028-02-29",
                                         "2026-02-30"};  // The last is invalid.
    return kDates[pick(5)];
  }
  v1::Phase phase_target() {
    const auto p = state().phase();
    if (p != v1::PHASE_DONE && chance(60)) {
      return static_cast<v1::Phase>(p + 1);  // Forward, the usual way.
    }
    return static_cast<v1::Phase>(1 + pick(5));  // Anywhere, back and forth.
  }

  void step() {
    const auto w = phase_weights(state().phase());
    Kind k;
    if (chance(80)) {
      k = weighted(w);
    } else {
      k = static_cast<Kind>(pick(kKinds));  // Anything, mostly rejected by phase.
    }
    const std::string actor = actor_for(k);
    std::string mark;  // The marker an accepted PostIdea/EditIdea gives its idea.
    std::uint64_t marked_idea = 0;
    v1::ClientFrame f;
    switch (k) {
      case kChat: f = cmd::chat(text("chat")); break;
      case kSetGoal: f = cmd::set_goal(text("goal"), text("criteria")); break;
      case kSetRole: {
        static const v1::Role kRoles[] = {v1::ROLE_FACILITATOR, v1::ROLE_PARTICIPANT,
                                          v1::ROLE_PARTICIPANT, v1::ROLE_OBSERVER};
        const auto target = chance(5) ? std::string("idNobodyQ") : any_member();
        f = cmd::set_role(target, kRoles[pick(4)]);
        break;
      }
      case kSetPhase: {
        const auto target = phase_target();
        const auto r = pick(20);
        if (r < 14) {
          f = cmd::set_phase(target);
        } else if (r < 17) {
          f = cmd::set_phase(target, static_cast<std::uint32_t>(1 + pick(60)));
        } else if (r < 19) {
          f = cmd::set_phase(target, 0, out_.session.now + kDayMs * (1 + pick(10)));
        } else {
          f = cmd::set_phase(target, 0, out_.session.now - 1);  // In the past: rejected.
        }
        break;
      }
      case kSetVoting: {
        const auto budget = static_cast<std::uint32_t>(1 + pick(8));
        f = cmd::set_voting(budget, static_cast<std::uint32_t>(pick(budget + 1)));
        break;
      }
      case kSetHideIdeas: f = cmd::set_hide_ideas(chance(50)); break;
      case kRevealIdeas: f = cmd::reveal_ideas(); break;
      case kPostIdea:
      case kEditIdea: {
        mark = marker();
        std::vector<std::string> tags;
        if (chance(30)) {
          tags.push_back("t" + mark);
        }
        if (chance(20)) {
          tags.push_back("plain");
        }
        const std::string t = chance(2) ? std::string() : "idea " + mark;
        if (k == kPostIdea) {
          f = cmd::post_idea(t, tags);
        } else {
          marked_idea = idea_id();
          f = cmd::edit_idea(marked_idea, t, tags);
        }
        break;
      }
      case kDeleteIdea: f = cmd::delete_idea(idea_id()); break;
      case kMoveIdea: {
        const auto idea = idea_id();
        f = cmd::move_idea(idea, group_id(true));
        break;
      }
      case kCreateGroup: f = cmd::create_group(text("group")); break;
      case kRenameGroup: {
        const auto g = group_id(false);
        f = cmd::rename_group(g, text("renamed"));
        break;
      }
      case kMergeGroups: {
        const auto from = group_id(false);
        f = cmd::merge_groups(from, group_id(false));
        break;
      }
      case kDeleteGroup: f = cmd::delete_group(group_id(false)); break;
      case kPostComment: {
        const auto idea = idea_id();
        f = cmd::post_comment(idea, text("comment"));
        break;
      }
      case kDeleteComment: {
        const auto [idea, comment] = comment_ref();
        f = cmd::delete_comment(idea, comment);
        break;
      }
      case kReact: {
        const auto idea = idea_id();
        f = cmd::react(idea, static_cast<v1::Reaction>(1 + pick(6)), chance(40));
        break;
      }
      case kVote: f = cmd::vote(idea_id()); break;
      case kUnvote: f = cmd::unvote(idea_id()); break;
      case kCreateAction: {
        const auto title = text("action");
        const auto owner = chance(3) ? std::string("idNobodyQ") : any_member();
        const auto due = date();
        f = cmd::create_action(title, owner, due, chance(50) ? idea_id() : 0);
        break;
      }
      case kUpdateAction: {
        const auto id = action_id();
        const auto title = text("action");
        const auto owner = chance(3) ? std::string("idNobodyQ") : any_member();
        f = cmd::update_action(id, title, owner, date());
        break;
      }
      case kSetActionStatus: {
        const auto id = action_id();
        f = cmd::set_action_status(id,
                                   chance(60) ? v1::ACTION_STATUS_DONE : v1::ACTION_STATUS_OPEN);
        break;
      }
      case kKinds: break;
    }
    ++out_.attempted;
    auto r = out_.session.run(actor, f);
    if (!r) {
      ++out_.rejected[static_cast<Errc>(r.error().value())];
      return;
    }
    ++out_.accepted[r->payload_case()];
    if (!mark.empty()) {
      out_.markers[k == kPostIdea ? r->seq() : marked_idea].push_back(mark);
    }
  }

  const RandomOptions& o_;
  RandomSession& out_;
  std::mt19937 rng_;
  std::vector<std::string> joined_;
  int counter_ = 0;
  int marker_ = 0;
};

}  // namespace

const std::vector<RandomMember>& random_members() {
  static const std::vector<RandomMember> kMembers = {
      {"idOwnerQ", "nmOwnerQ", v1::ROLE_OWNER},
      {"idFacQ", "nmFacQ", v1::ROLE_FACILITATOR},
      {"idPartAQ", "nmPartAQ", v1::ROLE_PARTICIPANT},
      {"idPartBQ", "nmPartBQ", v1::ROLE_PARTICIPANT},
      {"idPartCQ", "nmPartCQ", v1::ROLE_PARTICIPANT},
      {"idObsQ", "nmObsQ", v1::ROLE_OBSERVER},
      {"idLateQ", "nmLateQ", v1::ROLE_PARTICIPANT},
  };
  return kMembers;
}

RandomSession random_session(const RandomOptions& options) {
  RandomSession out;
  Generator(options, out).run();
  return out;
}

}  // namespace huddle::board::testing
