// Idle eviction over the real server: rooms nobody is in leave memory and reload intact.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/http_get.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

std::size_t rooms_loaded(std::uint16_t port) {
  const auto body = http_get(port, "/healthz").body;
  const auto at = body.find("\"rooms_loaded\":");
  return at == std::string::npos ? 999999 : std::stoul(body.substr(at + 15));
}

TEST(Eviction, AThousandIdleRoomsLeaveMemoryAndReloadIntact) {
  auto options = TestServer::default_options();
  options.room.idle_eviction_ms = 300;
  TestServer server(options);
  TestClient c(server.port());
  c.hello("Ann", "ann");
  const long before = rss_kib();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(
        c.create_room("idle-" + std::to_string(i), "Board " + std::to_string(i)).has_error());
  }
  const long loaded_peak = rss_kib();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rooms_loaded(server.port()) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // The sweep runs every 75 ms.
  }
  EXPECT_EQ(rooms_loaded(server.port()), 0U);
  // Informational: glibc keeps freed memory, so RSS is not asserted.
  std::cout << "rss KiB: before " << before << ", 1000 rooms " << loaded_peak << ", evicted "
            << rss_kib() << std::endl;

  const auto join = c.join("idle-500");
  EXPECT_EQ(join.room().title(), "Board 500");
  EXPECT_EQ(join.head_seq(), 1U);
  const auto chat = c.post_chat("idle-500", "back again");
  ASSERT_FALSE(chat.has_error());
  EXPECT_EQ(chat.seq(), 2U);
  EXPECT_EQ(rooms_loaded(server.port()), 1U);  // Ann is in it: it stays.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(rooms_loaded(server.port()), 1U);
}

}  // namespace
}  // namespace huddle::testing
