// RoomRegistry: RoomId -> Room, and the directory of every room that exists. Thread-safe (any
// shard calls it on join/create/list; not on the per-message path). Rooms open lazily: the first
// command for a room loads its snapshot + tail from the log on the reader executor.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/ids.hpp"
#include "huddle/v1/board.pb.h"
#include "huddle/v1/frame.pb.h"
#include "server/room/member.hpp"
#include "server/room/room_context.hpp"

namespace huddle::room {

class Room;

class RoomRegistry {
 public:
  explicit RoomRegistry(RoomContext& ctx);
  RoomRegistry(const RoomRegistry&) = delete;
  RoomRegistry& operator=(const RoomRegistry&) = delete;
  RoomRegistry(RoomRegistry&&) = delete;
  RoomRegistry& operator=(RoomRegistry&&) = delete;
  ~RoomRegistry();

  // Startup: reads the directory of rooms from the log (blocking).
  [[nodiscard]] boost::system::error_code load_directory();

  // The live Room for `id`, opening it if it exists; nullptr if no such room.
  [[nodiscard]] std::shared_ptr<Room> find(const RoomId& id);

  // Starts creating a room; the Reply goes to `from`. kRoomExists / kInvalidArgument are
  // replied directly by the caller.
  [[nodiscard]] boost::system::error_code create(MemberHandle from, huddle::v1::ClientFrame frame);

  [[nodiscard]] std::vector<huddle::v1::RoomInfo> list() const;
  // The Room for `id` if it is in memory now (never loads it); nullptr otherwise.
  [[nodiscard]] std::shared_ptr<Room> loaded(const RoomId& id) const;
  // Deletes a room and its history (the admin API): it leaves the directory at once (find()
  // and list() no longer see it, create() of the id waits: kRoomExists until done), members
  // joined to it get RoomClosed, and `done` runs once the log's deletion is durable (on a shard
  // or the log's thread). kRoomNotFound if no such room.
  using DoneCallback = std::function<void(boost::system::error_code)>;
  void remove(const RoomId& id, std::string reason, DoneCallback done);
  // Drops from memory every room idle (Room::idle_since_ms) for at least `idle_ms` that nobody
  // holds (no session joined to it, no handler in flight): under the registry's lock, so find()
  // cannot hand it out meanwhile; the next find() reloads it. Returns how many were dropped.
  // The directory entry of a room (listing data), if it exists.
  [[nodiscard]] std::optional<huddle::v1::RoomInfo> info(const RoomId& id) const;
  std::size_t evict_idle(std::int64_t now_ms, std::int64_t idle_ms);
  [[nodiscard]] std::size_t loaded_rooms() const;
  [[nodiscard]] RoomContext& context() const noexcept { return ctx_; }

 private:
  RoomContext& ctx_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, huddle::v1::RoomInfo> directory_;  // Guarded by mu_.
  std::unordered_map<std::string, std::shared_ptr<Room>> rooms_;     // Guarded by mu_.
  std::unordered_set<std::string> deleting_;                         // Guarded by mu_.
};

}  // namespace huddle::room
