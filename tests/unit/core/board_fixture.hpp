// Test fixture for the pure board state machine: a Session plays the server's part (validate a
// command with rules.hpp, stamp room/seq/prev_seq/time/actor, apply, append to the log) with a
// fixed clock, so tests drive a board with commands and keep the resulting event log.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/board/board_state.hpp"
#include "core/board/rules.hpp"
#include "core/common/error.hpp"
#include "huddle/v1/command.pb.h"
#include "huddle/v1/event.pb.h"
#include "huddle/v1/frame.pb.h"

namespace huddle::board::testing {

namespace v1 = huddle::v1;

inline constexpr const char* kRoom = "retro";
// 2026-01-15T12:00:00Z: the fixed clock of a Session (tests may move Session::now).
inline constexpr std::int64_t kNow = 1'768'478'400'000;
inline constexpr std::int64_t kMinuteMs = 60'000;
inline constexpr std::int64_t kDayMs = 24 * 60 * kMinuteMs;

// ---- Command frames (room_id set; request ids do not matter to the rules) ----
namespace cmd {

inline v1::ClientFrame chat(const std::string& text) {
  v1::ClientFrame f;
  f.mutable_post_chat()->set_room_id(kRoom);
  f.mutable_post_chat()->set_text(text);
  return f;
}
inline v1::ClientFrame set_goal(const std::string& objective, const std::string& criteria = {}) {
  v1::ClientFrame f;
  auto* c = f.mutable_set_goal();
  c->set_room_id(kRoom);
  c->mutable_goal()->set_objective(objective);
  c->mutable_goal()->set_success_criteria(criteria);
  return f;
}
inline v1::ClientFrame set_role(const std::string& member, v1::Role role) {
  v1::ClientFrame f;
  auto* c = f.mutable_set_role();
  c->set_room_id(kRoom);
  c->set_member_id(member);
  c->set_role(role);
  return f;
}
inline v1::ClientFrame set_phase(v1::Phase phase, std::uint32_t timer_minutes = 0,
                                 std::int64_t deadline_unix_ms = 0) {
  v1::ClientFrame f;
  auto* c = f.mutable_set_phase();
  c->set_room_id(kRoom);
  c->set_phase(phase);
  c->set_timer_minutes(timer_minutes);
  c->set_deadline_unix_ms(deadline_unix_ms);
  return f;
}
inline v1::ClientFrame set_voting(std::uint32_t budget, std::uint32_t per_idea_cap = 0) {
  v1::ClientFrame f;
  auto* c = f.mutable_set_voting();
  c->set_room_id(kRoom);
  c->set_budget(budget);
  c->set_per_idea_cap(per_idea_cap);
  return f;
}
inline v1::ClientFrame set_hide_ideas(bool on) {
  v1::ClientFrame f;
  f.mutable_set_hide_ideas()->set_room_id(kRoom);
  f.mutable_set_hide_ideas()->set_hide_ideas(on);
  return f;
}
inline v1::ClientFrame reveal_ideas() {
  v1::ClientFrame f;
  f.mutable_reveal_ideas()->set_room_id(kRoom);
  return f;
}
inline v1::ClientFrame post_idea(const std::string& text, std::vector<std::string> tags = {}) {
  v1::ClientFrame f;
  auto* c = f.mutable_post_idea();
  c->set_room_id(kRoom);
  c->set_text(text);
  for (auto& t : tags) {
    c->add_tags(std::move(t));
  }
  return f;
}
inline v1::ClientFrame edit_idea(std::uint64_t idea, const std::string& text,
                                 std::vector<std::string> tags = {}) {
  v1::ClientFrame f;
  auto* c = f.mutable_edit_idea();
  c->set_room_id(kRoom);
  c->set_idea_id(idea);
  c->set_text(text);
  for (auto& t : tags) {
    c->add_tags(std::move(t));
  }
  return f;
}
inline v1::ClientFrame delete_idea(std::uint64_t idea) {
  v1::ClientFrame f;
  f.mutable_delete_idea()->set_room_id(kRoom);
  f.mutable_delete_idea()->set_idea_id(idea);
  return f;
}
inline v1::ClientFrame move_idea(std::uint64_t idea, std::uint64_t group) {
  v1::ClientFrame f;
  auto* c = f.mutable_move_idea();
  c->set_room_id(kRoom);
  c->set_idea_id(idea);
  c->set_group_id(group);
  return f;
}
inline v1::ClientFrame create_group(const std::string& name) {
  v1::ClientFrame f;
  f.mutable_create_group()->set_room_id(kRoom);
  f.mutable_create_group()->set_name(name);
  return f;
}
inline v1::ClientFrame rename_group(std::uint64_t group, const std::string& name) {
  v1::ClientFrame f;
  auto* c = f.mutable_rename_group();
  c->set_room_id(kRoom);
  c->set_group_id(group);
  c->set_name(name);
  return f;
}
inline v1::ClientFrame merge_groups(std::uint64_t from, std::uint64_t into) {
  v1::ClientFrame f;
  auto* c = f.mutable_merge_groups();
  c->set_room_id(kRoom);
  c->set_from_group_id(from);
  c->set_into_group_id(into);
  return f;
}
inline v1::ClientFrame delete_group(std::uint64_t group) {
  v1::ClientFrame f;
  f.mutable_delete_group()->set_room_id(kRoom);
  f.mutable_delete_group()->set_group_id(group);
  return f;
}
inline v1::ClientFrame post_comment(std::uint64_t idea, const std::string& text) {
  v1::ClientFrame f;
  auto* c = f.mutable_post_comment();
  c->set_room_id(kRoom);
  c->set_idea_id(idea);
  c->set_text(text);
  return f;
}
inline v1::ClientFrame delete_comment(std::uint64_t idea, std::uint64_t comment) {
  v1::ClientFrame f;
  auto* c = f.mutable_delete_comment();
  c->set_room_id(kRoom);
  c->set_idea_id(idea);
  c->set_comment_id(comment);
  return f;
}
inline v1::ClientFrame react(std::uint64_t idea, v1::Reaction reaction, bool remove = false) {
  v1::ClientFrame f;
  auto* c = f.mutable_react();
  c->set_room_id(kRoom);
  c->set_idea_id(idea);
  c->set_reaction(reaction);
  c->set_remove(remove);
  return f;
}
inline v1::ClientFrame vote(std::uint64_t idea) {
  v1::ClientFrame f;
  f.mutable_vote()->set_room_id(kRoom);
  f.mutable_vote()->set_idea_id(idea);
  return f;
}
inline v1::ClientFrame unvote(std::uint64_t idea) {
  v1::ClientFrame f;
  f.mutable_unvote()->set_room_id(kRoom);
  f.mutable_unvote()->set_idea_id(idea);
  return f;
}
inline v1::ClientFrame create_action(const std::string& title, const std::string& owner,
                                     const std::string& due = {}, std::uint64_t idea = 0) {
  v1::ClientFrame f;
  auto* c = f.mutable_create_action();
  c->set_room_id(kRoom);
  c->set_title(title);
  c->set_owner_id(owner);
  c->set_due_date(due);
  c->set_idea_id(idea);
  return f;
}
inline v1::ClientFrame update_action(std::uint64_t action, const std::string& title,
                                     const std::string& owner, const std::string& due = {}) {
  v1::ClientFrame f;
  auto* c = f.mutable_update_action();
  c->set_room_id(kRoom);
  c->set_action_id(action);
  c->set_title(title);
  c->set_owner_id(owner);
  c->set_due_date(due);
  return f;
}
inline v1::ClientFrame set_action_status(std::uint64_t action, v1::ActionStatus status) {
  v1::ClientFrame f;
  auto* c = f.mutable_set_action_status();
  c->set_room_id(kRoom);
  c->set_action_id(action);
  c->set_status(status);
  return f;
}

}  // namespace cmd

// Plays the server's part for one room: validate, stamp, apply, log.
class Session {
 public:
  BoardState state;
  std::vector<v1::Event> log;  // Every accepted event, in order.
  BoardLimits limits;
  std::int64_t now = kNow;    // The clock the rules see and the events carry.
  std::uint64_t seq_gap = 1;  // Seqs may be sparse (invariant 1): next seq = head + seq_gap.
  std::map<std::string, std::string> display_names;  // member_id -> name ("Name of <id>" else).

