#include "server/store/rocksdb_event_log.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include "core/common/assert.hpp"
#include "server/store/key_codec.hpp"
#include "server/util/log.hpp"
#include "server/util/metrics.hpp"

#include <sys/statvfs.h>

namespace huddle::store {
namespace {

using boost::system::error_code;
using huddle::storage::v1::CursorRecord;
using huddle::storage::v1::DedupRecord;
using huddle::storage::v1::RoomMeta;
using huddle::storage::v1::SnapshotRecord;
using huddle::storage::v1::StoreMeta;
using huddle::v1::Event;

constexpr std::string_view kStoreMetaKey = "store_meta";
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint64_t kMaxSeq = std::numeric_limits<std::uint64_t>::max();

// Column families, in the order of Impl::handles.
constexpr const char* kEventsCf = "events";
constexpr const char* kRoomsCf = "rooms";
constexpr const char* kSnapshotsCf = "snapshots";
constexpr const char* kDedupCf = "dedup";
constexpr const char* kCursorsCf = "cursors";

// The one place rocksdb::Status becomes an Errc. NotFound is handled by callers where it is
// expected; anywhere else it means the store is not what we wrote.
[[nodiscard]] error_code to_error(const rocksdb::Status& st) {
  if (st.ok()) {
    return {};
  }
  if (st.IsCorruption()) {
    // A checksum that does not match (paranoid checks, verified reads): an error, never the
    // bytes. Logged: an operator has to look at the disk.
    log::store()->error("store corruption found err={}", st.ToString());
    return make_error_code(Errc::kInternal);
  }
  if (st.IsNotFound() || st.IsInvalidArgument() || st.IsNotSupported()) {
    return make_error_code(Errc::kInternal);
  }
  // IOError, NoSpace, Busy, TimedOut, TryAgain, Aborted, ShutdownInProgress: the disk or the
  // process, not the data. Retryable from the caller's point of view.
  return make_error_code(Errc::kStorageUnavailable);
}

std::string_view to_view(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

template <class Message>
bool parse(Message& m, const rocksdb::Slice& bytes) {
  return bytes.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max()) &&
         m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

std::uint64_t random_nonzero() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) | rd());
  std::uint64_t v = 0;
  while (v == 0) {  // 0 means "no epoch" to clients.
    v = gen();
  }
  return v;
}

// The room's state as the writer's checks see it.
struct RoomHead {
  bool exists = false;
  std::uint64_t head = 0;
};

// Checks that need no store state. Keep in sync with memory_event_log.cpp: the typed tests in
// event_log_test.cpp hold both implementations to the same answers.
[[nodiscard]] error_code check_record(const AppendRecord& r) {
  if (!is_valid_room_id(r.room.value()) || r.seq.value() <= r.prev_seq.value()) {
    return make_error_code(Errc::kInvalidArgument);
  }
  if (r.create_room && !r.create_room->info().room_id().empty() &&
      r.create_room->info().room_id() != r.room.value()) {
    return make_error_code(Errc::kInvalidArgument);
  }
  // Reads must never meet undecodable bytes, so bad bytes are refused here (bad input changes
  // nothing) rather than discovered at the next load.
  Event event;
  if (!event.ParseFromString(r.event_bytes) || event.room_id() != r.room.value() ||
      event.seq() != r.seq.value() || event.prev_seq() != r.prev_seq.value()) {
    return make_error_code(Errc::kInvalidArgument);
  }
  return {};
}

// Checks `r` against the room's (staged) head and advances it on success.
[[nodiscard]] error_code check_and_stage(const AppendRecord& r, RoomHead& room) {
  if (r.create_room) {
    if (room.exists) {
      return make_error_code(Errc::kRoomExists);
    }
    if (r.prev_seq.value() != 0) {
      return make_error_code(Errc::kConflict);
    }
  } else {
    if (!room.exists) {
      return make_error_code(Errc::kRoomNotFound);
    }
    if (r.prev_seq.value() != room.head) {
      return make_error_code(Errc::kConflict);
    }
  }
  room.exists = true;
  room.head = r.seq.value();
  return {};
}

