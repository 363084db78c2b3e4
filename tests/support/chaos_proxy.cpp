#include "tests/support/chaos_proxy.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace huddle::testing {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

struct Shared {
  ChaosOptions options;
  std::atomic<bool> chaos{true};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> resets{0};
  std::atomic<std::uint64_t> stalls{0};
  std::atomic<std::uint64_t> bytes{0};
};

// One proxied connection: the accepted socket, its upstream socket, and the two directions
// between them. Lives on the proxy's io thread; every handler holds it (shared_from_this).
class Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  Pipe(tcp::socket&& client, Shared& shared, std::uint64_t seed)
      : shared_(shared),
        client_(std::move(client)),
        upstream_(client_.get_executor()),
        up_(client_, upstream_),
        down_(upstream_, client_),
        chaos_timer_(client_.get_executor()),
        rng_(seed) {}

  void start() {
    const tcp::endpoint to(asio::ip::address_v4::loopback(), shared_.options.upstream_port);
    upstream_.async_connect(to, [self = shared_from_this()](error_code ec) {
      if (self->closed_) {
        return;
      }
      if (ec) {
        return self->close(false);
      }
      error_code ignored;
      self->client_.set_option(tcp::no_delay(true), ignored);
      self->upstream_.set_option(tcp::no_delay(true), ignored);
      self->read(self->up_);
      self->read(self->down_);
      self->schedule_chaos(std::chrono::milliseconds(0));
    });
  }

  // Ends any stall now (chaos was switched off).
  void release() {
    end_stall(up_);
    end_stall(down_);
  }

  // Closes both sockets. `reset`: with SO_LINGER 0, so both peers see an RST.
  void close(bool reset) {
    if (closed_) {
      return;
    }
    closed_ = true;
    error_code ignored;
    for (auto* s : {&client_, &upstream_}) {
      if (reset && s->is_open()) {
        s->set_option(asio::socket_base::linger(true, 0), ignored);
      }
      s->close(ignored);
    }
    chaos_timer_.cancel();
    up_.stall_timer.cancel();
    down_.stall_timer.cancel();
  }

 private:
  struct Direction {
    Direction(tcp::socket& from_in, tcp::socket& to_in)
        : from(from_in), to(to_in), stall_timer(from_in.get_executor()) {}
    tcp::socket& from;
    tcp::socket& to;
    std::array<char, 16 * 1024> buffer{};
    std::size_t size = 0;
    bool stalled = false;
    bool held = false;  // A read completed during the stall: its write waits for the end.
    asio::steady_timer stall_timer;
  };

  void read(Direction& d) {
    d.from.async_read_some(asio::buffer(d.buffer),
                           [self = shared_from_this(), &d](error_code ec, std::size_t n) {
                             if (self->closed_) {
                               return;
                             }
                             if (ec) {
                               return self->close(false);
                             }
                             d.size = n;
                             if (d.stalled) {
                               d.held = true;
                               return;
                             }
                             self->write(d);
                           });
  }

  void write(Direction& d) {
    asio::async_write(d.to, asio::buffer(d.buffer.data(), d.size),
                      [self = shared_from_this(), &d](error_code ec, std::size_t n) {
                        if (self->closed_) {
                          return;
                        }
                        if (ec) {
                          return self->close(false);
                        }
                        self->shared_.bytes += n;
                        self->read(d);
                      });
  }

  void stall(Direction& d, std::chrono::milliseconds how_long) {
    d.stalled = true;
    d.stall_timer.expires_after(how_long);
    d.stall_timer.async_wait([self = shared_from_this(), &d](error_code ec) {
      if (!ec && !self->closed_) {
        self->end_stall(d);
      }
    });
  }

  void end_stall(Direction& d) {
    if (!d.stalled || closed_) {
      return;
    }
    d.stalled = false;
    d.stall_timer.cancel();
    if (d.held) {
      d.held = false;
      write(d);
    }
  }

  std::chrono::milliseconds uniform(std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
    std::uniform_int_distribution<std::int64_t> dist(lo.count(), std::max(lo, hi).count());
    return std::chrono::milliseconds(dist(rng_));
  }

  // The next chaos event, `extra` plus a random gap from now.
  void schedule_chaos(std::chrono::milliseconds extra) {
    if (closed_) {
      return;
    }
    chaos_timer_.expires_after(extra + uniform(shared_.options.min_gap, shared_.options.max_gap));
    chaos_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && !self->closed_) {
        self->on_chaos();
      }
    });
  }

  void on_chaos() {
    // Draw every value each time, so a connection's decisions depend on the seed alone.
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    const bool reset = coin(rng_) < shared_.options.reset_probability;
    const auto which = std::uniform_int_distribution<int>(0, 2)(rng_);
    const auto how_long = uniform(shared_.options.min_stall, shared_.options.max_stall);
    if (!shared_.chaos) {
      return schedule_chaos(std::chrono::milliseconds(0));
    }
    if (reset) {
      ++shared_.resets;
      return close(true);
    }
    ++shared_.stalls;
    if (which != 1) {
      stall(up_, how_long);
    }
    if (which != 0) {
      stall(down_, how_long);
    }
    schedule_chaos(how_long);
  }

  Shared& shared_;  // The proxy's: options and counters; outlives every Pipe.
  tcp::socket client_;
  tcp::socket upstream_;
  Direction up_;    // client -> upstream
  Direction down_;  // upstream -> client
  asio::steady_timer chaos_timer_;
  std::mt19937_64 rng_;
  bool closed_ = false;
};

}  // namespace

