// Room tests of the board on the server: rules decided against the pending board (budgets hold
// with appends in flight and after a failed one), invariant 6 on the room's paths (live fan-out,
// join snapshot, EXACT resume from a tail reloaded from disk), invariant 7 per visibility class,
// read cursors, and the export command.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/room/room_fixture.hpp"

namespace huddle::room::test {
namespace {

v1::ClientFrame board_frame(std::uint64_t request_id,
                            const std::function<void(v1::ClientFrame&)>& fill) {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  fill(f);
  return f;
}

v1::ClientFrame phase_frame(std::uint64_t request_id, v1::Phase phase) {
  return board_frame(request_id, [&](auto& f) {
    f.mutable_set_phase()->set_room_id(kRoom);
    f.mutable_set_phase()->set_phase(phase);
  });
}

v1::ClientFrame vote_frame(std::uint64_t request_id, std::uint64_t idea) {
  return board_frame(request_id, [&](auto& f) {
    f.mutable_vote()->set_room_id(kRoom);
    f.mutable_vote()->set_idea_id(idea);
  });
}

class RoomBoardTest : public RoomTest {};

// Two votes in flight for a member with one vote left: the second is refused before the first
// is even durable, because the room validates against the board plus its pending appends.
TEST_F(RoomBoardTest, TwoVotesInFlightCannotBothSpendTheLastVote) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  create_board(owner, false, false, {&bob});
  const auto idea = ask(bob, idea_frame(10, "idea")).seq();
  ASSERT_FALSE(ask(owner, board_frame(11,
                                      [](auto& f) {
                                        f.mutable_set_voting()->set_room_id(kRoom);
                                        f.mutable_set_voting()->set_budget(1);
                                      }))
                   .has_error());
  ASSERT_FALSE(ask(owner, phase_frame(12, v1::PHASE_VOTE)).has_error());
  drain(bob);

  log_.hold();
  room()->submit(bob.handle, vote_frame(20, idea));
  room()->submit(bob.handle, vote_frame(21, idea));
  run();
  const auto early = drain(bob);
  EXPECT_EQ(early.reply_to(21).error().code(), v1::ERROR_CODE_VOTE_BUDGET_EXCEEDED);
  EXPECT_TRUE(early.events().empty());  // Nothing is sent before it is durable (invariant 3).
  const auto before = head();
  log_.release_all();
  run();
  const auto late = drain(bob);
  EXPECT_FALSE(late.reply_to(20).has_error());
  EXPECT_EQ(head(), before + 1);  // One vote stored.
}

// A vote whose append failed spent nothing: the pending board forgets it, and the member's one
// vote is still there for the retry.
TEST_F(RoomBoardTest, AFailedAppendLeavesNoPendingEffect) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  create_board(owner, false, false, {&bob});
  const auto idea = ask(bob, idea_frame(10, "idea")).seq();
  ASSERT_FALSE(ask(owner, board_frame(11,
                                      [](auto& f) {
                                        f.mutable_set_voting()->set_room_id(kRoom);
                                        f.mutable_set_voting()->set_budget(1);
                                      }))
                   .has_error());
  ASSERT_FALSE(ask(owner, phase_frame(12, v1::PHASE_VOTE)).has_error());
  memory_.fail_next_appends(1);
  EXPECT_EQ(ask(bob, vote_frame(20, idea)).error().code(), v1::ERROR_CODE_STORAGE_UNAVAILABLE);
  const auto retry = ask(bob, vote_frame(21, idea));
  EXPECT_FALSE(retry.has_error()) << retry.ShortDebugString();
  EXPECT_EQ(retry.seq(), head());
}

// Invariants 6 and 7 on the live path of an anonymous room: the author's connection gets the
// event with its actor, every other member gets one shared redacted buffer without it.
TEST_F(RoomBoardTest, AnAnonymousEventIsEncodedOncePerVisibilityClass) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  auto carol = connect("carol");
  create_board(owner, true, false, {&bob, &carol});
  room()->submit(bob.handle, idea_frame(10, "an idea"));
  run();
  ASSERT_EQ(owner.outbox->queued_items(), 1U);
  ASSERT_EQ(carol.outbox->queued_items(), 1U);
  // bob: the event, then the reply.
  ASSERT_EQ(bob.outbox->queued_items(), 2U);
  EXPECT_EQ(owner.outbox->queued(0), carol.outbox->queued(0));  // One buffer for the others.
  EXPECT_NE(owner.outbox->queued(0), bob.outbox->queued(0));
  const auto theirs = drain(carol).events();
  const auto own = drain(bob).events();
  ASSERT_EQ(theirs.size(), 1U);
  ASSERT_EQ(own.size(), 1U);
  EXPECT_FALSE(theirs[0].has_actor());
  EXPECT_EQ(theirs[0].idea_posted().text(), "an idea");
  EXPECT_EQ(own[0].actor().member_id(), "bob");
}

