// /readyz over the real server: "starting" while the store opens (everything else 503 too),
// "ready" once rooms are served, "degraded" while storage writes fail, ready again after.
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "server/app/server.hpp"
#include "server/store/rocksdb_event_log.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;

TEST(Readyz, StartingUntilTheStoreIsOpenThenReady) {
  TempDir dir;
  auto options = TestServer::default_options();
  options.data_dir = (dir.path() / "data").string();
  std::promise<void> release;
  auto released = release.get_future().share();
  options.before_store_open = [released] { released.wait(); };
  app::Server server(options);
  auto started = std::async(std::launch::async, [&] { return server.start(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.port() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_NE(server.port(), 0);

  const auto starting = http_get(server.port(), "/readyz");
  EXPECT_EQ(starting.status, 503U);
  EXPECT_EQ(starting.body, "{\"status\":\"starting\"}\n");
  EXPECT_EQ(starting.headers.at("retry-after"), "1");
  EXPECT_EQ(http_get(server.port(), "/healthz").status, 503U);
  EXPECT_EQ(http_get(server.port(), "/api/v1/rooms/x/export").status, 503U);
  EXPECT_THROW(TestClient(server.port()), std::exception);  // No upgrade while starting.

  release.set_value();
  ASSERT_FALSE(started.get());
  const auto ready = http_get(server.port(), "/readyz");
  EXPECT_EQ(ready.status, 200U);
  EXPECT_EQ(ready.body, "{\"status\":\"ready\"}\n");
  TestClient c(server.port());
  EXPECT_NE(c.hello("Ann", "ann").epoch(), 0U);
  server.stop();
}

TEST(Readyz, DegradedWhileStorageWritesFailAndReadyOnceOneSucceeds) {
  TestServer server;
  auto* log = dynamic_cast<store::RocksDbEventLog*>(server.server().event_log());
  ASSERT_NE(log, nullptr);
  TestClient c(server.port());
  c.hello("Ann", "ann");
  ASSERT_FALSE(c.create_room("q3", "Q3").has_error());
  c.join("q3");

  log->fail_next_writes(1);
  const auto failed = c.post_chat("q3", "lost to the disk");
  ASSERT_TRUE(failed.has_error());
  EXPECT_EQ(failed.error().code(), v1::ERROR_CODE_STORAGE_UNAVAILABLE);
  const auto degraded = http_get(server.port(), "/readyz");
  EXPECT_EQ(degraded.status, 503U);
  EXPECT_NE(degraded.body.find("\"status\":\"degraded\",\"reason\":\"storage\""), std::string::npos)
      << degraded.body;
  // Reads go on while degraded.
  EXPECT_EQ(c.join("q3").head_seq(), 1U);

  const auto ok = c.post_chat("q3", "the disk is back");
  ASSERT_FALSE(ok.has_error());
  EXPECT_EQ(ok.seq(), 2U);
  EXPECT_EQ(http_get(server.port(), "/readyz").status, 200U);
}

}  // namespace
}  // namespace huddle::testing