// A consistent view across column families for one read call.
class ReadView {
 public:
  explicit ReadView(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {
    options_.snapshot = snapshot_;
  }
  ~ReadView() { db_->ReleaseSnapshot(snapshot_); }
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;
  ReadView(ReadView&&) = delete;
  ReadView& operator=(ReadView&&) = delete;

  const rocksdb::ReadOptions& options() const { return options_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

}  // namespace

struct RocksDbEventLog::Impl {
  struct PendingAppend {
    std::vector<AppendRecord> records;
    AppendCallback done;
  };
  struct PendingSnapshot {
    RoomId room;
    SnapshotRecord record;
  };
  struct PendingCursor {
    std::string key;  // room id + 0x00 + member id.
    std::uint64_t seq = 0;
  };
  struct PendingDelete {
    RoomId room;
    AppendCallback done;
  };
  using Request = std::variant<PendingAppend, PendingSnapshot, PendingCursor, PendingDelete>;

  explicit Impl(RocksDbOptions opts) : options(std::move(opts)) {}
  metrics::Histogram write_latency;  // One commit group's db->Write (WAL append + fsync).
  mutable std::mutex health_mu;
  StoreHealth health;  // Guarded by health_mu; set by the writer after each write.
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;
  ~Impl();

  // `first`: the open of RocksDbEventLog::open (a torn WAL tail found then changes the epoch).
  [[nodiscard]] error_code open_db(bool first = false);
  // Writer thread. Whether the filesystem holding the store has at least options.reserve_bytes
  // available (statvfs; at most every 100 ms or every reserve/8 bytes written, unless `force`).
  // Updates `disk_full` and health.
  bool space_ok(bool force);
  // Writer thread. After a failed write RocksDB holds a background error and refuses every write
  // (7.8 treats a failed WAL write or sync as fatal: DB::Resume() does not clear it) until the
  // database is closed and opened again. Reopens (at most every reopen_backoff_ms) and rolls back
  // what the failed groups may have left behind. False while the store cannot take writes.
  bool recover();
  [[nodiscard]] bool reopen();
  // Writer thread: deletes the events (with their dedup entries) past the acked head of every
  // room a failed group touched, and rooms whose creation failed. A WAL record whose write
  // returned an error can still be in the WAL (the sync failed after the append went through)
  // and come back when the database is reopened; it was never acknowledged, so it must not stay.
  [[nodiscard]] bool roll_back_failed_groups();
  void close_db();
  void set_health();
  [[nodiscard]] error_code load_or_create_epoch();
  void start_writer() {
    writer = std::thread([this] { run_writer(); });
  }
  // False (and nothing queued) when the queue is at max_queued_requests.
  [[nodiscard]] bool enqueue(Request& request);  // Moves from `request` only when queued.

  // Writer thread.
  void run_writer();
  void commit_group(std::vector<Request>& group);
  [[nodiscard]] Result<RoomHead> current_head(
      const RoomId& room, const std::unordered_map<std::string, RoomHead>& staged);
  [[nodiscard]] error_code stage_append(PendingAppend& request,
                                        std::unordered_map<std::string, RoomHead>& staged,
                                        rocksdb::WriteBatch& batch);
  [[nodiscard]] error_code stage_delete(PendingDelete& request,
                                        std::unordered_map<std::string, RoomHead>& staged,
                                        rocksdb::WriteBatch& batch);
  void stage_snapshot(PendingSnapshot& request,
                      const std::unordered_map<std::string, RoomHead>& staged,
                      std::unordered_map<std::string, std::uint64_t>& staged_snapshots,
                      rocksdb::WriteBatch& batch);

  // Reads (any thread).
  // Visits the records of `room` in `cf` with lo <= seq <= hi, oldest first (newest first if
  // `newest_first`), at most `limit` of them. fn(Seq, const rocksdb::Slice& value) -> error_code.
  template <class Fn>
  [[nodiscard]] error_code scan(const rocksdb::ReadOptions& base, rocksdb::ColumnFamilyHandle* cf,
                                const RoomId& room, std::uint64_t lo, std::uint64_t hi,
                                bool newest_first, std::size_t limit, Fn&& fn);
  [[nodiscard]] error_code scan_events(const rocksdb::ReadOptions& base, const RoomId& room,
                                       std::uint64_t lo, std::uint64_t hi, bool newest_first,
                                       std::size_t limit, std::vector<Event>& out);
  [[nodiscard]] Result<std::uint64_t> newest_seq(const rocksdb::ReadOptions& base,
                                                 const RoomId& room);
  // The room's meta; kRoomNotFound if it does not exist.
  [[nodiscard]] Result<RoomMeta> get_meta(const rocksdb::ReadOptions& base, const RoomId& room);

  const RocksDbOptions options;
  rocksdb::DB* db = nullptr;                          // Owned; closed in ~Impl.
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // Owned; destroyed before db.
  rocksdb::ColumnFamilyHandle* meta_cf = nullptr;
  rocksdb::ColumnFamilyHandle* events_cf = nullptr;
  rocksdb::ColumnFamilyHandle* rooms_cf = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_cf = nullptr;
  rocksdb::ColumnFamilyHandle* dedup_cf = nullptr;
  rocksdb::ColumnFamilyHandle* cursors_cf = nullptr;
  Epoch epoch;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Request> queue;  // Guarded by mu.
  bool stopping = false;      // Guarded by mu.
  std::atomic<int> fail_next_writes{0};
  std::unique_ptr<rocksdb::Env> env;  // Wraps options.file_system; outlives db.
  bool torn_wal_recovered = false;    // The first open dropped a torn WAL tail: new epoch.

  // Writer thread only.
  bool needs_recovery = false;  // A write failed: Resume() before the next one.
  bool disk_full = false;       // The last space check found less than the reserve.
  bool last_write_failed = false;
  std::string last_write_error;
  std::chrono::steady_clock::time_point last_space_check{};
  std::uint64_t bytes_since_space_check = 0;
  std::chrono::steady_clock::time_point last_recover_log{};
  std::chrono::steady_clock::time_point last_reopen{};
  // Rooms touched by a failed group -> their acked head before it (exists == false: created by
  // the failed group). Emptied by roll_back_failed_groups().
  std::unordered_map<std::string, RoomHead> unacked_after;

  // Readers hold it shared for a whole read; the writer holds it exclusively to close and
  // reopen the database (db is null while a reopen fails).
  mutable std::shared_mutex db_mu;

  // Heads of the rooms appended to since open (existing rooms only, ~100 bytes each). Always
  // equals what is on disk, because only the writer writes and it updates this after each
  // successful Write (and forgets the group's rooms after a failed one). Owner: writer thread.
  std::unordered_map<std::string, RoomHead> heads;

  std::thread writer;
};

RocksDbEventLog::Impl::~Impl() {
  if (writer.joinable()) {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_one();
    writer.join();  // The writer drains the queue before it exits.
  }
  if (needs_recovery) {
    // Roll back what the failed writes left in the WAL now, if the disk allows: a record that
    // was never acknowledged must not come back at the next open.
    last_reopen = {};
    ignore_error(recover() ? error_code{} : make_error_code(Errc::kStorageUnavailable),
                 "best effort at close; the failed writes were never acknowledged");
  }
  close_db();
}

void RocksDbEventLog::Impl::close_db() {
  if (db == nullptr) {
    return;
  }
  // kWal leaves the last groups in the OS page cache; a clean shutdown makes them durable. Not
  // after a failed write, in the foreground or in the background (a flush syncs the closed WALs):
  // RocksDB's WAL writer must not be used again after an error (7.8 asserts).
  std::uint64_t background_errors = 0;
  if (!db->GetIntProperty(rocksdb::DB::Properties::kBackgroundErrors, &background_errors)) {
    background_errors = 1;  // Cannot tell: do not risk it.
  }
  if (!needs_recovery && background_errors == 0) {
    ignore_error(to_error(db->FlushWAL(/*sync=*/true)), "best-effort sync at close");
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    ignore_error(to_error(db->DestroyColumnFamilyHandle(handle)), "close: nothing left to do");
  }
  handles.clear();
  ignore_error(to_error(db->Close()), "close: nothing left to do");
  delete db;
  db = nullptr;
}

error_code RocksDbEventLog::Impl::open_db(bool first) {
  std::error_code fs_ec;
  std::filesystem::create_directories(options.path, fs_ec);
  if (fs_ec) {
    return make_error_code(Errc::kStorageUnavailable);
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // A bad checksum in a file is an error at open or read, never bytes handed on.
  db_options.paranoid_checks = true;
  // WAL recovery. The first open of the process is strict (kAbsoluteConsistency): a WAL that
  // ends in a torn or corrupt record (power loss or an OS crash under --durability wal, a
  // truncated file) fails it. The store is then opened with kPointInTimeRecovery, which keeps
  // every whole commit group before the damage and drops the rest (a consistent prefix: no gap,
  // never a later group without an earlier one), and it gets a new epoch
  // (load_or_create_epoch): the dropped events may have been acked and seen, and their seqs
  // will be handed out again, so clients must RESET rather than resume. Reopens after a failed
  // write use kPointInTimeRecovery directly: what a failed write left was never acked.
  // Not kTolerateCorruptedTailRecords (it keeps the epoch, so a resumed client would take a new
  // event for one it saw) nor kSkipAnyCorruptedRecords (it can leave a gap in the chain).
  db_options.wal_recovery_mode = first ? rocksdb::WALRecoveryMode::kAbsoluteConsistency
                                       : rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // No RocksDB auto-resume after a background (flush, compaction) I/O error: the writer recovers
  // every kind of failure the same way (close, reopen, roll back; Impl::recover), and a close
  // must not wait for RocksDB's retry loop (1 s per round by default).
  db_options.max_bgerror_resume_count = 0;
  // Open replays the WAL into memtables without flushing them to tiny L0 files (the WAL is kept
  // until a normal flush): cheaper opens, and fewer compactions after a recovery.
  db_options.avoid_flush_during_recovery = true;
  if (options.file_system) {
    env = rocksdb::NewCompositeEnv(options.file_system);
    db_options.env = env.get();
  }
  rocksdb::ColumnFamilyOptions cf_options;
  if (options.write_buffer_bytes > 0) {
    cf_options.write_buffer_size = options.write_buffer_bytes;
  }
  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {kEventsCf, cf_options},
      {kRoomsCf, cf_options},
      {kSnapshotsCf, cf_options},
      {kDedupCf, cf_options},
      {kCursorsCf, cf_options}};
  // 7.8 has only the DB** overload; ~Impl owns the result.
  rocksdb::Status st = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db);
  if (first && st.IsCorruption()) {
    log::store()->warn(
        "the WAL ends in a torn or corrupt record; recovering every whole commit group before it, "
        "dropping the rest, with a new epoch (clients RESET) dir={} err={}",
        options.path, st.ToString());
    handles.clear();
    db = nullptr;
    torn_wal_recovered = true;
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    st = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db);
  }
  if (!st.ok()) {
    log::store()->error("cannot open store dir={} err={}", options.path, st.ToString());
    return to_error(st);
  }
  meta_cf = handles[0];
  events_cf = handles[1];
  rooms_cf = handles[2];
  snapshots_cf = handles[3];
  dedup_cf = handles[4];
  cursors_cf = handles[5];
  return {};
}

