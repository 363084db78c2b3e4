#include "bench/load_conn.hpp"

#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace huddle::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

LoadConn::LoadConn(asio::io_context& ioc, const std::string& host, std::uint16_t port,
                   const std::string& target, const std::string& subprotocol)
    : ws_(ioc) {
  asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
  beast::get_lowest_layer(ws_).socket().connect(ep);
  beast::get_lowest_layer(ws_).socket().set_option(asio::ip::tcp::no_delay(true));
  if (!subprotocol.empty()) {
    ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol, subprotocol);
    }));
  }
  ws_.read_message_max(64 * 1024 * 1024);
  ws_.binary(true);
  ws_.handshake(host + ":" + std::to_string(port), target);
}

void LoadConn::write_sync(const std::string& bytes) {
  ws_.write(asio::buffer(bytes));
}

std::string LoadConn::read_sync() {
  beast::flat_buffer b;
  ws_.read(b);
  return beast::buffers_to_string(b.data());
}

std::string_view LoadConn::read_sync_view() {
  buf_.consume(buf_.size());
  ws_.read(buf_);
  const auto data = buf_.cdata();
  return {static_cast<const char*>(data.data()), data.size()};
}

void LoadConn::reserve_read_buffer(std::size_t bytes) {
  const auto space = buf_.prepare(bytes);
  std::memset(space.data(), 0, space.size());
}

void LoadConn::start(OnMessage on_message) {
  on_message_ = std::move(on_message);
  asio::post(ws_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void LoadConn::do_read() {
  ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) {
      self->ended_ = true;
      if (ec == websocket::error::closed) {
        self->close_code_ = static_cast<std::uint16_t>(self->ws_.reason().code);
      }
      return;
    }
    const auto data = self->buf_.cdata();
    self->on_message_(std::string_view(static_cast<const char*>(data.data()), data.size()));
    self->buf_.consume(self->buf_.size());
    self->do_read();
  });
}

void LoadConn::send(std::string bytes) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), bytes = std::move(bytes)]() mutable {
    self->send_here(std::move(bytes));
  });
}

void LoadConn::send_here(std::string bytes) {
  writes_.push_back(std::move(bytes));
  do_write();
}

void LoadConn::do_write() {
  if (writing_ || writes_.empty()) {
    return;
  }
  writing_ = true;
  ws_.async_write(asio::buffer(writes_.front()),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    self->writing_ = false;
                    self->writes_.pop_front();
                    if (!ec) {
                      self->do_write();
                    }
                  });
}

void LoadConn::close() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    beast::get_lowest_layer(self->ws_).socket().close(ec);
  });
}

}  // namespace huddle::bench