// With nothing to redact, everyone shares one buffer, the actor included.
TEST_F(RoomBoardTest, AnEventWithNothingToRedactIsOneBufferForAll) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  create_board(owner, false, false, {&bob});
  room()->submit(bob.handle, idea_frame(10, "an idea"));
  run();
  EXPECT_EQ(owner.outbox->queued(0), bob.outbox->queued(0));
}

// Invariant 6 on the join snapshot and on an EXACT resume whose events come from a tail that
// was reloaded from the log (encoded lazily, per class): hidden text reaches only its author.
TEST_F(RoomBoardTest, HiddenTextStaysWithItsAuthorInSnapshotsAndInResumesAfterAReload) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  auto carol = connect("carol");
  create_board(owner, false, true, {&bob, &carol});
  const auto carol_at = head();
  const auto bob_at = head();
  room()->disconnect(carol.handle.conn_id);
  room()->disconnect(bob.handle.conn_id);
  run();
  const auto idea = ask(owner, idea_frame(10, "OWNER-SECRET")).seq();
  ASSERT_GT(idea, carol_at);

  // A fresh registry: the room reloads from the log; its tail is re-encoded on demand.
  registry_ = std::make_unique<RoomRegistry>(ctx_);
  ASSERT_FALSE(registry_->load_directory());
  auto carol2 = connect("carol");
  send(carol2, join_frame(30, std::make_pair(kEpoch, carol_at)));
  const auto got = drain(carol2);
  ASSERT_EQ(got.reply_to(30).join().mode(), v1::RESUME_MODE_EXACT);
  ASSERT_EQ(got.events().size(), 1U);
  EXPECT_TRUE(got.events()[0].idea_posted().hidden());
  EXPECT_EQ(got.events()[0].idea_posted().text(), "");

  auto owner2 = connect("owner");
  send(owner2, join_frame(31, std::make_pair(kEpoch, bob_at)));
  EXPECT_EQ(drain(owner2).events().at(0).idea_posted().text(), "OWNER-SECRET");

  auto fresh = connect("bob");
  const auto snap = join(fresh, 32).snapshots().at(0).board();
  ASSERT_EQ(snap.ideas_size(), 1);
  EXPECT_EQ(snap.ideas(0).text(), "");
  EXPECT_EQ(snap.hidden_idea_count(), 1U);
  auto own = connect("owner");
  EXPECT_EQ(join(own, 33).snapshots().at(0).board().ideas(0).text(), "OWNER-SECRET");
}

// Invariant 7 for join snapshots: while every member sees the same board and the head does not
// move, a join storm shares one encoded snapshot; with hidden ideas each joiner gets their own.
TEST_F(RoomBoardTest, JoinersAtTheSameHeadShareOneSnapshotUnlessTheBoardDiffersPerMember) {
  auto owner = connect("owner");
  create_board(owner, false, true, {});
  auto ann = connect("ann");
  auto ben = connect("ben");
  room()->submit(ann.handle, join_frame(2));
  room()->submit(ben.handle, join_frame(2));
  run();
  // Reply, then the snapshot; both joins ran before either MemberJoined was durable.
  EXPECT_EQ(ann.outbox->queued(1), ben.outbox->queued(1));
  EXPECT_EQ(drain(ann).without_presence().kinds(), "reply snapshot events");
  EXPECT_EQ(drain(ben).snapshots().size(), 1U);

  ask(owner, idea_frame(10, "hidden from the others"));
  auto cat = connect("cat");
  auto dan = connect("dan");
  room()->submit(cat.handle, join_frame(3));
  room()->submit(dan.handle, join_frame(3));
  run();
  EXPECT_NE(cat.outbox->queued(1), dan.outbox->queued(1));
  const auto snap = drain(cat).snapshots().at(0).board();
  ASSERT_EQ(snap.ideas_size(), 1);
  EXPECT_EQ(snap.ideas(0).text(), "");
}

// Idle eviction: a room with no member and nothing in flight leaves memory once it has been idle
// long enough, and comes back intact (snapshot + tail) on the next join.
TEST_F(RoomBoardTest, AnIdleRoomNobodyHoldsIsEvictedAndReloadsIntact) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  create_board(owner, false, false, {&bob});
  const auto idea = ask(bob, idea_frame(10, "kept across eviction")).seq();
  EXPECT_EQ(registry_->evict_idle(kNow + 3'600'000, 1000), 0U) << "members are joined";
  room()->disconnect(owner.handle.conn_id);
  room()->disconnect(bob.handle.conn_id);
  run();
  EXPECT_EQ(registry_->evict_idle(kNow + 999, 1000), 0U) << "not idle for long enough";
  EXPECT_EQ(registry_->evict_idle(kNow + 1000, 1000), 1U);
  EXPECT_EQ(registry_->loaded_rooms(), 0U);

  auto again = connect("bob");
  const auto got = join(again, 20);
  const auto snap = got.snapshots().at(0).board();
  ASSERT_EQ(snap.ideas_size(), 1);
  EXPECT_EQ(snap.ideas(0).idea_id(), idea);
  EXPECT_EQ(snap.ideas(0).text(), "kept across eviction");
  EXPECT_EQ(got.reply_to(20).join().head_seq(), head());
  const auto after = ask(again, idea_frame(21, "after")).seq();
  EXPECT_EQ(after, idea + 1);  // The chain goes on.
  EXPECT_EQ(head(), after);
}