error_code RocksDbEventLog::Impl::load_or_create_epoch() {
  std::string bytes;
  const rocksdb::Status st =
      db->Get(rocksdb::ReadOptions(), meta_cf,
              rocksdb::Slice(kStoreMetaKey.data(), kStoreMetaKey.size()), &bytes);
  StoreMeta meta;
  if (st.ok()) {
    if (!meta.ParseFromString(bytes) || meta.epoch() == 0) {
      return make_error_code(Errc::kInternal);
    }
    if (!torn_wal_recovered) {
      epoch = Epoch(meta.epoch());
      return {};
    }
    log::store()->warn("new epoch after a torn WAL tail old_epoch={}", meta.epoch());
  } else if (!st.IsNotFound()) {
    return to_error(st);
  }
  meta.set_epoch(random_nonzero());
  if (meta.created_unix_ms() == 0) {
    meta.set_created_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
  }
  meta.set_format_version(kFormatVersion);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;  // The epoch must never change under a client, whatever the mode.
  if (auto ec = to_error(db->Put(write_options, meta_cf,
                                 rocksdb::Slice(kStoreMetaKey.data(), kStoreMetaKey.size()),
                                 meta.SerializeAsString()))) {
    return ec;
  }
  epoch = Epoch(meta.epoch());
  return {};
}

bool RocksDbEventLog::Impl::enqueue(Request& request) {
  {
    std::lock_guard lock(mu);
    HUDDLE_DCHECK(!stopping);  // Appending to a log being destroyed is a caller bug.
    if (queue.size() >= options.max_queued_requests) {
      return false;  // Invariant 8: the queue in front of the disk is bounded too.
    }
    queue.push_back(std::move(request));
  }
  cv.notify_one();
  return true;
}

