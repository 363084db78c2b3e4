// Shared by the SDK's tests: an io_context on its own thread for the Client, and a bounded poll
// (the SDK has no test hook to wait on).
#pragma once

#include <chrono>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace huddle::testing {

struct IoThread {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
      ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~IoThread() {
    guard.reset();
    ioc.stop();
    thread.join();
  }
};

// True once `pred` holds, polling every 10 ms for at most `within`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace huddle::testing
