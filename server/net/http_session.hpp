// HttpSession: reads one HTTP request on a fresh connection and routes it:
//   GET /healthz -> 200 JSON; GET /readyz -> 200 ready, or 503 starting / degraded (storage
//   not writable) / stopping; while starting, everything else is 503 too; GET /ws with a WebSocket
//   upgrade -> Session (subprotocol huddle.v1+proto or huddle.v1+json; none offered -> 400 naming
//   both); /api/v1/... -> the public export and the admin API (api_routes.hpp); GET /, /r/{room},
//   /web/... -> the web client (static_files.hpp); anything else -> 404.
// Admission comes first: past a connection cap the request gets 503; a bad Origin on an
// upgrade gets 403 (admission.hpp). With TLS the handshake runs before the first read.
// Owner: the connection's shard.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/net/admission.hpp"
#include "server/net/net_context.hpp"
#include "server/net/streams.hpp"

namespace huddle::net {

namespace beast = boost::beast;
struct ApiResponse;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, NetContext& ctx, std::size_t shard,
              PeerSlot slot);
  void run();

 private:
  void on_handshake(beast::error_code ec);
  void do_read();
  void shutdown();
  [[nodiscard]] beast::tcp_stream& tcp();
  void on_read(beast::error_code ec, std::size_t bytes);
  void respond(beast::http::status status, std::string content_type, std::string body,
               bool keep_alive, std::string disposition = {}, bool web = false,
               bool retry_after = false);
  void serve_readyz(Lifecycle lifecycle, bool keep_alive);
  void respond_api(ApiResponse res, bool keep_alive);
  void write(std::shared_ptr<beast::http::response<beast::http::string_body>> res, bool keep_alive);
  void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);

  AnyStream stream_;
  NetContext& ctx_;
  PeerSlot slot_;  // Moves to the Session on upgrade.
  const std::size_t shard_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::shared_ptr<void> response_;  // Kept alive during the write.
  std::size_t served_ = 0;          // Requests read so far on this connection.
};

}  // namespace huddle::net
