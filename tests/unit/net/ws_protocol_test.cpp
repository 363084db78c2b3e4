// WebSocket framing (server/net/ws_protocol.hpp), against the header's contract: the incremental
// frame reader (what a client may send, RFC 6455 section 5, and the close code that fails the
// connection otherwise), UTF-8 and close-code validation, and the headers the server writes.
// The core invariant: how the bytes are cut into reads never changes what the reader reports.
#include "server/net/ws_protocol.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace huddle::net::ws {
namespace {

// ---- Client frames, built by hand ----

using Key = std::array<std::uint8_t, 4>;
constexpr Key kKey{0x37, 0xFA, 0x21, 0x3D};
constexpr std::uint8_t kFin = 0x80;
constexpr std::uint8_t kOpCont = 0x0;
constexpr std::uint8_t kOpText = 0x1;
constexpr std::uint8_t kOpBinary = 0x2;
constexpr std::uint8_t kOpClose = 0x8;
constexpr std::uint8_t kOpPing = 0x9;
constexpr std::uint8_t kOpPong = 0xA;
constexpr std::size_t kMax = std::size_t{1} << 20;

// How the payload length is written: the shortest form (the only legal one) or a forced one.
enum class Len { kMinimal, k7, k16, k64 };

std::string header(std::uint8_t b0, std::uint64_t len, Len form = Len::kMinimal, bool masked = true,
                   Key key = kKey) {
  if (form == Len::kMinimal) {
    form = len < 126 ? Len::k7 : len <= 0xFFFF ? Len::k16 : Len::k64;
  }
  std::string h;
  h.push_back(static_cast<char>(b0));
  const std::uint8_t mask_bit = masked ? 0x80 : 0x00;
  const auto push_be = [&h](std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      h.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
  };
  switch (form) {
    case Len::k7: h.push_back(static_cast<char>(mask_bit | (len & 0x7F))); break;
    case Len::k16:
      h.push_back(static_cast<char>(mask_bit | 126));
      push_be(len, 2);
      break;
    case Len::k64:
      h.push_back(static_cast<char>(mask_bit | 127));
      push_be(len, 8);
      break;
    case Len::kMinimal: break;
  }
  if (masked) {
    for (const std::uint8_t k : key) {
      h.push_back(static_cast<char>(k));
    }
  }
  return h;
}

// A masked client frame: `b0` is FIN | RSV | opcode.
std::string frame(std::uint8_t b0, std::string_view payload, Key key = kKey,
                  Len form = Len::kMinimal) {
  std::string out = header(b0, payload.size(), form, true, key);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ key[i % 4]));
  }
  return out;
}

std::string unmasked_frame(std::uint8_t b0, std::string_view payload) {
  return header(b0, payload.size(), Len::kMinimal, false) + std::string(payload);
}

std::uint8_t fin_if(bool fin) {
  return fin ? kFin : 0;
}
std::string text(std::string_view p, bool fin = true) {
  return frame(fin_if(fin) | kOpText, p);
}
std::string binary(std::string_view p, bool fin = true) {
  return frame(fin_if(fin) | kOpBinary, p);
}
std::string cont(std::string_view p, bool fin = true) {
  return frame(fin_if(fin) | kOpCont, p);
}
std::string ping(std::string_view p) {
  return frame(kFin | kOpPing, p);
}
std::string pong(std::string_view p) {
  return frame(kFin | kOpPong, p);
}
std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p += reason;
  return p;
}
std::string close_frame(std::uint16_t code, std::string_view reason = {}) {
  return frame(kFin | kOpClose, close_payload(code, reason));
}
std::string empty_close() {
  return frame(kFin | kOpClose, "");
}

std::string ascii(std::size_t n) {
  std::string s(n, ' ');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + i % 26);
  }
  return s;
}
std::string bytes_pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 7 + 0x80) & 0xFF);
  }
  return s;
}

// ---- What the reader reports ----

struct Event {
  enum class Kind { kMessage, kPing, kClose };
  Kind kind = Kind::kMessage;
  std::string payload;  // Message or ping payload, close reason.
  bool text = false;
  std::uint16_t code = 0;
  bool operator==(const Event&) const = default;
};

Event text_msg(std::string p) {
  return {Event::Kind::kMessage, std::move(p), true, 0};
}
Event binary_msg(std::string p) {
  return {Event::Kind::kMessage, std::move(p), false, 0};
}
Event ping_ev(std::string p) {
  return {Event::Kind::kPing, std::move(p), false, 0};
}
Event close_ev(std::uint16_t code, std::string reason = {}) {
  return {Event::Kind::kClose, std::move(reason), false, code};
}

void print_bytes(std::string_view s, std::ostream* os) {
  static constexpr char kHex[] = "0123456789abcdef";
  *os << s.size() << " bytes \"";
  for (std::size_t i = 0; i < std::min<std::size_t>(s.size(), 40); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"') {
      *os << static_cast<char>(c);
    } else {
      *os << "\\x" << kHex[c >> 4] << kHex[c & 0xF];
    }
  }
  *os << (s.size() > 40 ? "\"..." : "\"");
}

void PrintTo(const Event& e, std::ostream* os) {
  switch (e.kind) {
    case Event::Kind::kMessage: *os << (e.text ? "text(" : "binary("); break;
    case Event::Kind::kPing: *os << "ping("; break;
    case Event::Kind::kClose: *os << "close(" << e.code << ", "; break;
  }
  print_bytes(e.payload, os);
  *os << ")";
}

class Recorder final : public FrameSink {
 public:
  void on_message(std::string_view payload, bool is_text) override {
    events.push_back({Event::Kind::kMessage, std::string(payload), is_text, 0});
  }
  void on_ping(std::string_view payload) override {
    events.push_back({Event::Kind::kPing, std::string(payload), false, 0});
  }
  void on_close(std::uint16_t code, std::string_view reason) override {
    events.push_back({Event::Kind::kClose, std::string(reason), false, code});
  }
  std::vector<Event> events;
};

struct Result {
  std::vector<Event> events;
  std::uint16_t code = 0;  // The first nonzero value feed returned.
  bool done = false;
  bool operator==(const Result&) const = default;
};

void PrintTo(const Result& r, std::ostream* os) {
  *os << "{code " << r.code << ", done " << r.done << ", events [";
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    *os << (i ? ", " : "");
    PrintTo(r.events[i], os);
  }
  *os << "]}";
}

// A reader and its sink. Each feed hands the reader a fresh copy of the bytes (it unmasks in
// place) and checks what must hold after any feed: a documented return value, nothing reported
// once an error or a close ended the stream, a close only as the last event, done() exactly when
// the stream ended.
class Feeder {
 public:
  explicit Feeder(std::size_t max_message = kMax) : reader_(max_message) {}

