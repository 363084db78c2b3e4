// The EventLog contract, run against every implementation (typed tests): MemoryEventLog and
// RocksDbEventLog in both durability modes must give the same answers.
#include "server/store/event_log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/store/memory_event_log.hpp"
#include "server/store/rocksdb_event_log.hpp"
#include "tests/unit/store/store_testing.hpp"

namespace huddle::store {
namespace {

using namespace store_test;  // NOLINT(google-build-using-namespace): the shared test helpers.

using boost::system::error_code;
using huddle::storage::v1::DedupRecord;
using huddle::storage::v1::RoomMeta;
using huddle::storage::v1::SnapshotRecord;
using huddle::v1::Event;

struct MemoryLog {
  static std::unique_ptr<EventLog> open(const std::filesystem::path& /*dir*/) {
    return std::make_unique<MemoryEventLog>();
  }
  static void fail_next(EventLog& log, int n) {
    dynamic_cast<MemoryEventLog&>(log).fail_next_appends(n);
  }
};

template <Durability kMode>
struct RocksLog {
  static std::unique_ptr<EventLog> open(const std::filesystem::path& dir) {
    auto log = RocksDbEventLog::open(RocksDbOptions{.path = dir.string(), .durability = kMode});
    if (!log) {
      ADD_FAILURE() << "open failed: " << log.error().message();
      return nullptr;
    }
    return std::move(*log);
  }
  static void fail_next(EventLog& log, int n) {
    dynamic_cast<RocksDbEventLog&>(log).fail_next_writes(n);
  }
};

class ImplName {
 public:
  template <class T>
  static std::string GetName(int /*i*/) {  // NOLINT(readability-identifier-naming): gtest API.
    if constexpr (std::is_same_v<T, MemoryLog>) {
      return "Memory";
    } else if constexpr (std::is_same_v<T, RocksLog<Durability::kSync>>) {
      return "RocksDbSync";
    } else {
      return "RocksDbWal";
    }
  }
};

std::string event_bytes(const std::string& room, std::uint64_t seq, std::uint64_t prev) {
  Event e;
  e.set_room_id(room);
  e.set_seq(seq);
  e.set_prev_seq(prev);
  e.set_time_unix_ms(1'700'000'000'000 + static_cast<std::int64_t>(seq));
  e.mutable_actor()->set_member_id("m1");
  e.mutable_chat_posted()->set_text("text " + std::to_string(seq));
  return e.SerializeAsString();
}

AppendRecord rec(const std::string& room, std::uint64_t seq, std::uint64_t prev) {
  return AppendRecord{.room = RoomId(room),
                      .seq = Seq(seq),
                      .prev_seq = Seq(prev),
                      .event_bytes = event_bytes(room, seq, prev),
                      .dedup = std::nullopt,
                      .create_room = std::nullopt};
}

AppendRecord with_dedup(AppendRecord r, const std::string& op) {
  DedupRecord d;
  d.set_member_id("m1");
  d.set_op_id(op);
  r.dedup = d;
  return r;
}

AppendRecord create(const std::string& room, std::uint64_t seq = 1) {
  AppendRecord r = rec(room, seq, 0);
  RoomMeta meta;
  meta.mutable_info()->set_room_id(room);
  meta.mutable_info()->set_title("Title of " + room);
  r.create_room = meta;
  return r;
}

std::vector<AppendRecord> one(AppendRecord r) {
  std::vector<AppendRecord> v;
  v.push_back(std::move(r));
  return v;
}

std::vector<std::uint64_t> seqs_of(const std::vector<Event>& events) {
  std::vector<std::uint64_t> seqs;
  for (const Event& e : events) {
    seqs.push_back(e.seq());
  }
  return seqs;
}

// Each event's prev_seq is the previous event's seq (the first's is 0).
void expect_gap_free_chain(const std::vector<Event>& events) {
  std::uint64_t prev = 0;
  for (const Event& e : events) {
    EXPECT_EQ(e.prev_seq(), prev) << "room " << e.room_id() << " seq " << e.seq();
    prev = e.seq();
  }
}

// Waits until `count` callbacks have run.
class Latch {
 public:
  void count_down() {
    std::lock_guard lock(mu_);
    ++done_;
    cv_.notify_all();
  }
  bool wait_for(int count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return done_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;  // Guarded by mu_.
};

template <class Impl>
class EventLogContract : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = Impl::open(dir_.path());
    ASSERT_NE(log_, nullptr);
  }

