#include "server/room/room_registry.hpp"

#include <algorithm>

#include "server/room/room.hpp"

namespace huddle::room {

RoomRegistry::RoomRegistry(RoomContext& ctx) : ctx_(ctx) {}

RoomRegistry::~RoomRegistry() = default;

boost::system::error_code RoomRegistry::load_directory() {
  auto rooms = ctx_.log->list_rooms();
  if (!rooms) {
    return rooms.error();
  }
  std::lock_guard lock(mu_);
  for (auto& info : *rooms) {
    directory_[info.room_id()] = info;
  }
  return {};
}

std::shared_ptr<Room> RoomRegistry::find(const RoomId& id) {
  std::shared_ptr<Room> room;
  {
    std::lock_guard lock(mu_);
    if (auto it = rooms_.find(id.value()); it != rooms_.end()) {
      if (!it->second->failed()) {
        return it->second;
      }
      rooms_.erase(it);  // A load that failed (say, a transient read error) is retried.
    }
    if (!directory_.contains(id.value())) {
      return nullptr;
    }
    room = std::make_shared<Room>(id, ctx_.shards->shard_for(id.value()), ctx_);
    rooms_.emplace(id.value(), room);
  }
  room->open();  // Outside the lock: never call out while holding it.
  return room;
}

boost::system::error_code RoomRegistry::create(MemberHandle from, huddle::v1::ClientFrame frame) {
  const RoomId id{frame.create_room().room_id()};
  if (!is_valid_room_id(id.value())) {
    return Errc::kInvalidArgument;
  }
  std::shared_ptr<Room> room;
  {
    std::lock_guard lock(mu_);
    if (directory_.contains(id.value()) || rooms_.contains(id.value()) ||
        deleting_.contains(id.value())) {
      return Errc::kRoomExists;
    }
    room = std::make_shared<Room>(id, ctx_.shards->shard_for(id.value()), ctx_);
    rooms_.emplace(id.value(), room);
  }
  room->create(std::move(from), std::move(frame),
               [this, id](bool ok, const huddle::v1::RoomInfo& info) {
                 std::lock_guard lock(mu_);
                 if (ok) {
                   directory_[id.value()] = info;
                 } else {
                   rooms_.erase(id.value());
                 }
               });
  return {};
}

std::vector<huddle::v1::RoomInfo> RoomRegistry::list() const {
  std::vector<huddle::v1::RoomInfo> out;
  {
    std::lock_guard lock(mu_);
    out.reserve(directory_.size());
    for (const auto& [id, info] : directory_) {
      out.push_back(info);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.room_id() < b.room_id(); });
  return out;
}

std::optional<huddle::v1::RoomInfo> RoomRegistry::info(const RoomId& id) const {
  std::lock_guard lock(mu_);
  const auto it = directory_.find(id.value());
  return it == directory_.end() ? std::nullopt : std::optional(it->second);
}

std::shared_ptr<Room> RoomRegistry::loaded(const RoomId& id) const {
  std::lock_guard lock(mu_);
  const auto it = rooms_.find(id.value());
  return it == rooms_.end() ? nullptr : it->second;
}

void RoomRegistry::remove(const RoomId& id, std::string reason, DoneCallback done) {
  std::shared_ptr<Room> room;
  huddle::v1::RoomInfo info;
  {
    std::lock_guard lock(mu_);
    auto entry = directory_.find(id.value());
    if (entry == directory_.end()) {
      return done(Errc::kRoomNotFound);
    }
    info = std::move(entry->second);
    directory_.erase(entry);
    if (auto it = rooms_.find(id.value()); it != rooms_.end()) {
      room = std::move(it->second);
      rooms_.erase(it);
    }
    deleting_.insert(id.value());
  }
  auto finish = [this, id, info = std::move(info),
                 done = std::move(done)](boost::system::error_code ec) {
    {
      std::lock_guard lock(mu_);
      deleting_.erase(id.value());
      if (ec) {
        directory_[id.value()] = info;  // Still on disk: it loads again on the next join.
      }
    }
    done(ec);
  };
  if (room) {
    room->close_and_delete(std::move(reason), std::move(finish));
  } else {
    ctx_.log->delete_room(id, std::move(finish));
  }
}

std::size_t RoomRegistry::evict_idle(std::int64_t now_ms, std::int64_t idle_ms) {
  std::vector<std::shared_ptr<Room>> dropped;  // Destroyed outside the lock.
  {
    std::lock_guard lock(mu_);
    for (auto it = rooms_.begin(); it != rooms_.end();) {
      const auto since = it->second->idle_since_ms();
      // use_count 1: only this map holds it. Sessions hold the rooms they joined, and every
      // posted handler holds its room, so nothing can touch it after it leaves the map.
      if (it->second.use_count() == 1 && since != 0 && now_ms - since >= idle_ms) {
        dropped.push_back(std::move(it->second));
        it = rooms_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return dropped.size();
}

std::size_t RoomRegistry::loaded_rooms() const {
  std::lock_guard lock(mu_);
  return rooms_.size();
}

}  // namespace huddle::room
