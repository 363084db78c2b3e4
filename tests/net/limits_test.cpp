// Browser safety, abuse limits, unknown fields and TLS through the real server on loopback
// (issue #6). Each bad input asserts its exact outcome.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/net/raw_ws.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;
namespace fs = std::filesystem;

// The status of an upgrade request carrying `headers`.
unsigned upgrade_status(std::uint16_t port, std::map<std::string, std::string> headers) {
  HttpRequest req;
  req.target = "/ws";
  req.headers = std::move(headers);
  req.headers["Upgrade"] = "websocket";
  req.headers["Connection"] = "Upgrade";
  req.headers["Sec-WebSocket-Version"] = "13";
  req.headers["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ==";
  req.headers["Sec-WebSocket-Protocol"] = "huddle.v1+json";
  if (!req.headers.contains("Host")) {
    req.headers["Host"] = "127.0.0.1:" + std::to_string(port);
  }
  return http_request(port, req).status;
}

TEST(Origin, OnlyTheServersOwnOriginOrNoneIsUpgraded) {
  TestServer server;
  const auto port = server.port();
  const std::string own = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(upgrade_status(port, {}), 101U);  // Native clients send no Origin.
  EXPECT_EQ(upgrade_status(port, {{"Origin", own}}), 101U);
  const std::vector<std::string> bad = {
      "http://evil.example",                             // evil host
      own + ".evil.example",                             // suffix trick
      "http://evil.example/" + own,                      // path trick
      "http://127.0.0.1:" + std::to_string(port) + "0",  // port prefix
      "http://127.0.0.1:1",                              // other port
      "https://127.0.0.1:" + std::to_string(port),       // other scheme
      "HTTP://127.0.0.1:" + std::to_string(port),        // not exact
      "null",                                            // sandboxed page, file://
      "",                                                // present but empty
  };
  for (const auto& origin : bad) {
    SCOPED_TRACE(origin);
    EXPECT_EQ(upgrade_status(port, {{"Origin", origin}}), 403U);
  }
  // DNS rebinding: a loopback server reached under another name, with a matching Origin.
  EXPECT_EQ(upgrade_status(port, {{"Host", "evil.example:" + std::to_string(port)},
                                  {"Origin", "http://evil.example:" + std::to_string(port)}}),
            403U);
}

TEST(Origin, AnAllowlistIsMatchedExactly) {
  auto o = TestServer::default_options();
  o.net.auth.allowed_origins = {"https://huddle.example.com", "http://localhost:3000"};
  TestServer server(o);
  const auto port = server.port();
  EXPECT_EQ(upgrade_status(port, {{"Origin", "https://huddle.example.com"}}), 101U);
  EXPECT_EQ(upgrade_status(port, {{"Origin", "http://localhost:3000"}}), 101U);
  for (const std::string origin :
       {"https://huddle.example.com.evil.example", "https://evil-huddle.example.com",
        "http://huddle.example.com", "https://huddle.example.com:443", "http://localhost:3001",
        "https://huddle.example.co", "null"}) {
    SCOPED_TRACE(origin);
    EXPECT_EQ(upgrade_status(port, {{"Origin", origin}}), 403U);
  }
  // With an allowlist, the server's own origin is not implied.
  EXPECT_EQ(upgrade_status(port, {{"Origin", "http://127.0.0.1:" + std::to_string(port)}}), 403U);
}

TEST(RateLimit, PastTheBucketCommandsGetRateLimitedThenClose4029) {
  auto o = TestServer::default_options();
  o.net.limits.commands_per_s = 5;
  o.net.limits.command_burst = 5;
  TestServer server(o);
  TestClient c(server.port());
  c.hello("alice");                                   // 1 of the burst.
  c.create_room("r");                                 // 2
  c.join("r");                                        // 3
  EXPECT_FALSE(c.post_chat("r", "one").has_error());  // 4
  EXPECT_FALSE(c.post_chat("r", "two").has_error());  // 5
  auto limited = c.post_chat("r", "three");
  ASSERT_TRUE(limited.has_error());
  EXPECT_EQ(limited.error().code(), v1::ERROR_CODE_RATE_LIMITED);
  EXPECT_TRUE(limited.error().retryable());
  EXPECT_GT(limited.error().retry_after_ms(), 0U);
  EXPECT_LE(limited.error().retry_after_ms(), 200U);  // One token at 5/s.
  std::this_thread::sleep_for(std::chrono::milliseconds(limited.error().retry_after_ms() + 20));
  auto after = c.post_chat("r", "three again");
  EXPECT_FALSE(after.has_error()) << after.DebugString();
  // Nothing refused was appended: seqs 2 and 3 are "one" and "two", 4 is "three again".
  EXPECT_EQ(after.seq(), 4U);
  // Going on past it: 5 refusals in a row close the connection.
  for (int i = 0; i < 10 && !c.closed(); ++i) {
    c.post_chat_async("r", "flood");
  }
  EXPECT_EQ(c.wait_closed(5s), 4029);
}

TEST(RateLimit, TooManyFramesPerSecondClose4029) {
  auto o = TestServer::default_options();
  o.net.limits.frames_per_s = 10;
  TestServer server(o);
  TestClient c(server.port());
  c.hello("alice");
  v1::ClientFrame list;
  list.mutable_list_rooms();
  for (int i = 0; i < 20; ++i) {
    c.send(list);
  }
  EXPECT_EQ(c.wait_closed(5s), 4029);
}

// A connected TCP socket to 127.0.0.1:port bound to `source` (any 127.0.0.0/8 address).
int connect_from(const char* source, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The status line's code of a GET /healthz on `fd` (0 if none within 5 s).
unsigned healthz_status(int fd) {
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    return 0;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64] = {};
  const auto n = ::recv(fd, buf, sizeof buf - 1, 0);
  if (n < 12) {
    return 0;
  }
  return static_cast<unsigned>(std::stoi(std::string(buf + 9, 3)));
}

TEST(ConnectionCaps, PerAddressAndTotalCapsAnswer503BeforeAnyUpgrade) {
  auto o = TestServer::default_options();
  o.net.limits.max_connections_per_ip = 3;
  o.net.limits.max_connections = 5;
  TestServer server(o);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect_from("127.0.0.2", server.port()));
    ASSERT_GE(held.back(), 0);
  }
  std::this_thread::sleep_for(200ms);  // Accepted and counted.
  const int fourth = connect_from("127.0.0.2", server.port());
  EXPECT_EQ(healthz_status(fourth), 503U);
  ::close(fourth);
  // Another address still gets in, up to the total of 5.
  const int a = connect_from("127.0.0.3", server.port());
  const int b = connect_from("127.0.0.3", server.port());
  std::this_thread::sleep_for(200ms);
  const int sixth = connect_from("127.0.0.4", server.port());
  EXPECT_EQ(healthz_status(sixth), 503U);
  ::close(sixth);
  EXPECT_EQ(healthz_status(a), 200U);
  ::close(a);
  ::close(b);
  for (const int fd : held) {
    ::close(fd);
  }
  // Closed connections give their slots back.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(upgrade_status(server.port(), {}), 101U);
  const int again = connect_from("127.0.0.2", server.port());
  EXPECT_EQ(healthz_status(again), 200U);
  ::close(again);
}