void RocksDbEventLog::Impl::run_writer() {
  std::vector<Request> group;
  for (;;) {
    group.clear();
    {
      std::unique_lock lock(mu);
      if (disk_full) {
        // Look at the disk again every 100 ms even with nothing to write, so health (and
        // /readyz) comes back when space returns, not at the next append.
        while (!stopping && queue.empty()) {
          if (cv.wait_for(lock, std::chrono::milliseconds(100)) == std::cv_status::timeout) {
            lock.unlock();
            const bool ok = space_ok(/*force=*/true);
            lock.lock();
            if (ok) {
              break;
            }
          }
        }
      }
      cv.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) {
        return;  // Stopping, and everything queued has been written.
      }
      std::size_t records = 0;
      while (!queue.empty()) {
        const Request& next = queue.front();
        const std::size_t n =
            std::holds_alternative<PendingAppend>(next)
                ? std::max<std::size_t>(1, std::get<PendingAppend>(next).records.size())
                : 1;
        if (!group.empty() && records + n > options.max_group_records) {
          break;
        }
        records += n;
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    commit_group(group);
  }
}

Result<RoomHead> RocksDbEventLog::Impl::current_head(
    const RoomId& room, const std::unordered_map<std::string, RoomHead>& staged) {
  if (auto it = staged.find(room.value()); it != staged.end()) {
    return it->second;
  }
  if (auto it = heads.find(room.value()); it != heads.end()) {
    return it->second;
  }
  // First touch since open: the writer is the only writer, so what is on disk is current.
  const rocksdb::ReadOptions read_options;
  auto meta = get_meta(read_options, room);
  if (!meta) {
    if (meta.error() == Errc::kRoomNotFound) {
      return RoomHead{};  // Not cached: a flood of unknown room ids must not grow memory.
    }
    return meta.error();
  }
  auto newest = newest_seq(read_options, room);
  if (!newest) {
    return newest.error();
  }
  RoomHead head{.exists = true, .head = *newest};
  heads.emplace(room.value(), head);
  return head;
}

error_code RocksDbEventLog::Impl::stage_append(PendingAppend& request,
                                               std::unordered_map<std::string, RoomHead>& staged,
                                               rocksdb::WriteBatch& batch) {
  if (request.records.empty()) {
    return make_error_code(Errc::kInvalidArgument);
  }
  // Check every record against a request-local overlay first, so a rejected request leaves the
  // group's staged heads and the batch untouched (all or nothing).
  std::unordered_map<std::string, RoomHead> local;
  for (const AppendRecord& r : request.records) {
    if (auto ec = check_record(r)) {
      return ec;
    }
    auto it = local.find(r.room.value());
    if (it == local.end()) {
      auto head = current_head(r.room, staged);
      if (!head) {
        return head.error();
      }
      it = local.emplace(r.room.value(), *head).first;
    }
    if (auto ec = check_and_stage(r, it->second)) {
      return ec;
    }
  }
  for (AppendRecord& r : request.records) {
    const std::string key = encode_event_key(r.room, r.seq);
    if (r.create_room) {
      r.create_room->mutable_info()->set_room_id(r.room.value());
      batch.Put(rooms_cf, r.room.value(), r.create_room->SerializeAsString());
    }
    batch.Put(events_cf, key, r.event_bytes);
    if (r.dedup) {
      batch.Put(dedup_cf, key, r.dedup->SerializeAsString());
    }
    // The checks passed, so prev_seq is the head this record replaces.
    const std::uint64_t old_head = r.prev_seq.value();
    const std::uint64_t new_head = r.seq.value();
    if (old_head / kDedupPruneEvery != new_head / kDedupPruneEvery && new_head > kDedupRetainSeqs) {
      // One range tombstone per room per kDedupPruneEvery seqs: cheap for reads and compaction.
      batch.DeleteRange(dedup_cf, encode_event_key(r.room, Seq(0)),
                        encode_event_key(r.room, Seq(new_head - kDedupRetainSeqs)));
    }
  }
  for (auto& [room, head] : local) {
    staged[room] = head;
  }
  return {};
}

error_code RocksDbEventLog::Impl::stage_delete(PendingDelete& request,
                                               std::unordered_map<std::string, RoomHead>& staged,
                                               rocksdb::WriteBatch& batch) {
  auto head = current_head(request.room, staged);
  if (!head) {
    return head.error();
  }
  if (!head->exists) {
    return make_error_code(Errc::kRoomNotFound);
  }
  const std::string begin = room_key_prefix(request.room);
  const std::string end = room_key_end(request.room);
  batch.Delete(rooms_cf, request.room.value());
  batch.Delete(snapshots_cf, request.room.value());
  batch.DeleteRange(events_cf, begin, end);
  batch.DeleteRange(dedup_cf, begin, end);
  batch.DeleteRange(cursors_cf, begin, end);
  staged[request.room.value()] = RoomHead{};  // Later appends in the group see no room.
  return {};
}

void RocksDbEventLog::Impl::stage_snapshot(
    PendingSnapshot& request, const std::unordered_map<std::string, RoomHead>& staged,
    std::unordered_map<std::string, std::uint64_t>& staged_snapshots, rocksdb::WriteBatch& batch) {
  // Best effort: a snapshot of an unknown room, of an event not in the log, or older than the
  // stored one is dropped. Read errors drop it too; the next snapshot will do.
  if (!is_valid_room_id(request.room.value())) {
    return;
  }
  auto head = current_head(request.room, staged);
  if (!head || !head->exists || request.record.seq() > head->head) {
    return;
  }
  std::uint64_t stored_seq = 0;
  if (auto it = staged_snapshots.find(request.room.value()); it != staged_snapshots.end()) {
    stored_seq = it->second;
  } else {
    std::string bytes;
    const rocksdb::Status st =
        db->Get(rocksdb::ReadOptions(), snapshots_cf, request.room.value(), &bytes);
    SnapshotRecord stored;
    if (st.ok() && stored.ParseFromString(bytes)) {
      stored_seq = stored.seq();
    } else if (!st.IsNotFound()) {
      return;
    }
  }
  if (stored_seq > request.record.seq()) {
    return;
  }
  batch.Put(snapshots_cf, request.room.value(), request.record.SerializeAsString());
  staged_snapshots[request.room.value()] = request.record.seq();
}

bool RocksDbEventLog::Impl::space_ok(bool force) {
  if (options.reserve_bytes == 0) {
    return true;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!force && !disk_full && now - last_space_check < std::chrono::milliseconds(100) &&
      bytes_since_space_check < options.reserve_bytes / 8) {
    return true;
  }
  last_space_check = now;
  bytes_since_space_check = 0;
  struct statvfs fs {};
  if (::statvfs(options.path.c_str(), &fs) != 0) {
    return !disk_full;  // Cannot tell: keep the last answer.
  }
  const std::uint64_t available =
      static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
  const bool full = available < options.reserve_bytes;
  if (full != disk_full) {
    disk_full = full;
    if (full) {
      log::store()->error("disk full, refusing writes dir={} available_bytes={} reserve_bytes={}",
                          options.path, available, options.reserve_bytes);
    } else {
      log::store()->warn("disk space back, writes resume dir={} available_bytes={}", options.path,
                         available);
    }
    set_health();
  }
  return !full;
}

void RocksDbEventLog::Impl::set_health() {
  std::lock_guard lock(health_mu);
  health.writable = !disk_full && !last_write_failed;
  health.detail = disk_full           ? "disk full"
                  : last_write_failed ? "the last write failed: " + last_write_error
                                      : "";
}

bool RocksDbEventLog::Impl::recover() {
  if (!needs_recovery) {
    return true;
  }
  // Not DB::Resume(): RocksDB 7.8 refuses it after a failed WAL write or sync (a fatal
  // background error, with paranoid_checks), and where it applies it can block the writer for a
  // second waiting on its own flush retries. Closing and opening again works for every error, and
  // the WAL replay at open is bounded by the write buffers.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_reopen < std::chrono::milliseconds(options.reopen_backoff_ms)) {
    return false;  // Not a reopen per commit group while the disk stays broken.
  }
  last_reopen = now;
  const rocksdb::Status st =
      reopen() ? rocksdb::Status::OK() : rocksdb::Status::IOError("reopen failed");
  if (st.ok()) {
    needs_recovery = false;
    log::store()->warn("store writable again after a failed write");
    return true;
  }
  if (now - last_recover_log >= std::chrono::seconds(1)) {
    last_recover_log = now;
    log::store()->error("store still not writable err={}", st.ToString());
  }
  if (!st.ok()) {
    last_write_error = st.ToString();
  }
  return false;
}

