// Shared pieces of huddle-bench: flags, the Huddle protocol setup helpers, result printing.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <google/protobuf/arena.h>

#include "bench/load_conn.hpp"
#include "bench/stats.hpp"
#include "huddle/v1/frame.pb.h"

#include <sys/resource.h>

namespace huddle::bench {

namespace asio = boost::asio;
namespace v1 = huddle::v1;

struct Args {
  std::string scenario;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string path = "/ws";
  int server_pid = 0;
  std::string mode = "huddle";
  int rooms = 1, members = 100, publishers = 1, messages = 10000, size = 128;
  double rate = 0;    // Messages per second over all publishers; 0 = as fast as acks allow.
  int window = 1000;  // Unacked posts per publisher at max rate (huddle mode).
  int ideas = 1000, missed = 1000, connections = 1000;
  int snapshot_ideas = 0;  // join: Join.snapshot_ideas (0 = the whole board in the snapshot).
  int sample_every = 50;   // Members whose frames are fully parsed for latency.
  double timeout_s = 120;
  std::string durability = "";
  std::string label = "";
  bool anonymous = false;  // fanout: rooms are anonymous (two visibility classes per chat event).
  int slow_members = 0;    // fanout: members per room that join and then never read (W-slow).
  // soak (bench/soak.cpp): run length, the mix, the optional server process it kills and restarts.
  double duration_s = 180, post_fraction = 0.05, post_interval_s = 3,
         reconnect_fraction_per_min = 0.20, kill_at_s = 0, sample_s = 10, warmup_s = 60,
         p99_floor_ms = 2, max_rss_slope_mib = 1.0;
  // soak: SIGSTOP the server at pause_at_s for pause_ms, then SIGCONT (a stand-in for a stall of
  // the machine; shows what one stall does to the latency criterion).
  double pause_at_s = 0, pause_ms = 0;
  std::string server_cmd = "", server_log = "";
};

inline Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    throw std::invalid_argument("usage: huddle-bench fanout|post|join|resume|idle [flags]");
  }
  a.scenario = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string f = argv[i];
    auto v = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument("missing value for " + f);
      }
      return argv[++i];
    };
    if (f == "--url") {
      auto url = v();  // ws://HOST:PORT/PATH
      auto rest = url.substr(url.find("://") + 3);
      auto slash = rest.find('/');
      auto hostport = rest.substr(0, slash);
      a.path = slash == std::string::npos ? "/ws" : rest.substr(slash);
      a.host = hostport.substr(0, hostport.rfind(':'));
      a.port = static_cast<std::uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
    } else if (f == "--server-pid") {
      a.server_pid = std::stoi(v());
    } else if (f == "--mode") {
      a.mode = v();
    } else if (f == "--anonymous") {
      a.anonymous = true;
    } else if (f == "--slow-members") {
      a.slow_members = std::max(0, std::stoi(v()));
    } else if (f == "--rooms") {
      a.rooms = std::stoi(v());
    } else if (f == "--members") {
      a.members = std::stoi(v());
    } else if (f == "--publishers") {
      a.publishers = std::stoi(v());
    } else if (f == "--messages") {
      a.messages = std::stoi(v());
    } else if (f == "--size") {
      a.size = std::stoi(v());
    } else if (f == "--rate") {
      a.rate = std::stod(v());
    } else if (f == "--window") {
      a.window = std::stoi(v());
    } else if (f == "--ideas") {
      a.ideas = std::stoi(v());
    } else if (f == "--snapshot-ideas") {
      a.snapshot_ideas = std::stoi(v());
    } else if (f == "--missed") {
      a.missed = std::stoi(v());
    } else if (f == "--connections") {
      a.connections = std::stoi(v());
    } else if (f == "--sample-every") {
      a.sample_every = std::max(1, std::stoi(v()));
    } else if (f == "--timeout") {
      a.timeout_s = std::stod(v());
    } else if (f == "--durability") {
      a.durability = v();
    } else if (f == "--label") {
      a.label = v();
    } else if (f == "--duration-s") {
      a.duration_s = std::stod(v());
    } else if (f == "--post-fraction") {
      a.post_fraction = std::stod(v());
    } else if (f == "--post-interval-s") {
      a.post_interval_s = std::stod(v());
    } else if (f == "--reconnect-fraction-per-min") {
      a.reconnect_fraction_per_min = std::stod(v());
    } else if (f == "--kill-at-s") {
      a.kill_at_s = std::stod(v());
    } else if (f == "--pause-at-s") {
      a.pause_at_s = std::stod(v());
    } else if (f == "--pause-ms") {
      a.pause_ms = std::stod(v());
    } else if (f == "--sample-s") {
      a.sample_s = std::stod(v());
    } else if (f == "--warmup-s") {
      a.warmup_s = std::stod(v());
    } else if (f == "--p99-floor-ms") {
      a.p99_floor_ms = std::stod(v());
    } else if (f == "--max-rss-slope-mib") {
      a.max_rss_slope_mib = std::stod(v());
    } else if (f == "--server-cmd") {
      a.server_cmd = v();
    } else if (f == "--server-log") {
      a.server_log = v();
    } else {
      throw std::invalid_argument("unknown flag " + f);
    }
  }
  return a;
}

