// What the network layer needs from the server: rooms, shards, limits and a live-session list
// for shutdown. Owned by the Server; outlives every session.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/auth/jwt.hpp"
#include "server/codec/frame_codec.hpp"
#include "server/fanout/outbox.hpp"
#include "server/net/keepalive.hpp"
#include "server/net/write_scheduler.hpp"
#include "server/room/room_registry.hpp"
#include "server/util/metrics.hpp"
#include "server/util/shards.hpp"

namespace boost::asio::ssl {
class context;
}

namespace huddle::net {

class Session;
class WriteScheduler;

// Who may connect and what they may send (docs/PROTOCOL.md, section 12). 0 = no limit.
struct AuthOptions {
  enum class Mode { kOpen, kJwt } mode = Mode::kOpen;
  std::optional<auth::JwtKey> jwt_key;  // kJwt: verifies member tokens.
  auth::JwtPolicy jwt_policy{};
  std::string invite_key;  // Signs invite links (HS256); empty: CreateInvite is refused.
  std::chrono::seconds auth_timeout{10};   // Upgrade to a successful Hello; else close 4002.
  std::chrono::seconds refresh_ahead{60};  // AuthExpiring this long before the token expires.
  // Exact Origin values a browser page may connect from. Empty: only the server's own origin
  // (scheme://Host; on a loopback listener only a loopback Host, against DNS rebinding).
  std::vector<std::string> allowed_origins;
  bool loopback_listener = true;  // Set by the Server from --listen.
};

struct LimitOptions {
  double commands_per_s = 20;           // Token bucket per connection; past it RATE_LIMITED.
  double command_burst = 40;            // Bucket size. `command_burst` refusals in a row: 4029.
  std::size_t frames_per_s = 200;       // Any message, in a one-second window; past it 4029.
  std::size_t max_connections = 20000;  // TCP connections in all; past it HTTP 503.
  std::size_t max_connections_per_ip = 512;  // From one address; past it HTTP 503.
};

struct NetOptions {
  std::size_t max_message_bytes = 64 * 1024;   // Per WebSocket message; past it close 1009.
  std::chrono::seconds handshake_timeout{10};  // HTTP request + WebSocket upgrade.
  std::chrono::seconds idle_timeout{60};       // No byte from the peer: ping at half, drop at full.
  std::size_t max_malformed_in_a_row = 3;      // Then close 1007.
  std::size_t max_rooms_per_connection = 64;   // Joins past it: INVALID_ARGUMENT.
  // Minimum gap between two write flushes of a shard: batches grow under load, at most this
  // much latency is added. See WriteScheduler.
  std::chrono::microseconds write_cork{500};
  std::chrono::microseconds write_cork_max{16000};  // Adaptive cork cap: bounds added latency.
  std::string admin_token;  // Bearer token of /api/v1/admin; empty: the admin API is off.
  std::string web_dir;      // The web client's files (GET /, /r/{room}, /web/...); empty: none.
  fanout::OutboxOptions outbox{};
  codec::CodecLimits codec{};
  AuthOptions auth{};
  LimitOptions limits{};
};

// Where the server is in its life, for /readyz. The listener is up from kStarting on; `rooms`
// and `epoch` are set before kReady is stored (release), and read only after it is seen
// (acquire).
enum class Lifecycle { kStarting, kReady, kStopping };

struct NetContext {
  ShardSet* shards = nullptr;
  std::atomic<Lifecycle> lifecycle{Lifecycle::kStarting};
  room::RoomRegistry* rooms = nullptr;
  metrics::Metrics* metrics = nullptr;  // Optional; its pointer is also in options.outbox.
  std::uint64_t epoch = 0;
  std::string server_version;
  NetOptions options{};
  boost::asio::ssl::context* tls = nullptr;  // Set: serve https/wss only (TLS 1.2+).

  std::vector<std::unique_ptr<WriteScheduler>> writers;  // One per shard, indexed by shard.
  std::vector<std::unique_ptr<Keepalive>> keepalives;    // One per shard, indexed by shard.

  std::atomic<std::uint64_t> next_conn_id{1};
  std::atomic<std::int64_t> connections{0};  // WebSocket sessions.

  // TCP connections (HTTP and WebSocket) per peer address, for the connection caps.
  std::mutex peers_mu;
  std::size_t tcp_connections = 0;                      // Guarded by peers_mu.
  std::unordered_map<std::string, std::size_t> per_ip;  // Guarded by peers_mu.

  // Live sessions, for graceful shutdown. Not on the message path.
  std::mutex sessions_mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions;  // Guarded by sessions_mu.
};

}  // namespace huddle::net
