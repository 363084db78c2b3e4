// Slow consumers and half-open / silent peers over the real server on loopback (issue #7,
// "Slow consumer" and "Half-open connections"). The server runs in process (TestServer) so the
// test can shrink the outbox bound and the idle timeout: huddle-server has no flag for either.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/http_get.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace huddle::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The value of an unlabelled sample of /metrics; -1 when absent.
double metric(std::uint16_t port, const std::string& name) {
  const auto body = http_get(port, "/metrics").body;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ') {
      return std::stod(line.substr(name.size() + 1));
    }
  }
  return -1;
}

long healthz_connections(std::uint16_t port) {
  static const std::regex kConnections(R"re("connections":(-?[0-9]+))re");
  const auto body = http_get(port, "/healthz").body;
  std::smatch m;
  return std::regex_search(body, m, kConnections) ? std::stol(m[1]) : -1;
}

// Sockets open in this process (client and in-process server sides alike).
std::size_t open_sockets() {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec && target.string().rfind("socket:", 0) == 0) {
      ++n;
    }
  }
  return n;
}

// Polls `pred` every 20 ms until it holds or `limit` passes; returns the time it took, or nullopt.
template <typename Pred>
std::optional<std::chrono::milliseconds> wait_until(Pred pred, std::chrono::milliseconds limit) {
  const auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (pred()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Polling HTTP, bounded.
  }
  return std::nullopt;
}

// Events of `room` in `events` form one chain (each prev_seq is the seq before it), starting
// after `from`. Returns their seqs.
std::vector<std::uint64_t> chain(const std::vector<v1::Event>& events, const std::string& room,
                                 std::uint64_t from, const std::string& who) {
  std::vector<std::uint64_t> seqs;
  std::uint64_t last = from;
  for (const auto& e : events) {
    if (e.room_id() != room) {
      continue;
    }
    EXPECT_EQ(e.prev_seq(), last) << who << ": gap or duplicate at seq " << e.seq();
    last = e.seq();
    seqs.push_back(e.seq());
  }
  return seqs;
}

// A raw WebSocket client on a plain socket: upgrade, then masked binary frames. It never reads
// after the handshake, so it never answers a ping (a silent peer), and it can end with an RST.
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("raw connect failed");
    }
    send_all(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: huddle.v1+proto\r\n\r\n");
    std::string head;
    char c = 0;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &c, 1, 0) == 1) {
      head.push_back(c);
    }
    if (head.rfind("HTTP/1.1 101", 0) != 0) {
      throw std::runtime_error("raw upgrade refused: " + head);
    }
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;
  RawPeer(RawPeer&&) = delete;
  RawPeer& operator=(RawPeer&&) = delete;
  ~RawPeer() { close(); }

  void send_frame(const v1::ClientFrame& frame) {
    const std::string payload = frame.SerializeAsString();
    std::string out;
    out.push_back(static_cast<char>(0x82));  // FIN + binary.
    if (payload.size() < 126) {
      out.push_back(static_cast<char>(0x80 | payload.size()));
    } else {
      out.push_back(static_cast<char>(0x80 | 126));
      out.push_back(static_cast<char>(payload.size() >> 8));
      out.push_back(static_cast<char>(payload.size() & 0xff));
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    out.append(mask, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) {
      out.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    }
    send_all(out);
  }

  void hello_and_join(const std::string& member, const std::string& room) {
    v1::ClientFrame hello;
    hello.set_request_id(1);
    hello.mutable_hello()->set_display_name(member);
    hello.mutable_hello()->set_member_id(member);
    send_frame(hello);
    v1::ClientFrame join;
    join.set_request_id(2);
    join.mutable_join()->set_room_id(room);
    send_frame(join);
  }

  // SO_LINGER 0 + close: the kernel sends an RST (the connection is reset mid-session).
  void reset() {
    linger lg{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close();
  }

  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  void send_all(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        throw std::runtime_error("raw send failed");
      }
      off += static_cast<std::size_t>(n);
    }
  }

  int fd_ = -1;
};

// The server's default bound. The readers (and the publisher, which reads its own events) must
// never lag by this much: at 3 MB/s of traffic, 1 MiB is about 350 ms, which a reader thread can
// fall behind by under ASan with a heavy test beside it (256 KiB, 85 ms, closed the publisher with
// 4008 in such a run). The slow member still overflows: it never reads 10.5 MB of traffic.
constexpr std::size_t kOutboxBound = 1024 * 1024;
constexpr int kMessages = 3500;  // At 1,000/s: 3.5 s of traffic.
constexpr std::size_t kTextBytes = 3000;

