// RFC 6455 frame abuse against the real server over loopback (issue #7, "Protocol abuse"): one
// test per case of tests/net/frame_cases.cpp; after each, a fresh client must still be served.
// DESIGN invariant 9: bad input gets a documented close code and the server stays up.
#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "tests/net/abuse_cases.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing::abuse {
namespace {

class Rfc6455 : public OneServerSuite<FrameCase> {};

TEST_P(Rfc6455, ServerAnswersAsSpecifiedAndStaysUp) {
  run_frame_case(server_->port(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Frames, Rfc6455, ::testing::ValuesIn(frame_cases()),
                         [](const ::testing::TestParamInfo<FrameCase>& p) { return p.param.name; });

// RFC 6455 7.1.1: after its close frame the server waits for the client's, but not forever: a
// client that never answers (here after a 1003) is dropped within the handshake timeout, which
// also bounds the closing handshake (the shard's Keepalive drops it).
TEST(Rfc6455Close, APeerThatNeverAnswersTheServersCloseIsDroppedAfterTheHandshakeTimeout) {
  auto options = memory_server();
  options.net.handshake_timeout = std::chrono::seconds(1);
  TestServer server(options);
  raw::RawWs ws(server.port(), "huddle.v1+proto");
  ws.send(raw::text("text on the binary subprotocol"));
  auto close = ws.read_frame();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->opcode, raw::kClose);
  EXPECT_EQ(raw::close_code_of(*close), 1003);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ws.read_frame(std::chrono::seconds(5)).has_value());
  EXPECT_TRUE(ws.eof()) << "the server kept a connection whose peer ignores its close";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  expect_server_serves(server.port(), Sub::kProto);
}

TEST(Rfc6455Table, CoversAtLeast150Cases) {
  const auto cases = frame_cases();
  EXPECT_GE(cases.size() + handshake_cases().size(), 150U);
}

}  // namespace
}  // namespace huddle::testing::abuse
