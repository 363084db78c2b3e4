// A load-generator WebSocket connection: set up synchronously (connect, handshake, a few
// request/replies), then read and write asynchronously on one shared io_context thread. Many
// connections per thread; no per-message allocation beyond Beast's buffer.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace huddle::bench {

class LoadConn : public std::enable_shared_from_this<LoadConn> {
 public:
  using OnMessage = std::function<void(std::string_view)>;

  LoadConn(boost::asio::io_context& ioc, const std::string& host, std::uint16_t port,
           const std::string& target, const std::string& subprotocol);

  // Setup phase only (before start()): blocking write + read of one message.
  void write_sync(const std::string& bytes);
  std::string read_sync();
  // The same into the connection's own buffer (see reserve_read_buffer), without a copy: the view
  // is valid until the next read.
  std::string_view read_sync_view();

  // Setup phase: gives the read buffer `bytes` of capacity and touches it, so that messages up to
  // that size cost no allocation or page fault while measuring.
  void reserve_read_buffer(std::size_t bytes);
  // Starts the async read loop; `on_message` runs on the io thread for every message.
  void start(OnMessage on_message);
  // Any thread: queue a binary message. The io thread writes them one at a time.
  void send(std::string bytes);
  // io thread only.
  void send_here(std::string bytes);
  void close();
  // io thread only: whether the read loop has ended (the peer closed or the connection dropped),
  // and the close code the peer sent (0: none, the connection dropped without a close frame).
  [[nodiscard]] bool ended() const noexcept { return ended_; }
  [[nodiscard]] std::uint16_t close_code() const noexcept { return close_code_; }

 private:
  void do_read();
  void do_write();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buf_;
  OnMessage on_message_;
  std::deque<std::string> writes_;
  bool writing_ = false;
  bool ended_ = false;
  std::uint16_t close_code_ = 0;
};

}  // namespace huddle::bench