struct SlowRun {
  double closes_while_paused = 0;  // huddle_slow_consumer_closes_total moved by this, not reading.
};

// The whole slow-consumer scenario. `resume_before_close`: the slow member starts reading again
// before the test waits for its close (what it must do today, see the skipped test below).
SlowRun run_slow_consumer(bool resume_before_close) {
  SlowRun run;
  auto options = TestServer::default_options();
  options.net.outbox.max_bytes = kOutboxBound;
  TestServer server(options);
  const auto port = server.port();
  const std::string room = "flood";

  TestClient pub(port);
  TestClient r1(port);
  TestClient r2(port);
  TestClient slow(port);
  pub.hello("Pub", "pub");
  r1.hello("R1", "r1");
  r2.hello("R2", "r2");
  slow.hello("Slow", "slow");
  EXPECT_FALSE(pub.create_room(room).has_error());
  std::vector<std::pair<TestClient*, std::uint64_t>> readers;  // client, join from_seq
  readers.emplace_back(&pub, pub.join(room).from_seq());
  readers.emplace_back(&r1, r1.join(room).from_seq());
  readers.emplace_back(&r2, r2.join(room).from_seq());
  const auto slow_join = slow.join(room);
  const auto epoch = slow_join.epoch();
  // Let the memberJoined events settle before the slow member stops reading.
  const auto settled = pub.post_chat(room, "settled").seq();
  for (auto* c : {&pub, &r1, &r2, &slow}) {
    c->wait_seq(settled);
  }
  const double closes_before = metric(port, "huddle_slow_consumer_closes_total");
  const double outbox_before = metric(port, "huddle_outbox_bytes");
  slow.pause_reading();

  // Sample the outbox gauge while the publisher floods the room.
  std::atomic<bool> sampling{true};
  double outbox_max = 0;
  std::thread sampler([&] {
    while (sampling.load()) {
      outbox_max = std::max(outbox_max, metric(port, "huddle_outbox_bytes"));
      std::this_thread::sleep_for(std::chrono::milliseconds(25));  // Sampling rate.
    }
  });

  const std::string pad(kTextBytes, 'x');
  std::vector<std::uint64_t> requests;
  requests.reserve(kMessages);
  const auto start = Clock::now();
  for (int i = 0; i < kMessages; ++i) {
    if (i % 10 == 0) {  // 1,000 messages/s, in steps of 10 every 10 ms.
      std::this_thread::sleep_until(start + std::chrono::milliseconds(i));
    }
    requests.push_back(
        pub.post_chat_async(room, std::to_string(i) + " " + pad, "op" + std::to_string(i)));
  }
  std::vector<std::uint64_t> posted;
  for (const auto id : requests) {
    const auto reply = pub.wait_reply(id);
    EXPECT_FALSE(reply.has_error()) << reply.error().message();
    posted.push_back(reply.seq());
  }
  const auto publish_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  const auto head = posted.back();
  for (auto& [c, from] : readers) {
    c->wait_seq(head, std::chrono::seconds(15));
  }
  sampling = false;
  sampler.join();

  // Give the server a moment to notice the overflow while the slow member still does not read.
  const auto noticed =
      wait_until([&] { return metric(port, "huddle_slow_consumer_closes_total") > closes_before; },
                 std::chrono::milliseconds(resume_before_close ? 500 : 3000));
  run.closes_while_paused = metric(port, "huddle_slow_consumer_closes_total") - closes_before;
  std::cout << "[slow consumer] " << kMessages << " posts of " << kTextBytes << " B in "
            << publish_ms << " ms; outbox gauge before " << outbox_before << " B, max "
            << outbox_max << " B (bound " << kOutboxBound << " B); 4008 closes while paused "
            << run.closes_while_paused << (noticed ? "" : " (not within the wait)") << "\n";

  // Outbox memory: every outbox stays within the bound, so their sum within one bound per
  // member (the readers' are near empty on a quiet machine, but may lag under a loaded one), and
  // it is released once the slow outbox overflowed.
  EXPECT_LE(outbox_max, static_cast<double>(readers.size() + 1) * kOutboxBound);
  EXPECT_LT(metric(port, "huddle_outbox_bytes"), 0.5 * kOutboxBound);

  // The normal members lost nothing: every seq, in order, none twice, every posted one.
  for (auto& [c, from] : readers) {
    const auto seqs = chain(c->events(), room, from, "reader");
    const std::set<std::uint64_t> got(seqs.begin(), seqs.end());
    EXPECT_EQ(got.size(), seqs.size());
    for (const auto s : posted) {
      EXPECT_TRUE(got.contains(s)) << "reader missed seq " << s;
    }
  }

  // The slow member is closed with 4008; what it got before is one gap-free prefix.
  // (Without resume_before_close it was counted while still paused; the 4008 frame itself can
  // only reach it once it reads, within the server's grace, else the TCP connection drops.)
  slow.resume_reading();
  EXPECT_EQ(slow.wait_closed(std::chrono::seconds(10)), 4008);
  EXPECT_EQ(metric(port, "huddle_slow_consumer_closes_total") - closes_before, 1.0);
  const auto slow_seqs = chain(slow.events(), room, slow_join.from_seq(), "slow");
  const std::uint64_t last_seq = slow_seqs.empty() ? slow_join.from_seq() : slow_seqs.back();
  EXPECT_LT(last_seq, head) << "the slow member was never behind";

  // What it missed, per a normal reader, and whether that fits an EXACT resume (PROTOCOL.md
  // section 8: at most 1000 events and 512 KiB capped at half the outbox bound, in the tail).
  std::vector<v1::Event> missed;
  std::size_t missed_bytes = 0;
  for (const auto& e : r1.events()) {
    if (e.room_id() == room && e.seq() > last_seq) {
      missed.push_back(e);
      missed_bytes += e.ByteSizeLong();
    }
  }
  const bool exact = missed.size() <= 1000 && missed_bytes <= kOutboxBound / 2;

  TestClient back(port);
  back.hello("Slow", "slow");
  v1::ResumePosition pos;
  pos.set_epoch(epoch);
  pos.set_last_seq(last_seq);
  const auto rejoin = back.join(room, pos);
  std::cout << "[slow consumer] slow member saw up to seq " << last_seq << " of " << head
            << "; missed " << missed.size() << " events, " << missed_bytes << " B; resume mode "
            << v1::ResumeMode_Name(rejoin.mode()) << "\n";
  std::vector<std::uint64_t> recovered;
  if (exact) {
    EXPECT_EQ(rejoin.mode(), v1::RESUME_MODE_EXACT);
    EXPECT_EQ(rejoin.from_seq(), last_seq);
    back.wait_seq(head);
    recovered = chain(back.events(), room, last_seq, "resumed");
  } else {
    EXPECT_EQ(rejoin.mode(), v1::RESUME_MODE_SNAPSHOT);
    EXPECT_EQ(rejoin.from_seq(), rejoin.head_seq());
    EXPECT_EQ(rejoin.head_seq(), head);
    // The snapshot is at the head; page the gap back with getHistory (section 8).
    std::vector<v1::Event> pages;
    std::uint64_t before = rejoin.from_seq() + 1;
    int page_count = 0;
    for (int page = 0; page < 1000; ++page) {
      v1::ClientFrame get;
      get.mutable_get_history()->set_room_id(room);
      get.mutable_get_history()->set_before_seq(before);
      get.mutable_get_history()->set_limit(200);
      const auto reply = back.request(get);
      ++page_count;
      EXPECT_FALSE(reply.has_error());
      const auto& events = reply.history().events();
      if (events.empty()) {
        break;
      }
      pages.insert(pages.begin(), events.begin(), events.end());
      const bool reached = std::any_of(events.begin(), events.end(), [&](const v1::Event& e) {
        return e.prev_seq() == last_seq;
      });
      if (reached || !reply.history().has_more()) {
        break;
      }
      before = events.begin()->seq();
    }
    std::vector<v1::Event> after_gap;
    std::copy_if(pages.begin(), pages.end(), std::back_inserter(after_gap),
                 [&](const v1::Event& e) { return e.seq() > last_seq; });
    recovered = chain(after_gap, room, last_seq, "history");
    std::cout << "[slow consumer] getHistory: " << pages.size() << " events in " << page_count
              << " pages\n";
    EXPECT_TRUE(back.events().empty()) << "nothing live after the head";
  }
  std::vector<std::uint64_t> expected;
  for (const auto& e : missed) {
    expected.push_back(e.seq());
  }
  EXPECT_EQ(recovered, expected) << "the resumed member must get every missed event once";
  return run;
}

