#include "server/app/server.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
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

#include <openssl/rand.h>
#include <openssl/ssl.h>

namespace huddle::app {

namespace asio = boost::asio;

namespace {

// TLS 1.2 and 1.3 only; the key must match the certificate (checked here, not at the first
// handshake).
boost::system::error_code make_tls_context(const ServerOptions& o,
                                           std::unique_ptr<asio::ssl::context>& out) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    log::app()->error("tls: give both --tls-cert and --tls-key");
    return Errc::kInvalidArgument;
  }
  if (o.tls_cert_file.empty()) {
    return {};
  }
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) {
    log::app()->error("tls: cannot load certificate file={} err={}", o.tls_cert_file, ec.message());
    return Errc::kInvalidArgument;
  }
  ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) {
    // OpenSSL checks the pair here too ("key values mismatch").
    log::app()->error(
        "tls: cannot load private key (or it does not match the certificate) "
        "key={} cert={} err={}",
        o.tls_key_file, o.tls_cert_file, ec.message());
    return Errc::kInvalidArgument;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    log::app()->error("tls: the private key does not match the certificate key={} cert={}",
                      o.tls_key_file, o.tls_cert_file);
    return Errc::kInvalidArgument;
  }
  out = std::move(ctx);
  return {};
}

std::string random_key() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  for (const unsigned char b : bytes) {
    key.push_back(kHex[b >> 4]);
    key.push_back(kHex[b & 0xF]);
  }
  return key;
}

// The invite key: read from `path`, or created there (0600) on first start.
std::string load_or_create_key(const std::string& path) {
  if (std::ifstream in(path); in) {
    std::string key;
    std::getline(in, key);
    if (key.size() >= 32) {
      return key;
    }
    log::app()->error("invite key file={} holds fewer than 32 characters", path);
    return {};
  }
  auto key = random_key();
  {
    std::ofstream out(path, std::ios::trunc);
    out << key << "\n";
    if (!out) {
      log::app()->error("cannot write invite key file={}", path);
      return {};
    }
  }
  std::error_code ignored;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ignored);
  return key;
}

// How often a shard checks its sessions' deadlines: an eighth of the shortest one, so a deadline
// is kept within 12.5%, and between 50 ms and 1 s.
std::chrono::milliseconds keepalive_period(const net::NetOptions& net) {
  const auto shortest = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min(net.idle_timeout, net.handshake_timeout));
  return std::clamp(shortest / 8, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
}

}  // namespace

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
    net_ctx_->keepalives.clear();
  }
  shards_.reset();
  reader_.reset();
  tls_.reset();
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
    net_ctx_->keepalives.push_back(
        std::make_unique<net::Keepalive>(shards_->executor(i), keepalive_period(options_.net)));
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return ec;
  }
  auto& auth = net_ctx_->options.auth;
  auth.loopback_listener = address.is_loopback();
  if (auth.mode == net::AuthOptions::Mode::kOpen && !address.is_loopback()) {
    if (!options_.allow_open_auth_on_public) {
      log::app()->error(
          "open auth (guest names, anyone may claim any member id) listens on loopback only; "
          "use --auth jwt, or --allow-open-auth-on-public addr={}",
          options_.host);
      return Errc::kInvalidArgument;
    }
    log::app()->warn("open auth on a public address addr={}: anyone may claim any member id",
                     options_.host);
  }
  if (auth.mode == net::AuthOptions::Mode::kJwt && !auth.jwt_key) {
    log::app()->error("--auth jwt needs --jwt-secret-file or --jwt-public-key");
    return Errc::kInvalidArgument;
  }
  if (auto tls_ec = make_tls_context(options_, tls_)) {
    return tls_ec;
  }
  net_ctx_->tls = tls_.get();
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
    store::RocksDbOptions store_options{.path = options_.data_dir,
                                        .durability = options_.durability};
    store_options.reserve_bytes = options_.storage_reserve_bytes;
    store_options.write_buffer_bytes = options_.rocksdb_write_buffer_bytes;
    auto opened = store::RocksDbEventLog::open(store_options);
    if (!opened) {
      log::app()->error("cannot open store dir={} err={}", options_.data_dir,
                        opened.error().message());
      return fail(opened.error());
    }
    log_ = std::move(*opened);
  }
  const auto invite_key =
      !options_.invite_key_file.empty() ? load_or_create_key(options_.invite_key_file)
      : options_.ephemeral
          ? random_key()
          : load_or_create_key((std::filesystem::path(options_.data_dir) / "invite.key").string());
  if (invite_key.empty()) {
    return fail(Errc::kStorageUnavailable);
  }
  net_ctx_->options.auth.invite_key = invite_key;
  room_ctx_ = std::make_unique<room::RoomContext>();
  room_ctx_->invite_key = invite_key;
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