bool RocksDbEventLog::Impl::reopen() {
  const std::unique_lock lock(db_mu);  // Waits for the reads in progress.
  close_db();
  if (auto ec = open_db()) {
    db = nullptr;
    handles.clear();
    return false;
  }
  heads.clear();  // Reloaded from disk on next touch.
  // Before any reader sees the reopened store: the replayed WAL may hold records whose write
  // failed. If they cannot be rolled back now, nobody reads them: close again.
  if (!roll_back_failed_groups()) {
    close_db();
    return false;
  }
  log::store()->warn("store reopened after a failed write dir={}", options.path);
  return true;
}

bool RocksDbEventLog::Impl::roll_back_failed_groups() {
  if (unacked_after.empty()) {
    return true;
  }
  rocksdb::WriteBatch batch;
  const rocksdb::ReadOptions read_options;
  for (const auto& [id, acked] : unacked_after) {
    const RoomId room(id);
    auto meta = get_meta(read_options, room);
    if (!meta) {
      if (meta.error() == Errc::kRoomNotFound) {
        continue;
      }
      return false;
    }
    auto newest = newest_seq(read_options, room);
    if (!newest) {
      return false;
    }
    if (!acked.exists) {
      log::store()->warn("rolling back a room creation that failed room={} head={}", id, *newest);
      batch.Delete(rooms_cf, id);
      batch.Delete(snapshots_cf, id);
      batch.DeleteRange(events_cf, room_key_prefix(room), room_key_end(room));
      batch.DeleteRange(dedup_cf, room_key_prefix(room), room_key_end(room));
      batch.DeleteRange(cursors_cf, room_key_prefix(room), room_key_end(room));
    } else if (*newest > acked.head) {
      log::store()->warn("rolling back events whose write failed room={} from_seq={} to_seq={}", id,
                         acked.head + 1, *newest);
      const std::string from = encode_event_key(room, Seq(acked.head + 1));
      batch.DeleteRange(events_cf, from, room_key_end(room));
      batch.DeleteRange(dedup_cf, from, room_key_end(room));
    }
    heads.erase(id);
  }
  if (batch.Count() > 0) {
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    if (const rocksdb::Status st = db->Write(write_options, &batch); !st.ok()) {
      last_write_error = st.ToString();
      return false;
    }
  }
  unacked_after.clear();
  return true;
}

void RocksDbEventLog::Impl::commit_group(std::vector<Request>& group) {
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, RoomHead> staged;  // Heads after the group's accepted appends.
  std::unordered_map<std::string, std::uint64_t> staged_snapshots;
  std::vector<error_code> results(group.size());
  // Below the reserve nothing that grows the store is written: appends fail with kStorageFull,
  // snapshots and cursors (best effort) are dropped. Deletes still run (they are how an operator
  // frees space, and they are tiny).
  const bool full = !space_ok(/*force=*/false);
  // After a failed write nothing is staged (or read) until the store has recovered.
  const bool broken = needs_recovery && !recover();
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (broken) {
      results[i] = make_error_code(Errc::kStorageUnavailable);
      continue;
    }
    if (full && !std::holds_alternative<PendingDelete>(group[i])) {
      if (std::holds_alternative<PendingAppend>(group[i])) {
        results[i] = make_error_code(Errc::kStorageFull);
      }
      continue;
    }
    if (auto* append = std::get_if<PendingAppend>(&group[i])) {
      results[i] = stage_append(*append, staged, batch);
    } else if (auto* snapshot = std::get_if<PendingSnapshot>(&group[i])) {
      stage_snapshot(*snapshot, staged, staged_snapshots, batch);
    } else if (auto* del = std::get_if<PendingDelete>(&group[i])) {
      results[i] = stage_delete(*del, staged, batch);
    } else {
      auto& cursor = std::get<PendingCursor>(group[i]);
      CursorRecord record;
      record.set_seq(cursor.seq);
      batch.Put(cursors_cf, cursor.key, record.SerializeAsString());
    }
  }

  error_code write_ec;
  if (fail_next_writes.load() > 0) {
    fail_next_writes.fetch_sub(1);
    write_ec = make_error_code(Errc::kStorageUnavailable);
    last_write_error = "injected failure";
  } else if (broken) {
    write_ec = make_error_code(Errc::kStorageUnavailable);  // Nothing written.
  } else if (batch.Count() > 0) {
    {
      rocksdb::WriteOptions write_options;
      write_options.sync = options.durability == Durability::kSync;
      const auto started = std::chrono::steady_clock::now();
      const rocksdb::Status st = db->Write(write_options, &batch);
      write_latency.observe_us(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - started)
                                   .count());
      bytes_since_space_check += batch.GetDataSize();
      if (!st.ok()) {
        // Whatever the status, RocksDB may now be in read-only mode (a background error);
        // Resume() before the next write. A write that failed may or may not be in the WAL
        // (an append that went through, then a failed sync): it was never acknowledged, and
        // Resume() (memtable flush, new WAL) keeps it from being replayed later.
        needs_recovery = true;
        last_write_error = st.ToString();
        log::store()->error("commit group write failed records={} err={}", batch.Count(),
                            st.ToString());
        write_ec = make_error_code(st.IsNoSpace() ? Errc::kStorageFull : Errc::kStorageUnavailable);
      }
    }
  }
  if (batch.Count() > 0 || write_ec) {
    last_write_failed = static_cast<bool>(write_ec);
    set_health();
  }
  if (write_ec) {
    // A failed Write may or may not have reached the WAL, so the staged heads are not trusted
    // either way: forget the group's rooms and reload them from disk on next touch. Every request
    // fails, including rejected ones, whose checks may have relied on heads that were not stored.
    for (const auto& [room, head] : staged) {
      if (needs_recovery && !unacked_after.contains(room)) {
        auto it = heads.find(room);
        unacked_after.emplace(room, it != heads.end() ? it->second : RoomHead{});
      }
      heads.erase(room);
    }
    std::fill(results.begin(), results.end(), write_ec);
  } else {
    for (auto& [room, head] : staged) {
      if (head.exists) {
        heads[room] = head;
      } else {
        heads.erase(room);  // Deleted in this group.
      }
    }
  }
  // Callbacks run after the write, outside any lock (they may append again).
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (auto* append = std::get_if<PendingAppend>(&group[i])) {
      append->done(results[i]);
    } else if (auto* del = std::get_if<PendingDelete>(&group[i])) {
      del->done(results[i]);
    }
  }
}