TEST_F(RoomBoardTest, ARoomSomeoneHoldsOrWithAnAppendInFlightIsNotEvicted) {
  auto owner = connect("owner");
  create_board(owner, false, false, {});
  log_.hold();
  room()->submit(owner.handle, idea_frame(10, "in flight"));
  room()->disconnect(owner.handle.conn_id);
  run();
  EXPECT_EQ(registry_->evict_idle(kNow + 3'600'000, 1000), 0U) << "an append is in flight";
  log_.release_all();
  run();
  {
    const auto held = room();  // A session that joined holds its room like this.
    EXPECT_EQ(registry_->evict_idle(kNow + 3'600'000, 1000), 0U) << "someone holds the room";
  }
  EXPECT_EQ(registry_->evict_idle(kNow + 3'600'000, 1000), 1U);
}

// Read cursors: kept per member, never moved back, bounded by the head, and still there when
// the room is loaded again ("new since you last looked").
TEST_F(RoomBoardTest, ReadCursorsNeverMoveBackAndSurviveAReload) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  create_board(owner, false, false, {&bob});
  for (int i = 0; i < 3; ++i) {
    send(bob, chat_frame(40 + static_cast<std::uint64_t>(i), "c"));
  }
  const auto h = head();
  auto mark = [&](std::uint64_t id, std::uint64_t seq) {
    return ask(bob, board_frame(id, [&](auto& f) {
                 f.mutable_mark_read()->set_room_id(kRoom);
                 f.mutable_mark_read()->set_seq(seq);
               }));
  };
  EXPECT_EQ(mark(50, h - 1).seq(), h - 1);
  EXPECT_EQ(mark(51, 2).seq(), h - 1);  // Another device read further already.
  EXPECT_EQ(mark(52, h + 1).error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(head(), h);  // Cursors are not events.

  registry_ = std::make_unique<RoomRegistry>(ctx_);
  ASSERT_FALSE(registry_->load_directory());
  auto again = connect("bob");
  EXPECT_EQ(join(again, 53).reply_to(53).join().last_read_seq(), h - 1);
  auto other = connect("owner");
  EXPECT_EQ(join(other, 54).reply_to(54).join().last_read_seq(), 0U);
}

// The export command renders the member's own view, and refuses what would not fit a frame.
TEST_F(RoomBoardTest, ExportIsTheMembersViewAndBoundedInSize) {
  auto owner = connect("owner");
  auto bob = connect("bob");
  create_board(owner, false, true, {&bob});
  ask(bob, idea_frame(10, "BOB-HIDDEN"));
  auto export_frame = [](std::uint64_t id, v1::ExportFormat format) {
    return board_frame(id, [&](auto& f) {
      f.mutable_export_()->set_room_id(kRoom);
      f.mutable_export_()->set_format(format);
    });
  };
  const auto mine = ask(bob, export_frame(20, v1::EXPORT_FORMAT_CSV));
  ASSERT_FALSE(mine.has_error());
  EXPECT_EQ(mine.export_().content_type(), "text/csv; charset=utf-8");
  EXPECT_NE(mine.export_().body().find("BOB-HIDDEN"), std::string::npos);
  const auto theirs = ask(owner, export_frame(21, v1::EXPORT_FORMAT_CSV));
  EXPECT_EQ(theirs.export_().body().find("BOB-HIDDEN"), std::string::npos);
  EXPECT_EQ(ask(owner, export_frame(22, v1::EXPORT_FORMAT_UNSPECIFIED)).error().code(),
            v1::ERROR_CODE_INVALID_ARGUMENT);
  auto stranger = connect("stranger");
  EXPECT_EQ(ask(stranger, export_frame(23, v1::EXPORT_FORMAT_MARKDOWN)).error().code(),
            v1::ERROR_CODE_NOT_JOINED);
}

TEST_F(RoomBoardTest, AnExportLargerThanTheBoundIsRefusedWithItsOwnCode) {
  options().max_export_bytes = 64;
  auto owner = connect("owner");
  create_board(owner, false, false, {});
  const auto r = ask(owner, board_frame(20, [](auto& f) {
                       f.mutable_export_()->set_room_id(kRoom);
                       f.mutable_export_()->set_format(v1::EXPORT_FORMAT_JSON);
                     }));
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_EXPORT_TOO_LARGE);
}

}  // namespace
}  // namespace huddle::room::test
