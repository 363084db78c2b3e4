// huddle-bench soak: the simulated members (bench/soak.cpp runs them and judges the run).
// SoakConn is one asynchronous client connection; Driver owns every member's state and the one
// I/O thread they all run on. Included by bench/soak.cpp only.
#pragma once

#include <cmath>
#include <deque>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "bench/bench_common.hpp"
#include "bench/soak_criteria.hpp"

namespace huddle::bench::soak_sim {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::uint64_t kHelloRid = 1;
constexpr std::uint64_t kJoinRid = 2;
constexpr std::uint64_t kHistoryRid = 3;
constexpr std::uint64_t kFirstPostRid = 1000;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kMinute = 60'000 * kMs;

// An asynchronous client connection: connect, upgrade, read loop, write queue. `on_close` runs
// exactly once, whichever way it ends (refused, dropped, closed by us). Owner: the io thread.
class SoakConn : public std::enable_shared_from_this<SoakConn> {
 public:
  using OnOpen = std::function<void()>;
  using OnMessage = std::function<void(std::string_view)>;
  using OnClose = std::function<void()>;

  explicit SoakConn(asio::io_context& ioc) : ws_(ioc) {}

  void open(const tcp::endpoint& ep, std::string host, std::string target, OnOpen on_open,
            OnMessage on_message, OnClose on_close) {
    host_ = std::move(host);
    target_ = std::move(target);
    on_open_ = std::move(on_open);
    on_message_ = std::move(on_message);
    on_close_ = std::move(on_close);
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(5));
    beast::get_lowest_layer(ws_).async_connect(
        ep, beast::bind_front_handler(&SoakConn::on_connect, shared_from_this()));
  }

  void send(std::string bytes) {
    if (ending_) {
      return;
    }
    writes_.push_back(std::move(bytes));
    do_write();
  }

  // A WebSocket close handshake (clean) or a plain TCP close.
  void end(bool clean) {
    if (ending_ || finished_) {
      return;
    }
    ending_ = true;
    if (clean && open_) {
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_from_this()](beast::error_code) { self->finish(); });
    } else {
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().close(ec);
    }
  }

 private:
  void on_connect(beast::error_code ec) {
    if (ec) {
      return finish();
    }
    auto& tcp_stream = beast::get_lowest_layer(ws_);
    tcp_stream.expires_never();
    tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(5);  // Also bounds the close handshake.
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol, "huddle.v1+proto");
    }));
    ws_.read_message_max(64 * 1024 * 1024);
    ws_.binary(true);
    ws_.async_handshake(host_, target_,
                        beast::bind_front_handler(&SoakConn::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec || ending_) {
      return finish();
    }
    open_ = true;
    on_open_();
    do_read();
    do_write();
  }

  void do_read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        return self->finish();
      }
      const auto data = self->buf_.cdata();
      self->on_message_(std::string_view(static_cast<const char*>(data.data()), data.size()));
      self->buf_.consume(self->buf_.size());
      if (!self->finished_) {
        self->do_read();
      }
    });
  }

  void do_write() {
    if (writing_ || writes_.empty() || !open_ || ending_ || finished_) {
      return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(writes_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->writes_.pop_front();
                      if (!ec) {
                        self->do_write();
                      }
                    });
  }

  void finish() {
    if (finished_) {
      return;
    }
    finished_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    auto on_close = std::move(on_close_);
    on_open_ = nullptr;
    on_message_ = [](std::string_view) {};
    on_close();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::string host_, target_;
  OnOpen on_open_;
  OnMessage on_message_;
  OnClose on_close_;
  std::deque<std::string> writes_;
  bool writing_ = false, open_ = false, ending_ = false, finished_ = false;
};

struct Pending {
  std::string op;
  std::string bytes;  // The encoded PostChat; resent unchanged (same op id) after a reconnect.
  std::uint64_t rid = 0;
  bool in_flight = false;
};

struct Hole {  // Events with lo < seq < hi this member never saw.
  std::uint64_t lo = 0, hi = 0;
};

struct Backfill {  // A SNAPSHOT resume skipped (lo, expect]: fetched back with getHistory.
  std::uint64_t lo = 0, expect = 0;
};