template <class Fn>
error_code RocksDbEventLog::Impl::scan(const rocksdb::ReadOptions& base,
                                       rocksdb::ColumnFamilyHandle* cf, const RoomId& room,
                                       std::uint64_t lo, std::uint64_t hi, bool newest_first,
                                       std::size_t limit, Fn&& fn) {
  if (lo > hi || limit == 0) {
    return {};
  }
  // Bounds keep the iterator inside the room (and let RocksDB skip other rooms' files).
  const std::string lower = encode_event_key(room, Seq(lo));
  const std::string last = encode_event_key(room, Seq(hi));
  const std::string upper = room_key_end(room);
  const rocksdb::Slice lower_bound(lower);
  const rocksdb::Slice upper_bound(upper);
  rocksdb::ReadOptions read_options = base;
  read_options.iterate_lower_bound = &lower_bound;
  read_options.iterate_upper_bound = &upper_bound;
  const std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, cf));
  if (newest_first) {
    it->SeekForPrev(last);
  } else {
    it->Seek(lower);
  }
  for (std::size_t n = 0; n < limit && it->Valid(); ++n) {
    auto key = decode_event_key(to_view(it->key()));
    if (!key || key->room != room) {
      return make_error_code(Errc::kInternal);
    }
    if (key->seq.value() > hi || key->seq.value() < lo) {
      break;
    }
    if (auto ec = fn(key->seq, it->value())) {
      return ec;
    }
    if (newest_first) {
      it->Prev();
    } else {
      it->Next();
    }
  }
  return to_error(it->status());
}

error_code RocksDbEventLog::Impl::scan_events(const rocksdb::ReadOptions& base, const RoomId& room,
                                              std::uint64_t lo, std::uint64_t hi, bool newest_first,
                                              std::size_t limit, std::vector<Event>& out) {
  const std::size_t first = out.size();
  auto ec = scan(base, events_cf, room, lo, hi, newest_first, limit,
                 [&out](Seq /*seq*/, const rocksdb::Slice& value) -> error_code {
                   Event event;
                   if (!parse(event, value)) {
                     return make_error_code(Errc::kInternal);
                   }
                   out.push_back(std::move(event));
                   return {};
                 });
  if (newest_first) {
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());  // Ascending.
  }
  return ec;
}

Result<std::uint64_t> RocksDbEventLog::Impl::newest_seq(const rocksdb::ReadOptions& base,
                                                        const RoomId& room) {
  std::uint64_t newest = 0;
  auto ec = scan(base, events_cf, room, 0, kMaxSeq, /*newest_first=*/true, 1,
                 [&newest](Seq seq, const rocksdb::Slice& /*value*/) -> error_code {
                   newest = seq.value();
                   return {};
                 });
  if (ec) {
    return ec;
  }
  return newest;
}

Result<RoomMeta> RocksDbEventLog::Impl::get_meta(const rocksdb::ReadOptions& base,
                                                 const RoomId& room) {
  if (!is_valid_room_id(room.value())) {
    return make_error_code(Errc::kInvalidArgument);
  }
  rocksdb::PinnableSlice bytes;
  const rocksdb::Status st = db->Get(base, rooms_cf, room.value(), &bytes);
  if (st.IsNotFound()) {
    return make_error_code(Errc::kRoomNotFound);
  }
  if (!st.ok()) {
    return to_error(st);
  }
  RoomMeta meta;
  if (!parse(meta, bytes)) {
    return make_error_code(Errc::kInternal);
  }
  return meta;
}

// ---------------------------------------------------------------------------------------------

RocksDbEventLog::RocksDbEventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RocksDbEventLog::~RocksDbEventLog() = default;

