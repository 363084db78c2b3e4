#include "server/app/server.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "server/codec/wire_errors.hpp"
#include "server/net/listener.hpp"
#include "server/net/session.hpp"
#include "server/net/write_scheduler.hpp"
#include "server/room/room_registry.hpp"
#include "server/store/memory_event_log.hpp"
#include "server/store/rocksdb_event_log.hpp"
#include "server/util/clock.hpp"
#include "server/util/log.hpp"
#include "server/util/shards.hpp"

namespace huddle::app {

namespace asio = boost::asio;

Server::Server(ServerOptions options)
    : options_(std::move(options)), clock_(std::make_unique<SystemClock>()) {}

Server::~Server() {
  stop();
  // Order matters: the log's last callbacks post to the (stopped) shards, and handlers that the
  // shards still hold refer to the contexts below.
  listener_.reset();
  sweep_timer_.reset();
  log_.reset();
  if (net_ctx_) {
    net_ctx_->writers.clear();  // Their timers belong to the shards' io_contexts.
  }
  shards_.reset();
  reader_.reset();
  registry_.reset();
  net_ctx_.reset();
  room_ctx_.reset();
}

std::uint64_t Server::epoch() const noexcept {
  return log_ ? log_->epoch().value() : 0;
}

std::int64_t Server::connections() const noexcept {
  return net_ctx_ ? net_ctx_->connections.load() : 0;
}

boost::system::error_code Server::start() {
  // The listener comes up first, so that /readyz answers "starting" while the store opens (a
  // long WAL replay); everything else gets 503 until the rooms are wired in.
  const std::size_t threads = options_.threads != 0
                                  ? options_.threads
                                  : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  shards_ = std::make_unique<ShardSet>(threads);
  reader_ = std::make_unique<asio::thread_pool>(1);
  net_ctx_ = std::make_unique<net::NetContext>();
  net_ctx_->shards = shards_.get();
  net_ctx_->server_version = "huddle/0.1.0";
  net_ctx_->options = options_.net;
  net_ctx_->metrics = metrics_.get();
  net_ctx_->options.outbox.metrics = metrics_.get();
  for (std::size_t i = 0; i < shards_->size(); ++i) {
    net_ctx_->writers.push_back(std::make_unique<net::WriteScheduler>(
        shards_->executor(i), options_.net.write_cork, options_.net.write_cork_max));
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return ec;
  }
  listener_ = std::make_shared<net::Listener>(shards_->context(0), *net_ctx_);
  try {
    listener_->listen({address, options_.port});
  } catch (const boost::system::system_error& e) {
    return e.code();
  }
  port_.store(listener_->local_endpoint().port());
  listener_->run();
  shards_->start();
  started_ = true;
  const auto fail = [this](boost::system::error_code why) {
    stop();
    return why;
  };

  if (options_.before_store_open) {
    options_.before_store_open();
  }
  if (options_.ephemeral) {
    log_ = std::make_unique<store::MemoryEventLog>();
  } else {
    auto opened = store::RocksDbEventLog::open(
        store::RocksDbOptions{.path = options_.data_dir, .durability = options_.durability});
    if (!opened) {
      log::app()->error("cannot open store dir={} err={}", options_.data_dir,
                        opened.error().message());
      return fail(opened.error());
    }
    log_ = std::move(*opened);
  }
  room_ctx_ = std::make_unique<room::RoomContext>();
  room_ctx_->shards = shards_.get();
  room_ctx_->log = log_.get();
  room_ctx_->clock = clock_.get();
  room_ctx_->reader = reader_->get_executor();
  room_ctx_->metrics = metrics_.get();
  room_ctx_->options = options_.room;
  // An EXACT resume is queued in one go: it must fit the outbox with room to spare, or the
  // resuming member would be closed as a slow consumer by its own catch-up.
  room_ctx_->options.max_resume_bytes =
      std::min(room_ctx_->options.max_resume_bytes, options_.net.outbox.max_bytes / 2);
  room_ctx_->options.max_history_bytes =
      std::min(room_ctx_->options.max_history_bytes, options_.net.outbox.max_bytes / 4);
  registry_ = std::make_unique<room::RoomRegistry>(*room_ctx_);
  if (auto load_ec = registry_->load_directory()) {
    return fail(load_ec);
  }
  net_ctx_->rooms = registry_.get();
  net_ctx_->epoch = log_->epoch().value();
  net_ctx_->lifecycle.store(net::Lifecycle::kReady, std::memory_order_release);

  if (room_ctx_->options.idle_eviction_ms > 0) {
    sweep_timer_ = std::make_unique<boost::asio::steady_timer>(shards_->executor(0));
    boost::asio::post(shards_->executor(0), [this] { schedule_sweep(); });
  }
  log::app()->info("listening addr={}:{} threads={} durability={} epoch={}", options_.host,
                   port_.load(), threads,
                   options_.ephemeral                                ? "memory"
                   : options_.durability == store::Durability::kSync ? "sync"
                                                                     : "wal",
                   log_->epoch().value());
  return {};
}

void Server::schedule_sweep() {
  // A room idle for idle_eviction_ms is dropped within a quarter of that again (at least 50 ms,
  // at most 10 s between sweeps).
  const auto idle = room_ctx_->options.idle_eviction_ms;
  sweep_timer_->expires_after(
      std::chrono::milliseconds(std::clamp<std::int64_t>(idle / 4, 50, 10'000)));
  sweep_timer_->async_wait([this, idle](boost::system::error_code ec) {
    if (ec) {
      return;  // Cancelled: stopping.
    }
    if (const auto n = registry_->evict_idle(clock_->now_unix_ms(), idle); n > 0) {
      log::room()->info("evicted idle rooms count={} loaded={}", n, registry_->loaded_rooms());
    }
    schedule_sweep();
  });
}

void Server::stop() {
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  net_ctx_->lifecycle.store(net::Lifecycle::kStopping, std::memory_order_release);
  if (sweep_timer_) {
    boost::asio::post(shards_->executor(0), [timer = sweep_timer_.get()] { timer->cancel(); });
  }
  listener_->stop();
  std::vector<std::shared_ptr<net::Session>> sessions;
  {
    std::lock_guard lock(net_ctx_->sessions_mu);
    for (auto& [id, weak] : net_ctx_->sessions) {
      if (auto s = weak.lock()) {
        sessions.push_back(std::move(s));
      }
    }
  }
  for (auto& s : sessions) {
    s->close_from_anywhere(codec::close_code::kGoingAway);
  }
  sessions.clear();
  // Give clients a moment to answer the close handshake; bounded.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (net_ctx_->connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  shards_->stop();
  reader_->stop();
  reader_->join();
  log::app()->info("stopped");
}

}  // namespace huddle::app