  std::uint16_t feed(std::string_view bytes) {
    std::vector<char> buf(bytes.begin(), bytes.end());
    const bool ended_before = ended();
    const std::size_t events_before = sink_.events.size();
    const std::uint16_t rc = reader_.feed(std::span<char>(buf.data(), buf.size()), sink_);
    if (!ended_before) {  // (What a feed returns after the end is not specified.)
      EXPECT_TRUE(rc == 0 || rc == kCloseProtocolError || rc == kCloseInvalidPayload ||
                  rc == kCloseTooBig)
          << "feed returned " << rc;
      code_ = rc;
    }
    if (ended_before) {
      EXPECT_EQ(sink_.events.size(), events_before) << "an event after the stream ended";
    }
    for (std::size_t i = 0; i + 1 < sink_.events.size(); ++i) {
      EXPECT_NE(sink_.events[i].kind, Event::Kind::kClose) << "an event after the close frame";
    }
    EXPECT_EQ(reader_.done(), ended());
    return rc;
  }

  [[nodiscard]] bool ended() const {
    return code_ != 0 || (!sink_.events.empty() && sink_.events.back().kind == Event::Kind::kClose);
  }
  [[nodiscard]] const std::vector<Event>& events() const { return sink_.events; }
  [[nodiscard]] const FrameReader& reader() const { return reader_; }
  [[nodiscard]] Result result() const { return {sink_.events, code_, reader_.done()}; }

 private:
  FrameReader reader_;
  Recorder sink_;
  std::uint16_t code_ = 0;
};

Result run_pieces(const std::vector<std::string_view>& pieces, std::size_t max = kMax) {
  Feeder f(max);
  for (const std::string_view p : pieces) {
    f.feed(p);
  }
  return f.result();
}
Result run_whole(std::string_view s, std::size_t max = kMax) {
  return run_pieces({s}, max);
}
Result run_split(std::string_view s, std::size_t at, std::size_t max = kMax) {
  return run_pieces({s.substr(0, at), s.substr(at)}, max);
}
Result run_bytewise(std::string_view s, std::size_t max = kMax) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < s.size(); ++i) {
    pieces.push_back(s.substr(i, 1));
  }
  return run_pieces(pieces, max);
}

// Every cut into two pieces, and one byte at a time, gives what one feed of it all gives.
void expect_chunking_invariant(std::string_view s, std::size_t max = kMax) {
  const Result whole = run_whole(s, max);
  for (std::size_t at = 0; at <= s.size(); ++at) {
    const Result split = run_split(s, at, max);
    if (!(split == whole)) {
      EXPECT_EQ(split, whole) << "split at " << at << " of " << s.size();
      return;  // One report is enough.
    }
  }
  EXPECT_EQ(run_bytewise(s, max), whole) << "one byte at a time";
}

// `stream` fails with `code` after reporting `before`; nothing is reported after it.
void expect_error(std::string_view stream, std::uint16_t code,
                  const std::vector<Event>& before = {}, std::size_t max = kMax) {
  Feeder f(max);
  EXPECT_EQ(f.feed(stream), code);
  EXPECT_TRUE(f.reader().done());
  EXPECT_EQ(f.events(), before);
  f.feed(text("after"));
  f.feed(ping("p"));
  f.feed(close_frame(1000));
  EXPECT_EQ(f.events(), before);
  expect_chunking_invariant(stream, max);
}

// ---- FrameReader: data messages ----

TEST(WsFrameReader, SingleTextMessage) {
  Feeder f;
  EXPECT_EQ(f.feed(text("hello")), 0);
  EXPECT_EQ(f.events(), std::vector<Event>{text_msg("hello")});
  EXPECT_FALSE(f.reader().done());
}

TEST(WsFrameReader, SingleBinaryMessageIsNotUtf8Checked) {
  const std::string payload("\x00\xC0\x80\xFF\xFE\xED\xA0\x80 \xF4\x90", 11);
  Feeder f;
  EXPECT_EQ(f.feed(binary(payload)), 0);
  EXPECT_EQ(f.events(), std::vector<Event>{binary_msg(payload)});
  EXPECT_FALSE(f.reader().done());
}

TEST(WsFrameReader, EmptyFeedDoesNothing) {
  Feeder f;
  EXPECT_EQ(f.feed(""), 0);
  EXPECT_TRUE(f.events().empty());
  EXPECT_FALSE(f.reader().done());
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);
}

TEST(WsFrameReader, MaskKeysIncludingZero) {
  for (const Key key : {Key{0, 0, 0, 0}, Key{0xFF, 0xFF, 0xFF, 0xFF}, Key{1, 2, 3, 4}}) {
    Feeder f;
    EXPECT_EQ(f.feed(frame(kFin | kOpText, "masked payload", key)), 0);
    EXPECT_EQ(f.events(), std::vector<Event>{text_msg("masked payload")});
  }
}

// 7-bit (0, 1, 125), 16-bit (126, 65535) and 64-bit (65536) length forms.
TEST(WsFrameReader, LengthForms) {
  for (const std::size_t n : {0, 1, 125, 126, 65535, 65536}) {
    for (const bool is_text : {true, false}) {
      SCOPED_TRACE(testing::Message() << n << (is_text ? " text" : " binary"));
      const std::string payload = is_text ? ascii(n) : bytes_pattern(n);
      const std::string f = is_text ? text(payload) : binary(payload);
      const std::size_t header_size = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
      ASSERT_EQ(f.size(), header_size + 4 + n);
      const Event want = is_text ? text_msg(payload) : binary_msg(payload);
      const Result expected{{want}, 0, false};
      EXPECT_EQ(run_whole(f), expected);
      // Cut inside the header, right after it, inside the payload, before the last byte.
      for (const std::size_t at : {std::size_t{1}, std::size_t{3}, header_size + 4,
                                   header_size + 4 + n / 2, f.size() - 1}) {
        EXPECT_EQ(run_split(f, std::min(at, f.size())), expected) << "split at " << at;
      }
      if (n <= 126 || n == 65536) {
        EXPECT_EQ(run_bytewise(f), expected);
      }
    }
  }
}

TEST(WsFrameReader, BackToBackFramesInOneFeed) {
  const std::string stream = text("one") + binary(bytes_pattern(200)) + ping("are you there") +
                             pong("unsolicited") + text("") + text("two \xE2\x82\xAC");
  Feeder f;
  EXPECT_EQ(f.feed(stream), 0);
  EXPECT_EQ(f.events(), (std::vector<Event>{text_msg("one"), binary_msg(bytes_pattern(200)),
                                            ping_ev("are you there"), text_msg(""),
                                            text_msg("two \xE2\x82\xAC")}));
  EXPECT_FALSE(f.reader().done());
}

// A pong has no callback: the reader accepts it and reports nothing (RFC 6455 5.5.3 allows an
// unsolicited pong).
TEST(WsFrameReader, PongIsAcceptedSilently) {
  Feeder f;
  EXPECT_EQ(f.feed(pong("")), 0);
  EXPECT_EQ(f.feed(pong(ascii(125))), 0);
  EXPECT_TRUE(f.events().empty());
  EXPECT_FALSE(f.reader().done());
}