Result<RocksDbEventLog::BackupStats> RocksDbEventLog::backup(const std::string& from,
                                                             const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code fs_ec;
  if (fs::exists(to, fs_ec) && !fs::is_empty(to, fs_ec)) {
    return make_error_code(Errc::kInvalidArgument);
  }
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), from, &names).ok()) {
    return make_error_code(Errc::kInternal);  // No store there.
  }
  // The secondary keeps its own info log and state beside the copy; removed when done.
  const std::string secondary_dir = to + ".secondary";
  fs::create_directories(secondary_dir, fs_ec);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{secondary_dir};

  rocksdb::Options source_options;
  source_options.max_open_files = -1;  // Required of a secondary instance.
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> source_handles;
  rocksdb::DB* source_raw = nullptr;
  if (auto ec = to_error(rocksdb::DB::OpenAsSecondary(source_options, from, secondary_dir,
                                                      descriptors, &source_handles, &source_raw))) {
    return ec;
  }
  std::unique_ptr<rocksdb::DB> source(source_raw);
  struct Handles {
    rocksdb::DB* db;
    std::vector<rocksdb::ColumnFamilyHandle*>& list;
    ~Handles() {
      for (auto* h : list) {
        ignore_error(to_error(db->DestroyColumnFamilyHandle(h)), "closing the copy's source");
      }
    }
  } source_guard{source.get(), source_handles};
  // One catch-up: from here on the secondary's view does not move.
  if (auto ec = to_error(source->TryCatchUpWithPrimary())) {
    return ec;
  }

  rocksdb::Options target_options;
  target_options.create_if_missing = true;
  target_options.create_missing_column_families = true;
  target_options.error_if_exists = true;
  std::vector<rocksdb::ColumnFamilyHandle*> target_handles;
  rocksdb::DB* target_raw = nullptr;
  if (auto ec = to_error(
          rocksdb::DB::Open(target_options, to, descriptors, &target_handles, &target_raw))) {
    return ec;
  }
  std::unique_ptr<rocksdb::DB> target(target_raw);
  Handles target_guard{target.get(), target_handles};

  BackupStats stats;
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;  // Flushed and synced below, before the copy counts as done.
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::unique_ptr<rocksdb::Iterator> it(
        source->NewIterator(rocksdb::ReadOptions(), source_handles[i]));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto key = it->key();
      auto value = it->value();
      std::string restamped;
      if (names[i] == rocksdb::kDefaultColumnFamilyName && key == kStoreMetaKey) {
        StoreMeta meta;
        if (!meta.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return make_error_code(Errc::kInternal);
        }
        stats.source_epoch = Epoch(meta.epoch());
        meta.set_backup_of_epoch(meta.epoch());
        meta.set_epoch(random_nonzero());
        meta.set_backup_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
        stats.epoch = Epoch(meta.epoch());
        restamped = meta.SerializeAsString();
        value = restamped;
      }
      if (auto ec = to_error(batch.Put(target_handles[i], key, value))) {
        return ec;
      }
      ++stats.keys;
      stats.bytes += key.size() + value.size();
      stats.rooms += names[i] == kRoomsCf ? 1 : 0;
      stats.events += names[i] == kEventsCf ? 1 : 0;
      if (batch.GetDataSize() >= 4U << 20U) {
        if (auto ec = to_error(target->Write(no_wal, &batch))) {
          return ec;
        }
        batch.Clear();
      }
    }
    if (auto ec = to_error(it->status())) {
      return ec;
    }
    if (auto ec = to_error(target->Write(no_wal, &batch))) {
      return ec;
    }
  }
  if (stats.epoch.value() == 0) {
    return make_error_code(Errc::kInternal);  // Not a Huddle store: no epoch.
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (auto ec = to_error(target->Flush(flush, target_handles))) {
    return ec;
  }
  if (auto ec = to_error(target->SyncWAL())) {
    return ec;
  }
  return stats;
}

Result<std::unique_ptr<RocksDbEventLog>> RocksDbEventLog::open(const RocksDbOptions& options) {
  if (options.path.empty() || options.max_group_records == 0) {
    return make_error_code(Errc::kInvalidArgument);
  }
  auto impl = std::make_unique<Impl>(options);
  if (auto ec = impl->open_db(/*first=*/true)) {
    return ec;
  }
  if (auto ec = impl->load_or_create_epoch()) {
    return ec;
  }
  impl->start_writer();
  return std::unique_ptr<RocksDbEventLog>(new RocksDbEventLog(std::move(impl)));
}

Epoch RocksDbEventLog::epoch() const {
  return impl_->epoch;
}

void RocksDbEventLog::render_metrics(std::string& out) const {
  impl_->write_latency.render(out, "huddle_store_write_seconds",
                              "One commit group's RocksDB write, WAL fsync included (sync).");
  const std::shared_lock lock(impl_->db_mu);
  const auto gauge = [&](const char* name, const char* help, const rocksdb::Slice& property) {
    std::uint64_t total = 0;
    for (auto* cf : impl_->handles) {
      std::uint64_t v = 0;
      if (impl_->db != nullptr && impl_->db->GetIntProperty(cf, property, &v)) {
        total += v;
      }
    }
    out += "# HELP ";
    out += name;
    out += " ";
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += " gauge\n";
    out += name;
    out += " ";
    out += std::to_string(total);
    out += "\n";
  };
  gauge("huddle_store_sst_bytes", "Size of every SST file of the store.",
        rocksdb::DB::Properties::kTotalSstFilesSize);
  gauge("huddle_store_pending_compaction_bytes", "RocksDB's estimate of bytes left to compact.",
        rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  gauge("huddle_store_memtable_bytes", "Bytes in memtables (not yet flushed to SST files).",
        rocksdb::DB::Properties::kCurSizeAllMemTables);
}

StoreHealth RocksDbEventLog::health() const {
  std::lock_guard lock(impl_->health_mu);
  return impl_->health;
}

void RocksDbEventLog::fail_next_writes(int n) {
  impl_->fail_next_writes.store(n);
}

void RocksDbEventLog::append(std::vector<AppendRecord> records, AppendCallback done) {
  Impl::Request request =
      Impl::PendingAppend{.records = std::move(records), .done = std::move(done)};
  if (!impl_->enqueue(request)) {
    std::get<Impl::PendingAppend>(request).done(make_error_code(Errc::kOverloaded));
  }
}

void RocksDbEventLog::put_snapshot(const RoomId& room, SnapshotRecord record) {
  // Queued behind every append already queued, so it is never on disk before its event.
  // Best effort: a full queue drops the snapshot; the room loads from an older one.
  Impl::Request request = Impl::PendingSnapshot{.room = room, .record = std::move(record)};
  ignore_error(
      impl_->enqueue(request) ? boost::system::error_code{} : make_error_code(Errc::kOverloaded),
      "snapshots are an optimization");
}

void RocksDbEventLog::put_cursor(const RoomId& room, const std::string& member_id, Seq seq) {
  // Best effort like snapshots: a full queue drops it, and the member sees a few events twice
  // as "new".
  Impl::Request request =
      Impl::PendingCursor{.key = room_key_prefix(room) + member_id, .seq = seq.value()};
  ignore_error(
      impl_->enqueue(request) ? boost::system::error_code{} : make_error_code(Errc::kOverloaded),
      "cursors are best effort");
}

void RocksDbEventLog::delete_room(const RoomId& room, AppendCallback done) {
  if (!is_valid_room_id(room.value())) {
    return done(make_error_code(Errc::kInvalidArgument));
  }
  Impl::Request request = Impl::PendingDelete{.room = room, .done = std::move(done)};
  if (!impl_->enqueue(request)) {
    std::get<Impl::PendingDelete>(request).done(make_error_code(Errc::kOverloaded));
  }
}

Result<std::vector<huddle::v1::RoomInfo>> RocksDbEventLog::list_rooms() {
  const std::shared_lock lock(impl_->db_mu);
  if (impl_->db == nullptr) {
    return make_error_code(Errc::kStorageUnavailable);  // Being reopened after a failed write.
  }
  const std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->rooms_cf));
  std::vector<huddle::v1::RoomInfo> rooms;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    RoomMeta meta;
    if (!parse(meta, it->value())) {
      return make_error_code(Errc::kInternal);
    }
    rooms.push_back(std::move(*meta.mutable_info()));
  }
  if (auto ec = to_error(it->status())) {
    return ec;
  }
  return rooms;
}

