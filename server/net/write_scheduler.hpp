// WriteScheduler: per-shard deferred writes ("corking"). A session whose outbox wakes it during a
// burst of room work (a commit group completing, a room fanning out many events) registers here
// instead of writing at once; one flush then starts the writes of every registered session after
// the burst. A busy member thus gets one EventBatch message, one syscall, for everything queued
// meanwhile, and the fan-out costs no per-member handler post.
// Flushes are at least the current cork apart, and at least as far apart as the last flush took:
// between two flushes the shard keeps reading commands (a publisher's pipelined commands are not
// starved by a thousand members' writes), so batches grow with load. The cork adapts: it doubles
// while flushes run late (the shard is saturated), up to `cork_max`, and shrinks back towards
// `cork` otherwise, so a quiet shard adds at most `cork` to a delivery. Owner: its shard.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "server/util/shards.hpp"

namespace huddle::net {

class Session;

class WriteScheduler {
 public:
  WriteScheduler(ShardSet::Executor executor, std::chrono::microseconds cork,
                 std::chrono::microseconds cork_max)
      : executor_(executor), timer_(executor), cork_(cork), cork_max_(cork_max), cork_now_(cork) {}

  // REQUIRES: on the scheduler's shard.
  void schedule(std::shared_ptr<Session> session);

 private:
  void flush();

  ShardSet::Executor executor_;
  boost::asio::steady_timer timer_;
  std::chrono::microseconds cork_;      // Minimum gap between flushes.
  std::chrono::microseconds cork_max_;  // The adaptive gap never exceeds this (latency budget).
  std::chrono::microseconds cork_now_;  // Current adaptive gap. Owner: shard.
  std::chrono::steady_clock::time_point due_{};
  std::chrono::steady_clock::time_point last_flush_{};     // When the last flush ended.
  std::chrono::steady_clock::duration last_flush_cost_{};  // How long it took.
  std::vector<std::shared_ptr<Session>> dirty_;            // Owner: shard.
  std::vector<std::shared_ptr<Session>> spare_;  // Reused between flushes (no allocation).
  bool scheduled_ = false;
};

}  // namespace huddle::net
