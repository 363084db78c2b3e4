// RocksDbEventLog specifics: persistence, epochs, opening, group commit. The behavior shared with
// MemoryEventLog is tested once for both in event_log_test.cpp.
#include "server/store/rocksdb_event_log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/store/store_testing.hpp"

namespace huddle::store {
namespace {

using namespace store_test;  // NOLINT(google-build-using-namespace): the shared test helpers.

using boost::system::error_code;
using huddle::storage::v1::DedupRecord;
using huddle::storage::v1::RoomMeta;
using huddle::storage::v1::SnapshotRecord;
using huddle::v1::Event;

AppendRecord rec(const std::string& room, std::uint64_t seq, std::uint64_t prev,
                 const std::string& op = "") {
  Event e;
  e.set_room_id(room);
  e.set_seq(seq);
  e.set_prev_seq(prev);
  e.mutable_chat_posted()->set_text("text " + std::to_string(seq));
  AppendRecord r{.room = RoomId(room),
                 .seq = Seq(seq),
                 .prev_seq = Seq(prev),
                 .event_bytes = e.SerializeAsString(),
                 .dedup = std::nullopt,
                 .create_room = std::nullopt};
  if (!op.empty()) {
    DedupRecord d;
    d.set_member_id("m1");
    d.set_op_id(op);
    r.dedup = d;
  }
  if (prev == 0) {
    RoomMeta meta;
    meta.mutable_info()->set_room_id(room);
    meta.mutable_info()->set_title("Title of " + room);
    r.create_room = meta;
  }
  return r;
}

std::vector<AppendRecord> one(AppendRecord r) {
  std::vector<AppendRecord> v;
  v.push_back(std::move(r));
  return v;
}

// Holds the writer thread inside a callback, so that everything appended meanwhile is queued
// and committed afterwards as one group.
class WriterGate {
 public:
  void block(EventLog& log, const std::string& room, std::uint64_t seq, std::uint64_t prev) {
    log.append(one(rec(room, seq, prev)), [this](error_code ec) {
      EXPECT_FALSE(ec);
      entered_.set_value();
      release_future_.wait();
    });
    ASSERT_EQ(entered_.get_future().wait_for(kDeadline), std::future_status::ready);
  }
  void release() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  std::shared_future<void> release_future_ = release_.get_future().share();
};

class RocksDbEventLogDurability : public ::testing::TestWithParam<Durability> {
 protected:
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(BothModes, RocksDbEventLogDurability,
                         ::testing::Values(Durability::kSync, Durability::kWal),
                         [](const ::testing::TestParamInfo<Durability>& param_info) {
                           return param_info.param == Durability::kSync ? "Sync" : "Wal";
                         });

TEST_P(RocksDbEventLogDurability, ReopeningKeepsEventsHeadsEpochRoomsSnapshotsAndDedup) {
  const RocksDbOptions options{.path = dir_.str(), .durability = GetParam()};
  Epoch epoch;
  {
    auto log = open_or_fail(options);
    ASSERT_NE(log, nullptr);
    epoch = log->epoch();
    for (std::uint64_t s = 1; s <= 10; ++s) {
      ASSERT_FALSE(append_wait(*log, one(rec("r", s, s - 1, "op-" + std::to_string(s)))));
    }
    ASSERT_FALSE(append_wait(*log, one(rec("other", 7, 0))));
    SnapshotRecord snap;
    snap.set_seq(8);
    snap.mutable_board()->set_chat_message_count(8);
    log->put_snapshot(RoomId("r"), snap);
    // Not waited for: the destructor must drain the queue (snapshot and this append) first.
    log->append(one(rec("r", 11, 10, "op-11")), [](error_code ec) { EXPECT_FALSE(ec); });
  }
  auto log = open_or_fail(options);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->epoch(), epoch);
  EXPECT_EQ(*log->head(RoomId("r")), Seq(11));
  EXPECT_EQ(*log->head(RoomId("other")), Seq(7));
  ASSERT_EQ(log->list_rooms()->size(), 2U);
  auto load = log->load_room(RoomId("r"), LoadOptions{.tail_events = 4, .dedup_window = 2});
  ASSERT_TRUE(load.has_value());
  EXPECT_EQ(load->meta.info().title(), "Title of r");
  ASSERT_TRUE(load->snapshot.has_value());
  EXPECT_EQ(load->snapshot->seq(), 8U);
  EXPECT_EQ(load->snapshot->board().chat_message_count(), 8U);
  ASSERT_EQ(load->replay.size(), 3U);
  EXPECT_EQ(load->replay.front().seq(), 9U);
  ASSERT_EQ(load->tail.size(), 4U);
  EXPECT_EQ(load->tail.front().seq(), 8U);
  ASSERT_EQ(load->dedup.size(), 2U);
  EXPECT_EQ(load->dedup[0].op.op_id(), "op-10");
  EXPECT_EQ(load->dedup[1].op.op_id(), "op-11");
  // The head map is rebuilt from disk: the chain continues, and conflicts are still caught.
  EXPECT_EQ(append_wait(*log, one(rec("r", 12, 10))), Errc::kConflict);
  EXPECT_EQ(append_wait(*log, one(rec("r", 1, 0))), Errc::kRoomExists);
  EXPECT_FALSE(append_wait(*log, one(rec("r", 12, 11))));
}

TEST_P(RocksDbEventLogDurability, AOneRecordGroupLimitStillCommitsEveryAppend) {
  auto log = open_or_fail(
      RocksDbOptions{.path = dir_.str(), .durability = GetParam(), .max_group_records = 1});
  ASSERT_NE(log, nullptr);
  std::vector<std::promise<error_code>> done(50);
  for (std::uint64_t s = 1; s <= done.size(); ++s) {
    log->append(one(rec("r", s, s - 1)), [&done, s](error_code ec) { done[s - 1].set_value(ec); });
  }
  for (auto& d : done) {
    auto f = d.get_future();
    ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
    EXPECT_FALSE(f.get());
  }
  EXPECT_EQ(*log->head(RoomId("r")), Seq(50));
}

// Invariant 8: the queue in front of the disk is bounded; past it an append fails at once with
// a retryable error and writes nothing.
TEST(RocksDbEventLog, AFullWriterQueueFailsAppendsWithOverloadedAndWritesNothing) {
  TempDir dir;
  auto log = open_or_fail(RocksDbOptions{.path = dir.str(), .max_queued_requests = 0});
  ASSERT_NE(log, nullptr);
  std::promise<error_code> done;
  log->append(one(rec("r", 1, 0)), [&done](error_code ec) { done.set_value(ec); });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(f.get(), Errc::kOverloaded);
  EXPECT_EQ(log->head(RoomId("r")).error(), Errc::kRoomNotFound);
}

TEST(RocksDbEventLog, ANewDirectoryGetsADifferentNonzeroEpoch) {
  TempDir a;
  TempDir b;
  auto log_a = open_or_fail(RocksDbOptions{.path = a.str()});
  auto log_b = open_or_fail(RocksDbOptions{.path = b.str()});
  ASSERT_NE(log_a, nullptr);
  ASSERT_NE(log_b, nullptr);
  EXPECT_NE(log_a->epoch(), Epoch(0));
  EXPECT_NE(log_b->epoch(), Epoch(0));
  EXPECT_NE(log_a->epoch(), log_b->epoch());
}

TEST(RocksDbEventLog, OpenCreatesMissingParentDirectories) {
  TempDir dir;
  const auto nested = dir.path() / "a" / "b" / "data";
  auto log = open_or_fail(RocksDbOptions{.path = nested.string()});
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(nested));
}

TEST(RocksDbEventLog, OpeningADirectoryAlreadyOpenFailsWithStorageUnavailable) {
  TempDir dir;
  auto first = open_or_fail(RocksDbOptions{.path = dir.str()});
  ASSERT_NE(first, nullptr);
  auto second = RocksDbEventLog::open(RocksDbOptions{.path = dir.str()});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error(), Errc::kStorageUnavailable);
}

