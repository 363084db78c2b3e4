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
  // Free space kept on the data dir's filesystem: below it appends fail with STORAGE_FULL
  // (--storage-reserve-mb; 0 = no check). See store::RocksDbOptions::reserve_bytes.
  std::uint64_t storage_reserve_bytes = std::uint64_t{64} << 20U;
  // RocksDB memtable size per column family (--rocksdb-write-buffer-kb, for tests); 0 = default.
  std::size_t rocksdb_write_buffer_bytes = 0;
  net::NetOptions net{};  // net.auth: --auth, JWT keys, origins; net.limits: abuse limits.
  // Open auth listens on loopback only, unless this is set (then it warns): anyone reaching a
  // public address could claim any member id.
  bool allow_open_auth_on_public = false;
  // TLS (https/wss, TLS 1.2+): both set, or neither. A key that does not match fails start().
  std::string tls_cert_file;  // PEM chain.
  std::string tls_key_file;   // PEM private key.
  // Signs invite links. Empty: <data_dir>/invite.key, created on first start (a random key
  // in memory with --ephemeral).
  std::string invite_key_file;
  room::RoomOptions room{};
  // Test hook: runs on the starting thread after the listener is up and before the store opens
  // (a slow WAL replay, as seen from /readyz).
  std::function<void()> before_store_open;
};

}  // namespace huddle::app
