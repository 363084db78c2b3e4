// The HTTP side of the one port: health, upgrade negotiation, limits and timeouts, against the
// real server over loopback with a raw Beast client.
#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::string subprotocol;
  std::string content_type;
};

// One request on a fresh connection; `upgrade_protocols` = nullptr: a plain GET.
HttpReply request(std::uint16_t port, const std::string& target, const char* upgrade_protocols,
                  std::size_t extra_header_bytes = 0) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.expires_after(std::chrono::seconds(10));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (upgrade_protocols != nullptr) {
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(http::field::sec_websocket_version, "13");
    if (*upgrade_protocols != '\0') {
      req.set(http::field::sec_websocket_protocol, upgrade_protocols);
    }
  }
  if (extra_header_bytes > 0) {
    req.set("X-Padding", std::string(extra_header_bytes, 'p'));
  }
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.skip(upgrade_protocols != nullptr);  // A 101 has no body; errors do (read below).
  http::read_header(stream, buf, parser);
  HttpReply out;
  out.status = parser.get().result_int();
  out.subprotocol = std::string(parser.get()[http::field::sec_websocket_protocol]);
  out.content_type = std::string(parser.get()[http::field::content_type]);
  if (out.status != 101) {
    beast::error_code ec;
    // The body: what the header read already buffered, then the rest from the socket.
    auto len = parser.content_length().value_or(0);
    std::string body(beast::buffers_to_string(buf.data()));
    while (body.size() < len) {
      char chunk[1024];
      auto n = stream.socket().read_some(asio::buffer(chunk), ec);
      if (ec) {
        break;
      }
      body.append(chunk, n);
    }
    out.body = body.substr(0, static_cast<std::size_t>(len));
  }
  return out;
}

TEST(Http, HealthzAnswers200WithJson) {
  TestServer server;
  auto r = request(server.port(), "/healthz", nullptr);
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_NE(r.body.find(R"("status":"ok")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(std::to_string(server.epoch())), std::string::npos) << r.body;
}

TEST(Http, UpgradeWithoutASubprotocolIsRefusedWith400NamingBoth) {
  TestServer server;
  auto r = request(server.port(), "/ws", "");
  EXPECT_EQ(r.status, 400U);
  EXPECT_NE(r.body.find("huddle.v1+proto"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("huddle.v1+json"), std::string::npos) << r.body;
  auto unknown = request(server.port(), "/ws", "chat, superchat");
  EXPECT_EQ(unknown.status, 400U);
}

TEST(Http, UpgradePicksTheFirstSubprotocolWeSpeak) {
  TestServer server;
  auto r = request(server.port(), "/ws", "graphql-ws, huddle.v1+json, huddle.v1+proto");
  EXPECT_EQ(r.status, 101U);
  EXPECT_EQ(r.subprotocol, "huddle.v1+json");
}

TEST(Http, UnknownPathsAre404) {
  TestServer server;
  EXPECT_EQ(request(server.port(), "/nope", nullptr).status, 404U);
  EXPECT_EQ(request(server.port(), "/other", "huddle.v1+json").status, 404U);
}

TEST(Http, OversizedHeadersAre431) {
  TestServer server;
  EXPECT_EQ(request(server.port(), "/healthz", nullptr, 16 * 1024).status, 431U);
}

TEST(Http, AConnectionThatNeverSendsARequestIsClosedAfterTheHandshakeTimeout) {
  auto options = TestServer::default_options();
  options.net.handshake_timeout = std::chrono::seconds(1);
  TestServer server(options);
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  const auto start = std::chrono::steady_clock::now();
  char byte = 0;
  beast::error_code ec;
  // Blocks until the server closes (EOF); a server without the timeout would hang here, and
  // ctest's timeout would fail the test.
  socket.read_some(asio::buffer(&byte, 1), ec);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST(Http, AWebSocketPeerThatStopsAnsweringIsDroppedAfterTheIdleTimeout) {
  auto options = TestServer::default_options();
  options.net.idle_timeout = std::chrono::seconds(1);
  TestServer server(options);
  asio::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  ws.set_option(beast::websocket::stream_base::decorator(
      [](auto& req) { req.set(http::field::sec_websocket_protocol, "huddle.v1+proto"); }));
  ws.handshake("127.0.0.1", "/ws");
  ASSERT_EQ(server.server().connections(), 1);
  // This peer never reads again, so it never answers the server's keep-alive ping.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.server().connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Polling a counter, bounded.
  }
  EXPECT_EQ(server.server().connections(), 0);
}

}  // namespace
}  // namespace huddle::testing