TEST(WsFrameReader, PingPayloads) {
  Feeder f;
  EXPECT_EQ(f.feed(ping("")), 0);
  EXPECT_EQ(f.feed(ping(bytes_pattern(125))), 0);
  EXPECT_EQ(f.events(), (std::vector<Event>{ping_ev(""), ping_ev(bytes_pattern(125))}));
}

// The core invariant, on a stream with every kind of frame.
TEST(WsFrameReader, ChunkingNeverChangesTheResult) {
  const std::string stream = text("h\xC3\xA9llo") + binary(bytes_pattern(130)) +
                             text("frag", false) + ping("p1") + cont("\xE2\x82", false) +
                             pong("x") + cont("\xAC!", true) + binary("", false) + cont("", false) +
                             cont(bytes_pattern(3), true) + ping("") +
                             close_frame(1000, "bye \xE2\x98\x83");
  const Result expected{{text_msg("h\xC3\xA9llo"), binary_msg(bytes_pattern(130)), ping_ev("p1"),
                         text_msg("frag\xE2\x82\xAC!"), binary_msg(bytes_pattern(3)), ping_ev(""),
                         close_ev(1000, "bye \xE2\x98\x83")},
                        0,
                        true};
  EXPECT_EQ(run_whole(stream), expected);
  expect_chunking_invariant(stream);
}

TEST(WsFrameReader, ChunkingNeverChangesTheResultOfAFailingStream) {
  const std::vector<std::string> streams = {
      text("a") + ping("b") + frame(kFin | 0x40 | kOpText, "rsv"),
      text("a", false) + ping("b") + cont("\xC3", false) + cont("\x28", true),
      binary(bytes_pattern(140)) + text("fine") + header(kFin | kOpBinary, kMax + 1),
      text("a") + header(kFin | kOpText, 5, Len::k16) + "abcde",
      text("a") + close_frame(999),
      text("a") + text("\xF0\x9F\x98", true),
  };
  for (const auto& s : streams) {
    SCOPED_TRACE(testing::PrintToString(s));
    const Result whole = run_whole(s);
    EXPECT_NE(whole.code, 0);
    EXPECT_TRUE(whole.done);
    expect_chunking_invariant(s);
  }
}

// ---- FrameReader: fragmented messages ----

TEST(WsFrameReader, FragmentedText) {
  Feeder f;
  EXPECT_EQ(f.feed(text("Hel", false)), 0);
  EXPECT_EQ(f.feed(cont("lo", false)), 0);
  EXPECT_TRUE(f.events().empty());
  EXPECT_EQ(f.feed(cont(" world", true)), 0);
  EXPECT_EQ(f.events(), std::vector<Event>{text_msg("Hello world")});
  EXPECT_EQ(f.feed(text("next")), 0);
  EXPECT_EQ(f.events(), (std::vector<Event>{text_msg("Hello world"), text_msg("next")}));
}

TEST(WsFrameReader, FragmentedBinary) {
  const std::string a = bytes_pattern(300);
  const std::string b = bytes_pattern(7);
  const std::string stream = binary(a, false) + cont(b, false) + cont(a, true);
  const Result expected{{binary_msg(a + b + a)}, 0, false};
  EXPECT_EQ(run_whole(stream), expected);
  expect_chunking_invariant(stream);
}

TEST(WsFrameReader, EmptyFirstAndLastFragments) {
  EXPECT_EQ(run_whole(text("", false) + cont("mid", false) + cont("", true)),
            (Result{{text_msg("mid")}, 0, false}));
  EXPECT_EQ(run_whole(binary("", false) + cont("", true)), (Result{{binary_msg("")}, 0, false}));
  EXPECT_EQ(run_whole(text("", false) + cont("", false) + cont("", true)),
            (Result{{text_msg("")}, 0, false}));
}

TEST(WsFrameReader, PingsBetweenFragmentsComeFirstInWireOrder) {
  const std::string stream = text("a", false) + ping("1") + cont("b", false) + ping("2") +
                             pong("ignored") + ping("3") + cont("c", true) + ping("4");
  const Result expected{
      {ping_ev("1"), ping_ev("2"), ping_ev("3"), text_msg("abc"), ping_ev("4")}, 0, false};
  EXPECT_EQ(run_whole(stream), expected);
  expect_chunking_invariant(stream);
}

TEST(WsFrameReader, CodePointSplitAcrossFragments) {
  // U+1F600 split 1+3, U+20AC split 2+1: valid once the message is put together.
  const std::string stream =
      text("\xF0", false) + cont("\x9F\x98\x80\xE2\x82", false) + cont("\xAC", true);
  EXPECT_EQ(run_whole(stream), (Result{{text_msg("\xF0\x9F\x98\x80\xE2\x82\xAC")}, 0, false}));
  expect_chunking_invariant(stream);
}

// ---- FrameReader: close ----

TEST(WsFrameReader, EmptyCloseReportsCodeZero) {
  Feeder f;
  EXPECT_EQ(f.feed(empty_close()), 0);
  EXPECT_EQ(f.events(), std::vector<Event>{close_ev(0, "")});
  EXPECT_TRUE(f.reader().done());
}

TEST(WsFrameReader, CloseWithCodeAndReason) {
  Feeder f;
  EXPECT_EQ(f.feed(close_frame(1001, "going \xE2\x86\x92 away")), 0);
  EXPECT_EQ(f.events(), std::vector<Event>{close_ev(1001, "going \xE2\x86\x92 away")});
  EXPECT_TRUE(f.reader().done());
}

TEST(WsFrameReader, CloseWithLongestReason) {
  const std::string reason = ascii(123);  // 2 + 123 = 125, the control frame limit.
  EXPECT_EQ(run_whole(close_frame(4000, reason)), (Result{{close_ev(4000, reason)}, 0, true}));
  expect_chunking_invariant(close_frame(4000, reason));
}

TEST(WsFrameReader, NothingIsReadAfterClose) {
  Feeder f;
  // In the same feed as the close, then in later feeds, valid frames and garbage alike.
  EXPECT_EQ(f.feed(text("before") + close_frame(1000) + text("same feed") + "\xFF\xFF"), 0);
  EXPECT_EQ(f.events(), (std::vector<Event>{text_msg("before"), close_ev(1000)}));
  EXPECT_TRUE(f.reader().done());
  f.feed(text("later"));
  f.feed(ping("later"));
  f.feed(close_frame(1001));
  f.feed("\x81\x05hello");  // Unmasked: would be an error if it were read.
  EXPECT_EQ(f.events(), (std::vector<Event>{text_msg("before"), close_ev(1000)}));
  EXPECT_TRUE(f.reader().done());
}

TEST(WsFrameReader, CloseInsideAFragmentedMessageDropsIt) {
  const std::string stream = text("part", false) + close_frame(1000) + cont("rest", true);
  EXPECT_EQ(run_whole(stream), (Result{{close_ev(1000)}, 0, true}));
  expect_chunking_invariant(stream);
}

