// Listener: accepts TCP connections and spreads them over the shards round-robin; each socket
// is created on its shard's io_context, so everything about it runs on that one thread.
#pragma once

#include <cstddef>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "server/net/net_context.hpp"

namespace huddle::net {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, NetContext& ctx);

  // Binds and listens. Throws boost::system::system_error at startup (address in use, ...).
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void run();
  void stop();
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  NetContext& ctx_;
  std::size_t next_shard_ = 0;
};

}  // namespace huddle::net
