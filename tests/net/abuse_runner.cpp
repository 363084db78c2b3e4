// Runners for the protocol-abuse tables: play one case over a raw socket, check the outcome.
#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "huddle/v1/frame.pb.h"
#include "tests/net/abuse_cases.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing::abuse {

namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint64_t kProbeId = 4242;
constexpr auto kCaseTimeout = 3s;

// Appends `v` as a protobuf varint.
void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7FU) | 0x80U));
    v >>= 7U;
  }
  out.push_back(static_cast<char>(v));
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7U;
    ++n;
  }
  return n;
}

// The request ids of the replies in one server message.
std::vector<std::uint64_t> reply_ids(Sub sub, const std::string& message) {
  huddle::v1::ServerMessage msg;
  bool ok = false;
  if (sub == Sub::kJson) {
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = true;
    ok = google::protobuf::util::JsonStringToMessage(message, &msg, opts).ok();
  } else {
    ok = msg.ParseFromString(message);
  }
  std::vector<std::uint64_t> ids;
  EXPECT_TRUE(ok) << "the server sent a message that does not decode: " << message.substr(0, 200);
  for (const auto& frame : msg.frames()) {
    if (frame.has_reply()) {
      ids.push_back(frame.reply().request_id());
    }
  }
  return ids;
}

// What arrived on an open connection up to the reply to `until_id`.
struct Collected {
  std::vector<std::uint64_t> replies;
  std::vector<std::string> pongs;
  std::optional<std::uint16_t> close;  // a close frame arrived instead
  bool got_reply = false;
};

Collected collect_until_reply(raw::RawWs& ws, Sub sub, std::uint64_t until_id) {
  Collected out;
  const auto deadline = steady_clock::now() + kCaseTimeout;
  std::string message;  // data frames of the message being assembled
  while (!out.got_reply) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
    auto f = ws.read_frame(std::max(left, 1ms));
    if (!f) {
      return out;
    }
    switch (f->opcode) {
      case raw::kPong: out.pongs.push_back(f->payload); break;
      case raw::kPing: ws.send(raw::pong(f->payload)); break;
      case raw::kClose: out.close = raw::close_code_of(*f); return out;
      default:
        message += f->payload;
        if (f->fin) {
          for (auto id : reply_ids(sub, message)) {
            out.replies.push_back(id);
            out.got_reply = out.got_reply || id == until_id;
          }
          message.clear();
        }
        break;
    }
  }
  return out;
}

std::string describe(const std::optional<std::uint16_t>& code) {
  return code ? std::to_string(*code) : std::string("none");
}

// Closes an open connection with 1000 and expects the echo and the TCP close.
void expect_clean_close(raw::RawWs& ws) {
  ws.send(raw::close_frame(1000));
  const auto end = ws.read_until_close(kCaseTimeout);
  EXPECT_EQ(describe(end.close), "1000") << "a client close 1000 is echoed";
  EXPECT_TRUE(end.eof) << "the server drops TCP after the closing handshake";
}

}  // namespace

void PrintTo(const FrameCase& c, std::ostream* os) {
  *os << c.name;
}

void PrintTo(const HandshakeCase& c, std::ostream* os) {
  *os << c.name;
}

app::ServerOptions memory_server() {
  auto options = TestServer::default_options();
  options.ephemeral = true;
  return options;
}

std::string_view subprotocol(Sub sub) {
  return sub == Sub::kJson ? "huddle.v1+json" : "huddle.v1+proto";
}

std::string hello(Sub sub, std::uint64_t request_id, std::size_t size,
                  std::string_view display_name) {
  std::string out;
  if (sub == Sub::kJson) {
    out = R"({"requestId":")" + std::to_string(request_id) + R"(","hello":{"displayName":")" +
          std::string(display_name) + R"("}})";
    if (size > out.size()) {
      out.append(size - out.size(), ' ');
    }
  } else {
    // ClientFrame{request_id = 1 (varint), hello = 10 {display_name = 1}}, by hand so that the
    // name may be any bytes.
    std::string name_field;
    name_field.push_back(0x0A);
    put_varint(name_field, display_name.size());
    name_field += display_name;
    out.push_back(0x08);
    put_varint(out, request_id);
    out.push_back(0x52);  // field 10, length-delimited
    put_varint(out, name_field.size());
    out += name_field;
    // Padding: unknown field 1000, length-delimited (key 0xC2 0x3E). The parser skips it.
    for (std::size_t len_bytes = 1; size > out.size() && len_bytes <= 3; ++len_bytes) {
      const auto overhead = out.size() + 2 + len_bytes;
      if (size < overhead || varint_size(size - overhead) != len_bytes) {
        continue;
      }
      out.push_back(static_cast<char>(0xC2));
      out.push_back(0x3E);
      put_varint(out, size - overhead);
      out.append(size - overhead, 'p');
    }
  }
  if (size > 0 && out.size() != size) {
    throw std::invalid_argument("cannot build a hello of " + std::to_string(size) + " bytes");
  }
  return out;
}