TEST(WsFrameReader, ValidCloseCodesAreAccepted) {
  for (const int c :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999}) {
    const auto code = static_cast<std::uint16_t>(c);
    SCOPED_TRACE(code);
    EXPECT_EQ(run_whole(close_frame(code)), (Result{{close_ev(code)}, 0, true}));
    EXPECT_EQ(run_whole(close_frame(code, "r")), (Result{{close_ev(code, "r")}, 0, true}));
  }
}

// ---- FrameReader: protocol errors (1002) ----

TEST(WsFrameReader, RsvBitsAreAProtocolError) {
  for (const int r : {0x40, 0x20, 0x10, 0x70}) {
    const auto rsv = static_cast<std::uint8_t>(r);
    SCOPED_TRACE(static_cast<int>(rsv));
    expect_error(frame(kFin | rsv | kOpText, "x"), kCloseProtocolError);
    expect_error(frame(kFin | rsv | kOpBinary, "x"), kCloseProtocolError);
    expect_error(frame(kFin | rsv | kOpPing, "x"), kCloseProtocolError);
    expect_error(frame(kFin | rsv | kOpClose, close_payload(1000, "")), kCloseProtocolError);
    expect_error(text("a", false) + frame(kFin | rsv | kOpCont, "b"), kCloseProtocolError);
  }
}

TEST(WsFrameReader, ReservedOpcodesAreAProtocolError) {
  for (const int o : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    const auto op = static_cast<std::uint8_t>(o);
    SCOPED_TRACE(static_cast<int>(op));
    expect_error(frame(kFin | op, ""), kCloseProtocolError);
    expect_error(frame(kFin | op, "payload"), kCloseProtocolError);
    expect_error(frame(op, "no fin"), kCloseProtocolError);
  }
}

TEST(WsFrameReader, UnmaskedFrameIsAProtocolError) {
  expect_error(unmasked_frame(kFin | kOpText, "hello"), kCloseProtocolError);
  expect_error(unmasked_frame(kFin | kOpBinary, ""), kCloseProtocolError);
  expect_error(unmasked_frame(kFin | kOpPing, "p"), kCloseProtocolError);
  expect_error(unmasked_frame(kFin | kOpClose, close_payload(1000, "")), kCloseProtocolError);
  expect_error(text("a", false) + unmasked_frame(kFin | kOpCont, "b"), kCloseProtocolError);
  // Events before the bad frame are still reported.
  expect_error(text("ok") + unmasked_frame(kFin | kOpText, "hello"), kCloseProtocolError,
               {text_msg("ok")});
}

TEST(WsFrameReader, ControlFrameWithoutFinIsAProtocolError) {
  expect_error(frame(kOpPing, "p"), kCloseProtocolError);
  expect_error(frame(kOpPong, "p"), kCloseProtocolError);
  expect_error(frame(kOpClose, close_payload(1000, "")), kCloseProtocolError);
  expect_error(frame(kOpClose, ""), kCloseProtocolError);
}

TEST(WsFrameReader, ControlPayloadOver125IsAProtocolError) {
  expect_error(ping(ascii(126)), kCloseProtocolError);
  expect_error(pong(ascii(126)), kCloseProtocolError);
  expect_error(close_frame(1000, ascii(124)), kCloseProtocolError);
  expect_error(ping(ascii(70000)), kCloseProtocolError);
}

TEST(WsFrameReader, NonMinimalLengthIsAProtocolError) {
  for (const std::uint64_t n : {0, 1, 125}) {
    SCOPED_TRACE(n);
    expect_error(frame(kFin | kOpText, ascii(n), kKey, Len::k16), kCloseProtocolError);
  }
  for (const std::uint64_t n : {0, 125, 126, 65535}) {
    SCOPED_TRACE(n);
    expect_error(frame(kFin | kOpBinary, bytes_pattern(n), kKey, Len::k64), kCloseProtocolError);
  }
  // Control frames too.
  expect_error(frame(kFin | kOpPing, "p", kKey, Len::k16), kCloseProtocolError);
}

TEST(WsFrameReader, LengthWithTopBitSetIsAProtocolError) {
  for (const std::uint64_t n :
       {std::uint64_t{1} << 63, std::numeric_limits<std::uint64_t>::max()}) {
    SCOPED_TRACE(n);
    // A max that the length does not exceed: only the encoding is wrong.
    expect_error(header(kFin | kOpBinary, n, Len::k64), kCloseProtocolError, {},
                 std::numeric_limits<std::size_t>::max());
    // With the usual max, still a protocol error (RFC 6455 5.2: the top bit MUST be 0).
    expect_error(header(kFin | kOpBinary, n, Len::k64), kCloseProtocolError);
  }
}

TEST(WsFrameReader, ContinuationWithoutAMessageIsAProtocolError) {
  expect_error(cont("x", true), kCloseProtocolError);
  expect_error(cont("x", false), kCloseProtocolError);
  expect_error(cont("", true), kCloseProtocolError);
  // After a message that ended.
  expect_error(text("done") + cont("more", true), kCloseProtocolError, {text_msg("done")});
  expect_error(text("a", false) + cont("b", true) + cont("c", true), kCloseProtocolError,
               {text_msg("ab")});
}

TEST(WsFrameReader, NewDataFrameInsideAMessageIsAProtocolError) {
  expect_error(text("a", false) + text("b"), kCloseProtocolError);
  expect_error(text("a", false) + binary("b"), kCloseProtocolError);
  expect_error(binary("a", false) + text("b"), kCloseProtocolError);
  expect_error(binary("a", false) + ping("p") + binary("b", false), kCloseProtocolError,
               {ping_ev("p")});
}

TEST(WsFrameReader, OneByteClosePayloadIsAProtocolError) {
  expect_error(frame(kFin | kOpClose, "\x03"), kCloseProtocolError);
}