inline void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// ---- Huddle protocol helpers (binary subprotocol) ----

inline std::string encode(const v1::ClientFrame& f) {
  std::string out;
  f.SerializeToString(&out);
  return out;
}

// One server message (a ServerMessage), parsed onto an arena: its objects are allocated in a few
// blocks and freed at once, as a client that decodes whole batches would. Iterates its frames;
// none if undecodable.
class ParsedMessage {
 public:
  // `initial_block`: memory for the arena's first block (the caller keeps it, touched, so that a
  // timed parse does not page-fault its memory in).
  explicit ParsedMessage(std::string_view msg, std::span<char> initial_block = {})
      : arena_(arena_options(initial_block)),
        message_(google::protobuf::Arena::CreateMessage<v1::ServerMessage>(&arena_)) {
    if (!message_->ParseFromArray(msg.data(), static_cast<int>(msg.size()))) {
      message_->Clear();
    }
  }
  ParsedMessage(const ParsedMessage&) = delete;
  ParsedMessage& operator=(const ParsedMessage&) = delete;
  [[nodiscard]] auto begin() const { return message_->frames().begin(); }
  [[nodiscard]] auto end() const { return message_->frames().end(); }

 private:
  static google::protobuf::ArenaOptions arena_options(std::span<char> initial_block) {
    google::protobuf::ArenaOptions o;
    o.max_block_size = 1024 * 1024;  // A 200 KB batch of 1000 events: a few blocks, not 60.
    o.initial_block = initial_block.data();
    o.initial_block_size = initial_block.size();
    return o;
  }
  google::protobuf::Arena arena_;
  v1::ServerMessage* message_;
};

inline ParsedMessage frames_of(std::string_view msg, std::span<char> initial_block = {}) {
  return ParsedMessage(msg, initial_block);
}

// ---- Reading the protobuf wire format without parsing: a join storm's 200 copies of a large
// snapshot must not make the load generator the bottleneck. ----

// Reads a varint at p; returns false past end.
inline bool read_varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const unsigned char b = *p++;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      return true;
    }
  }
  return false;
}

// Calls fn(field_number, value, bytes) for each top-level field of `msg`: `value` is
// a varint field's value, `bytes` a length-delimited field's payload. fn returns false to stop.
// Returns false if `msg` is not well-formed.
template <class Fn>
bool for_each_field(std::string_view msg, Fn&& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(msg.data());
  const auto* const end = p + msg.size();
  auto varint = [&](std::uint64_t& v) { return read_varint(p, end, v); };
  while (p < end) {
    std::uint64_t tag = 0;
    std::uint64_t value = 0;
    std::string_view bytes;
    if (!varint(tag)) {
      return false;
    }
    switch (tag & 7U) {
      case 0:
        if (!varint(value)) {
          return false;
        }
        break;
      case 2:
        if (!varint(value) || value > static_cast<std::uint64_t>(end - p)) {
          return false;
        }
        bytes = std::string_view(reinterpret_cast<const char*>(p), value);
        p += value;
        value = 0;
        break;
      case 1:
      case 5: {
        const std::ptrdiff_t n = (tag & 7U) == 1 ? 8 : 4;
        if (end - p < n) {
          return false;
        }
        p += n;
        break;
      }
      default: return false;
    }
    if (!fn(static_cast<std::uint32_t>(tag >> 3), value, bytes)) {
      return true;
    }
  }
  return true;
}

// The first field `field` of `msg`: its payload (length-delimited) or value (varint).
inline std::string_view field_bytes(std::string_view msg, std::uint32_t field) {
  std::string_view out;
  for_each_field(msg, [&](std::uint32_t f, std::uint64_t, std::string_view b) {
    if (f == field) {
      out = b;
      return false;
    }
    return true;
  });
  return out;
}
inline std::uint64_t field_value(std::string_view msg, std::uint32_t field) {
  std::uint64_t out = 0;
  for_each_field(msg, [&](std::uint32_t f, std::uint64_t v, std::string_view) {
    if (f == field) {
      out = v;
      return false;
    }
    return true;
  });
  return out;
}

// The frames of a binary ServerMessage whose oneof case is `kind` (a ServerFrame field number,
// e.g. 3 = snapshot): fn(frame payload) for each.
template <class Fn>
void for_each_frame_of_kind(std::string_view msg, std::uint32_t kind, Fn&& fn) {
  constexpr std::uint32_t kFrames = v1::ServerMessage::kFramesFieldNumber;
  for_each_field(msg, [&](std::uint32_t f, std::uint64_t, std::string_view frame) {
    if (f == kFrames) {
      for_each_field(frame, [&](std::uint32_t k, std::uint64_t, std::string_view body) {
        if (k == kind) {
          fn(body);
        }
        return false;  // A ServerFrame is a oneof: its first field is its kind.
      });
    }
    return true;
  });
}

