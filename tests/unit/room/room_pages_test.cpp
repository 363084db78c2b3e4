// Room tests of a big board joined in parts: Join.snapshot_ideas sends the newest ideas in the
// snapshot and GetIdeas pages the older ones in. The pages together with the snapshot are the
// whole board; a page is as new as every event queued before it; pages are redacted for their
// reader (invariant 6) and encoded once when everyone sees the same (invariant 7); bad requests
// get their error and change nothing.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/room/room_fixture.hpp"

namespace huddle::room::test {
namespace {

v1::ClientFrame paged_join_frame(std::uint64_t request_id, std::uint32_t snapshot_ideas) {
  auto f = join_frame(request_id);
  f.mutable_join()->set_snapshot_ideas(snapshot_ideas);
  return f;
}

v1::ClientFrame ideas_frame(std::uint64_t request_id, std::uint64_t before, std::uint32_t limit) {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  f.mutable_get_ideas()->set_room_id(kRoom);
  f.mutable_get_ideas()->set_before_idea_id(before);
  f.mutable_get_ideas()->set_limit(limit);
  return f;
}

std::vector<std::uint64_t> ids_of(const google::protobuf::RepeatedPtrField<v1::Idea>& ideas) {
  std::vector<std::uint64_t> out;
  for (const auto& i : ideas) {
    out.push_back(i.idea_id());
  }
  return out;
}

using Ids = std::vector<std::uint64_t>;

class RoomPagesTest : public RoomTest {
 protected:
  // kRoom created by `owner` with these options, joined by it, holding `n` ideas it posted.
  std::vector<std::uint64_t> board_with_ideas(Client& owner, int n, bool anonymous = false,
                                              bool hide_ideas = false) {
    create_board(owner, anonymous, hide_ideas, {});
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(ask(owner, idea_frame(100 + i, "idea " + std::to_string(i))).seq());
    }
    return ids;
  }
};

// The snapshot holds the newest ideas and counts the rest; paging back from its first idea
// brings the rest, oldest page last; snapshot and pages together are the whole board.
TEST_F(RoomPagesTest, TheNewestIdeasThenPagesBackAreTheWholeBoard) {
  auto owner = connect("owner");
  const auto ids = board_with_ideas(owner, 7);
  // Both join as the owner, who is in the roster already: no MemberJoined moves the head between.
  auto full_member = connect("owner");
  const auto full = join(full_member, 2).snapshots().at(0);
  ASSERT_EQ(ids_of(full.board().ideas()), ids);
  EXPECT_EQ(full.ideas_omitted(), 0U);

  auto bob = connect("owner");
  send(bob, paged_join_frame(2, 3));
  const auto got = drain(bob);
  EXPECT_EQ(got.without_presence().kinds(), "reply snapshot");
  const auto snap = got.snapshots().at(0);
  EXPECT_EQ(ids_of(snap.board().ideas()), (Ids{ids[4], ids[5], ids[6]}));
  EXPECT_EQ(snap.ideas_omitted(), 4U);
  EXPECT_EQ(snap.seq(), head());
  EXPECT_EQ(snap.seq(), full.seq());
  // Everything but the ideas is the whole board.
  auto rest = snap.board();
  auto whole = full.board();
  rest.clear_ideas();
  whole.clear_ideas();
  EXPECT_EQ(rest.SerializeAsString(), whole.SerializeAsString());

  std::vector<v1::Idea> all(snap.board().ideas().begin(), snap.board().ideas().end());
  std::uint64_t before = snap.board().ideas(0).idea_id();
  std::vector<bool> more;
  for (std::uint64_t rid = 10;; ++rid) {
    const auto reply = ask(bob, ideas_frame(rid, before, 3));
    ASSERT_FALSE(reply.has_error()) << reply.error().message();
    ASSERT_TRUE(reply.has_ideas());
    EXPECT_EQ(reply.ideas().seq(), head());
    all.insert(all.begin(), reply.ideas().ideas().begin(), reply.ideas().ideas().end());
    more.push_back(reply.ideas().has_more());
    if (!reply.ideas().has_more()) {
      break;
    }
    before = reply.ideas().ideas(0).idea_id();
  }
  EXPECT_EQ(more, (std::vector<bool>{true, false}));  // Pages of 3 then 1.
  ASSERT_EQ(all.size(), full.board().ideas().size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].SerializeAsString(),
              full.board().ideas(static_cast<int>(i)).SerializeAsString())
        << "idea " << i;
  }
}