TEST(RoomCap, AJoinPastTheMembersPerRoomCapIsLimitExceededAndChangesNothing) {
  auto o = TestServer::default_options();
  o.room.max_members = 2;
  TestServer server(o);
  TestClient a(server.port());
  a.hello("a");
  a.create_room("r");
  a.join("r");
  TestClient b(server.port());
  b.hello("b");
  b.join("r");
  TestClient c(server.port());
  c.hello("c");
  v1::ClientFrame join;
  join.mutable_join()->set_room_id("r");
  auto refused = c.request(join);
  ASSERT_TRUE(refused.has_error());
  EXPECT_EQ(refused.error().code(), v1::ERROR_CODE_LIMIT_EXCEEDED);
  EXPECT_EQ(c.event_count(), 0U);
  // Room for c once b leaves; the refused join appended nothing (c's MemberJoined is seq 3).
  b.close();
  std::this_thread::sleep_for(200ms);
  auto later = c.request(join);
  ASSERT_FALSE(later.has_error()) << later.DebugString();
  EXPECT_EQ(later.join().head_seq(), 2U);  // RoomCreated, b's MemberJoined.
}

TEST(SlowHeaders, ASlowlorisRequestIsClosedWithinTheHandshakeTimeout) {
  auto o = TestServer::default_options();
  o.net.handshake_timeout = std::chrono::seconds(2);
  TestServer server(o);
  raw::Socket sock(server.port());
  ASSERT_TRUE(sock.send_all("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  std::string out;
  raw::Socket::Read r = raw::Socket::Read::kData;
  // One header byte a half second: never completes.
  while (r != raw::Socket::Read::kEof && r != raw::Socket::Read::kError &&
         std::chrono::steady_clock::now() - start < 6s) {
    sock.send_all("X");
    r = sock.read_some(out, std::chrono::steady_clock::now() + 500ms);
  }
  EXPECT_TRUE(r == raw::Socket::Read::kEof || r == raw::Socket::Read::kError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3500ms);
}

TEST(UnknownFields, AreDroppedBeforeAnythingIsStoredOrFannedOut) {
  TestServer server;
  TestClient alice(server.port());
  alice.hello("alice");
  alice.create_room("r");
  alice.join("r");
  TestClient bob(server.port());
  bob.hello("bob");
  bob.join("r");
  v1::ClientFrame f;
  f.set_request_id(77);
  f.mutable_post_chat()->set_room_id("r");
  f.mutable_post_chat()->set_text("hello");
  std::string bytes = f.SerializeAsString();
  // Field 99 (length-delimited "SMUGGLED") at the top level, and field 15 inside post_chat.
  v1::PostChat chat;
  chat.set_room_id("r");
  chat.set_text("hello");
  std::string inner = chat.SerializeAsString();
  inner += std::string("\x7a\x08", 2) + "SMUGGLED";  // Tag (15 << 3 | 2) = 0x7a.
  v1::ClientFrame outer;
  outer.set_request_id(78);
  std::string framed = outer.SerializeAsString();
  framed += std::string("\x7a", 1) + static_cast<char>(inner.size()) + inner;  // post_chat = 15.
  framed += std::string("\x9a\x06\x08", 3) + "SMUGGLED";  // Tag (99 << 3 | 2) = 0x31a.
  alice.send_raw(framed, false);
  auto reply = alice.wait_reply(78);
  ASSERT_FALSE(reply.has_error()) << reply.DebugString();
  bob.wait_seq(reply.seq());
  for (const auto& e : bob.events()) {
    std::string wire;
    e.SerializeToString(&wire);
    EXPECT_EQ(wire.find("SMUGGLED"), std::string::npos) << e.DebugString();
  }
  // And in the log: history after a restart.
  server.restart();
  TestClient carol(server.port());
  carol.hello("carol");
  carol.join("r");
  v1::ClientFrame h;
  h.mutable_get_history()->set_room_id("r");
  auto page = carol.request(h);
  ASSERT_FALSE(page.has_error());
  ASSERT_GT(page.history().events_size(), 0);
  EXPECT_EQ(page.SerializeAsString().find("SMUGGLED"), std::string::npos);
  (void)bytes;
}

TEST(Deflate, PermessageDeflateIsNotNegotiated) {
  TestServer server;
  HttpRequest req;
  req.target = "/ws";
  req.headers = {{"Upgrade", "websocket"},
                 {"Connection", "Upgrade"},
                 {"Sec-WebSocket-Version", "13"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                 {"Sec-WebSocket-Protocol", "huddle.v1+json"},
                 {"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"}};
  auto res = http_request(server.port(), req);
  EXPECT_EQ(res.status, 101U);
  EXPECT_FALSE(res.headers.contains("sec-websocket-extensions"));
}

// ---- TLS ----

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("huddle-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    for (const auto* name : {"server", "other"}) {
      auto r = run_shell(
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
          "-days 1 -subj /CN=127.0.0.1 -keyout " +
          (dir_ / (std::string(name) + ".key")).string() + " -out " +
          (dir_ / (std::string(name) + ".crt")).string() + " 2>&1");
      ASSERT_EQ(r.status, 0) << r.out;
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  app::ServerOptions options(const std::string& cert, const std::string& key) {
    auto o = TestServer::default_options();
    o.tls_cert_file = (dir_ / cert).string();
    o.tls_key_file = (dir_ / key).string();
    return o;
  }
  // openssl s_client with `flags`, sending `request`; its output.
  // The connection stays open after a 101, so s_client is ended by `timeout` after `seconds`.
  ShellRun s_client(std::uint16_t port, const std::string& flags, const std::string& request,
                    int seconds = 10) {
    return run_shell("printf '" + request + "' | timeout " + std::to_string(seconds) +
                     " openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                     " -servername 127.0.0.1 -ign_eof " + flags + " 2>&1");
  }
  fs::path dir_;
};

TEST_F(Tls, Tls12And13AreAcceptedAndServeHttpsAndWss) {
  TestServer server(options("server.crt", "server.key"));
  const std::string get =
      "GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n";
  for (const std::string version : {"-tls1_2", "-tls1_3"}) {
    SCOPED_TRACE(version);
    auto r = s_client(server.port(), version, get);
    EXPECT_NE(r.out.find(version == "-tls1_2" ? "TLSv1.2" : "TLSv1.3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("HTTP/1.1 200 OK"), std::string::npos) << r.out;
  }
  const std::string upgrade =
      "GET /ws HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: "
      "Upgrade\\r\\nSec-WebSocket-Version: 13\\r\\nSec-WebSocket-Key: "
      "dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Protocol: huddle.v1+json\\r\\n\\r\\n";
  auto ws = s_client(server.port(), "-tls1_3", upgrade, /*seconds=*/2);
  EXPECT_NE(ws.out.find("HTTP/1.1 101 Switching Protocols"), std::string::npos) << ws.out;
  // Plain HTTP on the TLS port gets nothing served.
  EXPECT_THROW(http_get(server.port(), "/healthz"), std::exception);
}

TEST_F(Tls, Tls11IsRefused) {
  TestServer server(options("server.crt", "server.key"));
  // SECLEVEL=0 lets the client offer TLS 1.1 at all: the refusal must come from the server.
  auto r = s_client(server.port(), "-tls1_1 -cipher DEFAULT@SECLEVEL=0",
                    "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n");
  EXPECT_EQ(r.out.find("HTTP/1.1 200"), std::string::npos) << r.out;
  // The server answers the ClientHello with a protocol_version alert (70).
  EXPECT_NE(r.out.find("alert protocol version"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Cipher is (NONE)"), std::string::npos) << r.out;
}

TEST_F(Tls, AKeyThatDoesNotMatchTheCertificateFailsAtStart) {
  auto o = options("server.crt", "other.key");
  o.ephemeral = true;
  app::Server server(o);
  EXPECT_EQ(server.start(), make_error_code(Errc::kInvalidArgument));
  auto missing = options("server.crt", "nope.key");
  missing.ephemeral = true;
  app::Server server2(missing);
  EXPECT_EQ(server2.start(), make_error_code(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace huddle::testing
