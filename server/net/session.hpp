// Session: one WebSocket connection. Owner: its shard (one thread; no strand needed).
// Reads frames -> rate limit -> codec -> dispatch (hello/refresh/list/create here, room commands
// to the Room); writes whatever its Outbox holds, one async_write in flight, merging queued
// events into one EventBatch message per write. Closes with 4008 when the outbox passes its
// bound, 4002 when no hello succeeds within the auth deadline, 4001 on a bad token or one that
// expired unrefreshed, 4029 when the client keeps sending past its rate limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "huddle/v1/frame.pb.h"
#include "server/net/admission.hpp"
#include "server/net/net_context.hpp"
#include "server/net/streams.hpp"
#include "server/room/member.hpp"

namespace huddle::room {
class Room;
}

namespace huddle::net {

namespace beast = boost::beast;

class Session : public std::enable_shared_from_this<Session> {
 public:
  friend class WriteScheduler;
  Session(AnyStream&& stream, NetContext& ctx, std::size_t shard, codec::Encoding encoding,
          PeerSlot slot);
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
  void hello(std::uint64_t request_id, const huddle::v1::Hello& hello);
  void refresh(std::uint64_t request_id, const huddle::v1::RefreshToken& refresh);
  void send_hello_result(std::uint64_t request_id);
  // The role a join is granted (token grant or invite); nullopt: refuse (a bad invite).
  std::optional<huddle::v1::Role> join_grant(const huddle::v1::Join& join);
  // Auth timer: the deadline for hello, then AuthExpiring and the 4001 close of a JWT session.
  void arm_auth_timer(std::chrono::system_clock::time_point at, bool warn);
  void refuse_auth(std::uint64_t request_id, std::string_view reason, bool close);
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

  template <class F>
  decltype(auto) with_ws(F&& f) {
    return std::visit(std::forward<F>(f), ws_);
  }

  std::variant<beast::websocket::stream<PlainStream>, beast::websocket::stream<TlsStream>> ws_;
  NetContext& ctx_;
  PeerSlot slot_;
  RateLimiter limiter_;
  const std::size_t shard_;
  const codec::Encoding encoding_;
  const std::uint64_t conn_id_;
  std::shared_ptr<fanout::Outbox> outbox_;  // Rooms hold weak refs.
  beast::flat_buffer read_buf_;             // Owner: shard.
  fanout::OutMessage write_msg_;            // Owner: shard. The message in flight.
  bool accepted_ = false;                   // The WebSocket upgrade completed.
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  std::uint16_t close_code_ = 0;         // Close requested while a write was in flight.
  std::uint16_t close_after_flush_ = 0;  // Close once the outbox is written out (auth refusal).
  std::unique_ptr<boost::asio::steady_timer> slow_close_timer_;  // Only for a slow consumer.
  std::size_t malformed_in_a_row_ = 0;
  int current_command_ = 0;    // Of the frame being dispatched (commands metric); 0 = none.
  huddle::v1::Member member_;  // Set by Hello.
  bool hello_done_ = false;
  std::unique_ptr<boost::asio::steady_timer> auth_timer_;
  std::uint64_t auth_timer_gen_ = 0;  // Stale timer handlers see a newer generation.
  std::int64_t token_expires_s_ = 0;  // JWT: the token's exp; 0 = never.
  std::map<std::string, huddle::v1::Role, std::less<>> grants_;         // JWT: room grants.
  std::unordered_map<std::string, std::shared_ptr<room::Room>> rooms_;  // Joined (or joining).
};

}  // namespace huddle::net
