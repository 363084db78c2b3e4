// Integration: the real Server over loopback, real WebSocket clients.
#include <chrono>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;

// Invariant 1: every member sees every event of the room in order, chained by prev_seq, with no
// gaps and no duplicates.
void expect_chain(const std::vector<v1::Event>& events, const std::string& room) {
  std::uint64_t prev = 0;
  bool first = true;
  std::set<std::uint64_t> seen;
  for (const auto& e : events) {
    if (e.room_id() != room) {
      continue;
    }
    if (!first) {
      ASSERT_EQ(e.prev_seq(), prev) << "gap or reorder before seq " << e.seq();
    }
    ASSERT_TRUE(seen.insert(e.seq()).second) << "duplicate seq " << e.seq();
    ASSERT_GT(e.seq(), e.prev_seq());
    prev = e.seq();
    first = false;
  }
}

TEST(LiveFlow, TwentyPublishersFiftySubscribersAllSeeTheSameTenThousandEventsInOrder) {
  TestServer server;
  constexpr int kPublishers = 20;
  constexpr int kSubscribers = 50;
  constexpr int kMessages = 500;
  {
    TestClient owner(server.port());
    owner.hello("owner");
    ASSERT_FALSE(owner.create_room("big").has_error());
  }
  std::vector<std::unique_ptr<TestClient>> subs;
  std::vector<std::uint64_t> start_seq;
  for (int i = 0; i < kSubscribers; ++i) {
    // Half of the subscribers speak JSON: both encodings must carry the same stream.
    auto enc = i % 2 == 0 ? codec::Encoding::kProto : codec::Encoding::kJson;
    subs.push_back(std::make_unique<TestClient>(server.port(), enc));
    subs.back()->hello("sub" + std::to_string(i), "sub" + std::to_string(i));
    start_seq.push_back(subs.back()->join("big").head_seq());
  }
  std::vector<std::unique_ptr<TestClient>> pubs;
  for (int p = 0; p < kPublishers; ++p) {
    // 200 posts per publisher are in flight at once and replies queue behind the fan-out:
    // under a sanitizer with a parallel test beside it, a reply took over the default 10 s
    // (CI, ASan). ctest's timeout bounds the test; this only keeps a slow run from failing.
    pubs.push_back(std::make_unique<TestClient>(
        TestClient::Options{.port = server.port(), .timeout = std::chrono::seconds(120)}));
    pubs.back()->hello("pub" + std::to_string(p), "pub" + std::to_string(p));
    pubs.back()->join("big");
  }
  std::vector<std::thread> threads;
  std::vector<int> acked(kPublishers, 0);
  for (int p = 0; p < kPublishers; ++p) {
    threads.emplace_back([&, p] {
      // At most kWindow posts in flight per publisher: 20 x 200 stays under the room's bound on
      // appends in flight (8192, then OVERLOADED). With all 10,000 in flight at once, a slow
      // run (ASan) let more than 8192 pile up and got OVERLOADED, which is the bound working.
      constexpr int kWindow = 200;
      std::deque<std::uint64_t> ids;
      auto wait_oldest = [&] {
        auto reply = pubs[p]->wait_reply(ids.front());
        ids.pop_front();
        if (!reply.has_error() && reply.seq() > 0) {
          ++acked[p];
        }
      };
      for (int m = 0; m < kMessages; ++m) {
        if (ids.size() == kWindow) {
          wait_oldest();
        }
        ids.push_back(
            pubs[p]->post_chat_async("big", "p" + std::to_string(p) + "-m" + std::to_string(m),
                                     "op-" + std::to_string(p) + "-" + std::to_string(m)));
      }
      while (!ids.empty()) {
        wait_oldest();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int p = 0; p < kPublishers; ++p) {
    EXPECT_EQ(acked[p], kMessages);
  }
  // Every subscriber: the same 10,000 chat events, in the same order, chained by prev_seq.
  std::vector<std::uint64_t> reference;
  for (int i = 0; i < kSubscribers; ++i) {
    auto& sub = *subs[i];
    // Chats plus the MemberJoined events of the members who joined after this subscriber.
    sub.wait_events(kPublishers * kMessages, std::chrono::seconds(60));
    auto events = sub.events();
    expect_chain(events, "big");
    std::vector<std::uint64_t> chat_seqs;
    std::set<std::string> texts;
    for (const auto& e : events) {
      if (e.has_chat_posted()) {
        chat_seqs.push_back(e.seq());
        texts.insert(e.chat_posted().text());
      }
    }
    // Wait for stragglers (MemberJoined events count too), then compare.
    while (chat_seqs.size() < static_cast<std::size_t>(kPublishers * kMessages)) {
      sub.wait_events(events.size() + 1, std::chrono::seconds(30));
      events = sub.events();
      chat_seqs.clear();
      texts.clear();
      for (const auto& e : events) {
        if (e.has_chat_posted()) {
          chat_seqs.push_back(e.seq());
          texts.insert(e.chat_posted().text());
        }
      }
    }
    EXPECT_EQ(chat_seqs.size(), static_cast<std::size_t>(kPublishers * kMessages));
    EXPECT_EQ(texts.size(), static_cast<std::size_t>(kPublishers * kMessages));
    if (reference.empty()) {
      reference = chat_seqs;
    } else {
      EXPECT_EQ(chat_seqs, reference) << "subscriber " << i << " saw another order";
    }
  }
}

TEST(LiveFlow, RoomsAreIsolated) {
  TestServer server;
  TestClient a(server.port());
  TestClient b(server.port());
  a.hello("a", "a");
  b.hello("b", "b");
  ASSERT_FALSE(a.create_room("room-a").has_error());
  ASSERT_FALSE(a.create_room("room-b").has_error());
  a.join("room-a");
  b.join("room-b");
  ASSERT_FALSE(a.post_chat("room-a", "only for a").has_error());
  ASSERT_FALSE(b.post_chat("room-b", "only for b").has_error());
  // Posting into a room one has not joined is refused and stores nothing.
  auto refused = a.post_chat("room-b", "sneaky");
  ASSERT_TRUE(refused.has_error());
  EXPECT_EQ(refused.error().code(), v1::ERROR_CODE_NOT_JOINED);
  a.wait_events(1);  // a's chat (a created room-a: it is in the roster already)
  b.wait_events(2);  // b's own MemberJoined + chat
  for (const auto& e : a.events()) {
    EXPECT_EQ(e.room_id(), "room-a");
  }
  for (const auto& e : b.events()) {
    EXPECT_EQ(e.room_id(), "room-b");
    EXPECT_NE(e.chat_posted().text(), "sneaky");
  }
}

TEST(LiveFlow, RetriedOpIdReturnsTheOriginalSeqAndAppendsNothing) {
  // Invariant 4, over the wire, across a reconnect.
  TestServer server;
  std::uint64_t first_seq = 0;
  {
    TestClient c(server.port());
    c.hello("ann", "ann");
    ASSERT_FALSE(c.create_room("r").has_error());
    c.join("r");
    auto r = c.post_chat("r", "once", "op-42");
    ASSERT_FALSE(r.has_error());
    first_seq = r.seq();
    EXPECT_FALSE(r.duplicate());
  }
  TestClient again(server.port());
  again.hello("ann", "ann");
  auto join = again.join("r");
  auto r2 = again.post_chat("r", "once", "op-42");
  ASSERT_FALSE(r2.has_error());
  EXPECT_EQ(r2.seq(), first_seq);
  EXPECT_TRUE(r2.duplicate());
  // Nothing new was appended: the head did not move.
  TestClient probe(server.port());
  probe.hello("probe", "probe");
  EXPECT_EQ(probe.join("r").head_seq(), join.head_seq());
}

TEST(LiveFlow, BadInputGetsDocumentedErrorsAndChangesNothing) {
  // Invariant 9.
  TestServer server;
  TestClient c(server.port(), codec::Encoding::kJson);
  v1::ClientFrame early;
  early.mutable_list_rooms();
  EXPECT_EQ(c.request(early).error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  c.hello("ann", "ann");
  ASSERT_FALSE(c.create_room("r").has_error());
  auto head = c.join("r").head_seq();
  c.send_raw("{not json", true);
  c.send_raw(R"({"requestId":"9","postChat":{"roomId":"r","txt":"typo"}})", true);
  EXPECT_EQ(c.post_chat("r", "").error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(c.post_chat("r", std::string(4001, 'x')).error().code(),
            v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::ClientFrame unknown;
  unknown.mutable_join()->set_room_id("no-such-room");
  EXPECT_EQ(c.request(unknown).error().code(), v1::ERROR_CODE_ROOM_NOT_FOUND);
  EXPECT_EQ(c.create_room("r").error().code(), v1::ERROR_CODE_ROOM_EXISTS);
  EXPECT_EQ(c.create_room("Bad Id").error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::ClientFrame empty;
  EXPECT_EQ(c.request(empty).error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(c.anonymous_errors(), 2U);  // The two undecodable frames.
  TestClient probe(server.port());
  probe.hello("probe", "probe");
  // None of the bad commands appended anything (ann created the room: no MemberJoined either).
  EXPECT_EQ(probe.join("r").head_seq(), head);
}

TEST(LiveFlow, RepeatedMalformedFramesCloseWith1007AndTheServerStaysUp) {
  TestServer server;
  TestClient c(server.port());
  for (int i = 0; i < 3; ++i) {
    c.send_raw("\xff\xff\xff", false);
  }
  EXPECT_EQ(c.wait_closed(), 1007);
  TestClient next(server.port());
  EXPECT_FALSE(next.hello("still", "up").member().member_id().empty());
}

TEST(LiveFlow, TextFrameOnTheBinarySubprotocolCloses1003) {
  TestServer server;
  TestClient c(server.port(), codec::Encoding::kProto);
  c.send_raw(R"({"requestId":"1","hello":{"displayName":"x"}})", true);
  EXPECT_EQ(c.wait_closed(), 1003);
}

TEST(LiveFlow, OversizedMessageCloses1009) {
  TestServer server;
  TestClient c(server.port());
  c.hello("big", "big");
  c.send_raw(std::string(64 * 1024 + 1, 'x'), false);
  EXPECT_EQ(c.wait_closed(), 1009);
}

}  // namespace
}  // namespace huddle::testing