TEST(WsFrameReader, InvalidCloseCodesAreAProtocolError) {
  for (const int c :
       {0, 1, 999, 1004, 1005, 1006, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    const auto code = static_cast<std::uint16_t>(c);
    SCOPED_TRACE(code);
    expect_error(close_frame(code), kCloseProtocolError);
    expect_error(close_frame(code, "reason"), kCloseProtocolError);
  }
}

TEST(WsFrameReader, CloseReasonMustBeUtf8) {
  expect_error(close_frame(1000, "\xFF"), kCloseProtocolError);
  expect_error(close_frame(1000, "ok \xC0\x80"), kCloseProtocolError);
  expect_error(close_frame(1000, "cut \xE2\x82"), kCloseProtocolError);  // Ends mid code point.
  expect_error(close_frame(1000, "\xED\xA0\x80"), kCloseProtocolError);
}

TEST(WsFrameReader, ErrorAfterEventsInTheSameFeed) {
  Feeder f;
  EXPECT_EQ(f.feed(text("a") + ping("p") + frame(kFin | 0x40 | kOpText, "bad") + text("b")),
            kCloseProtocolError);
  EXPECT_EQ(f.events(), (std::vector<Event>{text_msg("a"), ping_ev("p")}));
  EXPECT_TRUE(f.reader().done());
  f.feed(text("c"));
  EXPECT_EQ(f.events(), (std::vector<Event>{text_msg("a"), ping_ev("p")}));
}

// ---- FrameReader: invalid UTF-8 in text (1007) ----

TEST(WsFrameReader, InvalidUtf8InTextIs1007) {
  expect_error(text("\xC0\x80"), kCloseInvalidPayload);
  expect_error(text("abc\xFF"), kCloseInvalidPayload);
  expect_error(text("\xED\xA0\x80"), kCloseInvalidPayload);
  expect_error(text("\xF4\x90\x80\x80"), kCloseInvalidPayload);
  expect_error(text("a", false) + cont("\x80", true), kCloseInvalidPayload);
  expect_error(text("ok") + text("\xFE"), kCloseInvalidPayload, {text_msg("ok")});
}

TEST(WsFrameReader, InvalidFirstFragmentFailsBeforeTheMessageEnds) {
  Feeder f;
  EXPECT_EQ(f.feed(text("abc\xC3\x28", false)), kCloseInvalidPayload);
  EXPECT_TRUE(f.reader().done());
  EXPECT_TRUE(f.events().empty());
  f.feed(cont("rest", true));
  EXPECT_TRUE(f.events().empty());

  Feeder g;  // A later fragment, with the message still open.
  EXPECT_EQ(g.feed(text("abc", false)), 0);
  EXPECT_EQ(g.feed(cont("\xED\xBF\xBF", false)), kCloseInvalidPayload);
  EXPECT_TRUE(g.reader().done());
}

TEST(WsFrameReader, TextEndingMidCodePointIs1007) {
  expect_error(text("a\xE2\x82"), kCloseInvalidPayload);
  expect_error(text("\xF0\x9F\x98"), kCloseInvalidPayload);
  expect_error(text("\xC3"), kCloseInvalidPayload);

  Feeder f;  // The open code point is fine until the last fragment ends.
  EXPECT_EQ(f.feed(text("\xE2\x82", false)), 0);
  EXPECT_EQ(f.feed(ping("p")), 0);
  EXPECT_EQ(f.feed(cont("", true)), kCloseInvalidPayload);
  EXPECT_EQ(f.events(), std::vector<Event>{ping_ev("p")});
  EXPECT_TRUE(f.reader().done());
}

TEST(WsFrameReader, BinaryIsNotUtf8Checked) {
  const std::string stream =
      binary("\xC3", false) + cont("\xFF\xFE", false) + cont("\xED\xA0", true) + binary("\xE2");
  EXPECT_EQ(run_whole(stream),
            (Result{{binary_msg("\xC3\xFF\xFE\xED\xA0"), binary_msg("\xE2")}, 0, false}));
}

// ---- FrameReader: max_message (1009) ----

TEST(WsFrameReader, ExactlyMaxMessageIsAccepted) {
  constexpr std::size_t kSmall = 100;
  EXPECT_EQ(run_whole(text(ascii(kSmall)), kSmall), (Result{{text_msg(ascii(kSmall))}, 0, false}));
  EXPECT_EQ(run_whole(binary(bytes_pattern(50), false) + cont(bytes_pattern(50)), kSmall),
            (Result{{binary_msg(bytes_pattern(50) + bytes_pattern(50))}, 0, false}));
  // Control frames do not count toward the message.
  EXPECT_EQ(run_whole(text(ascii(60), false) + ping(ascii(125)) + cont(ascii(40)), kSmall),
            (Result{{ping_ev(ascii(125)), text_msg(ascii(60) + ascii(40))}, 0, false}));
  // The limit is per message.
  EXPECT_EQ(run_whole(text(ascii(kSmall)) + text(ascii(kSmall)), kSmall),
            (Result{{text_msg(ascii(kSmall)), text_msg(ascii(kSmall))}, 0, false}));
  // A 64 KiB limit with a 16-bit and a 64-bit length.
  EXPECT_EQ(run_whole(binary(bytes_pattern(65536)), 65536),
            (Result{{binary_msg(bytes_pattern(65536))}, 0, false}));
}

TEST(WsFrameReader, OneByteOverMaxMessageIs1009) {
  constexpr std::size_t kSmall = 100;
  expect_error(text(ascii(kSmall + 1)), kCloseTooBig, {}, kSmall);
  expect_error(binary(bytes_pattern(kSmall + 1)), kCloseTooBig, {}, kSmall);
  expect_error(binary(bytes_pattern(50), false) + cont(bytes_pattern(51)), kCloseTooBig, {},
               kSmall);
  expect_error(text("ok") + text(ascii(60), false) + ping("p") + cont(ascii(41), false),
               kCloseTooBig, {text_msg("ok"), ping_ev("p")}, kSmall);
  expect_error(binary(bytes_pattern(65537)), kCloseTooBig, {}, 65536);
}

TEST(WsFrameReader, TooBigIsFoundFromTheHeader) {
  constexpr std::size_t kSmall = 100;
  {
    Feeder f(kSmall);
    EXPECT_EQ(f.feed(header(kFin | kOpText, kSmall + 1)), kCloseTooBig);
    EXPECT_TRUE(f.reader().done());
  }
  {
    Feeder f(kSmall);
    EXPECT_EQ(f.feed(header(kFin | kOpBinary, std::uint64_t{1} << 40)), kCloseTooBig);
  }
  {
    Feeder f(kSmall);
    EXPECT_EQ(f.feed(header(kFin | kOpBinary, 65536)), kCloseTooBig);
  }
  {
    Feeder f(kSmall);  // The sum of the fragments, from the second fragment's header.
    EXPECT_EQ(f.feed(text(ascii(60), false)), 0);
    EXPECT_EQ(f.feed(header(kOpCont, 41)), kCloseTooBig);
    EXPECT_TRUE(f.reader().done());
  }
  {
    Feeder f;  // The default max of the tests (1 MiB): a header of 1 MiB + 1.
    EXPECT_EQ(f.feed(header(kFin | kOpBinary, kMax + 1)), kCloseTooBig);
  }
}

// ---- FrameReader: buffered_capacity ----

TEST(WsFrameReader, NothingBufferedAfterWholeMessages) {
  Feeder f;
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);
  f.feed(text(ascii(1000)));
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);
  f.feed(binary(bytes_pattern(70000)) + ping(ascii(100)) + text("x"));
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);
  EXPECT_EQ(f.events().size(), 4U);
}

