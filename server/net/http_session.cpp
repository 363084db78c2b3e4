#include "server/net/http_session.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <fmt/format.h>

#include "server/auth/origin.hpp"
#include "server/net/api_routes.hpp"
#include "server/net/session.hpp"
#include "server/net/static_files.hpp"
#include "server/util/log.hpp"

namespace huddle::net {

namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

constexpr std::size_t kMaxHeaderBytes = 8 * 1024;  // Requests are tiny; bounds memory per socket.
constexpr std::size_t kMaxBodyBytes = 1024;

// Picks the first subprotocol the client offers that we speak.
std::optional<codec::Encoding> pick_subprotocol(std::string_view offered) {
  while (!offered.empty()) {
    auto comma = offered.find(',');
    auto token = offered.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
      token.remove_prefix(1);
    }
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
      token.remove_suffix(1);
    }
    if (token == codec::kProtoSubprotocol) {
      return codec::Encoding::kProto;
    }
    if (token == codec::kJsonSubprotocol) {
      return codec::Encoding::kJson;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    offered.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

// RFC 6455 4.2.1 item 5: the key is base64 of 16 bytes (24 characters ending in "=="). Beast only
// bounds its length, so without this a short, empty or non-base64 key was upgraded.
bool is_valid_websocket_key(std::string_view key) {
  if (key.size() != 24 || !key.ends_with("==")) {
    return false;
  }
  return std::all_of(key.begin(), key.end() - 2, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

}  // namespace

namespace {

AnyStream make_stream(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context* tls) {
  if (tls != nullptr) {
    return AnyStream(std::in_place_type<TlsStream>, std::move(socket), *tls);
  }
  return AnyStream(std::in_place_type<PlainStream>, std::move(socket));
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket&& socket, NetContext& ctx, std::size_t shard,
                         PeerSlot slot)
    : stream_(make_stream(std::move(socket), ctx.tls)),
      ctx_(ctx),
      slot_(std::move(slot)),
      shard_(shard) {}

beast::tcp_stream& HttpSession::tcp() {
  return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                    stream_);
}

void HttpSession::run() {
  tcp().expires_after(ctx_.options.handshake_timeout);
  if (auto* tls = std::get_if<TlsStream>(&stream_)) {
    // The TLS handshake shares the handshake timeout with the HTTP request that follows.
    return tls->async_handshake(
        boost::asio::ssl::stream_base::server,
        beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
  }
  boost::asio::dispatch(tcp().get_executor(),
                        beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
}

void HttpSession::on_handshake(beast::error_code ec) {
  if (ec) {
    // A plain-HTTP client, TLS < 1.2, or no shared cipher.
    log::net()->info("tls handshake refused peer={} err={}", slot_.ip(), ec.message());
    return;
  }
  do_read();
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  if (served_ != 0) {
    tcp().expires_after(
        ctx_.options.handshake_timeout);  // A keep-alive request (run() set the first).
  }
  ++served_;
  std::visit(
      [this](auto& s) {
        http::async_read(s, buffer_, *parser_,
                         beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
      },
      stream_);
}

void HttpSession::shutdown() {
  beast::error_code ec;
  tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
}

void HttpSession::on_read(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec == http::error::end_of_stream) {
    return shutdown();
  }
  if (ec) {
    if (ec == http::error::header_limit) {
      log::net()->info("rejected peer={} reason=headers_too_large", slot_.ip());
      return respond(http::status::request_header_fields_too_large, "text/plain",
                     "request headers too large\n", false);
    }
    log::net()->debug("http read failed peer={} err={}", slot_.ip(), ec.message());
    if (ec.category() == make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
      return respond(http::status::bad_request, "text/plain", "malformed HTTP request\n", false);
    }
    return;
  }
  auto req = parser_->release();
  const bool keep_alive = req.keep_alive();
  const std::string_view target = req.target();

  if (!slot_.admitted()) {
    // Past --max-connections or --max-connections-per-ip: answered, then closed.
    log::net()->warn("rejected peer={} reason=connection_cap", slot_.ip());
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->reject(metrics::Rejected::kConnectionCap);
    }
    return respond(http::status::service_unavailable, "text/plain", "too many connections\n", false,
                   {}, false, /*retry_after=*/true);
  }
  const auto lifecycle = ctx_.lifecycle.load(std::memory_order_acquire);
  if (req.method() == http::verb::get && target == "/readyz") {
    return serve_readyz(lifecycle, keep_alive);
  }
  if (lifecycle == Lifecycle::kStarting || ctx_.rooms == nullptr) {
    // The store is still opening (WAL replay), or never opened: only /readyz answers. (`rooms`
    // is written before kReady is published and never after, so this read is ordered.)
    return respond(http::status::service_unavailable, "application/json",
                   "{\"status\":\"starting\"}\n", false, {}, false, /*retry_after=*/true);
  }
  if (websocket::is_upgrade(req)) {
    if (target != "/ws") {
      return respond(http::status::not_found, "text/plain", "websocket endpoint is /ws\n", false);
    }
    auto encoding = pick_subprotocol(req[http::field::sec_websocket_protocol]);
    if (!encoding) {
      return respond(http::status::bad_request, "text/plain",
                     fmt::format("offer a WebSocket subprotocol: {} (binary protobuf) or {} "
                                 "(proto3 JSON text)\n",
                                 codec::kProtoSubprotocol, codec::kJsonSubprotocol),
                     false);
    }
    if (!is_valid_websocket_key(req[http::field::sec_websocket_key])) {
      return respond(http::status::bad_request, "text/plain",
                     "Sec-WebSocket-Key must be base64 of 16 bytes\n", false);
    }
    // Browsers always send Origin; native clients (SDK, CLI, bots) send none and authenticate by
    // token. A present Origin must be allowed, exactly.
    if (auto origin = req.find(http::field::origin);
        origin != req.end() &&
        !auth::origin_allowed(origin->value(), req[http::field::host], ctx_.tls != nullptr,
                              ctx_.options.auth.allowed_origins,
                              ctx_.options.auth.loopback_listener)) {
      log::net()->warn("rejected peer={} reason=origin", slot_.ip());
      if (ctx_.metrics != nullptr) {
        ctx_.metrics->reject(metrics::Rejected::kOrigin);
      }
      return respond(http::status::forbidden, "text/plain", "origin not allowed\n", false);
    }
    std::make_shared<Session>(std::move(stream_), ctx_, shard_, *encoding, std::move(slot_))
        ->run(std::move(req));
    return;
  }
  if (req.method() == http::verb::get && target == "/healthz") {
    return respond(
        http::status::ok, "application/json",
        fmt::format(R"({{"status":"ok","epoch":"{}","connections":{},"rooms_loaded":{}}})"
                    "\n",
                    ctx_.epoch, ctx_.connections.load(), ctx_.rooms->loaded_rooms()),
        keep_alive);
  }
  if (req.method() == http::verb::get && target == "/metrics" && ctx_.metrics != nullptr) {
    auto extra = fmt::format(
        "# HELP huddle_rooms_loaded Rooms in memory.\n# TYPE huddle_rooms_loaded gauge\n"
        "huddle_rooms_loaded {}\n",
        ctx_.rooms->loaded_rooms());
    ctx_.rooms->context().log->render_metrics(extra);
    return respond(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                   ctx_.metrics->render(extra), keep_alive);
  }
  if (is_api_target(target)) {
    return route_api(ctx_, req.method_string(), target, req[http::field::authorization],
                     [self = shared_from_this(), keep_alive](ApiResponse res) {
                       boost::asio::dispatch(self->tcp().get_executor(),
                                             [self, keep_alive, res = std::move(res)]() mutable {
                                               self->respond_api(std::move(res), keep_alive);
                                             });
                     });
  }
  if (req.method() == http::verb::get) {
    if (auto file = find_static_file(ctx_.options.web_dir, target)) {
      return respond(http::status::ok, std::move(file->content_type), std::move(file->body),
                     keep_alive, {}, /*web=*/true);
    }
    if (target == "/") {
      return respond(http::status::ok, "text/plain",
                     "Huddle server. Connect a WebSocket to /ws with subprotocol huddle.v1+json "
                     "or huddle.v1+proto; see docs/PROTOCOL.md.\n",
                     keep_alive);
    }
  }
  respond(http::status::not_found, "text/plain", "not found\n", keep_alive);
}

void HttpSession::serve_readyz(Lifecycle lifecycle, bool keep_alive) {
  if (lifecycle == Lifecycle::kStarting) {
    return respond(http::status::service_unavailable, "application/json",
                   "{\"status\":\"starting\"}\n", keep_alive, {}, false, true);
  }
  if (lifecycle == Lifecycle::kStopping) {
    return respond(http::status::service_unavailable, "application/json",
                   "{\"status\":\"stopping\"}\n", keep_alive, {}, false, true);
  }
  const auto health = ctx_.rooms->context().log->health();
  if (!health.writable) {
    // Reads and live rooms go on; writes fail with a retryable error until the store recovers.
    return respond(http::status::service_unavailable, "application/json",
                   fmt::format(R"({{"status":"degraded","reason":"storage","detail":"{}"}})"
                               "\n",
                               health.detail),
                   keep_alive, {}, false, true);
  }
  respond(http::status::ok, "application/json", "{\"status\":\"ready\"}\n", keep_alive);
}

void HttpSession::respond_api(ApiResponse res, bool keep_alive) {
  auto out = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(res.status), 11);
  out->set(http::field::server, "huddle");
  out->set(http::field::content_type, res.content_type);
  out->set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : res.headers) {
    out->set(name, value);
  }
  out->keep_alive(keep_alive);
  out->body() = std::move(res.body);
  out->prepare_payload();
  write(std::move(out), keep_alive);
}

void HttpSession::respond(http::status status, std::string content_type, std::string body,
                          bool keep_alive, std::string disposition, bool web, bool retry_after) {
  auto res = std::make_shared<http::response<http::string_body>>(status, 11);
  res->set(http::field::server, "huddle");
  res->set(http::field::content_type, content_type);
  res->keep_alive(keep_alive);
  if (!disposition.empty()) {
    res->set(http::field::content_disposition, disposition);
  }
  if (retry_after) {
    res->set(http::field::retry_after, "1");
  }
  if (web) {
    res->set("Content-Security-Policy", kWebCsp);
    res->set("X-Content-Type-Options", "nosniff");
    res->set(http::field::cache_control, "no-cache");
  }
  res->body() = std::move(body);
  res->prepare_payload();
  write(std::move(res), keep_alive);
}

void HttpSession::write(std::shared_ptr<beast::http::response<beast::http::string_body>> res,
                        bool keep_alive) {
  response_ = res;
  std::visit(
      [&](auto& s) {
        http::async_write(
            s, *res,
            beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), keep_alive));
      },
      stream_);
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
  response_.reset();
  if (ec) {
    return;
  }
  if (!keep_alive) {
    return shutdown();
  }
  do_read();
}

}  // namespace huddle::net