// The events in a binary ServerMessage, counted without parsing them.
inline std::size_t count_events(std::string_view msg) {
  std::size_t n = 0;
  for_each_frame_of_kind(msg, v1::ServerFrame::kEventBatchFieldNumber, [&](std::string_view b) {
    for_each_field(b, [&](std::uint32_t f, std::uint64_t, std::string_view) {
      n += f == v1::EventBatch::kEventsFieldNumber ? 1 : 0;
      return true;
    });
  });
  return n;
}

inline bool has_frame_of_kind(std::string_view msg, std::uint32_t kind) {
  bool found = false;
  for_each_frame_of_kind(msg, kind, [&](std::string_view) { found = true; });
  return found;
}

// Blocking request during setup: reads until the reply to `frame` (other frames are skipped).
inline v1::Reply request_sync(LoadConn& c, v1::ClientFrame frame, std::uint64_t id) {
  frame.set_request_id(id);
  c.write_sync(encode(frame));
  while (true) {
    for (const auto& s : frames_of(c.read_sync())) {
      if (s.has_reply() && s.reply().request_id() == id) {
        return s.reply();
      }
    }
  }
}

inline std::shared_ptr<LoadConn> huddle_member(asio::io_context& ioc, const Args& a,
                                               const std::string& member_id) {
  auto c = std::make_shared<LoadConn>(ioc, a.host, a.port, a.path, "huddle.v1+proto");
  v1::ClientFrame hello;
  hello.mutable_hello()->set_display_name(member_id);
  hello.mutable_hello()->set_member_id(member_id);
  if (request_sync(*c, hello, 1).has_error()) {
    throw std::runtime_error("hello failed");
  }
  return c;
}

inline v1::Reply join_sync(LoadConn& c, const std::string& room) {
  v1::ClientFrame join;
  join.mutable_join()->set_room_id(room);
  auto r = request_sync(c, join, 2);
  if (r.has_error()) {
    throw std::runtime_error("join failed: " + r.error().message());
  }
  return r;
}

inline void create_room(LoadConn& c, const std::string& room, bool anonymous = false) {
  v1::ClientFrame f;
  f.mutable_create_room()->set_room_id(room);
  f.mutable_create_room()->set_anonymous(anonymous);
  auto r = request_sync(c, f, 3);
  if (r.has_error() && r.error().code() != v1::ERROR_CODE_ROOM_EXISTS) {
    throw std::runtime_error("create failed: " + r.error().message());
  }
}

inline std::string payload_text(std::int64_t ts, int size) {
  auto s = fmt::format("{:019d}|", ts);
  if (static_cast<int>(s.size()) < size) {
    s.append(static_cast<std::size_t>(size) - s.size(), 'x');
  }
  return s;
}

struct Result {
  std::map<std::string, std::string> fields;  // JSON-ready values (already quoted if strings).
  void num(const std::string& k, double v) { fields[k] = fmt::format("{:.6g}", v); }
  void str(const std::string& k, const std::string& v) { fields[k] = "\"" + v + "\""; }
  void latency(const Percentiles& p) {
    num("p50_us", p.p50_us);
    num("p90_us", p.p90_us);
    num("p99_us", p.p99_us);
    num("max_us", p.max_us);
  }
};

inline void print(const Args& a, Result& r) {
  r.str("scenario", a.scenario);
  r.str("mode", a.mode);
  if (!a.label.empty()) {
    r.str("label", a.label);
  }
  if (!a.durability.empty()) {
    r.str("durability", a.durability);
  }
  for (const auto& [k, v] : r.fields) {
    std::cout << fmt::format("  {:<22} {}\n", k, v);
  }
  std::string json = "{";
  bool first = true;
  for (const auto& [k, v] : r.fields) {
    json += fmt::format("{}\"{}\":{}", first ? "" : ",", k, v);
    first = false;
  }
  json += "}";
  std::cout << "JSON " << json << std::endl;
}

struct IoThread {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~IoThread() {
    guard.reset();
    ioc.stop();
    thread.join();
  }
};

// Runs `fn` on the I/O thread that owns the connections and waits for its result: the end of a
// scenario copies what the handlers recorded and closes the connections there.
template <class Fn>
auto on_io_thread(asio::io_context& ioc, Fn fn) -> decltype(fn()) {
  std::promise<decltype(fn())> done;
  asio::post(ioc, [&] { done.set_value(fn()); });
  return done.get_future().get();
}

inline std::string run_id() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

Result fanout(const Args& a);
Result post(const Args& a);
Result join_storm(const Args& a);
Result resume(const Args& a);
Result idle(const Args& a);
Result soak(const Args& a);

}  // namespace huddle::bench