struct Member {
  enum class State { kDown, kConnecting, kLive, kClosing };
  int room = 0;
  std::string id;
  bool poster = false;
  State state = State::kDown;
  std::shared_ptr<SoakConn> conn;
  std::uint64_t generation = 0;
  std::int64_t connect_at_ns = 0;  // kDown: when to (re)connect.
  int failures = 0;                // Consecutive failed connections (backoff).
  bool joined_once = false;
  std::uint64_t epoch = 0, first_seq = 0, last_seq = 0, join_head = 0;
  std::vector<Hole> holes;
  std::deque<Backfill> backfills;
  bool backfill_in_flight = false;
  std::int64_t next_post_ns = 0;
  int posts = 0;
  std::optional<Pending> pending;
};

struct Acked {
  int room = 0;
  std::uint64_t seq = 0;
  std::string op;
};

struct Minute {
  std::int64_t acked = 0, deliveries = 0, reconnects = 0, drops = 0;
  MinuteLatencies lat_ns;  // Post-to-receive, by 10-second window of receipt.
};

struct Counters {
  std::int64_t acked = 0, dup_acks = 0, post_errors = 0, post_retries = 0, planned = 0,
               unplanned = 0, connect_failures = 0, hello_errors = 0, join_errors = 0, exact = 0,
               snapshot = 0, resets = 0, resume_anomalies = 0, gaps = 0, dups = 0, backfills_ok = 0,
               backfill_breaks = 0, error_replies = 0;
};

// All member state, and the one I/O thread it lives on: every method but the constructor,
// destructor and ioc() runs there (through on_io_thread). The destructor joins the thread before
// any member goes, so no handler outlives what it refers to.
class Driver {
 public:
  Driver(const Args& a, std::string run)
      : a_(a), run_(std::move(run)), ep_(asio::ip::make_address(a.host), a.port) {
    rng_.seed(std::random_device{}());
    members_.resize(static_cast<std::size_t>(a.connections));
    const int per_room = std::max(1, a.connections / a.rooms);
    const int posters = static_cast<int>(std::lround(a.post_fraction * a.connections));
    for (int i = 0; i < a.connections; ++i) {
      auto& m = members_[static_cast<std::size_t>(i)];
      m.room = std::min(a.rooms - 1, i / per_room);
      m.id = fmt::format("soak{}-{}", i, run_);
      // Spread posters over rooms: every (connections / posters)-th connection.
      m.poster = posters > 0 && i % std::max(1, a.connections / posters) == 0 &&
                 i / std::max(1, a.connections / posters) < posters;
    }
    thread_ = std::thread([this] { ioc_.run(); });
    asio::post(ioc_, [this] { tick(); });
  }
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;
  Driver(Driver&&) = delete;
  Driver& operator=(Driver&&) = delete;
  ~Driver() {
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }

  asio::io_context& ioc() { return ioc_; }

  std::string room_name(int r) const { return fmt::format("soak-{}-{}", run_, r); }

