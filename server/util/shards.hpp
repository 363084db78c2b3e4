// ShardSet: one io_context per I/O thread (shared-nothing). A session lives on one shard; a room
// has one owner shard (hash of its id) that serializes its commands. Crossing shards = posting a
// closure to the target io_context. Each io_context is run by exactly one thread, so handlers
// posted from one thread to a shard run in the order they were posted (asio's scheduler queue is
// FIFO); the room -> member stream relies on this.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace huddle {

class ShardSet {
 public:
  using Executor = boost::asio::io_context::executor_type;

  explicit ShardSet(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    }
  }
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;
  ShardSet(ShardSet&&) = delete;
  ShardSet& operator=(ShardSet&&) = delete;
  ~ShardSet() { stop(); }

  [[nodiscard]] std::size_t size() const noexcept { return contexts_.size(); }
  [[nodiscard]] boost::asio::io_context& context(std::size_t i) { return *contexts_[i]; }
  [[nodiscard]] Executor executor(std::size_t i) { return contexts_[i]->get_executor(); }

  // The owner shard of a room (or any keyed object).
  [[nodiscard]] std::size_t shard_for(std::string_view key) const noexcept {
    return std::hash<std::string_view>{}(key) % contexts_.size();
  }

  // Starts one thread per shard.
  void start() {
    for (auto& ctx : contexts_) {
      guards_.emplace_back(boost::asio::make_work_guard(*ctx));
      threads_.emplace_back([c = ctx.get()] { c->run(); });
    }
  }

  // Lets the shards finish their queued work and joins the threads.
  void stop() {
    for (auto& ctx : contexts_) {
      ctx->stop();
    }
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
    threads_.clear();
    guards_.clear();
  }

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<boost::asio::executor_work_guard<Executor>> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace huddle
