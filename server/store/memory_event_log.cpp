#include "server/store/memory_event_log.hpp"

#include <algorithm>
#include <iterator>
#include <random>
#include <utility>

namespace huddle::store {
namespace {

using huddle::storage::v1::SnapshotRecord;
using huddle::v1::Event;

// The room's state as seen by the checks of one request (staged heads included).
struct RoomHead {
  bool exists = false;
  std::uint64_t head = 0;
};

Epoch random_epoch() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) | rd());
  std::uint64_t v = 0;
  while (v == 0) {  // 0 means "no epoch" to clients.
    v = gen();
  }
  return Epoch(v);
}

// Checks that need no store state. Keep in sync with rocksdb_event_log.cpp: the typed tests in
// event_log_test.cpp hold both implementations to the same answers.
[[nodiscard]] boost::system::error_code check_record(const AppendRecord& r) {
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
[[nodiscard]] boost::system::error_code check_and_stage(const AppendRecord& r, RoomHead& room) {
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

[[nodiscard]] Result<Event> parse_event(const std::string& bytes) {
  Event event;
  if (!event.ParseFromString(bytes)) {
    return make_error_code(Errc::kInternal);
  }
  return event;
}

// Parses [first, last) of a seq -> bytes map into `out`, in order.
template <class It>
[[nodiscard]] boost::system::error_code parse_range(It first, It last, std::vector<Event>& out) {
  for (; first != last; ++first) {
    auto event = parse_event(first->second);
    if (!event) {
      return event.error();
    }
    out.push_back(std::move(*event));
  }
  return {};
}

}  // namespace

MemoryEventLog::MemoryEventLog(std::optional<Epoch> epoch)
    : epoch_(epoch ? *epoch : random_epoch()) {}

void MemoryEventLog::fail_next_appends(int n) {
  std::lock_guard lock(mu_);
  fail_next_appends_ = n;
}

void MemoryEventLog::append(std::vector<AppendRecord> records, AppendCallback done) {
  boost::system::error_code ec;
  {
    std::lock_guard lock(mu_);
    if (fail_next_appends_ > 0) {
      --fail_next_appends_;
      ec = make_error_code(Errc::kStorageUnavailable);
    } else {
      ec = apply_locked(records);
    }
  }
  // Outside the lock: the callback may append again or read.
  done(ec);
}

boost::system::error_code MemoryEventLog::apply_locked(std::vector<AppendRecord>& records) {
  if (records.empty()) {
    return make_error_code(Errc::kInvalidArgument);
  }
  std::map<std::string, RoomHead> staged;
  for (const AppendRecord& r : records) {
    if (auto ec = check_record(r)) {
      return ec;
    }
    auto [it, inserted] = staged.try_emplace(r.room.value());
    if (inserted) {
      if (auto found = rooms_.find(r.room.value()); found != rooms_.end()) {
        it->second = RoomHead{.exists = true, .head = found->second.events.rbegin()->first};
      }
    }
    if (auto ec = check_and_stage(r, it->second)) {
      return ec;
    }
  }
  // Every record passed: apply them all.
  for (AppendRecord& r : records) {
    RoomData& room = rooms_[r.room.value()];
    if (r.create_room) {
      room.meta = std::move(*r.create_room);
      room.meta.mutable_info()->set_room_id(r.room.value());
    }
    const std::uint64_t old_head = room.events.empty() ? 0 : room.events.rbegin()->first;
    const std::uint64_t new_head = r.seq.value();
    room.events.emplace(new_head, std::move(r.event_bytes));
    if (r.dedup) {
      room.dedup.emplace(new_head, std::move(*r.dedup));
    }
    if (old_head / kDedupPruneEvery != new_head / kDedupPruneEvery && new_head > kDedupRetainSeqs) {
      room.dedup.erase(room.dedup.begin(), room.dedup.lower_bound(new_head - kDedupRetainSeqs));
    }
  }
  return {};
}

void MemoryEventLog::put_cursor(const RoomId& room, const std::string& member_id, Seq seq) {
  std::lock_guard lock(mu_);
  if (auto it = rooms_.find(room.value()); it != rooms_.end()) {
    it->second.cursors[member_id] = seq;
  }
}

void MemoryEventLog::delete_room(const RoomId& room, AppendCallback done) {
  boost::system::error_code ec;
  {
    std::lock_guard lock(mu_);
    if (rooms_.erase(room.value()) == 0) {
      ec = make_error_code(Errc::kRoomNotFound);
    }
  }
  done(ec);
}

void MemoryEventLog::put_snapshot(const RoomId& room, SnapshotRecord record) {
  std::lock_guard lock(mu_);
  auto it = rooms_.find(room.value());
  // Best effort, like the durable log: a snapshot of an unknown room, of an event not in the log,
  // or older than the stored one is dropped.
  if (it == rooms_.end() || record.seq() > it->second.events.rbegin()->first ||
      (it->second.snapshot && it->second.snapshot->seq() > record.seq())) {
    return;
  }
  it->second.snapshot = std::move(record);
}

Result<const MemoryEventLog::RoomData*> MemoryEventLog::find_locked(const RoomId& room) const {
  if (!is_valid_room_id(room.value())) {
    return make_error_code(Errc::kInvalidArgument);
  }
  auto it = rooms_.find(room.value());
  if (it == rooms_.end()) {
    return make_error_code(Errc::kRoomNotFound);
  }
  return &it->second;
}

Result<std::vector<huddle::v1::RoomInfo>> MemoryEventLog::list_rooms() {
  std::lock_guard lock(mu_);
  std::vector<huddle::v1::RoomInfo> rooms;
  rooms.reserve(rooms_.size());
  for (const auto& [id, room] : rooms_) {
    rooms.push_back(room.meta.info());
  }
  return rooms;
}

Result<RoomLoad> MemoryEventLog::load_room(const RoomId& room_id, const LoadOptions& opts) {
  std::lock_guard lock(mu_);
  auto found = find_locked(room_id);
  if (!found) {
    return found.error();
  }
  const RoomData& room = **found;
  RoomLoad load;
  load.meta = room.meta;
  load.snapshot = room.snapshot;
  for (const auto& [member, seq] : room.cursors) {
    load.cursors.push_back(Cursor{.member_id = member, .seq = seq});
  }
  load.head = Seq(room.events.rbegin()->first);
  auto replay_from =
      room.snapshot ? room.events.upper_bound(room.snapshot->seq()) : room.events.begin();
  if (auto ec = parse_range(replay_from, room.events.end(), load.replay)) {
    return ec;
  }
  const std::size_t tail = std::min(opts.tail_events, room.events.size());
  if (auto ec = parse_range(std::prev(room.events.end(), static_cast<std::ptrdiff_t>(tail)),
                            room.events.end(), load.tail)) {
    return ec;
  }
  const std::size_t dedup = std::min(opts.dedup_window, room.dedup.size());
  for (auto it = std::prev(room.dedup.end(), static_cast<std::ptrdiff_t>(dedup));
       it != room.dedup.end(); ++it) {
    load.dedup.push_back(DedupEntry{.seq = Seq(it->first), .op = it->second});
  }
  return load;
}

Result<std::vector<Event>> MemoryEventLog::read_before(const RoomId& room_id, Seq before,
                                                       std::size_t limit) {
  std::lock_guard lock(mu_);
  auto found = find_locked(room_id);
  if (!found) {
    return found.error();
  }
  const auto& events = (*found)->events;
  auto last = events.lower_bound(before.value());
  auto first = last;
  for (std::size_t n = 0; n < limit && first != events.begin(); ++n) {
    --first;
  }
  std::vector<Event> out;
  if (auto ec = parse_range(first, last, out)) {
    return ec;
  }
  return out;
}

Result<std::vector<Event>> MemoryEventLog::read_after(const RoomId& room_id, Seq after,
                                                      std::size_t limit) {
  std::lock_guard lock(mu_);
  auto found = find_locked(room_id);
  if (!found) {
    return found.error();
  }
  const auto& events = (*found)->events;
  auto first = events.upper_bound(after.value());
  auto last = first;
  for (std::size_t n = 0; n < limit && last != events.end(); ++n) {
    ++last;
  }
  std::vector<Event> out;
  if (auto ec = parse_range(first, last, out)) {
    return ec;
  }
  return out;
}

Result<Seq> MemoryEventLog::head(const RoomId& room_id) {
  std::lock_guard lock(mu_);
  auto found = find_locked(room_id);
  if (!found) {
    return found.error();
  }
  return Seq((*found)->events.rbegin()->first);
}

}  // namespace huddle::store