TEST(WsFrameReader, BufferReleasedAfterSplitOrFragmentedMessage) {
  Feeder f;
  const std::string big = text(ascii(5000));
  f.feed(std::string_view(big).substr(0, 2000));
  f.feed(std::string_view(big).substr(2000));
  EXPECT_EQ(f.events(), std::vector<Event>{text_msg(ascii(5000))});
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);

  f.feed(binary(bytes_pattern(3000), false));
  f.feed(ping("p"));
  f.feed(cont(bytes_pattern(3000), true));
  EXPECT_EQ(f.events().size(), 3U);
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);

  // Fragments that all arrive in one read.
  f.feed(text(ascii(2000), false) + cont(ascii(2000), true));
  EXPECT_EQ(f.events().size(), 4U);
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);
}

TEST(WsFrameReader, BufferReleasedAfterSplitControlFrame) {
  Feeder f;
  const std::string p = ping(ascii(125));
  f.feed(std::string_view(p).substr(0, 60));
  f.feed(std::string_view(p).substr(60));
  EXPECT_EQ(f.events(), std::vector<Event>{ping_ev(ascii(125))});
  EXPECT_EQ(f.reader().buffered_capacity(), 0U);
}

// ---- FrameReader: random round trip ----

std::string encode_utf8(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

std::size_t pick(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

std::string random_utf8(std::mt19937_64& rng, std::size_t at_least) {
  std::string s;
  while (s.size() < at_least) {
    std::uint32_t cp = 0;
    switch (pick(rng, 0, 5)) {
      case 0:
      case 1:
      case 2: cp = static_cast<std::uint32_t>(pick(rng, 0, 0x7F)); break;
      case 3: cp = static_cast<std::uint32_t>(pick(rng, 0x80, 0x7FF)); break;
      case 4: do { cp = static_cast<std::uint32_t>(pick(rng, 0x800, 0xFFFF));
        } while (cp >= 0xD800 && cp <= 0xDFFF);
        break;
      default: cp = static_cast<std::uint32_t>(pick(rng, 0x10000, 0x10FFFF)); break;
    }
    s += encode_utf8(cp);
  }
  return s;
}

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) {
    c = static_cast<char>(pick(rng, 0, 255));
  }
  return s;
}

Key random_key(std::mt19937_64& rng) {
  if (pick(rng, 0, 9) == 0) {
    return Key{0, 0, 0, 0};
  }
  return Key{
      static_cast<std::uint8_t>(pick(rng, 0, 255)), static_cast<std::uint8_t>(pick(rng, 0, 255)),
      static_cast<std::uint8_t>(pick(rng, 0, 255)), static_cast<std::uint8_t>(pick(rng, 0, 255))};
}

struct RandomStream {
  std::string bytes;
  std::vector<Event> expected;
  bool closed = false;
};

void maybe_control(std::mt19937_64& rng, RandomStream& out, int percent) {
  while (static_cast<int>(pick(rng, 0, 99)) < percent) {
    const std::string payload =
        random_bytes(rng, pick(rng, 0, 1) ? pick(rng, 0, 8) : pick(rng, 0, 125));
    if (pick(rng, 0, 3) == 0) {
      out.bytes += frame(kFin | kOpPong, payload, random_key(rng));
    } else {
      out.bytes += frame(kFin | kOpPing, payload, random_key(rng));
      out.expected.push_back(ping_ev(payload));
    }
  }
}

RandomStream random_stream(std::mt19937_64& rng) {
  RandomStream out;
  const std::size_t messages = pick(rng, 0, 10);
  for (std::size_t m = 0; m < messages; ++m) {
    maybe_control(rng, out, 20);
    const bool is_text = pick(rng, 0, 1) == 0;
    std::size_t size = 0;
    switch (pick(rng, 0, 19)) {
      case 0: size = 0; break;
      case 1: size = pick(rng, 65530, 70000); break;
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 7: size = pick(rng, 1, 140); break;
      default: size = pick(rng, 1, 4096); break;
    }
    const std::string payload = is_text ? random_utf8(rng, size) : random_bytes(rng, size);
    // Fragment boundaries anywhere (inside code points too; empty fragments allowed).
    std::vector<std::size_t> cuts;
    if (pick(rng, 0, 1) == 0) {
      const std::size_t n = pick(rng, 1, 5);
      for (std::size_t i = 0; i < n; ++i) {
        cuts.push_back(pick(rng, 0, payload.size()));
      }
      std::sort(cuts.begin(), cuts.end());
    }
    cuts.push_back(payload.size());
    std::size_t from = 0;
    for (std::size_t i = 0; i < cuts.size(); ++i) {
      const bool last = i + 1 == cuts.size();
      const std::uint8_t op = i == 0 ? (is_text ? kOpText : kOpBinary) : kOpCont;
      out.bytes += frame(fin_if(last) | op, std::string_view(payload).substr(from, cuts[i] - from),
                         random_key(rng));
      from = cuts[i];
      if (!last) {
        maybe_control(rng, out, 30);
      }
    }
    out.expected.push_back(is_text ? text_msg(payload) : binary_msg(payload));
  }
  maybe_control(rng, out, 20);
  if (pick(rng, 0, 3) == 0) {
    const auto code = static_cast<std::uint16_t>(pick(rng, 0, 1) ? 1000 : pick(rng, 3000, 4999));
    const std::string reason = random_utf8(rng, pick(rng, 0, 30));
    out.bytes += frame(kFin | kOpClose, close_payload(code, reason), random_key(rng));
    out.expected.push_back(close_ev(code, reason));
    out.bytes += random_bytes(rng, pick(rng, 0, 50));  // Never read.
    out.closed = true;
  }
  return out;
}

std::vector<std::string_view> random_pieces(std::mt19937_64& rng, std::string_view s) {
  const std::size_t mode = pick(rng, 0, 4);
  std::vector<std::string_view> pieces;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t n = 0;
    switch (mode == 4 ? pick(rng, 0, 3) : mode) {
      case 0: n = s.size(); break;
      case 1: n = pick(rng, 1, 3); break;
      case 2: n = pick(rng, 1, 64); break;
      default: n = pick(rng, 1, 2048); break;
    }
    if (pick(rng, 0, 30) == 0) {
      n = 0;  // An empty read now and then.
    }
    n = std::min(n, s.size() - at);
    pieces.push_back(s.substr(at, n));
    at += n;
  }
  return pieces;
}

TEST(WsFrameReader, RandomRoundTrip) {
  constexpr std::uint64_t kSeed = 0x5EED'0F'F5'2024ULL;
  for (std::uint64_t i = 0; i < 300; ++i) {
    const std::uint64_t seed = kSeed + i;
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const RandomStream stream = random_stream(rng);
    const Result expected{stream.expected, 0, stream.closed};
    Feeder f;
    for (const std::string_view piece : random_pieces(rng, stream.bytes)) {
      f.feed(piece);
    }
    ASSERT_EQ(f.result(), expected);
    if (!stream.closed) {
      EXPECT_EQ(f.reader().buffered_capacity(), 0U);
    }
    ASSERT_EQ(run_whole(stream.bytes), expected);
  }
}

