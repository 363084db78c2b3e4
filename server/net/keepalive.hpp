// Keepalive: one timer per shard over the shard's open WebSocket sessions, instead of one per
// connection (an idle connection holds no timer: issue #5, W4). Every `period` it lets each
// session check its deadlines (Session::on_tick): a ping after half the idle timeout without a
// byte from the peer, a drop after all of it, and a drop when a close handshake outlives the
// handshake timeout. Owner: its shard.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "server/util/shards.hpp"

namespace huddle::net {

class Session;

class Keepalive {
 public:
  Keepalive(ShardSet::Executor executor, std::chrono::milliseconds period)
      : timer_(executor), period_(period) {}

  // REQUIRES: on the keepalive's shard. The session is checked until it finishes.
  void add(std::weak_ptr<Session> session);

 private:
  void arm();
  void sweep();

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds period_;
  std::vector<std::weak_ptr<Session>> sessions_;  // Owner: shard.
  bool armed_ = false;
};

}  // namespace huddle::net
