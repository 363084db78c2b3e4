// Session: one WebSocket connection. Owner: its shard (one thread; no strand needed).
// Beast does the HTTP upgrade; after it the session owns the socket and does the framing itself
// (ws_protocol.hpp): an idle connection waits for readability with no read buffer and no timer
// (its shard's Keepalive checks the deadlines), and reads into a per-shard scratch buffer.
// Reads frames -> rate limit -> codec -> dispatch (hello/refresh/list/create here, room commands
// to the Room); writes whatever its Outbox holds, one write in flight, merging queued events into
// one EventBatch message per write. Closes with 4008 when the outbox passes its bound, 4002 when
// no hello succeeds within the auth deadline, 4001 on a bad token or one that expired
// unrefreshed, 4029 when the client keeps sending past its rate limit.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "huddle/v1/frame.pb.h"
#include "server/net/admission.hpp"
#include "server/net/net_context.hpp"
#include "server/net/streams.hpp"
#include "server/net/ws_protocol.hpp"
#include "server/room/member.hpp"

namespace huddle::room {
class Room;
}

namespace huddle::net {

namespace beast = boost::beast;

class Session : public std::enable_shared_from_this<Session>, private ws::FrameSink {
 public:
  friend class WriteScheduler;
  friend class Keepalive;
  Session(AnyStream&& stream, NetContext& ctx, std::size_t shard, codec::Encoding encoding,
          PeerSlot slot);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;
  ~Session() override;

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
  // Reading: plain TCP reads whatever the kernel holds into the shard's scratch buffer and then
  // waits for readability (no buffer held while idle); TLS reads into the session's own buffer.
  void read_now();
  void on_tls_read(beast::error_code ec, std::size_t bytes);
  void on_bytes(std::span<char> bytes);
  void on_read_error(beast::error_code ec);
  // ws::FrameSink: what the frame reader found.
  void on_message(std::string_view payload, bool text) override;
  void on_ping(std::string_view payload) override;
  void on_close(std::uint16_t code, std::string_view reason) override;
  void on_protocol_error(std::uint16_t code);
  void dispatch(huddle::v1::ClientFrame frame);
  void on_outbox_ready(bool at_once);
  // Writes, one at a time: queued control frames first, then the outbox's next message; once
  // closing, the close frame. A write the socket takes at once completes without a handler.
  using WriteBuffers = std::array<boost::asio::const_buffer, 4>;
  void do_write();
  bool next_write(WriteBuffers& out);       // False: nothing to write now.
  bool write(const WriteBuffers& buffers);  // True: written at once; false: on_write follows.
  void on_write(beast::error_code ec, std::size_t bytes);
  bool after_write();  // True: go on writing.
  // Closing: no more messages; the close frame goes next (after the write in flight). An outbox
  // past its bound closes with 4008, and if that close is not done within the handshake timeout
  // (a peer that never reads again), the Keepalive drops the TCP connection.
  void start_close(std::uint16_t code);
  void begin_close(std::uint16_t code);  // The state change only; the caller writes.
  void close_slow_consumer();            // Counted, logged, begin_close(4008).
  // After the close frames: shut down our sending side and read until the peer's EOF.
  void teardown();
  // Keepalive, every period: ping, drop on the idle timeout or an overdue close.
  void on_tick(std::chrono::steady_clock::time_point now);
  void drop(std::string_view why);
  void finish();
  void reply_error(std::uint64_t request_id, const boost::system::error_code& ec);
  void send(const huddle::v1::ServerFrame& frame);
  [[nodiscard]] room::MemberHandle handle() const;

  struct Handshake;                       // Beast's WebSocket stream, for the upgrade only.
  std::unique_ptr<Handshake> handshake_;  // Until the upgrade completes.
  // After it: the connection.
  std::variant<std::monostate, boost::asio::ip::tcp::socket, TlsStream> io_;
  std::unique_ptr<std::array<char, 16 * 1024>> tls_rx_;  // TLS only (its own buffering anyway).
  ws::FrameReader reader_;
  std::string control_out_;        // Control frames waiting for the write in flight.
  std::string control_writing_;    // The control frames in flight.
  std::array<char, 10> header_{};  // The frame header of the message in flight.
  std::chrono::steady_clock::time_point last_rx_{};   // The peer's last byte (Keepalive).
  std::chrono::steady_clock::time_point close_by_{};  // Closing: drop the TCP then.
  NetContext& ctx_;
  PeerSlot slot_;
  RateLimiter limiter_;
  const std::size_t shard_;
  const codec::Encoding encoding_;
  const std::uint64_t conn_id_;
  std::shared_ptr<fanout::Outbox> outbox_;  // Rooms hold weak refs.
  fanout::OutMessage write_msg_;            // Owner: shard. The message in flight.
  bool accepted_ = false;                   // The WebSocket upgrade completed.
  bool writing_ = false;
  bool closing_ = false;      // No more messages go out; the close frame goes next.
  bool close_sent_ = false;   // Our close frame is written (or in flight).
  bool peer_closed_ = false;  // The peer's close frame arrived.
  bool failed_ = false;       // A protocol error: tear down right after our close frame.
  bool tearing_down_ = false;
  bool ping_sent_ = false;  // Keepalive ping out, no byte from the peer since.
  bool finished_ = false;
  std::uint16_t close_code_ = 0;         // The close frame's code, once closing.
  std::uint16_t close_after_flush_ = 0;  // Close once the outbox is written out (auth refusal).
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