struct ChaosProxy::Impl {
  explicit Impl(ChaosOptions options) : rng(options.seed) {
    shared.options = options;
    shared.chaos = options.chaos;
    acceptor.open(tcp::v4());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    accept();
    thread = std::thread([this] { ioc.run(); });
  }

  ~Impl() {
    std::promise<void> closed;
    asio::post(ioc, [this, &closed] {
      error_code ignored;
      acceptor.close(ignored);
      for (auto& weak : pipes) {
        if (auto p = weak.lock()) {
          p->close(false);
        }
      }
      pipes.clear();
      closed.set_value();
    });
    closed.get_future().wait();
    thread.join();  // Returns once the closed sockets' and timers' handlers have run.
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  void accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec) {
        return;  // Closed by the destructor (the listening socket does not fail otherwise).
      }
      ++shared.accepted;
      auto pipe = std::make_shared<Pipe>(std::move(socket), shared, rng());
      std::erase_if(pipes, [](const auto& w) { return w.expired(); });
      pipes.push_back(pipe);
      pipe->start();
      accept();
    });
  }

  Shared shared;
  std::mt19937_64 rng;  // Owner: the io thread (after construction).
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::weak_ptr<Pipe>> pipes;  // Owner: the io thread.
  std::uint16_t port = 0;
  std::thread thread;  // Last: started once everything else exists.
};

ChaosProxy::ChaosProxy(ChaosOptions options) : impl_(std::make_unique<Impl>(options)) {}

ChaosProxy::~ChaosProxy() = default;

std::uint16_t ChaosProxy::port() const noexcept {
  return impl_->port;
}

std::uint64_t ChaosProxy::seed() const noexcept {
  return impl_->shared.options.seed;
}

void ChaosProxy::set_chaos(bool on) {
  impl_->shared.chaos = on;
  if (!on) {
    asio::post(impl_->ioc, [impl = impl_.get()] {
      for (auto& weak : impl->pipes) {
        if (auto p = weak.lock()) {
          p->release();
        }
      }
    });
  }
}

ChaosProxy::Counters ChaosProxy::counters() const {
  return {.accepted = impl_->shared.accepted.load(),
          .resets = impl_->shared.resets.load(),
          .stalls = impl_->shared.stalls.load(),
          .bytes = impl_->shared.bytes.load()};
}

std::uint64_t ChaosProxy::seed_from_env() {
  if (const char* env = std::getenv("HUDDLE_CHAOS_SEED"); env != nullptr && *env != '\0') {
    return std::stoull(env);
  }
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32U) ^ rd();
}

}  // namespace huddle::testing