void expect_server_serves(std::uint16_t port, Sub sub) {
  try {
    raw::RawWs ws(port, subprotocol(sub));
    ws.send(sub == Sub::kJson ? raw::text(hello(sub, 1)) : raw::binary(hello(sub, 1)));
    const auto got = collect_until_reply(ws, sub, 1);
    EXPECT_TRUE(got.got_reply) << "a fresh client's hello was not answered (close "
                               << describe(got.close) << ")";
    if (got.got_reply) {
      expect_clean_close(ws);
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "a fresh client could not connect: " << e.what();
  }
}

void run_frame_case(std::uint16_t port, const FrameCase& c) {
  SCOPED_TRACE("case " + c.name);
  try {
    raw::RawWs ws(port, subprotocol(c.sub));
    std::string bytes = raw::encode_all(c.frames);
    if (!c.expect.close) {
      // The probe: a hello on the same connection, answered after everything before it.
      const auto probe = hello(c.sub, kProbeId);
      bytes += raw::encode(c.sub == Sub::kJson ? raw::text(probe) : raw::binary(probe));
    }
    ws.send_bytes(bytes, c.chunk);  // A failed write is fine: the server may close early.
    if (c.expect.close) {
      const auto end = ws.read_until_close(kCaseTimeout);
      EXPECT_EQ(describe(end.close), describe(c.expect.close)) << "close code";
      EXPECT_TRUE(end.eof) << "the server must drop TCP after its close frame";
      std::vector<std::string> pongs;
      for (const auto& f : end.frames) {
        if (f.opcode == raw::kPong) {
          pongs.push_back(f.payload);
        }
      }
      EXPECT_EQ(pongs, c.expect.pongs) << "pongs before the close";
    } else {
      const auto got = collect_until_reply(ws, c.sub, kProbeId);
      EXPECT_FALSE(got.close) << "unexpected close " << describe(got.close);
      EXPECT_TRUE(got.got_reply) << "the connection must stay usable: the probe got no reply";
      auto expected = c.expect.replies;
      expected.push_back(kProbeId);
      EXPECT_EQ(got.replies, expected) << "reply request ids, in order";
      EXPECT_EQ(got.pongs, c.expect.pongs) << "pongs";
      if (got.got_reply) {
        expect_clean_close(ws);
      }
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
  expect_server_serves(port, c.sub);
}

void run_handshake_case(std::uint16_t port, const HandshakeCase& c) {
  SCOPED_TRACE("case " + c.name);
  try {
    raw::Socket sock(port);
    sock.send_all(c.request);
    std::string rest;
    const auto deadline = steady_clock::now() + kCaseTimeout;
    const auto res = raw::read_http_response(sock, rest, deadline);
    if (c.status == kAny4xx) {
      EXPECT_TRUE(res.status >= 400 && res.status < 500) << "status " << res.status;
    } else if (c.status == kNever101) {
      EXPECT_NE(res.status, 101U);
    } else {
      EXPECT_EQ(res.status, c.status) << res.body;
    }
    for (const auto& [name, value] : c.headers) {
      const auto it = res.headers.find(name);
      EXPECT_TRUE(it != res.headers.end() && it->second == value)
          << "header " << name << " should be '" << value << "'";
    }
    if (c.closes && res.status != 101) {
      // Whatever else arrives, the server must end the connection (not wait for more).
      for (;;) {
        const auto r = sock.read_some(rest, deadline);
        if (r == raw::Socket::Read::kData) {
          continue;
        }
        EXPECT_NE(r, raw::Socket::Read::kTimeout) << "the server kept the connection open";
        break;
      }
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
  expect_server_serves(port);
}

}  // namespace huddle::testing::abuse