  std::string display_name(const std::string& member) const {
    auto it = display_names.find(member);
    return it != display_names.end() ? it->second : "Name of " + member;
  }

  // What the server stamps on a validated payload.
  v1::Event stamp(v1::Event event, const std::string& actor) const {
    event.set_room_id(kRoom);
    event.set_prev_seq(state.snapshot().seq());
    event.set_seq(state.snapshot().seq() + seq_gap);
    event.set_time_unix_ms(now);
    event.mutable_actor()->set_member_id(actor);
    event.mutable_actor()->set_display_name(display_name(actor));
    return event;
  }

  // Validates and appends a CreateRoom (RoomCreated puts `owner` in the roster as the owner).
  Result<v1::Event> create(const std::string& owner, bool anonymous = false,
                           bool hide_ideas = false, const std::string& title = "Q3 retro") {
    v1::CreateRoom c;
    c.set_room_id(kRoom);
    c.set_title(title);
    c.set_anonymous(anonymous);
    c.set_hide_ideas(hide_ideas);
    auto ev = validate_create_room(c, limits);
    if (!ev) {
      return ev.error();
    }
    return append(stamp(*ev, owner));
  }

  // A member's first join: MemberJoined{role}.
  Result<v1::Event> join(const std::string& member, v1::Role role = v1::ROLE_PARTICIPANT) {
    v1::Event e;
    e.mutable_member_joined()->set_role(role);
    return append(stamp(std::move(e), member));
  }

