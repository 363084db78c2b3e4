#include "server/net/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "server/net/admission.hpp"
#include "server/net/http_session.hpp"
#include "server/util/log.hpp"

namespace huddle::net {

namespace asio = boost::asio;

Listener::Listener(asio::io_context& ioc, NetContext& ctx) : acceptor_(ioc), ctx_(ctx) {}

void Listener::listen(const asio::ip::tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void Listener::run() {
  do_accept();
}

void Listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
  });
}

asio::ip::tcp::endpoint Listener::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void Listener::do_accept() {
  const std::size_t shard = next_shard_;
  next_shard_ = (next_shard_ + 1) % ctx_.shards->size();
  acceptor_.async_accept(ctx_.shards->context(shard), [self = shared_from_this(), shard](
                                                          boost::system::error_code ec,
                                                          asio::ip::tcp::socket socket) {
    if (!ec) {
      boost::system::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      const auto peer = socket.remote_endpoint(ignored);
      // Counted from here to close; past a cap the slot is empty and the request gets 503.
      auto slot = PeerSlot::acquire(self->ctx_, peer.address().to_string());
      std::make_shared<HttpSession>(std::move(socket), self->ctx_, shard, std::move(slot))->run();
    } else if (ec == asio::error::operation_aborted) {
      return;
    } else {
      log::net()->warn("accept failed err={}", ec.message());
    }
    if (self->acceptor_.is_open()) {
      self->do_accept();
    }
  });
}

}  // namespace huddle::net
