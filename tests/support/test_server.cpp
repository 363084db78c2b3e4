#include "tests/support/test_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include <sys/wait.h>

#ifndef HUDDLE_SERVER_BINARY
#error "HUDDLE_SERVER_BINARY must be defined by the build"
#endif

namespace huddle::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  path_ = fs::path(::testing::TempDir()) / ("huddle-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(counter++) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

app::ServerOptions TestServer::default_options() {
  app::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.durability = store::Durability::kWal;  // Tests exercise the path; fsync cost is the bench's.
  // Tests post as fast as they can from one address: the abuse limits are off unless a test
  // turns them on (tests/integration/security_test.cpp).
  o.net.limits = {.commands_per_s = 0,
                  .command_burst = 1,
                  .frames_per_s = 0,
                  .max_connections = 0,
                  .max_connections_per_ip = 0};
  return o;
}

TestServer::TestServer(app::ServerOptions options, std::string data_dir)
    : options_(std::move(options)), data_dir_(std::move(data_dir)) {
  if (data_dir_.empty()) {
    temp_ = std::make_unique<TempDir>();
    data_dir_ = (temp_->path() / "data").string();
  }
  start();
}

TestServer::~TestServer() {
  stop();
}

void TestServer::start() {
  options_.data_dir = data_dir_;
  options_.port = 0;
  server_ = std::make_unique<app::Server>(options_);
  if (auto ec = server_->start()) {
    throw std::runtime_error("server did not start: " + ec.message());
  }
}

void TestServer::stop() {
  if (server_) {
    server_->stop();
    server_.reset();
  }
}

void TestServer::restart() {
  stop();
  start();
}

ChildServer::ChildServer(std::string data_dir, std::vector<std::string> extra_args) {
  const std::string port_file = data_dir + ".port";
  std::error_code ec;
  fs::remove(port_file, ec);
  // A --listen in extra_args replaces the default one (a flag may be given once).
  const bool own_listen =
      std::find(extra_args.begin(), extra_args.end(), "--listen") == extra_args.end();
  std::vector<std::string> args = {HUDDLE_SERVER_BINARY,
                                   "--listen",
                                   own_listen ? "127.0.0.1:0" : "",
                                   "--data-dir",
                                   data_dir,
                                   "--port-file",
                                   port_file,
                                   "--threads",
                                   "2",
                                   "--log-level",
                                   "warn"};
  if (!own_listen) {
    args.erase(args.begin() + 1, args.begin() + 3);
  }
  // As in TestServer: no abuse limits unless the test sets them.
  for (const auto& [flag, value] : {std::pair<std::string, std::string>{"--command-rate", "0"},
                                    {"--frames-per-second", "0"},
                                    {"--max-connections-per-ip", "0"}}) {
    if (std::find(extra_args.begin(), extra_args.end(), flag) == extra_args.end()) {
      args.insert(args.end(), {flag, value});
    }
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    // The child's banner would clutter the test log; its warnings (stderr) stay.
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDOUT_FILENO);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = static_cast<std::uint16_t>(port);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("huddle-server exited during startup");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // Polling a file, bounded.
  }
  kill9();
  throw std::runtime_error("huddle-server did not start listening in time");
}

ChildServer::~ChildServer() {
  if (pid_ > 0) {
    kill9();
  }
}

void ChildServer::kill9() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool ChildServer::running() {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildServer::terminate() {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return -1;
}

}  // namespace huddle::testing
