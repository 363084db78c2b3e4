// RocksDbEventLog under storage faults: the Nth write or sync of a WAL, SST or MANIFEST file
// fails (tests/support/fault_fs.hpp), and the disk-space reserve. Invariant 3 (acked means
// durable) and the atomicity of event + dedup entry + room head.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/store/rocksdb_event_log.hpp"
#include "tests/support/fault_fs.hpp"
#include "tests/unit/store/store_testing.hpp"

namespace huddle::store {
namespace {

using namespace store_test;  // NOLINT(google-build-using-namespace): the shared test helpers.

using boost::system::error_code;
using huddle::storage::v1::DedupRecord;
using huddle::storage::v1::RoomMeta;
using huddle::testing::FaultInjectionFs;
using huddle::v1::Event;

constexpr std::uint64_t kMaxN = 200;

AppendRecord record(const std::string& room, std::uint64_t seq, const std::string& op,
                    std::size_t text_bytes = 1000) {
  Event e;
  e.set_room_id(room);
  e.set_seq(seq);
  e.set_prev_seq(seq - 1);
  e.mutable_chat_posted()->set_text(op +
                                    std::string(text_bytes, static_cast<char>('a' + seq % 26)));
  AppendRecord r{.room = RoomId(room),
                 .seq = Seq(seq),
                 .prev_seq = Seq(seq - 1),
                 .event_bytes = e.SerializeAsString(),
                 .dedup = std::nullopt,
                 .create_room = std::nullopt};
  DedupRecord d;
  d.set_member_id("m");
  d.set_op_id(op);
  r.dedup = d;
  if (seq == 1) {
    RoomMeta meta;
    meta.mutable_info()->set_room_id(room);
    r.create_room = meta;
  }
  return r;
}

struct Acked {
  std::string event_bytes;
  std::string op;
};
using RoomAcks = std::map<std::uint64_t, Acked>;  // seq -> what was acked.

// Everything the store holds for `room` is exactly what was acked: the events byte for byte with
// seqs 1..n and no gap, the dedup entries of exactly those events, and the head. `broken`: the
// disk is still failing, and reads may fail with kStorageUnavailable (the log closed the
// database to reopen it), but never return anything else.
void expect_room_holds_exactly(RocksDbEventLog& log, const std::string& room, const RoomAcks& acked,
                               bool broken = false) {
  SCOPED_TRACE("room " + room);
  auto head = log.head(RoomId(room));
  if (broken && !head.has_value() && head.error() == Errc::kStorageUnavailable) {
    return;
  }
  ASSERT_TRUE(head.has_value()) << head.error().message();
  ASSERT_EQ(head->value(), acked.size());
  auto events = log.read_after(RoomId(room), Seq(0), std::numeric_limits<std::size_t>::max());
  ASSERT_TRUE(events.has_value()) << events.error().message();
  ASSERT_EQ(events->size(), acked.size());
  std::uint64_t expect_seq = 1;
  for (const auto& e : *events) {
    ASSERT_EQ(e.seq(), expect_seq) << "gap or duplicate";
    ASSERT_EQ(e.SerializeAsString(), acked.at(e.seq()).event_bytes) << "seq " << e.seq();
    ++expect_seq;
  }
  auto load = log.load_room(RoomId(room), LoadOptions{});
  ASSERT_TRUE(load.has_value()) << load.error().message();
  ASSERT_EQ(load->dedup.size(), acked.size());
  for (const auto& d : load->dedup) {
    ASSERT_TRUE(acked.contains(d.seq.value()));
    EXPECT_EQ(d.op.op_id(), acked.at(d.seq.value()).op);
  }
}

// For N = 1..200 (four tests of 50, so that ctest can run them side by side; each takes
// about 25 s, mostly RocksDB opens and its 1 s back-off after a failed compaction), on one
// store per test (a new room each N): the Nth write or sync, counted from the
// moment the fault is armed, of a WAL, SST or MANIFEST file fails, and so does every later one
// until the fault is cleared (a disk that stays broken). Appends go one at a time. Asserts: an
// append whose WAL write or sync hit the fault gets an error, never success; every error is
// kStorageUnavailable; health says not writable; reads return the acked events or fail, nothing
// else; after the fault clears the log recovers by itself (continuing, or after a clean reopen
// every 4th N, which also switches between --durability sync and wal) and the next append gets
// the next seq; the room then holds exactly the acked events (byte-equal, no gap, no
// duplicate), their dedup entries and the right head. Every 25 N, and at the end, a reopen
// without the fault layer finds every room of every N exactly as acked.
class StorageFaults : public ::testing::TestWithParam<std::uint64_t> {};

INSTANTIATE_TEST_SUITE_P(NFrom, StorageFaults, ::testing::Values(1, 51, 101, 151));

TEST_P(StorageFaults, TheNthWriteOrSyncFailingNeverAcksAndKeepsEventDedupAndHeadAtomic) {
  const TempDir dir;
  auto fs = std::make_shared<FaultInjectionFs>();
  RocksDbOptions options{.path = dir.str()};
  // Small memtables: flushes (SST and MANIFEST writes) and compactions happen within the N
  // operations. Not smaller: a compaction that fails makes RocksDB 7.8 sleep 1 s before the
  // close can finish, and too many of those would make this test slow.
  options.write_buffer_bytes = 256 * 1024;
  options.file_system = fs;
  options.reopen_backoff_ms = 5;
  auto log = open_or_fail(options);
  ASSERT_NE(log, nullptr);
  std::map<std::string, RoomAcks> rooms;
  const auto check_all_after_reopen = [&] {
    log.reset();
    options.file_system = nullptr;
    log = open_or_fail(options);
    ASSERT_NE(log, nullptr);
    for (const auto& [room, acked] : rooms) {
      expect_room_holds_exactly(*log, room, acked);
    }
    log.reset();
    options.file_system = fs;
    log = open_or_fail(options);
    ASSERT_NE(log, nullptr);
  };
  std::map<unsigned, int> fired_in;  // File kind -> Ns whose fault hit it first.
  for (std::uint64_t n = GetParam(); n < GetParam() + 50; ++n) {
    SCOPED_TRACE("N=" + std::to_string(n));
    const std::string room = "r" + std::to_string(n);
    RoomAcks& acked = rooms[room];
    ASSERT_FALSE(append_one(*log, record(room, 1, "create")));
    acked[1] = Acked{record(room, 1, "create").event_bytes, "create"};

    // Three families. n % 3 == 0: the Nth append to the WAL, so it belongs to the append in
    // flight (WAL syncs also come from background flushes), and the disk stays broken (sticky)
    // until cleared: the log's first recovery attempts fail too. n % 6 == 2: one of the first
    // operations on an SST or MANIFEST file (a memtable flush or a compaction, in the background),
    // once, with 8 KB events so that flushes come quickly. Every other N: the Nth operation on any
    // file, once. Only the first family is sticky, and the second is kept small: every background
    // compaction that fails makes RocksDB 7.8 sleep 1 s before a close can finish.
    const bool wal_only = n % 3 == 0;
    const bool sst_only = n % 6 == 2;
    const std::size_t text_bytes = sst_only ? 8000 : 1000;
    fs->arm(sst_only ? 1 + n % 4 : n,
            wal_only ? FaultInjectionFs::kAppend : FaultInjectionFs::kAnyOp,
            wal_only   ? FaultInjectionFs::kWal
            : sst_only ? FaultInjectionFs::kSst | FaultInjectionFs::kManifest
                       : FaultInjectionFs::kAnyFile,
            /*sticky=*/wal_only);
    int errors = 0;
    int since_fired = 0;
    const int want_errors = wal_only ? 2 : 1;
    for (int attempt = 0; attempt < 600 && errors < want_errors && since_fired < 20; ++attempt) {
      const std::uint64_t seq = acked.size() + 1;
      const std::string op = "op-" + std::to_string(seq) + "-" + std::to_string(attempt);
      const auto failures_before = fs->failures();
      auto r = record(room, seq, op, text_bytes);
      const std::string bytes = r.event_bytes;
      const error_code ec = append_one(*log, std::move(r));
      since_fired += fs->fired() ? 1 : 0;
      if (!ec) {
        if (wal_only) {
          // Only this append writes to the WAL: if that failed, it must not succeed.
          ASSERT_EQ(fs->failures(), failures_before) << "acked although its WAL write failed";
        }
        acked[seq] = Acked{bytes, op};
        continue;
      }
      ASSERT_EQ(ec, Errc::kStorageUnavailable) << ec.message();
      ++errors;
      EXPECT_FALSE(log->health().writable);
    }
    ASSERT_TRUE(fs->fired()) << "the fault never fired";
    if (fs->first_failed_file() == FaultInjectionFs::kWal) {
      // A failed WAL write or sync stops every write until the log has recovered. (A failed
      // compaction need not: the data is still in the WAL and the memtables.)
      ASSERT_EQ(errors, want_errors) << "writes kept succeeding on a broken disk";
    }
    ++fired_in[fs->first_failed_file()];
    expect_room_holds_exactly(*log, room, acked, /*broken=*/true);

    fs->clear();
    if (n % 4 == 0) {
      log.reset();  // A clean close with the disk healthy again.
      options.durability =
          options.durability == Durability::kSync ? Durability::kWal : Durability::kSync;
      log = open_or_fail(options);
      ASSERT_NE(log, nullptr);
    }
    // The next append gets the next seq. The log retries a reopen at most every
    // reopen_backoff_ms, so an append right after the fault cleared may still fail (retryable,
    // nothing written).
    const std::uint64_t next = acked.size() + 1;
    error_code ec;
    for (int retry = 0; retry < 100; ++retry) {
      ec = append_one(*log, record(room, next, "after"));
      if (ec != Errc::kStorageUnavailable) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_FALSE(ec) << "the log did not recover: " << ec.message() << " " << log->health().detail;
    acked[next] = Acked{record(room, next, "after").event_bytes, "after"};
    EXPECT_TRUE(log->health().writable) << log->health().detail;
    expect_room_holds_exactly(*log, room, acked);
    if (n % 25 == 0 || n == GetParam() + 49) {
      check_all_after_reopen();
    }
    if (::testing::Test::HasFatalFailure()) {
      return;
    }
  }
  EXPECT_GT(fired_in[FaultInjectionFs::kWal], 0);
  EXPECT_GT(fired_in[FaultInjectionFs::kSst] + fired_in[FaultInjectionFs::kManifest], 0)
      << "no fault ever hit a flush or a compaction";
  std::cerr << "faults first hit: WAL " << fired_in[FaultInjectionFs::kWal] << ", SST "
            << fired_in[FaultInjectionFs::kSst] << ", MANIFEST "
            << fired_in[FaultInjectionFs::kManifest] << "\n";
}

// A reserve larger than any disk: every append fails with kStorageFull and writes nothing,
// health says "disk full", reads go on. Without the reserve the same store takes writes again.
TEST(StorageReserve, BelowTheReserveAppendsFailWithStorageFullAndReadsGoOn) {
  const TempDir dir;
  RocksDbOptions options{.path = dir.str()};
  {
    auto log = open_or_fail(options);
    ASSERT_NE(log, nullptr);
    ASSERT_FALSE(append_one(*log, record("r", 1, "create")));
  }
  options.reserve_bytes = std::uint64_t{1} << 62U;
  {
    auto log = open_or_fail(options);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(append_one(*log, record("r", 2, "full")), Errc::kStorageFull);
    EXPECT_EQ(append_one(*log, record("r", 2, "full-again")), Errc::kStorageFull);
    EXPECT_FALSE(log->health().writable);
    EXPECT_EQ(log->health().detail, "disk full");
    auto events = log->read_after(RoomId("r"), Seq(0), 10);
    ASSERT_TRUE(events.has_value());
    EXPECT_EQ(events->size(), 1U);
    EXPECT_EQ(*log->head(RoomId("r")), Seq(1));
  }
  options.reserve_bytes = 1;
  auto log = open_or_fail(options);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(*log->head(RoomId("r")), Seq(1));
  EXPECT_FALSE(append_one(*log, record("r", 2, "ok")));
  EXPECT_TRUE(log->health().writable);
}

}  // namespace
}  // namespace huddle::store