  int live() const {
    return static_cast<int>(std::count_if(members_.begin(), members_.end(), [](const Member& m) {
      return m.state == Member::State::kLive;
    }));
  }
  void start_measuring(std::int64_t t0) {
    t0_ = t0;
    measuring_ = true;
    for (auto& m : members_) {
      m.next_post_ns = t0 + jitter(a_.post_interval_s);
    }
  }
  void quiesce() { quiescing_ = true; }
  // Every member live, no post unacked, no backfill left, every stream at its room's newest ack.
  bool drained() const {
    std::vector<std::uint64_t> newest(static_cast<std::size_t>(a_.rooms), 0);
    for (const auto& x : acked_) {
      newest[static_cast<std::size_t>(x.room)] =
          std::max(newest[static_cast<std::size_t>(x.room)], x.seq);
    }
    return std::all_of(members_.begin(), members_.end(), [&](const Member& m) {
      return m.state == Member::State::kLive && !m.pending && m.backfills.empty() &&
             m.last_seq >= newest[static_cast<std::size_t>(m.room)];
    });
  }
  void stop() {
    stopping_ = true;
    for (auto& m : members_) {
      if (m.conn) {
        m.conn->end(true);
      }
    }
  }
  // Acked posts missing from some member's stream: (events, member views).
  std::pair<std::int64_t, std::int64_t> lost_in_streams() const {
    std::int64_t events = 0, views = 0;
    std::vector<std::vector<const Member*>> by_room(static_cast<std::size_t>(a_.rooms));
    for (const auto& m : members_) {
      by_room[static_cast<std::size_t>(m.room)].push_back(&m);
    }
    for (const auto& x : acked_) {
      bool lost = false;
      for (const auto* mp : by_room[static_cast<std::size_t>(x.room)]) {
        const auto& m = *mp;
        const bool in_hole = std::any_of(m.holes.begin(), m.holes.end(), [&](const Hole& h) {
          return x.seq > h.lo && x.seq < h.hi;
        });
        if (x.seq <= m.first_seq || x.seq > m.last_seq || in_hole) {
          ++views;
          lost = true;
        }
      }
      events += lost ? 1 : 0;
    }
    return {events, views};
  }
  const std::vector<Acked>& acked() const { return acked_; }
  const std::vector<Minute>& minutes() const { return minutes_; }
  const Counters& counters() const { return n_; }

 private:
  std::int64_t jitter(double seconds) {  // Uniform in [0.5, 1.5) x seconds.
    return static_cast<std::int64_t>(seconds * 1e9 *
                                     std::uniform_real_distribution(0.5, 1.5)(rng_));
  }
  Minute& minute(std::int64_t now) {
    const auto i = static_cast<std::size_t>(std::max<std::int64_t>(0, (now - t0_) / kMinute));
    if (minutes_.size() <= i) {
      minutes_.resize(i + 1);
    }
    return minutes_[i];
  }