// Limits: 0 = the whole board; a limit past the board's size too. before_idea_id 0 pages from the
// newest; below the oldest idea, an empty last page.
TEST_F(RoomPagesTest, LimitsAtAndPastTheBoardAndPagesAtItsEnds) {
  auto owner = connect("owner");
  auto ids = board_with_ideas(owner, 2);
  // A chat between the second and third idea: its seq is no idea's id.
  v1::ClientFrame chat = chat_frame(50, "between");
  const auto gap = ask(owner, chat).seq();
  for (int i = 2; i < 4; ++i) {
    ids.push_back(ask(owner, idea_frame(100 + i, "idea " + std::to_string(i))).seq());
  }
  ASSERT_EQ(ids[2], gap + 1);
  for (const std::uint32_t n : {0U, 4U, 50U}) {
    SCOPED_TRACE(n);
    auto m = connect("m" + std::to_string(n));
    send(m, paged_join_frame(2, n));
    const auto snap = drain(m).snapshots().at(0);
    EXPECT_EQ(ids_of(snap.board().ideas()), ids);
    EXPECT_EQ(snap.ideas_omitted(), 0U);
  }
  const auto newest = ask(owner, ideas_frame(10, 0, 2));
  EXPECT_EQ(ids_of(newest.ideas().ideas()), (Ids{ids[2], ids[3]}));
  EXPECT_TRUE(newest.ideas().has_more());
  const auto none = ask(owner, ideas_frame(11, ids[0], 2));
  ASSERT_FALSE(none.has_error());
  EXPECT_EQ(none.ideas().ideas_size(), 0);
  EXPECT_FALSE(none.ideas().has_more());
  // A before_idea_id that is no idea's id pages from the next idea below it.
  const auto between = ask(owner, ideas_frame(12, gap, 0));
  EXPECT_EQ(ids_of(between.ideas().ideas()), (Ids{ids[0], ids[1]}));
}

// The merge rule a client relies on: an event about an idea it has not loaded yet comes before
// the page that holds that idea, and the page already shows the event's effect.
TEST_F(RoomPagesTest, APageIsAsNewAsTheEventsQueuedBeforeIt) {
  auto owner = connect("owner");
  const auto ids = board_with_ideas(owner, 3);
  auto bob = connect("bob");
  send(bob, paged_join_frame(2, 1));
  ASSERT_EQ(drain(bob).snapshots().at(0).ideas_omitted(), 2U);

  v1::ClientFrame edit;
  edit.set_request_id(20);
  edit.mutable_edit_idea()->set_room_id(kRoom);
  edit.mutable_edit_idea()->set_idea_id(ids[0]);
  edit.mutable_edit_idea()->set_text("edited");
  room()->submit(owner.handle, edit);
  room()->submit(bob.handle, ideas_frame(21, ids[2], 10));
  run();
  const auto got = drain(bob);
  std::size_t event_at = got.frames.size();
  std::size_t page_at = got.frames.size();
  for (std::size_t i = 0; i < got.frames.size(); ++i) {
    if (got.frames[i].has_event_batch() && event_at == got.frames.size()) {
      event_at = i;
    }
    if (got.frames[i].has_reply() && got.frames[i].reply().request_id() == 21) {
      page_at = i;
    }
  }
  ASSERT_LT(event_at, got.frames.size());
  ASSERT_LT(page_at, got.frames.size());
  EXPECT_LT(event_at, page_at);
  const auto page = got.reply_to(21).ideas();
  ASSERT_EQ(ids_of(page.ideas()), (Ids{ids[0], ids[1]}));
  EXPECT_EQ(page.ideas(0).text(), "edited");
  EXPECT_EQ(page.seq(), head());
}

// Invariant 6 on pages: a hidden idea's text reaches only its author.
TEST_F(RoomPagesTest, AHiddenIdeasTextInAPageReachesOnlyItsAuthor) {
  auto owner = connect("owner");
  board_with_ideas(owner, 2, /*anonymous=*/false, /*hide_ideas=*/true);
  auto bob = connect("bob");
  join(bob);
  const auto theirs = ask(bob, ideas_frame(10, 0, 10)).ideas();
  ASSERT_EQ(theirs.ideas_size(), 2);
  EXPECT_TRUE(theirs.ideas(0).hidden());
  EXPECT_EQ(theirs.ideas(0).text(), "");
  EXPECT_EQ(ask(owner, ideas_frame(11, 0, 10)).ideas().ideas(0).text(), "idea 0");
}

// Invariant 6 on pages: in an anonymous room an idea's author reaches only that author.
TEST_F(RoomPagesTest, AnAnonymousIdeasAuthorInAPageReachesOnlyThatAuthor) {
  auto owner = connect("owner");
  board_with_ideas(owner, 2, /*anonymous=*/true, /*hide_ideas=*/false);
  auto bob = connect("bob");
  join(bob);
  const auto theirs = ask(bob, ideas_frame(10, 0, 10)).ideas();
  ASSERT_EQ(theirs.ideas_size(), 2);
  EXPECT_FALSE(theirs.ideas(0).has_author());
  EXPECT_EQ(theirs.ideas(0).text(), "idea 0");
  EXPECT_EQ(ask(owner, ideas_frame(11, 0, 10)).ideas().ideas(0).author().member_id(), "owner");
}