  // Creates `room` with events 1..n (seq = i, dense).
  void make_room(const std::string& room, std::uint64_t n) {
    ASSERT_FALSE(append_wait(*log_, one(create(room))));
    for (std::uint64_t s = 2; s <= n; ++s) {
      ASSERT_FALSE(append_wait(*log_, one(rec(room, s, s - 1))));
    }
  }

  TempDir dir_;
  std::unique_ptr<EventLog> log_;
};

using Implementations =
    ::testing::Types<MemoryLog, RocksLog<Durability::kSync>, RocksLog<Durability::kWal>>;
TYPED_TEST_SUITE(EventLogContract, Implementations, ImplName);

TYPED_TEST(EventLogContract, AppendedEventsReadBackInSeqOrder) {
  EventLog& log = *this->log_;
  // Seqs may be sparse; the chain is what links them.
  ASSERT_FALSE(append_wait(log, one(create("r"))));
  ASSERT_FALSE(append_wait(log, one(rec("r", 2, 1))));
  ASSERT_FALSE(append_wait(log, one(rec("r", 5, 2))));
  ASSERT_FALSE(append_wait(log, one(rec("r", 9, 5))));
  ASSERT_FALSE(append_wait(log, one(rec("r", 300, 9))));

  auto head = log.head(RoomId("r"));
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(*head, Seq(300));

  auto all = log.read_after(RoomId("r"), Seq(0), 100);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(seqs_of(*all), (std::vector<std::uint64_t>{1, 2, 5, 9, 300}));
  expect_gap_free_chain(*all);
  EXPECT_EQ((*all)[2].chat_posted().text(), "text 5");
  EXPECT_EQ((*all)[2].room_id(), "r");

  EXPECT_EQ(seqs_of(*log.read_after(RoomId("r"), Seq(2), 2)), (std::vector<std::uint64_t>{5, 9}));
  EXPECT_EQ(seqs_of(*log.read_after(RoomId("r"), Seq(3), 1)), (std::vector<std::uint64_t>{5}));
  EXPECT_TRUE(log.read_after(RoomId("r"), Seq(300), 10)->empty());
  EXPECT_TRUE(log.read_after(RoomId("r"), Seq(UINT64_MAX), 10)->empty());
  EXPECT_TRUE(log.read_after(RoomId("r"), Seq(0), 0)->empty());

  EXPECT_EQ(seqs_of(*log.read_before(RoomId("r"), Seq(9), 2)), (std::vector<std::uint64_t>{2, 5}));
  EXPECT_EQ(seqs_of(*log.read_before(RoomId("r"), Seq(8), 10)),
            (std::vector<std::uint64_t>{1, 2, 5}));
  EXPECT_EQ(seqs_of(*log.read_before(RoomId("r"), Seq(UINT64_MAX), 1)),
            (std::vector<std::uint64_t>{300}));
  EXPECT_TRUE(log.read_before(RoomId("r"), Seq(1), 10)->empty());
  EXPECT_TRUE(log.read_before(RoomId("r"), Seq(0), 10)->empty());
}

TYPED_TEST(EventLogContract, RoomsWhoseIdsArePrefixesOfEachOtherStaySeparate) {
  EventLog& log = *this->log_;
  this->make_room("ab", 3);
  this->make_room("abc", 5);
  this->make_room("a", 2);
  EXPECT_EQ(*log.head(RoomId("ab")), Seq(3));
  EXPECT_EQ(*log.head(RoomId("abc")), Seq(5));
  EXPECT_EQ(*log.head(RoomId("a")), Seq(2));
  EXPECT_EQ(log.read_after(RoomId("ab"), Seq(0), 100)->size(), 3U);
  EXPECT_EQ(log.read_before(RoomId("ab"), Seq(UINT64_MAX), 100)->size(), 3U);
  EXPECT_EQ(log.read_after(RoomId("a"), Seq(0), 100)->size(), 2U);
  EXPECT_EQ(log.load_room(RoomId("ab"), LoadOptions{})->tail.size(), 3U);
}

TYPED_TEST(EventLogContract, CreatingAnExistingRoomFailsWithRoomExists) {
  EventLog& log = *this->log_;
  ASSERT_FALSE(append_wait(log, one(create("r"))));
  EXPECT_EQ(append_wait(log, one(create("r"))), Errc::kRoomExists);
  EXPECT_EQ(append_wait(log, one(create("r", 2))), Errc::kRoomExists);
  EXPECT_EQ(*log.head(RoomId("r")), Seq(1));
  EXPECT_EQ(log.read_after(RoomId("r"), Seq(0), 10)->size(), 1U);
}

TYPED_TEST(EventLogContract, UnknownRoomsAreNotFound) {
  EventLog& log = *this->log_;
  EXPECT_EQ(append_wait(log, one(rec("nope", 2, 1))), Errc::kRoomNotFound);
  EXPECT_EQ(append_wait(log, one(rec("nope", 1, 0))), Errc::kRoomNotFound);
  EXPECT_EQ(log.head(RoomId("nope")).error(), Errc::kRoomNotFound);
  EXPECT_EQ(log.read_after(RoomId("nope"), Seq(0), 10).error(), Errc::kRoomNotFound);
  EXPECT_EQ(log.read_before(RoomId("nope"), Seq(10), 10).error(), Errc::kRoomNotFound);
  EXPECT_EQ(log.load_room(RoomId("nope"), LoadOptions{}).error(), Errc::kRoomNotFound);
  EXPECT_TRUE(log.list_rooms()->empty());
}

TYPED_TEST(EventLogContract, WrongPrevSeqFailsWithConflictAndWritesNothing) {
  EventLog& log = *this->log_;
  this->make_room("r", 3);
  EXPECT_EQ(append_wait(log, one(with_dedup(rec("r", 4, 2), "op-a"))), Errc::kConflict);
  EXPECT_EQ(append_wait(log, one(with_dedup(rec("r", 5, 4), "op-b"))), Errc::kConflict);
  EXPECT_EQ(*log.head(RoomId("r")), Seq(3));
  EXPECT_EQ(seqs_of(*log.read_after(RoomId("r"), Seq(0), 10)),
            (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_TRUE(log.load_room(RoomId("r"), LoadOptions{})->dedup.empty());
  // The right prev_seq still works afterwards.
  EXPECT_FALSE(append_wait(log, one(rec("r", 4, 3))));
  EXPECT_EQ(*log.head(RoomId("r")), Seq(4));
}

TYPED_TEST(EventLogContract, AMultiRecordRequestIsAllOrNothing) {
  EventLog& log = *this->log_;
  this->make_room("r", 3);
  this->make_room("s", 1);

  std::vector<AppendRecord> broken;
  broken.push_back(with_dedup(rec("r", 4, 3), "op-4"));
  broken.push_back(with_dedup(rec("r", 6, 5), "op-6"));  // Does not chain to 4.
  EXPECT_EQ(append_wait(log, std::move(broken)), Errc::kConflict);

  std::vector<AppendRecord> two_rooms;
  two_rooms.push_back(rec("s", 2, 1));
  two_rooms.push_back(rec("missing", 2, 1));
  EXPECT_EQ(append_wait(log, std::move(two_rooms)), Errc::kRoomNotFound);

  EXPECT_EQ(*log.head(RoomId("r")), Seq(3));
  EXPECT_EQ(*log.head(RoomId("s")), Seq(1));
  EXPECT_EQ(log.read_after(RoomId("r"), Seq(0), 10)->size(), 3U);
  EXPECT_TRUE(log.load_room(RoomId("r"), LoadOptions{})->dedup.empty());

  std::vector<AppendRecord> chained;
  chained.push_back(with_dedup(rec("r", 4, 3), "op-4"));
  chained.push_back(with_dedup(rec("r", 5, 4), "op-5"));
  chained.push_back(create("t"));
  ASSERT_FALSE(append_wait(log, std::move(chained)));
  EXPECT_EQ(*log.head(RoomId("r")), Seq(5));
  EXPECT_EQ(*log.head(RoomId("t")), Seq(1));
  EXPECT_EQ(log.load_room(RoomId("r"), LoadOptions{})->dedup.size(), 2U);
}

TYPED_TEST(EventLogContract, BadRecordsFailWithInvalidArgumentAndWriteNothing) {
  EventLog& log = *this->log_;
  this->make_room("r", 3);

  EXPECT_EQ(append_wait(log, {}), Errc::kInvalidArgument);
  AppendRecord not_after_prev = rec("r", 3, 3);
  EXPECT_EQ(append_wait(log, one(not_after_prev)), Errc::kInvalidArgument);
  EXPECT_EQ(append_wait(log, one(rec("Bad Room", 4, 3))), Errc::kInvalidArgument);
  AppendRecord garbage = rec("r", 4, 3);
  garbage.event_bytes = "\xff\xff\xff";
  EXPECT_EQ(append_wait(log, one(garbage)), Errc::kInvalidArgument);
  AppendRecord mismatched = rec("r", 4, 3);
  mismatched.event_bytes = event_bytes("r", 5, 3);
  EXPECT_EQ(append_wait(log, one(mismatched)), Errc::kInvalidArgument);
  AppendRecord other_room_meta = create("u");
  other_room_meta.create_room->mutable_info()->set_room_id("v");
  EXPECT_EQ(append_wait(log, one(other_room_meta)), Errc::kInvalidArgument);
  // One bad record spoils its whole request.
  std::vector<AppendRecord> mixed;
  mixed.push_back(rec("r", 4, 3));
  mixed.push_back(garbage);
  EXPECT_EQ(append_wait(log, std::move(mixed)), Errc::kInvalidArgument);

  EXPECT_EQ(*log.head(RoomId("r")), Seq(3));
  EXPECT_EQ(log.head(RoomId("u")).error(), Errc::kRoomNotFound);
  EXPECT_EQ(log.head(RoomId("Bad Room")).error(), Errc::kInvalidArgument);
  EXPECT_EQ(log.list_rooms()->size(), 1U);
}

TYPED_TEST(EventLogContract, RequestsInFlightTogetherSucceedOrFailIndependently) {
  EventLog& log = *this->log_;
  this->make_room("r", 3);
  // Issued back to back without waiting: on RocksDB they may share a commit group.
  constexpr int kRequests = 5;
  std::vector<std::promise<error_code>> done(kRequests);
  std::vector<std::vector<AppendRecord>> requests;
  requests.push_back(one(rec("r", 4, 3)));      // ok
  requests.push_back(one(rec("r", 4, 3)));      // conflict: sees the head 4 staged by the first
  requests.push_back(one(rec("r", 5, 4)));      // ok: chains to the first
  requests.push_back(one(rec("zz", 2, 1)));     // unknown room
  requests.push_back(one(create("new-room")));  // ok
  for (int i = 0; i < kRequests; ++i) {
    log.append(std::move(requests[i]), [&done, i](error_code ec) { done[i].set_value(ec); });
  }
  std::vector<error_code> results;
  for (auto& d : done) {
    auto f = d.get_future();
    ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
    results.push_back(f.get());
  }
  EXPECT_FALSE(results[0]);
  EXPECT_EQ(results[1], Errc::kConflict);
  EXPECT_FALSE(results[2]);
  EXPECT_EQ(results[3], Errc::kRoomNotFound);
  EXPECT_FALSE(results[4]);
  EXPECT_EQ(*log.head(RoomId("r")), Seq(5));
  EXPECT_EQ(*log.head(RoomId("new-room")), Seq(1));
  expect_gap_free_chain(*log.read_after(RoomId("r"), Seq(0), 100));
}

TYPED_TEST(EventLogContract, ConcurrentAppendsToManyRoomsKeepEveryChainGapFree) {
  EventLog& log = *this->log_;
  constexpr int kThreads = 6;
  constexpr int kRoomsPerThread = 4;
  constexpr int kEventsPerRoom = 60;
  constexpr int kTotal = kThreads * kRoomsPerThread * kEventsPerRoom;
  // One counter per request: every callback must run exactly once.
  std::vector<std::atomic<int>> calls(kTotal);
  std::atomic<int> failures{0};
  Latch latch;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread is the single writer of its rooms and pipelines its appends (no waiting):
      // FIFO order per caller keeps each chain valid.
      std::vector<std::uint64_t> heads(kRoomsPerThread, 0);
      for (int e = 0; e < kEventsPerRoom; ++e) {
        for (int r = 0; r < kRoomsPerThread; ++r) {
          const std::string room = "t" + std::to_string(t) + "-r" + std::to_string(r);
          const std::uint64_t prev = heads[r];
          const std::uint64_t seq = prev + 1 + static_cast<std::uint64_t>(e % 3);  // Sparse.
          AppendRecord record = e == 0 ? create(room, seq) : rec(room, seq, prev);
          record = with_dedup(std::move(record), "op-" + std::to_string(seq));
          heads[r] = seq;
          const int id = (t * kRoomsPerThread + r) * kEventsPerRoom + e;
          log.append(one(std::move(record)), [&, id](error_code ec) {
            if (ec) {
              failures.fetch_add(1);
            }
            calls[id].fetch_add(1);
            latch.count_down();
          });
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  ASSERT_TRUE(latch.wait_for(kTotal));
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kTotal; ++i) {
    ASSERT_EQ(calls[i].load(), 1) << "request " << i;
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int r = 0; r < kRoomsPerThread; ++r) {
      const RoomId room("t" + std::to_string(t) + "-r" + std::to_string(r));
      auto events = log.read_after(room, Seq(0), 1000);
      ASSERT_TRUE(events.has_value());
      ASSERT_EQ(events->size(), static_cast<std::size_t>(kEventsPerRoom));
      expect_gap_free_chain(*events);
      EXPECT_EQ(*log.head(room), Seq(events->back().seq()));
      EXPECT_EQ(log.load_room(room, LoadOptions{})->dedup.size(),
                static_cast<std::size_t>(kEventsPerRoom));
    }
  }
  EXPECT_EQ(log.list_rooms()->size(), static_cast<std::size_t>(kThreads * kRoomsPerThread));
}

TYPED_TEST(EventLogContract, RacingWritersOnOneRoomNeverForkTheChain) {
  EventLog& log = *this->log_;
  ASSERT_FALSE(append_wait(log, one(create("race"))));
  constexpr int kThreads = 4;
  constexpr int kAttempts = 40;
  std::atomic<int> successes{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttempts; ++i) {
        auto head = log.head(RoomId("race"));
        if (!head) {
          unexpected.fetch_add(1);
          continue;
        }
        const error_code ec = append_wait(log, one(rec("race", head->value() + 1, head->value())));
        if (!ec) {
          successes.fetch_add(1);
        } else if (ec != Errc::kConflict) {
          unexpected.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GE(successes.load(), kAttempts);  // Somebody wins every round.
  EXPECT_EQ(*log.head(RoomId("race")), Seq(1 + static_cast<std::uint64_t>(successes.load())));
  auto events = log.read_after(RoomId("race"), Seq(0), 10'000);
  ASSERT_TRUE(events.has_value());
  EXPECT_EQ(events->size(), 1 + static_cast<std::size_t>(successes.load()));
  expect_gap_free_chain(*events);
}

TYPED_TEST(EventLogContract, CallbacksMayAppendAgain) {
  EventLog& log = *this->log_;
  ASSERT_FALSE(append_wait(log, one(create("r"))));
  std::promise<error_code> second;
  log.append(one(rec("r", 2, 1)), [&](error_code ec) {
    ASSERT_FALSE(ec);
    // From inside the callback (the writer thread, or inline): must not deadlock.
    log.append(one(rec("r", 3, 2)), [&](error_code ec2) { second.set_value(ec2); });
  });
  auto f = second.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(f.get());
  EXPECT_EQ(*log.head(RoomId("r")), Seq(3));
}

TYPED_TEST(EventLogContract, LoadRoomReturnsSnapshotReplayTailAndDedup) {
  EventLog& log = *this->log_;
  ASSERT_FALSE(append_wait(log, one(with_dedup(create("r"), "op-1"))));
  for (std::uint64_t s = 2; s <= 20; ++s) {
    AppendRecord r = rec("r", s, s - 1);
    ASSERT_FALSE(append_wait(log, one(s % 2 == 0 ? with_dedup(r, "op-" + std::to_string(s)) : r)));
  }

  auto before = log.load_room(RoomId("r"), LoadOptions{.tail_events = 5, .dedup_window = 3});
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(before->snapshot.has_value());
  EXPECT_EQ(before->replay.size(), 20U);  // No snapshot: everything is replayed.
  expect_gap_free_chain(before->replay);

  SnapshotRecord snap;
  snap.set_seq(12);
  snap.mutable_board()->set_seq(12);
  snap.mutable_board()->set_chat_message_count(11);
  snap.mutable_board()->mutable_room()->set_room_id("r");
  log.put_snapshot(RoomId("r"), snap);
  // The snapshot is queued before this append, so it is stored once the append is acked.
  ASSERT_FALSE(append_wait(log, one(rec("r", 21, 20))));

  auto load = log.load_room(RoomId("r"), LoadOptions{.tail_events = 5, .dedup_window = 3});
  ASSERT_TRUE(load.has_value());
  EXPECT_EQ(load->meta.info().room_id(), "r");
  EXPECT_EQ(load->meta.info().title(), "Title of r");
  ASSERT_TRUE(load->snapshot.has_value());
  EXPECT_EQ(load->snapshot->seq(), 12U);
  EXPECT_EQ(load->snapshot->board().chat_message_count(), 11U);
  EXPECT_EQ(seqs_of(load->replay),
            (std::vector<std::uint64_t>{13, 14, 15, 16, 17, 18, 19, 20, 21}));
  EXPECT_EQ(load->replay.front().prev_seq(), 12U);
  EXPECT_EQ(seqs_of(load->tail), (std::vector<std::uint64_t>{17, 18, 19, 20, 21}));
  ASSERT_EQ(load->dedup.size(), 3U);
  EXPECT_EQ(load->dedup[0].seq, Seq(16));
  EXPECT_EQ(load->dedup[0].op.op_id(), "op-16");
  EXPECT_EQ(load->dedup[2].seq, Seq(20));
  EXPECT_EQ(load->dedup[2].op.op_id(), "op-20");
  EXPECT_EQ(load->dedup[2].op.member_id(), "m1");
  EXPECT_EQ(load->head, Seq(21));

  // Windows larger than the room return everything.
  auto all = log.load_room(RoomId("r"), LoadOptions{.tail_events = 100, .dedup_window = 100});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->tail.size(), 21U);
  EXPECT_EQ(all->dedup.size(), 11U);
  EXPECT_EQ(all->dedup.front().seq, Seq(1));
}

// Read cursors: one per (room, member), the last one written wins, rooms stay apart (room ids
// that are prefixes of each other included), and a room load returns them.
TYPED_TEST(EventLogContract, CursorsAreStoredPerRoomAndMemberAndLoadedWithTheRoom) {
  EventLog& log = *this->log_;
  this->make_room("r", 10);
  this->make_room("r2", 3);
  log.put_cursor(RoomId("r"), "alice", Seq(4));
  log.put_cursor(RoomId("r"), "bob", Seq(9));
  log.put_cursor(RoomId("r"), "alice", Seq(7));
  log.put_cursor(RoomId("r2"), "alice", Seq(2));
  ASSERT_FALSE(append_wait(log, one(rec("r", 11, 10))));  // Orders after the cursors.
  auto load = log.load_room(RoomId("r"), LoadOptions{});
  ASSERT_TRUE(load.has_value());
  ASSERT_EQ(load->cursors.size(), 2U);
  EXPECT_EQ(load->cursors[0].member_id, "alice");
  EXPECT_EQ(load->cursors[0].seq, Seq(7));
  EXPECT_EQ(load->cursors[1].member_id, "bob");
  EXPECT_EQ(load->cursors[1].seq, Seq(9));
  auto other = log.load_room(RoomId("r2"), LoadOptions{});
  ASSERT_TRUE(other.has_value());
  ASSERT_EQ(other->cursors.size(), 1U);
  EXPECT_EQ(other->cursors[0].seq, Seq(2));
}

// delete_room (the admin API): everything of the room goes, atomically, and nothing of its
// neighbours (ids that are prefixes of it included); the id can be created again from seq 1.
TYPED_TEST(EventLogContract, DeleteRoomRemovesItsEventsDedupSnapshotAndCursorsOnly) {
  EventLog& log = *this->log_;
  this->make_room("ab", 3);
  ASSERT_FALSE(append_wait(log, one(with_dedup(create("abc"), "op-1"))));
  for (std::uint64_t s = 2; s <= 6; ++s) {
    ASSERT_FALSE(
        append_wait(log, one(with_dedup(rec("abc", s, s - 1), "op-" + std::to_string(s)))));
  }
  this->make_room("abcd", 2);
  SnapshotRecord snap;
  snap.set_seq(4);
  snap.mutable_board()->set_seq(4);
  log.put_snapshot(RoomId("abc"), snap);
  log.put_cursor(RoomId("abc"), "alice", Seq(5));
  log.put_cursor(RoomId("ab"), "alice", Seq(2));

  auto done = std::make_shared<std::promise<error_code>>();
  log.delete_room(RoomId("abc"), [done](error_code ec) { done->set_value(ec); });
  ASSERT_EQ(done->get_future().wait_for(kDeadline), std::future_status::ready);

  EXPECT_EQ(log.head(RoomId("abc")).error(), Errc::kRoomNotFound);
  EXPECT_EQ(log.load_room(RoomId("abc"), LoadOptions{}).error(), Errc::kRoomNotFound);
  const auto after = log.read_after(RoomId("abc"), Seq(0), 100);
  EXPECT_TRUE(!after.has_value() || after->empty());
  std::vector<std::string> ids;
  const auto rooms = log.list_rooms();
  ASSERT_TRUE(rooms.has_value());
  for (const auto& info : *rooms) {
    ids.push_back(info.room_id());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"ab", "abcd"}));
  EXPECT_EQ(*log.head(RoomId("ab")), Seq(3));
  EXPECT_EQ(*log.head(RoomId("abcd")), Seq(2));
  EXPECT_EQ(log.load_room(RoomId("ab"), LoadOptions{})->cursors.size(), 1U);

  // Appending to it now fails; a delete of a missing room too.
  EXPECT_EQ(append_wait(log, one(rec("abc", 7, 6))), Errc::kRoomNotFound);
  auto again = std::make_shared<std::promise<error_code>>();
  log.delete_room(RoomId("abc"), [again](error_code ec) { again->set_value(ec); });
  EXPECT_EQ(again->get_future().get(), Errc::kRoomNotFound);

  // Created again: a new room, with no old events, dedup entries, snapshot or cursors.
  ASSERT_FALSE(append_wait(log, one(create("abc"))));
  auto load = log.load_room(RoomId("abc"), LoadOptions{});
  ASSERT_TRUE(load.has_value());
  EXPECT_EQ(load->head, Seq(1));
  EXPECT_EQ(seqs_of(load->replay), (std::vector<std::uint64_t>{1}));
  EXPECT_FALSE(load->snapshot.has_value());
  EXPECT_TRUE(load->dedup.empty());
  EXPECT_TRUE(load->cursors.empty());
}

TYPED_TEST(EventLogContract, StaleFutureAndUnknownRoomSnapshotsAreDropped) {
  EventLog& log = *this->log_;
  this->make_room("r", 10);
  SnapshotRecord snap;
  snap.set_seq(6);
  log.put_snapshot(RoomId("r"), snap);
  snap.set_seq(4);  // Older than the stored one.
  log.put_snapshot(RoomId("r"), snap);
  snap.set_seq(11);  // Not in the log.
  log.put_snapshot(RoomId("r"), snap);
  snap.set_seq(1);
  log.put_snapshot(RoomId("ghost"), snap);
  ASSERT_FALSE(append_wait(log, one(rec("r", 11, 10))));  // Orders after the snapshots.

  auto load = log.load_room(RoomId("r"), LoadOptions{});
  ASSERT_TRUE(load.has_value());
  ASSERT_TRUE(load->snapshot.has_value());
  EXPECT_EQ(load->snapshot->seq(), 6U);
  EXPECT_EQ(seqs_of(load->replay), (std::vector<std::uint64_t>{7, 8, 9, 10, 11}));
  EXPECT_EQ(log.head(RoomId("ghost")).error(), Errc::kRoomNotFound);
}

TYPED_TEST(EventLogContract, DedupEntriesOlderThanTheRetainedWindowArePruned) {
  EventLog& log = *this->log_;
  constexpr std::uint64_t kLast = 6000;
  constexpr std::uint64_t kPerRequest = 200;
  std::uint64_t head = 0;
  while (head < kLast) {
    std::vector<AppendRecord> batch;
    for (std::uint64_t i = 0; i < kPerRequest && head < kLast; ++i, ++head) {
      AppendRecord r = head == 0 ? create("r") : rec("r", head + 1, head);
      batch.push_back(with_dedup(std::move(r), "op-" + std::to_string(head + 1)));
    }
    ASSERT_FALSE(append_wait(log, std::move(batch)));
  }
  auto load = log.load_room(RoomId("r"), LoadOptions{.tail_events = 1, .dedup_window = 100'000});
  ASSERT_TRUE(load.has_value());
  // The last prune ran when the head crossed 5 * 1024 = 5120: entries below 5120 - 4096 = 1024
  // are gone, every later one is kept.
  ASSERT_FALSE(load->dedup.empty());
  EXPECT_EQ(load->dedup.front().seq, Seq(1024));
  EXPECT_EQ(load->dedup.back().seq, Seq(kLast));
  EXPECT_EQ(load->dedup.size(), kLast - 1024 + 1);
  // Events themselves are never pruned.
  EXPECT_EQ(load->replay.size(), kLast);
}

TYPED_TEST(EventLogContract, ListRoomsReturnsEveryCreatedRoomInIdOrder) {
  EventLog& log = *this->log_;
  this->make_room("beta", 1);
  this->make_room("alpha", 2);
  this->make_room("alpha-2", 1);
  auto rooms = log.list_rooms();
  ASSERT_TRUE(rooms.has_value());
  ASSERT_EQ(rooms->size(), 3U);
  EXPECT_EQ((*rooms)[0].room_id(), "alpha");
  EXPECT_EQ((*rooms)[0].title(), "Title of alpha");
  EXPECT_EQ((*rooms)[1].room_id(), "alpha-2");
  EXPECT_EQ((*rooms)[2].room_id(), "beta");
}

TYPED_TEST(EventLogContract, AFailedWriteFailsTheAppendAndWritesNothing) {
  EventLog& log = *this->log_;
  this->make_room("r", 2);
  TypeParam::fail_next(log, 1);
  EXPECT_EQ(append_wait(log, one(with_dedup(rec("r", 3, 2), "op-3"))), Errc::kStorageUnavailable);
  EXPECT_EQ(*log.head(RoomId("r")), Seq(2));
  EXPECT_TRUE(log.load_room(RoomId("r"), LoadOptions{})->dedup.empty());
  // Nothing was staged: the same append succeeds on retry.
  EXPECT_FALSE(append_wait(log, one(with_dedup(rec("r", 3, 2), "op-3"))));
  EXPECT_EQ(*log.head(RoomId("r")), Seq(3));
}

TYPED_TEST(EventLogContract, EpochIsNonzero) {
  EXPECT_NE(this->log_->epoch(), Epoch(0));
}

}  // namespace
}  // namespace huddle::store
