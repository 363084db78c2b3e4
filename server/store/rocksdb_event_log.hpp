// RocksDbEventLog: the production EventLog, one RocksDB database per data directory (DESIGN.md,
// "Storage"). Column families:
//   default    "store_meta" -> StoreMeta (the epoch: random, nonzero, fixed on first open)
//   events     key_codec key (room, seq) -> serialized huddle.v1.Event, as appended
//   rooms      room id -> RoomMeta
//   snapshots  room id -> SnapshotRecord (the newest one)
//   dedup      key_codec key (room, seq of the event) -> DedupRecord
//   cursors    room id + 0x00 + member id -> CursorRecord (read cursors)
//
// Writes are group-committed by one writer thread owned by the log: append() and put_snapshot()
// only enqueue; the writer takes everything queued (up to max_group_records), checks each append
// against the room heads it holds in memory, writes all accepted ones as ONE WriteBatch (at most
// one fsync), then runs the callbacks on the writer thread. Reads run on the calling thread.
// Thread-safe. The destructor waits for everything already queued, then closes the database.
//
// The header does not include RocksDB (only rocksdb_event_log.cpp does): the state is behind Impl.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/store/event_log.hpp"

namespace rocksdb {
class FileSystem;  // <rocksdb/file_system.h>; only rocksdb_event_log.cpp and tests include it.
}  // namespace rocksdb

namespace huddle::store {

struct RocksDbOptions {
  std::string path;  // Data directory; created with its parents if missing.
  Durability durability = Durability::kSync;
  // Records per commit group (one WriteBatch, one fsync). Bounds the batch's memory (a few MB of
  // small events) and how long the first request of a group waits behind the last, while still
  // amortizing one fsync over thousands of rooms' events. A larger single request goes alone.
  std::size_t max_group_records = 4096;
  // Requests waiting for the writer (all rooms). Past it append() fails at once with
  // kOverloaded (retryable) instead of queuing without bound behind a slow disk.
  std::size_t max_queued_requests = 256 * 1024;
  // Free space kept on the data directory's filesystem. While statvfs says less is available,
  // appends fail with kStorageFull (retryable; nothing written), snapshots and cursors are
  // dropped, health() says "disk full"; reads go on. Checked on the writer thread at most every
  // 100 ms or every reserve/8 bytes written (and every 100 ms while full, so writes resume by
  // themselves when space returns). 0 = no check. RocksDB's own flushes and compactions also
  // need room: keep it above the write buffer size times the column families.
  std::uint64_t reserve_bytes = 0;
  // Memtable size per column family before a flush to an SST (RocksDB's write_buffer_size);
  // 0 = RocksDB's default (64 MiB). Small values (tests) make flushes and compactions frequent.
  std::size_t write_buffer_bytes = 0;
  // After a failed write the writer closes and reopens the database to recover (RocksDB keeps
  // refusing writes until then); while the disk stays broken, at most one attempt per this many
  // milliseconds (appends in between fail at once with kStorageUnavailable).
  std::uint32_t reopen_backoff_ms = 100;
  // Test hook: the FileSystem RocksDB does its I/O through (a fault injector,
  // tests/support/fault_fs.hpp); null = the default one.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

class RocksDbEventLog final : public EventLog {
 public:
  // Dedup window: the dedup column family keeps at least every entry whose seq is within
  // kDedupRetainSeqs of the room's head (so LoadOptions::dedup_window = 4096 is always served
  // for dense seqs). Pruning is one range delete per room each time its head crosses a multiple
  // of kDedupPruneEvery, so a room holds at most kDedupRetainSeqs + kDedupPruneEvery seqs' worth.
  static constexpr std::uint64_t kDedupRetainSeqs = 4096;
  static constexpr std::uint64_t kDedupPruneEvery = 1024;

  // Opens (creating if needed) the store at options.path and starts the writer thread.
  // Errors: kInvalidArgument (empty path, max_group_records == 0), kStorageUnavailable (cannot
  // create the directory, I/O error, the directory is locked by another open log), kInternal
  // (corrupt store).
  [[nodiscard]] static Result<std::unique_ptr<RocksDbEventLog>> open(const RocksDbOptions& options);

  // Drains the queue (every pending callback runs), stops the writer, syncs the WAL, closes.
  ~RocksDbEventLog() override;

  [[nodiscard]] Epoch epoch() const override;
  [[nodiscard]] StoreHealth health() const override;
  // huddle_store_write_seconds (one commit group's Write, WAL fsync included under kSync),
  // huddle_store_sst_bytes, huddle_store_pending_compaction_bytes, huddle_store_memtable_bytes.
  void render_metrics(std::string& out) const override;
  // Extra errors: kInvalidArgument (no records, invalid room id, seq <= prev_seq, event bytes that
  // do not decode to an Event with this room, seq and prev_seq, create_room for another room).
  void append(std::vector<AppendRecord> records, AppendCallback done) override;
  void put_snapshot(const RoomId& room, huddle::storage::v1::SnapshotRecord record) override;
  void put_cursor(const RoomId& room, const std::string& member_id, Seq seq) override;
  void delete_room(const RoomId& room, AppendCallback done) override;
  // Reads: kInvalidArgument (invalid room id), kRoomNotFound, kStorageUnavailable, kInternal
  // (undecodable bytes on disk).
  [[nodiscard]] Result<std::vector<huddle::v1::RoomInfo>> list_rooms() override;
  [[nodiscard]] Result<RoomLoad> load_room(const RoomId& room, const LoadOptions& opts) override;
  [[nodiscard]] Result<std::vector<huddle::v1::Event>> read_before(const RoomId& room, Seq before,
                                                                   std::size_t limit) override;
  [[nodiscard]] Result<std::vector<huddle::v1::Event>> read_after(const RoomId& room, Seq after,
                                                                  std::size_t limit) override;
  [[nodiscard]] Result<Seq> head(const RoomId& room) override;

  // A consistent copy of the store at `from` into the new directory `to`, while a server may be
  // running on `from`: `from` is opened as a RocksDB secondary instance (no lock, read-only),
  // caught up with the primary's MANIFEST and WAL once (so the copy holds whole commit groups:
  // an event, its dedup entry and the room head together), and every column family is copied
  // into a fresh store. The copy gets a new epoch, so clients that knew `from` are RESET when
  // they resume against it, never handed events of another history. Errors: kInvalidArgument
  // (`to` exists and is not empty), kStorageUnavailable, kInternal (no store at `from`).
  struct BackupStats {
    std::uint64_t rooms = 0;
    std::uint64_t events = 0;
    std::uint64_t keys = 0;   // Every column family.
    std::uint64_t bytes = 0;  // Keys + values copied.
    Epoch source_epoch;
    Epoch epoch;  // The copy's.
  };
  [[nodiscard]] static Result<BackupStats> backup(const std::string& from, const std::string& to);

  // Test hook: the next `n` commit groups fail as if the write or sync had failed (every request
  // of the group gets kStorageUnavailable, nothing is written).
  void fail_next_writes(int n);

 private:
  struct Impl;
  explicit RocksDbEventLog(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace huddle::store
