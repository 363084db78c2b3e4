// Server: wires the path of one message together: shards (I/O threads), the EventLog and its
// reader executor, the RoomRegistry, and the Listener. Tests run it in-process on port 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/steady_timer.hpp>

#include "core/common/error.hpp"
#include "server/app/server_options.hpp"
#include "server/util/metrics.hpp"

namespace boost::asio {
class thread_pool;
}

namespace huddle {
class ShardSet;
class Clock;
}  // namespace huddle

namespace huddle::net {
class Listener;
struct NetContext;
}  // namespace huddle::net

namespace huddle::room {
class RoomRegistry;
struct RoomContext;
}  // namespace huddle::room

namespace boost::asio::ssl {
class context;
}

namespace huddle::app {

class Server {
 public:
  explicit Server(ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;
  ~Server();

  // Opens the store, loads the room directory, binds and starts the threads.
  // Errors: the store cannot be opened (kStorageUnavailable), or the address cannot be bound.
  [[nodiscard]] boost::system::error_code start();
  // Graceful: stop accepting, close every connection with 1001, stop the threads, close the
  // store. Idempotent.
  void stop();

  // Any thread: the bound port, once the listener is up (0 before).
  [[nodiscard]] std::uint16_t port() const noexcept { return port_.load(); }
  // The store, once open (tests inject faults through it); nullptr before.
  [[nodiscard]] store::EventLog* event_log() noexcept { return log_.get(); }
  [[nodiscard]] std::uint64_t epoch() const noexcept;
  [[nodiscard]] std::int64_t connections() const noexcept;

 private:
  ServerOptions options_;
  // First member, so destroyed last: outboxes and sessions report to it until they are gone.
  std::unique_ptr<metrics::Metrics> metrics_ = std::make_unique<metrics::Metrics>();
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<store::EventLog> log_;
  std::unique_ptr<room::RoomContext> room_ctx_;
  std::unique_ptr<room::RoomRegistry> registry_;
  std::unique_ptr<net::NetContext> net_ctx_;
  std::unique_ptr<boost::asio::thread_pool> reader_;
  std::unique_ptr<ShardSet> shards_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::shared_ptr<net::Listener> listener_;
  // Idle-room eviction sweep, on shard 0 (destroyed before the shards: declared after them).
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
  void schedule_sweep();
  std::atomic<std::uint16_t> port_{0};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace huddle::app