  void tick() {
    const auto now = now_ns();
    int started = 0;
    for (auto& m : members_) {
      if (m.state == Member::State::kDown && !stopping_ && now >= m.connect_at_ns &&
          started < 100) {
        connect(m);
        ++started;
      }
    }
    if (measuring_ && !stopping_) {
      for (auto& m : members_) {
        if (!m.poster || m.state != Member::State::kLive) {
          continue;
        }
        if (!m.pending && !quiescing_ && now >= m.next_post_ns) {
          new_post(m, now);
          m.next_post_ns = now + jitter(a_.post_interval_s);
        }
        if (m.pending && !m.pending->in_flight) {
          m.pending->in_flight = true;
          m.conn->send(m.pending->bytes);
        }
      }
      if (!quiescing_) {
        churn(now);
      }
    }
    last_tick_ns_ = now;
    timer_.expires_after(std::chrono::milliseconds(50));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        tick();
      }
    });
  }

  void churn(std::int64_t now) {
    const double dt_s = static_cast<double>(now - last_tick_ns_) / 1e9;
    churn_credit_ = std::min(
        churn_credit_ + a_.reconnect_fraction_per_min * a_.connections / 60.0 * dt_s, 50.0);
    std::uniform_int_distribution<std::size_t> pick(0, members_.size() - 1);
    for (int tries = 0; churn_credit_ >= 1 && tries < 200; ++tries) {
      auto& m = members_[pick(rng_)];
      if (m.state != Member::State::kLive) {
        continue;
      }
      m.state = Member::State::kClosing;
      churn_credit_ -= 1;
      ++n_.planned;
      ++minute(now).reconnects;
      m.conn->end(n_.planned % 2 == 0);
    }
  }

  void connect(Member& m) {
    m.state = Member::State::kConnecting;
    const auto gen = ++m.generation;
    m.conn = std::make_shared<SoakConn>(ioc_);
    m.conn->open(
        ep_, a_.host + ":" + std::to_string(a_.port), a_.path,
        [this, &m, gen] {
          if (gen == m.generation) {
            send(m, kHelloRid, [&](v1::ClientFrame& f) {
              f.mutable_hello()->set_display_name(m.id);
              f.mutable_hello()->set_member_id(m.id);
            });
          }
        },
        [this, &m, gen](std::string_view msg) {
          if (gen == m.generation) {
            on_message(m, msg);
          }
        },
        [this, &m, gen] {
          if (gen == m.generation) {
            on_close(m);
          }
        });
  }

  template <class Fill>
  void send(Member& m, std::uint64_t rid, Fill fill) {
    v1::ClientFrame f;
    f.set_request_id(rid);
    fill(f);
    m.conn->send(encode(f));
  }

  void on_close(Member& m) {
    const bool planned = m.state == Member::State::kClosing;
    const bool was_live = m.state == Member::State::kLive;
    m.state = Member::State::kDown;
    m.conn.reset();
    m.backfill_in_flight = false;
    if (m.pending) {
      m.pending->in_flight = false;
    }
    if (stopping_) {
      return;
    }
    const auto now = now_ns();
    if (planned) {
      m.failures = 0;
      m.connect_at_ns = now + jitter(0.1);
      return;
    }
    if (was_live) {
      ++n_.unplanned;
      if (measuring_) {
        ++minute(now).drops;
      }
    } else {
      ++n_.connect_failures;
    }
    m.failures = std::min(m.failures + 1, 5);
    m.connect_at_ns = now + jitter(0.1 * (1 << (m.failures - 1)));  // 0.1 s .. 1.6 s, jittered.
  }

  void on_message(Member& m, std::string_view msg) {
    for (const auto& f : frames_of(msg)) {
      if (f.has_event_batch()) {
        on_events(m, f.event_batch());
      } else if (f.has_reply()) {
        const auto& r = f.reply();
        if (r.request_id() == kHelloRid) {
          on_hello(m, r);
        } else if (r.request_id() == kJoinRid) {
          on_join(m, r);
        } else if (r.request_id() == kHistoryRid) {
          on_history(m, r);
        } else if (r.request_id() >= kFirstPostRid) {
          on_post_reply(m, r);
        } else {
          ++n_.error_replies;
        }
      }
    }
  }

  void on_hello(Member& m, const v1::Reply& r) {
    if (r.has_error()) {
      ++n_.hello_errors;
      return m.conn->end(false);
    }
    send(m, kJoinRid, [&](v1::ClientFrame& f) {
      f.mutable_join()->set_room_id(room_name(m.room));
      if (m.joined_once) {
        f.mutable_join()->mutable_resume()->set_epoch(m.epoch);
        f.mutable_join()->mutable_resume()->set_last_seq(m.last_seq);
      }
    });
  }

  void on_join(Member& m, const v1::Reply& r) {
    if (r.has_error()) {
      ++n_.join_errors;
      return m.conn->end(false);
    }
    const auto& j = r.join();
    if (!m.joined_once) {
      m.joined_once = true;
      m.first_seq = m.last_seq = j.from_seq();
    } else if (j.mode() == v1::RESUME_MODE_EXACT) {
      ++n_.exact;
      n_.resume_anomalies += j.from_seq() != m.last_seq || j.epoch() != m.epoch ? 1 : 0;
    } else if (j.mode() == v1::RESUME_MODE_SNAPSHOT) {
      ++n_.snapshot;
      if (j.from_seq() > m.last_seq) {
        m.backfills.push_back({m.last_seq, j.from_seq()});
      }
      m.last_seq = j.from_seq();
    } else {
      ++n_.resets;  // The store was replaced: everything before is unverifiable.
      m.holes.push_back({m.first_seq, j.from_seq() + 1});
      m.last_seq = j.from_seq();
    }
    m.epoch = j.epoch();
    m.join_head = j.head_seq();
    m.state = Member::State::kLive;
    m.failures = 0;
    next_backfill(m);
  }

  void next_backfill(Member& m) {
    if (m.backfills.empty() || m.backfill_in_flight) {
      return;
    }
    m.backfill_in_flight = true;
    const auto before = m.backfills.front().expect + 1;
    send(m, kHistoryRid, [&](v1::ClientFrame& f) {
      f.mutable_get_history()->set_room_id(room_name(m.room));
      f.mutable_get_history()->set_before_seq(before);
      f.mutable_get_history()->set_limit(200);
    });
  }

  // Walks the page newest first along prev_seq from `expect` down to `lo`.
  void on_history(Member& m, const v1::Reply& r) {
    m.backfill_in_flight = false;
    if (m.backfills.empty()) {
      return;
    }
    auto& b = m.backfills.front();
    bool done = false, broken = r.has_error();
    const auto& page = r.history();
    for (int i = page.events_size() - 1; i >= 0 && !done && !broken; --i) {
      const auto& e = page.events(i);
      if (e.seq() > b.expect) {
        continue;
      }
      broken = e.seq() != b.expect;
      b.expect = e.prev_seq();
      done = !broken && b.expect <= b.lo;
      broken = broken || (done && b.expect != b.lo);
    }
    if (!done && !broken && (!page.has_more() || page.events_size() == 0)) {
      broken = true;
    }
    if (done || broken) {
      if (broken) {
        ++n_.backfill_breaks;
        m.holes.push_back({b.lo, b.expect + 1});
      } else {
        ++n_.backfills_ok;
      }
      m.backfills.pop_front();
    }
    next_backfill(m);
  }

  void on_events(Member& m, const v1::EventBatch& batch) {
    const auto now = now_ns();
    const auto room = room_name(m.room);
    for (const auto& e : batch.events()) {
      if (e.room_id() != room) {
        continue;
      }
      if (e.seq() <= m.last_seq) {
        ++n_.dups;
        continue;
      }
      if (e.prev_seq() != m.last_seq) {
        ++n_.gaps;
        m.holes.push_back({m.last_seq, e.seq()});
      }
      m.last_seq = e.seq();
      if (measuring_ && e.has_chat_posted() && e.seq() > m.join_head &&
          e.chat_posted().text().size() >= 20) {
        auto& mi = minute(now);
        ++mi.deliveries;
        const auto window =
            static_cast<std::size_t>(((now - t0_) % kMinute) * kWindowsPerMinute / kMinute);
        mi.lat_ns[std::min(window, kWindowsPerMinute - 1)].push_back(
            now - std::stoll(e.chat_posted().text().substr(0, 19)));
      }
    }
  }

  void new_post(Member& m, std::int64_t now) {
    Pending p;
    p.op = fmt::format("{}-{}", m.id, m.posts);
    p.rid = kFirstPostRid + static_cast<std::uint64_t>(m.posts);
    ++m.posts;
    auto text = fmt::format("{:019d}|{}|", now, p.op);
    if (static_cast<int>(text.size()) < a_.size) {
      text.append(static_cast<std::size_t>(a_.size) - text.size(), 'x');
    }
    v1::ClientFrame f;
    f.set_request_id(p.rid);
    f.set_op_id(p.op);
    f.mutable_post_chat()->set_room_id(room_name(m.room));
    f.mutable_post_chat()->set_text(text);
    p.bytes = encode(f);
    m.pending = std::move(p);
  }

  void on_post_reply(Member& m, const v1::Reply& r) {
    if (!m.pending || r.request_id() != m.pending->rid) {
      return;
    }
    if (r.has_error()) {
      if (r.error().retryable()) {
        ++n_.post_retries;
        m.pending->in_flight = false;  // The next tick resends it, same op id.
      } else {
        ++n_.post_errors;
        m.pending.reset();
      }
      return;
    }
    acked_.push_back({m.room, r.seq(), m.pending->op});
    ++n_.acked;
    n_.dup_acks += r.duplicate() ? 1 : 0;
    ++minute(now_ns()).acked;
    m.pending.reset();
  }

  const Args& a_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{ioc_.get_executor()};
  std::string run_;
  tcp::endpoint ep_;
  std::mt19937_64 rng_;
  asio::steady_timer timer_{ioc_};
  std::vector<Member> members_;
  std::vector<Acked> acked_;
  std::vector<Minute> minutes_;
  Counters n_;
  std::int64_t t0_ = 0, last_tick_ns_ = 0;
  double churn_credit_ = 0;
  bool measuring_ = false, quiescing_ = false, stopping_ = false;
  std::thread thread_;  // Runs ioc_; started last, joined first.
};

}  // namespace huddle::bench::soak_sim
