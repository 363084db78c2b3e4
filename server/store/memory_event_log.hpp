// MemoryEventLog: an EventLog kept in std::maps, for unit tests and --ephemeral servers. Same
// semantics as RocksDbEventLog (conditions, all-or-nothing requests, dedup window, snapshots),
// minus durability: everything is lost with the object. append() runs its callback inline, before
// it returns, on the calling thread (never while holding the log's lock, so the callback may call
// back into the log). Thread-safe: one mutex guards all state.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/store/event_log.hpp"

namespace huddle::store {

class MemoryEventLog final : public EventLog {
 public:
  // Same dedup bounds as RocksDbEventLog: when a room's head crosses a multiple of
  // kDedupPruneEvery, dedup entries with seq < head - kDedupRetainSeqs are dropped.
  static constexpr std::uint64_t kDedupRetainSeqs = 4096;
  static constexpr std::uint64_t kDedupPruneEvery = 1024;

  // `epoch` defaults to a random nonzero value, like a freshly created store.
  explicit MemoryEventLog(std::optional<Epoch> epoch = std::nullopt);

  [[nodiscard]] Epoch epoch() const override { return epoch_; }
  void append(std::vector<AppendRecord> records, AppendCallback done) override;
  void put_snapshot(const RoomId& room, huddle::storage::v1::SnapshotRecord record) override;
  void put_cursor(const RoomId& room, const std::string& member_id, Seq seq) override;
  void delete_room(const RoomId& room, AppendCallback done) override;
  [[nodiscard]] Result<std::vector<huddle::v1::RoomInfo>> list_rooms() override;
  [[nodiscard]] Result<RoomLoad> load_room(const RoomId& room, const LoadOptions& opts) override;
  [[nodiscard]] Result<std::vector<huddle::v1::Event>> read_before(const RoomId& room, Seq before,
                                                                   std::size_t limit) override;
  [[nodiscard]] Result<std::vector<huddle::v1::Event>> read_after(const RoomId& room, Seq after,
                                                                  std::size_t limit) override;
  [[nodiscard]] Result<Seq> head(const RoomId& room) override;

  // Test hook: the next `n` append() calls fail with kStorageUnavailable and write nothing, as if
  // the disk had failed.
  void fail_next_appends(int n);

 private:
  struct RoomData {
    huddle::storage::v1::RoomMeta meta;
    std::map<std::uint64_t, std::string> events;  // seq -> serialized Event, never empty.
    std::map<std::uint64_t, huddle::storage::v1::DedupRecord> dedup;  // seq -> op.
    std::optional<huddle::storage::v1::SnapshotRecord> snapshot;
    std::map<std::string, Seq> cursors;  // member id -> seq.
  };

  // Checks every record, then applies all of them or none. REQUIRES: mu_ held.
  [[nodiscard]] boost::system::error_code apply_locked(std::vector<AppendRecord>& records);
  // The room, or kInvalidArgument / kRoomNotFound. REQUIRES: mu_ held.
  [[nodiscard]] Result<const RoomData*> find_locked(const RoomId& room) const;

  const Epoch epoch_;
  mutable std::mutex mu_;
  std::map<std::string, RoomData> rooms_;  // Guarded by mu_. Key: room id.
  int fail_next_appends_ = 0;              // Guarded by mu_.
};

}  // namespace huddle::store