// ---- UTF-8 ----

// RFC 3629, written the plain way: decode each code point, refuse overlong forms, surrogates
// and anything past U+10FFFF.
bool reference_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1Fu;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0Fu;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07u;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Whether some bytes appended to `prefix` make it valid. The continuation bytes that matter are
// the edges of the ranges RFC 3629 allows after each lead byte.
bool reference_valid_prefix(std::string prefix) {
  static constexpr std::array<char, 6> kEdges{'\x80', '\x8F', '\x90', '\x9F', '\xA0', '\xBF'};
  const std::size_t size = prefix.size();
  for (std::size_t extra = 0; extra <= 3; ++extra) {
    std::size_t combos = 1;
    for (std::size_t k = 0; k < extra; ++k) {
      combos *= kEdges.size();
    }
    for (std::size_t c = 0; c < combos; ++c) {
      prefix.resize(size);
      std::size_t x = c;
      for (std::size_t k = 0; k < extra; ++k) {
        prefix.push_back(kEdges[x % kEdges.size()]);
        x /= kEdges.size();
      }
      if (reference_utf8(prefix)) {
        return true;
      }
    }
  }
  return false;
}

// Feeds `s` one byte at a time: the index of the first refused byte, or s.size().
std::size_t first_refused(std::string_view s, Utf8Validator& v) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(s.substr(i, 1))) {
      return i;
    }
  }
  return s.size();
}

TEST(WsUtf8, ValidBoundaries) {
  std::string all;
  for (const std::uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu,
                                 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    const std::string s = encode_utf8(cp);
    SCOPED_TRACE(testing::PrintToString(s));
    all += s;
    EXPECT_TRUE(is_valid_utf8(s));
    Utf8Validator whole;
    EXPECT_TRUE(whole.feed(s));
    EXPECT_TRUE(whole.complete());
    Utf8Validator bytewise;
    for (std::size_t i = 0; i < s.size(); ++i) {
      EXPECT_TRUE(bytewise.feed(s.substr(i, 1)));
      EXPECT_EQ(bytewise.complete(), i + 1 == s.size()) << "after byte " << i;
    }
  }
  EXPECT_TRUE(is_valid_utf8(all));
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8(std::string_view("\0", 1)));
  Utf8Validator empty;
  EXPECT_TRUE(empty.feed(""));
  EXPECT_TRUE(empty.complete());
}

TEST(WsUtf8, InvalidSequencesFailAtTheFirstBadByte) {
  struct Case {
    std::string bytes;
    std::size_t bad;  // The first byte that cannot be part of valid UTF-8.
  };
  const std::vector<Case> cases = {
      {"\x80", 0},
      {"\xBF", 0},
      {"a\x80", 1},
      {"\xFE", 0},
      {"\xFF", 0},
      {"\xC0\x80", 0},
      {"\xC1\xBF", 0},
      {"\xE0\x80\xAF", 1},
      {"\xE0\x9F\xBF", 1},
      {"\xF0\x80\x80\xAF", 1},
      {"\xF0\x8F\xBF\xBF", 1},
      {"\xED\xA0\x80", 1},
      {"\xED\xAF\xBF", 1},
      {"\xED\xB0\x80", 1},
      {"\xED\xBF\xBF", 1},
      {"\xF4\x90\x80\x80", 1},
      {"\xF4\xBF\xBF\xBF", 1},
      {"\xF5\x80\x80\x80", 0},
      {"\xF7\xBF\xBF\xBF", 0},
      {"\xF8\x88\x80\x80\x80", 0},      // 5-byte form.
      {"\xFC\x84\x80\x80\x80\x80", 0},  // 6-byte form.
      {"\xC2\x41", 1},
      {"\xC2\xC2\x80", 1},
      {"\xE2\x82\x41", 2},
      {"\xF0\x9F\x98\xF0", 3},
      {"ok \xE2\x82\xAC \x80", 7},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.bytes));
    ASSERT_FALSE(reference_utf8(c.bytes));
    EXPECT_FALSE(is_valid_utf8(c.bytes));
    Utf8Validator whole;
    EXPECT_FALSE(whole.feed(c.bytes));
    Utf8Validator bytewise;
    EXPECT_EQ(first_refused(c.bytes, bytewise), c.bad);
    // It stays failed.
    EXPECT_FALSE(bytewise.feed("a"));
    EXPECT_FALSE(whole.feed("a"));
    whole.reset();
    EXPECT_TRUE(whole.feed("a"));
    EXPECT_TRUE(whole.complete());
  }
}

TEST(WsUtf8, StaysFailedForAnyLaterInputEvenEmpty) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("ok\xff"));
  EXPECT_FALSE(v.feed(""));
  EXPECT_FALSE(v.feed("plain ascii"));
  EXPECT_FALSE(v.feed("\xc3\xa9"));
  v.reset();
  EXPECT_TRUE(v.feed("plain ascii"));
}

TEST(WsUtf8, IncompleteAtTheEnd) {
  for (const std::string s :
       {"\xC2", "\xE2\x82", "\xE2", "\xF0\x9F\x98", "\xF4\x8F\xBF", "ok \xF0"}) {
    SCOPED_TRACE(testing::PrintToString(s));
    EXPECT_FALSE(is_valid_utf8(s));
    Utf8Validator v;
    EXPECT_TRUE(v.feed(s));
    EXPECT_FALSE(v.complete());
  }
  Utf8Validator v;  // Completed by a later feed.
  EXPECT_TRUE(v.feed("\xF0\x9F"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\x98"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\x80z"));
  EXPECT_TRUE(v.complete());
}

TEST(WsUtf8, EveryCodePoint) {
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string s = encode_utf8(cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (is_valid_utf8(s) == surrogate) {
      ADD_FAILURE() << "U+" << std::hex << cp << " valid=" << !surrogate;
      return;
    }
  }
}

// Every 1- and 2-byte string, every 3-byte string with a 3-byte lead, and 4-byte strings with
// every lead and second byte: is_valid_utf8 agrees with the reference.
TEST(WsUtf8, ExhaustiveShortStringsAgreeWithTheReference) {
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(is_valid_utf8(s), reference_utf8(s)) << testing::PrintToString(s);
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(is_valid_utf8(s), reference_utf8(s)) << testing::PrintToString(s);
    }
  }
  for (int a = 0xE0; a <= 0xEF; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(is_valid_utf8(s), reference_utf8(s)) << testing::PrintToString(s);
      }
    }
  }
  for (int a = 0xF0; a <= 0xFF; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (const int c : {0x41, 0x80, 0xBF, 0xC0}) {
        for (const int d : {0x41, 0x80, 0x9F, 0xBF}) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          ASSERT_EQ(is_valid_utf8(s), reference_utf8(s)) << testing::PrintToString(s);
        }
      }
    }
  }
}