TEST(SlowConsumer, ClosedWith4008OthersLoseNothingAndItResumesLosslessly) {
  const auto run = run_slow_consumer(/*resume_before_close=*/true);
  (void)run;
  std::cout << "[slow consumer] p99 latency of the other members with and without the slow "
               "member is not measured here (not robust on a loaded 2-core machine)\n";
}

TEST(SlowConsumer, IsClosedWhileItStillDoesNotRead) {
  const auto run = run_slow_consumer(/*resume_before_close=*/false);
  EXPECT_EQ(run.closes_while_paused, 1.0);
}

TEST(HalfOpen, ResetAndSilentPeersAreReapedAndCountsReturnToBaseline) {
  auto options = TestServer::default_options();
  options.net.idle_timeout = std::chrono::seconds(2);  // Ping after 1 s, close after 2 s.
  TestServer server(options);
  const auto port = server.port();
  const std::string room = "halfopen";

  // The owner stays connected and keeps talking: it is part of the baseline.
  TestClient owner(port);
  owner.hello("Owner", "owner");
  ASSERT_FALSE(owner.create_room(room).has_error());
  owner.join(room);
  const std::size_t sockets0 = open_sockets();  // Before any HTTP request (each is a socket).
  const long conns0 = healthz_connections(port);
  const double members0 = metric(port, "huddle_room_members");
  ASSERT_EQ(conns0, 1);

  // Four victims, all joined: a TCP drop (FIN), an RST, a raw silent peer, a paused client.
  auto dropped = std::make_unique<TestClient>(port);
  dropped->hello("Dropped", "dropped");
  dropped->join(room);
  auto paused = std::make_unique<TestClient>(port);
  paused->hello("Paused", "paused");
  paused->join(room);
  RawPeer rst(port);
  rst.hello_and_join("rst", room);
  RawPeer silent(port);
  silent.hello_and_join("silent", room);
  ASSERT_TRUE(wait_until([&] { return metric(port, "huddle_room_members") == members0 + 4; },
                         std::chrono::seconds(5)))
      << "members " << metric(port, "huddle_room_members");
  EXPECT_EQ(healthz_connections(port), conns0 + 4);

  const auto start = Clock::now();
  dropped->drop();
  rst.reset();
  paused->pause_reading();
  // The paused client's outstanding read completes on this event; then it reads nothing more.
  owner.post_chat(room, "after the pause");
  const auto gone_two =
      wait_until([&] { return healthz_connections(port) <= conns0 + 2; }, std::chrono::seconds(5));
  const auto reaped = wait_until(
      [&] {
        return healthz_connections(port) == conns0 &&
               metric(port, "huddle_room_members") == members0;
      },
      std::chrono::seconds(8));
  const auto total_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  std::cout << "[half-open] drop+RST gone after "
            << (gone_two ? std::to_string(gone_two->count()) + " ms" : "never")
            << "; silent peers reaped after "
            << (reaped ? std::to_string(total_ms) + " ms" : "never") << " (idle timeout 2 s)\n";
  ASSERT_TRUE(gone_two.has_value());
  ASSERT_TRUE(reaped.has_value()) << "connections " << healthz_connections(port) << " members "
                                  << metric(port, "huddle_room_members");
  // Reaped by the timeout, not before: silent peers stay at least about one idle timeout.
  EXPECT_GE(total_ms, 1500);

  // The owner is still served, and the paused client finds its connection gone.
  EXPECT_FALSE(owner.post_chat(room, "still here").has_error());
  paused->resume_reading();
  EXPECT_EQ(paused->wait_closed(std::chrono::seconds(5)), 0) << "idle timeout: no close frame";

  // With the client ends closed too, this process has exactly its baseline sockets again: the
  // server kept no descriptor of any victim.
  paused.reset();
  dropped.reset();
  silent.close();
  const auto fds = wait_until([&] { return open_sockets() == sockets0; }, std::chrono::seconds(3));
  EXPECT_TRUE(fds.has_value()) << "sockets " << open_sockets() << " baseline " << sockets0;
}

}  // namespace
}  // namespace huddle::testing