TEST(RocksDbEventLog, OpeningWithBadOptionsFailsWithInvalidArgument) {
  TempDir dir;
  EXPECT_EQ(RocksDbEventLog::open(RocksDbOptions{.path = ""}).error(), Errc::kInvalidArgument);
  EXPECT_EQ(
      RocksDbEventLog::open(RocksDbOptions{.path = dir.str(), .max_group_records = 0}).error(),
      Errc::kInvalidArgument);
}

TEST(RocksDbEventLog, OpeningAPathThatIsAFileFailsWithStorageUnavailable) {
  TempDir dir;
  std::filesystem::create_directories(dir.path());
  const auto file = dir.path() / "not-a-dir";
  std::ofstream(file) << "x";
  auto log = RocksDbEventLog::open(RocksDbOptions{.path = (file / "data").string()});
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error(), Errc::kStorageUnavailable);
}

TEST(RocksDbEventLog, RequestsOfOneGroupSeeEarlierStagedHeadsAndFailIndependently) {
  TempDir dir;
  auto log = open_or_fail(RocksDbOptions{.path = dir.str()});
  ASSERT_NE(log, nullptr);
  ASSERT_FALSE(append_wait(*log, one(rec("r", 1, 0))));
  WriterGate gate;
  gate.block(*log, "gate", 1, 0);
  // All queued behind the blocked writer: committed together as the next group.
  std::vector<std::promise<error_code>> done(4);
  auto cb = [&done](int i) { return [&done, i](error_code ec) { done[i].set_value(ec); }; };
  log->append(one(rec("r", 2, 1, "op-2")), cb(0));  // ok
  log->append(one(rec("r", 3, 1)), cb(1));          // conflict against the staged head 2
  log->append(one(rec("r", 3, 2, "op-3")), cb(2));  // ok, chains to the staged head
  log->append(one(rec("r", 1, 0)), cb(3));          // room exists
  gate.release();
  std::vector<error_code> results;
  for (auto& d : done) {
    auto f = d.get_future();
    ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
    results.push_back(f.get());
  }
  EXPECT_FALSE(results[0]);
  EXPECT_EQ(results[1], Errc::kConflict);
  EXPECT_FALSE(results[2]);
  EXPECT_EQ(results[3], Errc::kRoomExists);
  EXPECT_EQ(*log->head(RoomId("r")), Seq(3));
  auto events = log->read_after(RoomId("r"), Seq(0), 10);
  ASSERT_EQ(events->size(), 3U);
  EXPECT_EQ((*events)[2].prev_seq(), 2U);
  EXPECT_EQ(log->load_room(RoomId("r"), LoadOptions{})->dedup.size(), 2U);
}