// Random strings (mostly UTF-8-shaped bytes): whole, one byte at a time and in random pieces,
// the validator agrees with the reference, and refuses exactly at the first byte after which no
// valid continuation exists.
TEST(WsUtf8, FedInPiecesEqualsFedWhole) {
  static constexpr std::array<std::uint8_t, 16> kInteresting{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                                                             0x9F, 0xA0, 0xBF, 0xC2, 0xDF, 0xE0,
                                                             0xED, 0xF0, 0xF4, 0xF5};
  std::mt19937_64 rng(1234);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s;
    const std::size_t n = pick(rng, 0, 10);
    for (std::size_t i = 0; i < n; ++i) {
      if (pick(rng, 0, 3) == 0) {
        s += encode_utf8(static_cast<std::uint32_t>(pick(rng, 0, 0x10FFFF)));  // Surrogates too.
      } else {
        s.push_back(static_cast<char>(pick(rng, 0, 4) == 0 ? pick(rng, 0, 255)
                                                           : kInteresting[pick(rng, 0, 15)]));
      }
    }
    SCOPED_TRACE(testing::PrintToString(s));
    const bool valid = reference_utf8(s);
    EXPECT_EQ(is_valid_utf8(s), valid);

    Utf8Validator whole;
    const bool whole_ok = whole.feed(s);
    EXPECT_EQ(whole_ok && whole.complete(), valid);

    std::size_t expected_bad = s.size();
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!reference_valid_prefix(s.substr(0, i + 1))) {
        expected_bad = i;
        break;
      }
    }
    EXPECT_EQ(whole_ok, expected_bad == s.size());
    Utf8Validator bytewise;
    EXPECT_EQ(first_refused(s, bytewise), expected_bad);
    if (expected_bad == s.size()) {
      EXPECT_EQ(bytewise.complete(), whole.complete());
    }

    Utf8Validator pieces;
    bool pieces_ok = true;
    for (std::size_t at = 0; at < s.size();) {
      const std::size_t len = std::min(pick(rng, 0, 4), s.size() - at);
      pieces_ok = pieces.feed(std::string_view(s).substr(at, len)) && pieces_ok;
      at += len;
    }
    EXPECT_EQ(pieces_ok, whole_ok);
    if (pieces_ok) {
      EXPECT_EQ(pieces.complete(), whole.complete());
    }
  }
}

// ---- Close codes ----

TEST(WsCloseCode, DocumentedRanges) {
  for (std::uint32_t code = 0; code <= 0xFFFF; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013) ||
                          (code >= 3000 && code <= 4999);
    ASSERT_EQ(is_valid_close_code(static_cast<std::uint16_t>(code)), expected) << code;
  }
}

// ---- Server frame headers ----

std::string header_bytes(Opcode op, std::uint64_t size) {
  std::array<char, 10> out{};
  const std::size_t n = encode_header(op, size, out);
  EXPECT_LE(n, out.size());
  return std::string(out.data(), std::min(n, out.size()));
}

TEST(WsHeader, SevenBitLengths) {
  EXPECT_EQ(header_bytes(Opcode::kText, 0), std::string("\x81\x00", 2));
  EXPECT_EQ(header_bytes(Opcode::kBinary, 1), std::string("\x82\x01", 2));
  EXPECT_EQ(header_bytes(Opcode::kBinary, 125), std::string("\x82\x7D", 2));
}

TEST(WsHeader, SixteenBitLengths) {
  EXPECT_EQ(header_bytes(Opcode::kBinary, 126), std::string("\x82\x7E\x00\x7E", 4));
  EXPECT_EQ(header_bytes(Opcode::kText, 0x1234), std::string("\x81\x7E\x12\x34", 4));
  EXPECT_EQ(header_bytes(Opcode::kBinary, 65535), std::string("\x82\x7E\xFF\xFF", 4));
}

TEST(WsHeader, SixtyFourBitLengths) {
  EXPECT_EQ(header_bytes(Opcode::kBinary, 65536),
            std::string("\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  EXPECT_EQ(header_bytes(Opcode::kText, 0x0102030405060708ULL),
            std::string("\x81\x7F\x01\x02\x03\x04\x05\x06\x07\x08", 10));
}

TEST(WsHeader, FinOpcodeAndNoMask) {
  for (const Opcode op :
       {Opcode::kText, Opcode::kBinary, Opcode::kClose, Opcode::kPing, Opcode::kPong}) {
    for (const std::uint64_t size : {0, 5, 125, 126, 65535, 65536}) {
      const std::string h = header_bytes(op, size);
      ASSERT_GE(h.size(), 2U);
      EXPECT_EQ(static_cast<std::uint8_t>(h[0]), 0x80 | static_cast<std::uint8_t>(op));
      EXPECT_EQ(static_cast<std::uint8_t>(h[1]) & 0x80, 0) << "servers do not mask";
    }
  }
}

TEST(WsHeader, AppendControl) {
  std::string out = "prefix";
  append_control(out, Opcode::kPing, "abc");
  EXPECT_EQ(out,
            "prefix\x89\x03"
            "abc");
  out.clear();
  append_control(out, Opcode::kPong, "");
  EXPECT_EQ(out, std::string("\x8A\x00", 2));
  out.clear();
  append_control(out, Opcode::kPong, ascii(125));
  EXPECT_EQ(out, "\x8A\x7D" + ascii(125));
  out.clear();
  append_control(out, Opcode::kClose, close_payload(1000, "bye"));
  EXPECT_EQ(out,
            "\x88\x05\x03\xE8"
            "bye");
}

TEST(WsHeader, AppendClose) {
  std::string out;
  append_close(out, 1000);
  EXPECT_EQ(out, std::string("\x88\x02\x03\xE8", 4));
  append_close(out, kCloseProtocolError);
  EXPECT_EQ(out, std::string("\x88\x02\x03\xE8\x88\x02\x03\xEA", 8));
  out = "x";
  append_close(out, 4999);
  EXPECT_EQ(out, std::string("x\x88\x02\x13\x87", 5));
  out.clear();
  append_close(out, kCloseTooBig);
  EXPECT_EQ(out, std::string("\x88\x02\x03\xF1", 4));
}

// What the server writes, masked the way a client would send it, reads back as the same message.
TEST(WsHeader, MaskedServerFramesReadBack) {
  for (const std::size_t n : {0, 1, 125, 126, 65535, 65536}) {
    SCOPED_TRACE(n);
    const std::string payload = bytes_pattern(n);
    std::string f = header_bytes(Opcode::kBinary, n);
    f[1] = static_cast<char>(static_cast<std::uint8_t>(f[1]) | 0x80);
    for (const std::uint8_t k : kKey) {
      f.push_back(static_cast<char>(k));
    }
    for (std::size_t i = 0; i < payload.size(); ++i) {
      f.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ kKey[i % 4]));
    }
    EXPECT_EQ(f, binary(payload));
    EXPECT_EQ(run_whole(f), (Result{{binary_msg(payload)}, 0, false}));
  }
}

}  // namespace
}  // namespace huddle::net::ws
