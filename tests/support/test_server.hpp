// In-process and child-process servers for integration tests, on loopback port 0, each with its
// own temporary data directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server/app/server.hpp"

#include <sys/types.h>

namespace huddle::testing {

// A unique directory under ::testing::TempDir(), removed on destruction.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// app::Server in this process, on 127.0.0.1:0, data in `data_dir` (a fresh temp dir by default).
class TestServer {
 public:
  explicit TestServer(app::ServerOptions options = default_options(), std::string data_dir = "");
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  TestServer(TestServer&&) = delete;
  TestServer& operator=(TestServer&&) = delete;

  static app::ServerOptions default_options();

  [[nodiscard]] std::uint16_t port() const { return server_->port(); }
  [[nodiscard]] std::uint64_t epoch() const { return server_->epoch(); }
  [[nodiscard]] const std::string& data_dir() const { return data_dir_; }
  [[nodiscard]] app::Server& server() { return *server_; }
  // Graceful stop and start on the same data dir (a new port).
  void restart();
  void stop();

 private:
  void start();
  std::unique_ptr<TempDir> temp_;
  app::ServerOptions options_;
  std::string data_dir_;
  std::unique_ptr<app::Server> server_;
};

// huddle-server as a child process (for kill -9). Waits for it to listen.
class ChildServer {
 public:
  ChildServer(std::string data_dir, std::vector<std::string> extra_args = {});
  ~ChildServer();
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;
  ChildServer(ChildServer&&) = delete;
  ChildServer& operator=(ChildServer&&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  void kill9();
  // Whether the child is still running (it has not exited or crashed).
  [[nodiscard]] bool running();
  // SIGTERM; returns the exit status (or -1 on timeout, after which it is killed).
  int terminate();

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace huddle::testing
