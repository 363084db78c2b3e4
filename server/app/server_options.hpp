// ServerOptions: every knob of the server, with its default and the reason for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "server/net/net_context.hpp"
#include "server/room/room_context.hpp"
#include "server/store/event_log.hpp"

namespace huddle::app {

struct ServerOptions {
  std::string host = "127.0.0.1";  // Loopback by default: open auth is for local use.
  std::uint16_t port = 8080;       // 0 = any free port (tests).
  std::string data_dir = "./data";
  store::Durability durability = store::Durability::kSync;  // Acked = on disk, power-loss safe.
  std::size_t threads = 0;                                  // I/O shards; 0 = one per core.
  bool ephemeral = false;  // In-memory log (nothing survives a restart).
  net::NetOptions net{};
  room::RoomOptions room{};
  // Test hook: runs on the starting thread after the listener is up and before the store opens
  // (a slow WAL replay, as seen from /readyz).
  std::function<void()> before_store_open;
};

}  // namespace huddle::app
