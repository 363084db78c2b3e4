// EventLog: the durable, ordered log of every room's events. The Room is its only writer for a
// room; the log enforces the prev_seq chain itself (an append whose prev_seq is not the stored
// head fails with kConflict), so no later event can ever hang off a failed one.
//
// Implementations: RocksDbEventLog (production, group commit), MemoryEventLog (unit tests,
// --ephemeral). A NATS JetStream implementation is planned (see docs/ARCHITECTURE.md); nothing
// here promises what only one process could.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/ids.hpp"
#include "huddle/storage/v1/meta.pb.h"
#include "huddle/v1/board.pb.h"
#include "huddle/v1/event.pb.h"

namespace huddle::store {

enum class Durability {
  kSync,  // fsync every commit group: survives power loss.
  kWal,   // WAL written without fsync: survives a process crash, may lose the last groups on power
          // loss.
};

// One event to append.
struct AppendRecord {
  RoomId room;
  Seq seq;
  Seq prev_seq;             // Must equal the room's stored head (0 for a new room), else kConflict.
  std::string event_bytes;  // A serialized huddle.v1.Event with this room, seq and prev_seq.
  // The command's (member, op id): stored with the event in the same batch (exactly-once).
  std::optional<huddle::storage::v1::DedupRecord> dedup;
  // Set on a room's first event: creates the room. kRoomExists if it already exists.
  std::optional<huddle::storage::v1::RoomMeta> create_room;
};

// Completion of one append(): runs exactly once, on the log's own writer thread (or inline for
// MemoryEventLog). Callers post the result back to their executor and must not block in it.
using AppendCallback = std::function<void(boost::system::error_code)>;

struct DedupEntry {
  Seq seq;
  huddle::storage::v1::DedupRecord op;
};

// A member's read cursor in a room.
struct Cursor {
  std::string member_id;
  Seq seq;
};

struct LoadOptions {
  std::size_t tail_events = 2048;   // How many of the newest events to return in `tail`.
  std::size_t dedup_window = 4096;  // How many of the newest dedup entries to return.
};

// What a room needs to come back into memory: state = snapshot + replay, plus caches.
struct RoomLoad {
  huddle::storage::v1::RoomMeta meta;
  std::optional<huddle::storage::v1::SnapshotRecord> snapshot;
  std::vector<huddle::v1::Event> replay;  // Every event after the snapshot (or all), ascending.
  std::vector<huddle::v1::Event> tail;    // The newest min(all, tail_events) events, ascending.
  std::vector<DedupEntry> dedup;          // The newest dedup entries, ascending by seq.
  std::vector<Cursor> cursors;            // Every member's read cursor, by member id.
  Seq head;                               // Seq of the newest event.
};

// Whether the store takes writes now (for /readyz): false after a write or sync failed, until
// one succeeds again.
struct StoreHealth {
  bool writable = true;
  std::string detail;  // Why not ("" when writable).
};

class EventLog {
 public:
  EventLog() = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  EventLog(EventLog&&) = delete;
  EventLog& operator=(EventLog&&) = delete;
  virtual ~EventLog() = default;

  // Thread-safe; cheap.
  [[nodiscard]] virtual StoreHealth health() const { return {}; }
  // Appends the store's own figures to a /metrics scrape (Prometheus text). Thread-safe.
  virtual void render_metrics(std::string& /*out*/) const {}

  // Random id fixed when the store was created; a replaced store has a new one (RESET).
  [[nodiscard]] virtual Epoch epoch() const = 0;

  // Appends atomically (all records or none), group-committed with other callers' appends, and
  // calls `done` once they are durable under the configured Durability, or with the error:
  // kConflict (prev_seq is not the head), kRoomExists, kRoomNotFound (no create_room and the room
  // does not exist), kStorageUnavailable (the write or sync failed). Thread-safe.
  virtual void append(std::vector<AppendRecord> records, AppendCallback done) = 0;

  // Stores the board of `room` at `record.seq()` (best effort, asynchronous, after that event is
  // durable). Rooms load in O(events since the last snapshot).
  virtual void put_snapshot(const RoomId& room, huddle::storage::v1::SnapshotRecord record) = 0;

  // Stores `member`'s read cursor in `room` (best effort, asynchronous, ordered after the appends
  // already queued). The room keeps cursors monotonic; the log stores what it is given.
  virtual void put_cursor(const RoomId& room, const std::string& member_id, Seq seq) = 0;

  // Deletes `room` with everything stored for it (events, dedup entries, snapshot, cursors),
  // atomically and durably, ordered after every append already queued; `done` as for append()
  // (kRoomNotFound if it does not exist). A later create of the same id starts from seq 1.
  virtual void delete_room(const RoomId& room, AppendCallback done) = 0;

  // Blocking reads. Thread-safe; the server runs them off the I/O threads.
  [[nodiscard]] virtual Result<std::vector<huddle::v1::RoomInfo>> list_rooms() = 0;
  [[nodiscard]] virtual Result<RoomLoad> load_room(const RoomId& room, const LoadOptions& opts) = 0;
  // Up to `limit` events with seq < before (the newest of them), ascending.
  [[nodiscard]] virtual Result<std::vector<huddle::v1::Event>> read_before(const RoomId& room,
                                                                           Seq before,
                                                                           std::size_t limit) = 0;
  // Up to `limit` events with seq > after (the oldest of them), ascending.
  [[nodiscard]] virtual Result<std::vector<huddle::v1::Event>> read_after(const RoomId& room,
                                                                          Seq after,
                                                                          std::size_t limit) = 0;
  // Seq of the room's newest event; kRoomNotFound if it does not exist.
  [[nodiscard]] virtual Result<Seq> head(const RoomId& room) = 0;
};

}  // namespace huddle::store