Result<RoomLoad> RocksDbEventLog::load_room(const RoomId& room, const LoadOptions& opts) {
  const std::shared_lock lock(impl_->db_mu);
  if (impl_->db == nullptr) {
    return make_error_code(Errc::kStorageUnavailable);  // Being reopened after a failed write.
  }
  const ReadView view(impl_->db);
  auto meta = impl_->get_meta(view.options(), room);
  if (!meta) {
    return meta.error();
  }
  RoomLoad load;
  load.meta = std::move(*meta);

  rocksdb::PinnableSlice snapshot_bytes;
  const rocksdb::Status st =
      impl_->db->Get(view.options(), impl_->snapshots_cf, room.value(), &snapshot_bytes);
  if (st.ok()) {
    SnapshotRecord snapshot;
    if (!parse(snapshot, snapshot_bytes)) {
      return make_error_code(Errc::kInternal);
    }
    load.snapshot = std::move(snapshot);
  } else if (!st.IsNotFound()) {
    return to_error(st);
  }

  auto newest = impl_->newest_seq(view.options(), room);
  if (!newest) {
    return newest.error();
  }
  load.head = Seq(*newest);

  if (!load.snapshot || load.snapshot->seq() < kMaxSeq) {
    const std::uint64_t from = load.snapshot ? load.snapshot->seq() + 1 : 0;
    if (auto ec = impl_->scan_events(view.options(), room, from, kMaxSeq, /*newest_first=*/false,
                                     std::numeric_limits<std::size_t>::max(), load.replay)) {
      return ec;
    }
  }
  if (auto ec = impl_->scan_events(view.options(), room, 0, kMaxSeq, /*newest_first=*/true,
                                   opts.tail_events, load.tail)) {
    return ec;
  }
  auto ec =
      impl_->scan(view.options(), impl_->dedup_cf, room, 0, kMaxSeq, /*newest_first=*/true,
                  opts.dedup_window, [&load](Seq seq, const rocksdb::Slice& value) -> error_code {
                    DedupEntry entry{.seq = seq, .op = DedupRecord()};
                    if (!parse(entry.op, value)) {
                      return make_error_code(Errc::kInternal);
                    }
                    load.dedup.push_back(std::move(entry));
                    return {};
                  });
  if (ec) {
    return ec;
  }
  std::reverse(load.dedup.begin(), load.dedup.end());  // Ascending by seq.

  const std::string prefix = room_key_prefix(room);
  const std::string end = room_key_end(room);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions cursor_options = view.options();
  cursor_options.iterate_upper_bound = &upper;
  const std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(cursor_options, impl_->cursors_cf));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    CursorRecord record;
    if (!parse(record, it->value())) {
      return make_error_code(Errc::kInternal);
    }
    load.cursors.push_back(
        Cursor{.member_id = it->key().ToString().substr(prefix.size()), .seq = Seq(record.seq())});
  }
  if (auto cursor_ec = to_error(it->status())) {
    return cursor_ec;
  }
  return load;
}

Result<std::vector<Event>> RocksDbEventLog::read_before(const RoomId& room, Seq before,
                                                        std::size_t limit) {
  const std::shared_lock lock(impl_->db_mu);
  if (impl_->db == nullptr) {
    return make_error_code(Errc::kStorageUnavailable);  // Being reopened after a failed write.
  }
  const ReadView view(impl_->db);
  if (auto meta = impl_->get_meta(view.options(), room); !meta) {
    return meta.error();
  }
  std::vector<Event> events;
  if (before.value() == 0) {
    return events;
  }
  if (auto ec = impl_->scan_events(view.options(), room, 0, before.value() - 1,
                                   /*newest_first=*/true, limit, events)) {
    return ec;
  }
  return events;
}

Result<std::vector<Event>> RocksDbEventLog::read_after(const RoomId& room, Seq after,
                                                       std::size_t limit) {
  const std::shared_lock lock(impl_->db_mu);
  if (impl_->db == nullptr) {
    return make_error_code(Errc::kStorageUnavailable);  // Being reopened after a failed write.
  }
  const ReadView view(impl_->db);
  if (auto meta = impl_->get_meta(view.options(), room); !meta) {
    return meta.error();
  }
  std::vector<Event> events;
  if (after.value() == kMaxSeq) {
    return events;
  }
  if (auto ec = impl_->scan_events(view.options(), room, after.value() + 1, kMaxSeq,
                                   /*newest_first=*/false, limit, events)) {
    return ec;
  }
  return events;
}

Result<Seq> RocksDbEventLog::head(const RoomId& room) {
  const std::shared_lock lock(impl_->db_mu);
  if (impl_->db == nullptr) {
    return make_error_code(Errc::kStorageUnavailable);  // Being reopened after a failed write.
  }
  const ReadView view(impl_->db);
  if (auto meta = impl_->get_meta(view.options(), room); !meta) {
    return meta.error();
  }
  auto newest = impl_->newest_seq(view.options(), room);
  if (!newest) {
    return newest.error();
  }
  return Seq(*newest);
}

}  // namespace huddle::store
