// HTTP upgrade abuse against the real server (issue #7): one test per case of
// tests/net/handshake_cases.cpp (never a 101 for an invalid opening handshake), and requests
// that never finish, closed by the handshake timeout.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/net/abuse_cases.hpp"
#include "tests/net/raw_ws.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing::abuse {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

class Handshake : public OneServerSuite<HandshakeCase> {};

TEST_P(Handshake, ServerAnswersAsSpecifiedAndStaysUp) {
  run_handshake_case(server_->port(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Upgrade, Handshake, ::testing::ValuesIn(handshake_cases()),
                         [](const ::testing::TestParamInfo<HandshakeCase>& p) {
                           return p.param.name;
                         });

// A request that never completes: sent up to `prefix` at once, then (if `dribble`) one more byte
// every 100 ms, slower than the server's 1 s handshake timeout allows.
struct SlowCase {
  std::string name;
  std::string prefix;
  bool dribble = false;
};

void PrintTo(const SlowCase& c, std::ostream* os) {
  *os << c.name;
}

class SlowHandshake : public ::testing::TestWithParam<SlowCase> {};

TEST_P(SlowHandshake, IsClosedWithinTheHandshakeTimeoutWithout101) {
  auto options = memory_server();
  options.net.handshake_timeout = 1s;
  TestServer server(options);
  const auto& c = GetParam();
  const std::string full = raw::upgrade_request("/ws", "huddle.v1+json");
  raw::Socket sock(server.port());
  const auto start = steady_clock::now();
  ASSERT_TRUE(sock.send_all(c.prefix));
  std::string got;
  std::size_t next = c.prefix.size();
  bool closed = false;
  while (!closed && steady_clock::now() - start < 5s) {
    const auto r = sock.read_some(got, steady_clock::now() + 100ms);
    if (r == raw::Socket::Read::kEof || r == raw::Socket::Read::kError) {
      closed = true;
    } else if (c.dribble && r == raw::Socket::Read::kTimeout && next < full.size()) {
      closed = !sock.send_all(full.substr(next++, 1));
    }
  }
  const auto waited = steady_clock::now() - start;
  EXPECT_TRUE(closed) << "the server kept an unfinished request open past 5 s";
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 3s);
  EXPECT_EQ(got.find(" 101 "), std::string::npos) << got;
  expect_server_serves(server.port());
}

INSTANTIATE_TEST_SUITE_P(
    Timeout, SlowHandshake,
    ::testing::Values(SlowCase{.name = "PartialRequestLine", .prefix = "GET /ws HT"},
                      SlowCase{.name = "HeadersWithoutTheBlankLine",
                               .prefix =
                                   [] {
                                     auto r = raw::upgrade_request("/ws", "huddle.v1+json");
                                     r.resize(r.size() -
                                              2);  // every header line, not the empty one
                                     return r;
                                   }()},
                      SlowCase{
                          .name = "DribbledOneByteEvery100ms", .prefix = "G", .dribble = true}),
    [](const ::testing::TestParamInfo<SlowCase>& p) { return p.param.name; });

}  // namespace
}  // namespace huddle::testing::abuse