// Invariant 7 on pages: members who ask for the same page at the same head share its bytes (one
// encoding, each reply with its own request id); with a hidden idea each gets their own.
TEST_F(RoomPagesTest, ThePagesMembersShareAreEncodedOnce) {
  auto owner = connect("owner");
  board_with_ideas(owner, 3);
  auto ann = connect("ann");
  auto ben = connect("ben");
  join(ann);
  join(ben);
  drain(ann);
  room()->submit(ann.handle, ideas_frame(7, 0, 2));
  room()->submit(ben.handle, ideas_frame(8, 0, 2));
  run();
  ASSERT_EQ(ann.outbox->queued_items(), 1U);
  ASSERT_EQ(ben.outbox->queued_items(), 1U);
  ASSERT_NE(ann.outbox->queued(0)->proto_tail, nullptr);
  EXPECT_EQ(ann.outbox->queued(0)->proto_tail, ben.outbox->queued(0)->proto_tail);
  EXPECT_EQ(drain(ann).reply_to(7).ideas().ideas_size(), 2);
  EXPECT_EQ(drain(ben).reply_to(8).ideas().ideas_size(), 2);

  // The owner hides a new idea from everyone else: the pages now differ per member.
  v1::ClientFrame hide;
  hide.set_request_id(9);
  hide.mutable_set_hide_ideas()->set_room_id(kRoom);
  hide.mutable_set_hide_ideas()->set_hide_ideas(true);
  ASSERT_FALSE(ask(owner, hide).has_error());
  ASSERT_FALSE(ask(owner, idea_frame(10, "secret")).has_error());
  drain(ann);
  drain(ben);
  room()->submit(ann.handle, ideas_frame(11, 0, 2));
  room()->submit(ben.handle, ideas_frame(12, 0, 2));
  run();
  ASSERT_EQ(ann.outbox->queued_items(), 1U);
  EXPECT_NE(ann.outbox->queued(0)->proto_tail, ben.outbox->queued(0)->proto_tail);
  EXPECT_EQ(drain(ann).reply_to(11).ideas().ideas(1).text(), "");
}

// A shared page lasts while the ideas do: a join moves the head but not the ideas, so the next
// request gets the same page bytes, under a head with the new seq; an edit makes a new page.
TEST_F(RoomPagesTest, ASharedPageOutlivesAJoinButNotAnEdit) {
  auto owner = connect("owner");
  const auto ids = board_with_ideas(owner, 3);
  auto ann = connect("ann");
  join(ann);
  drain(owner);
  send(ann, ideas_frame(7, 0, 2));
  ASSERT_EQ(ann.outbox->queued_items(), 1U);
  const auto first = ann.outbox->queued(0)->proto_tail;
  ASSERT_NE(first, nullptr);
  const auto seq_before = head();
  EXPECT_EQ(drain(ann).reply_to(7).ideas().seq(), seq_before);

  auto ben = connect("ben");
  join(ben);  // Appends MemberJoined: the head moves, the ideas do not.
  ASSERT_GT(head(), seq_before);
  drain(ann);
  send(ben, ideas_frame(8, 0, 2));
  ASSERT_EQ(ben.outbox->queued_items(), 1U);
  EXPECT_EQ(ben.outbox->queued(0)->proto_tail, first);
  const auto page = drain(ben).reply_to(8).ideas();
  EXPECT_EQ(page.seq(), head());  // Each reply's own head: the seq it was read at.
  EXPECT_EQ(ids_of(page.ideas()), (Ids{ids[1], ids[2]}));

  v1::ClientFrame edit;
  edit.set_request_id(9);
  edit.mutable_edit_idea()->set_room_id(kRoom);
  edit.mutable_edit_idea()->set_idea_id(ids[2]);
  edit.mutable_edit_idea()->set_text("edited");
  ASSERT_FALSE(ask(owner, edit).has_error());
  drain(ann);
  send(ann, ideas_frame(10, 0, 2));
  ASSERT_EQ(ann.outbox->queued_items(), 1U);
  EXPECT_NE(ann.outbox->queued(0)->proto_tail, first);
  EXPECT_EQ(drain(ann).reply_to(10).ideas().ideas(1).text(), "edited");
}

// A JSON member gets the same page as a proto member.
TEST_F(RoomPagesTest, AJsonMemberGetsTheSamePage) {
  auto owner = connect("owner");
  board_with_ideas(owner, 3);
  auto web = connect("web", Encoding::kJson);
  join(web);
  const auto json = ask(web, ideas_frame(5, 0, 2));
  const auto proto = ask(owner, ideas_frame(5, 0, 2));
  ASSERT_FALSE(json.has_error());
  EXPECT_EQ(json.SerializeAsString(), proto.SerializeAsString());
}

// Bad requests get their error and change nothing: not joined; a limit past 500.
TEST_F(RoomPagesTest, BadPageRequestsGetTheirErrorAndChangeNothing) {
  auto owner = connect("owner");
  board_with_ideas(owner, 2);
  const auto at = head();
  auto stranger = connect("stranger");
  EXPECT_EQ(ask(stranger, ideas_frame(3, 0, 10)).error().code(), v1::ERROR_CODE_NOT_JOINED);
  EXPECT_EQ(ask(owner, ideas_frame(4, 0, 501)).error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(ask(owner, ideas_frame(5, 0, 500)).ideas().ideas_size(), 2);
  EXPECT_EQ(head(), at);
}

}  // namespace
}  // namespace huddle::room::test
