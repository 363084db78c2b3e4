// Every protocol-abuse case, twice, against one huddle-server child process: the server stays
// up, every session ends (connections back to 0) and its memory does not grow (issue #7; DESIGN
// invariants 8 and 9).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/net/abuse_cases.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing::abuse {
namespace {

using namespace std::chrono_literals;

// VmRSS of `pid` in KiB (0 if unreadable).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return 0;
}

// Open file descriptors of `pid`.
long fd_count(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// The server's open WebSocket connections, from /healthz.
long connections(std::uint16_t port) {
  const auto body = http_get(port, "/healthz").body;
  const std::string key = R"("connections":)";
  const auto at = body.find(key);
  return at == std::string::npos ? -1 : std::stol(body.substr(at + key.size()));
}

// Sessions end asynchronously after the client's side closed: wait for 0, with a deadline.
void expect_no_connections(std::uint16_t port) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  long n = connections(port);
  while (n != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // Polling a counter, bounded.
    n = connections(port);
  }
  EXPECT_EQ(n, 0) << "sessions left behind by the abuse cases";
}

TEST(ProtocolAbuse, TwoRoundsOfEveryCaseKeepTheServerUpWithoutMemoryGrowth) {
  TempDir dir;
  ChildServer server((dir.path() / "data").string());
  const auto frames = frame_cases();
  const auto shakes = handshake_cases();
  auto round = [&] {
    for (const auto& c : frames) {
      run_frame_case(server.port(), c);
    }
    for (const auto& c : shakes) {
      run_handshake_case(server.port(), c);
    }
  };
  // Warm-up: allocator arenas, per-thread caches and buffers reach their working size (measured:
  // the first round adds about 1.8 MiB, the second about 200 KiB, the next two about 200 KiB
  // together, and later rounds less and less).
  round();
  round();
  expect_no_connections(server.port());
  const long before = rss_kib(server.pid());
  const long fds_before = fd_count(server.pid());
  ASSERT_GT(before, 0);
  round();
  round();
  expect_no_connections(server.port());
  const long after = rss_kib(server.pid());
  // Sockets close right after their sessions end: wait for the count to settle, bounded.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  long fds_after = fd_count(server.pid());
  while (fds_after > fds_before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // Polling a count, bounded.
    fds_after = fd_count(server.pid());
  }
  EXPECT_LE(fds_after, fds_before) << "file descriptors leaked by the abuse cases";
  // Two rounds open about 800 connections: a leak of 1.3 KiB per connection would show.
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine (256 MiB by default), so RSS grows without
  // a leak; LeakSanitizer checks the server at exit instead.
  std::cout << "RSS bound not checked under AddressSanitizer\n";
#else
  constexpr long kBoundKib = 1024;
  EXPECT_LE(after - before, kBoundKib) << "VmRSS " << before << " KiB -> " << after << " KiB";
#endif
  RecordProperty("rss_before_kib", std::to_string(before));
  RecordProperty("rss_after_kib", std::to_string(after));
  std::cout << "VmRSS " << before << " KiB -> " << after << " KiB after 2 rounds of "
            << frames.size() + shakes.size() << " cases\n";
  EXPECT_EQ(server.terminate(), 0) << "the server must still shut down cleanly";
}

}  // namespace
}  // namespace huddle::testing::abuse