TEST(RocksDbEventLog, AFailedGroupWriteFailsEveryRequestAndRollsBackStagedHeads) {
  TempDir dir;
  auto log = open_or_fail(RocksDbOptions{.path = dir.str()});
  ASSERT_NE(log, nullptr);
  ASSERT_FALSE(append_wait(*log, one(rec("r", 1, 0))));
  WriterGate gate;
  gate.block(*log, "gate", 1, 0);
  std::vector<std::promise<error_code>> done(3);
  auto cb = [&done](int i) { return [&done, i](error_code ec) { done[i].set_value(ec); }; };
  log->append(one(rec("r", 2, 1)), cb(0));
  log->append(one(rec("r", 3, 2)), cb(1));  // Depends on a head that will not be stored.
  log->append(one(rec("new", 1, 0)), cb(2));
  log->fail_next_writes(1);
  gate.release();
  for (auto& d : done) {
    auto f = d.get_future();
    ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
    EXPECT_EQ(f.get(), Errc::kStorageUnavailable);
  }
  EXPECT_EQ(*log->head(RoomId("r")), Seq(1));
  EXPECT_EQ(log->head(RoomId("new")).error(), Errc::kRoomNotFound);
  // The writer forgot the staged heads: the same appends now succeed, a stale one conflicts.
  EXPECT_EQ(append_wait(*log, one(rec("r", 3, 2))), Errc::kConflict);
  EXPECT_FALSE(append_wait(*log, one(rec("r", 2, 1))));
  EXPECT_FALSE(append_wait(*log, one(rec("new", 1, 0))));
  EXPECT_EQ(*log->head(RoomId("r")), Seq(2));
}

TEST(RocksDbEventLog, DestructionRunsEveryQueuedCallbackAndKeepsTheirEvents) {
  TempDir dir;
  constexpr std::uint64_t kAppends = 200;
  std::atomic<int> ok{0};
  std::atomic<int> calls{0};
  {
    auto log = open_or_fail(RocksDbOptions{.path = dir.str(), .durability = Durability::kWal});
    ASSERT_NE(log, nullptr);
    for (std::uint64_t s = 1; s <= kAppends; ++s) {
      log->append(one(rec("r", s, s - 1)), [&](error_code ec) {
        calls.fetch_add(1);
        if (!ec) {
          ok.fetch_add(1);
        }
      });
    }
  }
  EXPECT_EQ(calls.load(), static_cast<int>(kAppends));
  EXPECT_EQ(ok.load(), static_cast<int>(kAppends));
  auto log = open_or_fail(RocksDbOptions{.path = dir.str()});
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(*log->head(RoomId("r")), Seq(kAppends));
}

}  // namespace
}  // namespace huddle::store