  // An operator archives the room (admin API): RoomArchived, with no actor.
  Result<v1::Event> archive(const std::string& reason = "") {
    v1::Event e = stamp(v1::Event{}, "");
    e.clear_actor();
    e.mutable_room_archived()->set_reason(reason);
    return append(std::move(e));
  }

  // validate_command, then stamp and apply. An accepted command must apply cleanly.
  Result<v1::Event> run(const std::string& actor, const v1::ClientFrame& frame) {
    auto ev = validate_command(frame, state, actor, now, limits);
    if (!ev) {
      return ev.error();
    }
    // validate_command returns the payload only: the room stamps everything else.
    EXPECT_TRUE(ev->room_id().empty() && ev->seq() == 0 && ev->prev_seq() == 0 &&
                ev->time_unix_ms() == 0 && !ev->has_actor())
        << ev->ShortDebugString();
    return append(stamp(*ev, actor));
  }

  // run() that must succeed (scene setup).
  v1::Event must(const std::string& actor, const v1::ClientFrame& frame) {
    auto r = run(actor, frame);
    EXPECT_TRUE(r.has_value()) << "setup command failed: " << frame.ShortDebugString() << ": "
                               << (r ? "" : r.error().message());
    return r ? *r : v1::Event{};
  }
  std::uint64_t must_id(const std::string& actor, const v1::ClientFrame& frame) {
    return must(actor, frame).seq();
  }

 private:
  Result<v1::Event> append(v1::Event event) {
    if (auto ec = state.apply(event)) {
      ADD_FAILURE() << "a validated event did not apply: " << event.ShortDebugString();
      return ec;
    }
    log.push_back(event);
    return event;
  }
};

// Replays events into `state`, failing the test on the first rejection.
inline BoardState replay(const std::vector<v1::Event>& events, BoardState state = {}) {
  for (const auto& e : events) {
    if (auto ec = state.apply(e)) {
      ADD_FAILURE() << "replay rejected seq " << e.seq() << ": " << ec.message();
      break;
    }
  }
  return state;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace huddle::board::testing
