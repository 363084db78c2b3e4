// WriteScheduler: per-shard deferred writes ("corking"). A session whose outbox wakes it during a
// burst of room work (a commit group completing, a room fanning out many events) registers here
// instead of writing at once; one posted flush then starts the writes of every registered session
// after the burst. A busy member thus gets one EventBatch message, one syscall, for everything the
// burst queued, and the fan-out costs no per-member handler post. Owner: its shard (one thread).
#pragma once

#include <memory>
#include <vector>

#include "server/util/shards.hpp"

namespace huddle::net {

class Session;

class WriteScheduler {
 public:
  explicit WriteScheduler(ShardSet::Executor executor) : executor_(executor) {}

  // REQUIRES: on the scheduler's shard.
  void schedule(std::shared_ptr<Session> session);

 private:
  void flush();

  ShardSet::Executor executor_;
  std::vector<std::shared_ptr<Session>> dirty_;  // Owner: shard.
  std::vector<std::shared_ptr<Session>> spare_;  // Reused between flushes (no allocation).
  bool scheduled_ = false;
};

}  // namespace huddle::net
