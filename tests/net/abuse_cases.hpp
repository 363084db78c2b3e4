// Protocol-abuse cases (issue #7): RFC 6455 frame cases in the spirit of the Autobahn test suite
// and HTTP upgrade cases, each with the server's expected answer, plus the runners that play one
// case over a raw socket (tests/net/raw_ws.hpp) and check it with gtest expectations. The tables
// are shared by the per-case parameterized tests and by the memory test, which replays them all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "server/app/server_options.hpp"
#include "tests/net/raw_ws.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing::abuse {

enum class Sub : std::uint8_t { kJson, kProto };  // huddle.v1+json (text), huddle.v1+proto (binary)
std::string_view subprotocol(Sub sub);

// The server's default NetOptions::max_message_bytes (the test servers keep the default).
inline constexpr std::size_t kMaxMessage = 64 * 1024;

// A hello ClientFrame with `request_id`, exactly `size` bytes long when size > 0 (JSON padded
// with trailing spaces, protobuf with an unknown length-delimited field): a valid message of any
// length from about 50 bytes up. `display_name` goes in verbatim (raw bytes, for UTF-8 cases).
std::string hello(Sub sub, std::uint64_t request_id, std::size_t size = 0,
                  std::string_view display_name = "Ann");

// What the server must do after the frames were sent.
struct Expect {
  // Set: the server sends a close frame with this code and then drops TCP. Unset: the connection
  // stays open and usable (a hello on it is answered, a close 1000 is echoed).
  std::optional<std::uint16_t> close;
  // Exactly these pongs, in this order (before the close, or before the probe's reply).
  std::vector<std::string> pongs;
  // Open connections only: replies carrying these request ids, in this order (0 = the error reply
  // to an undecodable message). On a failed connection queued replies may be dropped (PROTOCOL.md
  // section 11), so they are not checked there.
  std::vector<std::uint64_t> replies;
};

struct FrameCase {
  std::string name;  // gtest parameter name: [A-Za-z0-9_]
  Sub sub = Sub::kJson;
  std::vector<raw::Frame> frames;  // sent back to back
  Expect expect;
  std::size_t chunk = 0;  // > 0: the bytes go out in TCP writes of this size
};

void PrintTo(const FrameCase& c, std::ostream* os);  // gtest: the name, not the bytes

// 167 cases, grouped by name prefix: Length*, Reserved*, Unmasked*, Ping*/Pong*/Close*,
// Fragment*, Utf8*, WrongType* / Undecodable*.
std::vector<FrameCase> frame_cases();

// Plays one case on a fresh connection and checks the outcome with EXPECT/ADD_FAILURE, then that
// a fresh client on the same subprotocol is still served.
void run_frame_case(std::uint16_t port, const FrameCase& c);

// TestServer options for these tests: in-memory log (nothing here appends; it starts faster).
app::ServerOptions memory_server();

// A table of cases against one in-memory server for the whole suite: when the binary runs every
// case, they all hit the same process (and start fast).
template <class Case>
class OneServerSuite : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<TestServer>(memory_server()); }
  static void TearDownTestSuite() { server_.reset(); }
  static inline std::unique_ptr<TestServer> server_;
};

// A fresh connection upgrades, says hello and gets its reply, and closes cleanly.
void expect_server_serves(std::uint16_t port, Sub sub = Sub::kJson);

// Status expectations besides an exact code.
inline constexpr unsigned kAny4xx = 4;    // 400..499
inline constexpr unsigned kNever101 = 1;  // any status but 101, or no response at all

struct HandshakeCase {
  std::string name;
  std::string request;                         // raw bytes of the request
  unsigned status = 0;                         // exact status, or kAny4xx / kNever101
  std::map<std::string, std::string> headers;  // required response headers (lower-case names)
  bool closes = true;                          // the server drops the connection after answering
};

void PrintTo(const HandshakeCase& c, std::ostream* os);

std::vector<HandshakeCase> handshake_cases();
void run_handshake_case(std::uint16_t port, const HandshakeCase& c);

}  // namespace huddle::testing::abuse
