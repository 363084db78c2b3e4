// RoomRegistry: RoomId -> Room, and the directory of every room that exists. Thread-safe (any
// shard calls it on join/create/list; not on the per-message path). Rooms open lazily: the first
// command for a room loads its snapshot + tail from the log on the reader executor.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
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
  // Drops from memory every room idle (Room::idle_since_ms) for at least `idle_ms` that nobody
  // holds (no session joined to it, no handler in flight): under the registry's lock, so find()
  // cannot hand it out meanwhile; the next find() reloads it. Returns how many were dropped.
  std::size_t evict_idle(std::int64_t now_ms, std::int64_t idle_ms);
  [[nodiscard]] std::size_t loaded_rooms() const;

 private:
  RoomContext& ctx_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, huddle::v1::RoomInfo> directory_;  // Guarded by mu_.
  std::unordered_map<std::string, std::shared_ptr<Room>> rooms_;     // Guarded by mu_.
};

}  // namespace huddle::room
