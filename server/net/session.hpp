// Session: one WebSocket connection. Owner: its shard (one thread; no strand needed).
// Reads frames -> codec -> dispatch (hello/list/create here, room commands to the Room);
// writes whatever its Outbox holds, one async_write in flight, merging queued events into one
// EventBatch message per write. Closes with 4008 when the outbox passes its bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "huddle/v1/frame.pb.h"
#include "server/net/net_context.hpp"
#include "server/room/member.hpp"

namespace huddle::room {
class Room;
}

namespace huddle::net {

namespace beast = boost::beast;

class Session : public std::enable_shared_from_this<Session> {
 public:
  friend class WriteScheduler;
  Session(beast::tcp_stream&& stream, NetContext& ctx, std::size_t shard, codec::Encoding encoding);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;
  ~Session();

  // Completes the upgrade of `req` (subprotocol already chosen) and starts reading.
  void run(beast::http::request<beast::http::string_body> req);
  // Any thread: close with `code` (server shutdown uses 1001).
  void close_from_anywhere(std::uint16_t code);

 private:
  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void dispatch(huddle::v1::ClientFrame frame);
  void on_outbox_ready();
  void do_write();
  void on_write(beast::error_code ec, std::size_t bytes);
  void start_close(std::uint16_t code);
  // The outbox passed its bound: count it, close with 4008 (after the write in flight, if the
  // peer ever reads it), and drop the TCP connection if that write is still stuck after the
  // handshake timeout (a peer that never reads again must not hold its session until the idle
  // timeout).
  void close_slow_consumer();
  void on_close(beast::error_code ec);
  void finish();
  void reply_error(std::uint64_t request_id, const boost::system::error_code& ec);
  void send(const huddle::v1::ServerFrame& frame);
  [[nodiscard]] room::MemberHandle handle() const;

  beast::websocket::stream<beast::tcp_stream> ws_;
  NetContext& ctx_;
  const std::size_t shard_;
  const codec::Encoding encoding_;
  const std::uint64_t conn_id_;
  std::shared_ptr<fanout::Outbox> outbox_;  // Rooms hold weak refs.
  beast::flat_buffer read_buf_;             // Owner: shard.
  std::string write_buf_;                   // Owner: shard. The message in flight.
  bool accepted_ = false;                   // The WebSocket upgrade completed.
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  std::uint16_t close_code_ = 0;  // Close requested while a write was in flight.
  std::unique_ptr<boost::asio::steady_timer> slow_close_timer_;  // Only for a slow consumer.
  std::size_t malformed_in_a_row_ = 0;
  int current_command_ = 0;    // Of the frame being dispatched (commands metric); 0 = none.
  huddle::v1::Member member_;  // Set by Hello.
  bool hello_done_ = false;
  std::unordered_map<std::string, std::shared_ptr<room::Room>> rooms_;  // Joined (or joining).
};

}  // namespace huddle::net
