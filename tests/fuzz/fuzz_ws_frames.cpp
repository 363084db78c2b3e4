// fuzz_ws_frames: arbitrary bytes as what a client sends after the WebSocket upgrade, through the
// server's frame reader (server/net/ws_protocol.hpp, what Session feeds each read to) with a
// 64 KiB message limit.
//
// Input: [k: 1 byte][k chunk-size bytes][the stream]. The stream is fed three ways: whole in one
// feed, one byte at a time, and in chunks whose sizes cycle through the k bytes (a byte b below
// 0xC0 is b bytes, 0 an empty read; above, (b - 0xBF) * 256 bytes).
//
// Asserts:
// - the three ways give the same events (messages, pings, closes, in order), the same first
//   nonzero return and the same done(): how reads cut the bytes never changes the result;
// - feed returns 0, 1002, 1007 or 1009; done() is true exactly once an error was returned or a
//   close reported, and after that nothing more is reported (a close is the last event);
// - a message is at most max_message bytes, a text message is valid UTF-8 (is_valid_utf8), a
//   ping payload is at most 125 bytes; a close has code 0 and no reason, or a valid close code
//   (is_valid_close_code) and a UTF-8 reason of at most 123 bytes;
// - the reader never holds more than twice max_message on the heap;
// - the events re-encoded as canonical client frames (one frame per message) read back, through a
//   fresh reader, as the same events with no error.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "server/net/ws_protocol.hpp"

namespace {

namespace ws = huddle::net::ws;

#define CHECK HUDDLE_FUZZ_CHECK

constexpr std::size_t kMaxMessage = 64 * 1024;

struct Event {
  enum class Kind : std::uint8_t { kMessage, kPing, kClose };
  Kind kind = Kind::kMessage;
  std::string payload;  // Message or ping payload, close reason.
  bool text = false;
  std::uint16_t code = 0;
  bool operator==(const Event&) const = default;
};

class Recorder final : public ws::FrameSink {
 public:
  void on_message(std::string_view payload, bool text) override {
    CHECK(payload.size() <= kMaxMessage);
    CHECK(!text || ws::is_valid_utf8(payload));
    events.push_back({Event::Kind::kMessage, std::string(payload), text, 0});
  }
  void on_ping(std::string_view payload) override {
    CHECK(payload.size() <= 125);
    events.push_back({Event::Kind::kPing, std::string(payload), false, 0});
  }
  void on_close(std::uint16_t code, std::string_view reason) override {
    CHECK(code != 0 || reason.empty());
    CHECK(code == 0 || ws::is_valid_close_code(code));
    CHECK(reason.size() <= 123);
    CHECK(ws::is_valid_utf8(reason));
    events.push_back({Event::Kind::kClose, std::string(reason), false, code});
  }
  std::vector<Event> events;
};

// One reader, fed piece by piece, with the checks that hold after every feed.
class Run {
 public:
  void feed(std::string_view bytes) {
    std::vector<char> buf(bytes.begin(), bytes.end());  // The reader unmasks in place.
    const bool ended_before = ended();
    const std::size_t events_before = sink_.events.size();
    const std::uint16_t rc = reader_.feed(std::span<char>(buf.data(), buf.size()), sink_);
    CHECK(rc == 0 || rc == ws::kCloseProtocolError || rc == ws::kCloseInvalidPayload ||
          rc == ws::kCloseTooBig);
    if (!ended_before) {  // (What a feed returns after the end is not specified.)
      code_ = rc;
    }
    if (ended_before) {
      CHECK(sink_.events.size() == events_before);
    }
    for (std::size_t i = 0; i + 1 < sink_.events.size(); ++i) {
      CHECK(sink_.events[i].kind != Event::Kind::kClose);
    }
    CHECK(reader_.done() == ended());
    CHECK(reader_.buffered_capacity() <= 2 * kMaxMessage);
  }

  [[nodiscard]] bool ended() const {
    return code_ != 0 || (!sink_.events.empty() && sink_.events.back().kind == Event::Kind::kClose);
  }
  [[nodiscard]] const std::vector<Event>& events() const { return sink_.events; }
  [[nodiscard]] std::uint16_t code() const { return code_; }
  [[nodiscard]] bool done() const { return reader_.done(); }

 private:
  ws::FrameReader reader_{kMaxMessage};
  Recorder sink_;
  std::uint16_t code_ = 0;
};

bool same(const Run& a, const Run& b) {
  return a.events() == b.events() && a.code() == b.code() && a.done() == b.done();
}

std::size_t chunk_size(std::uint8_t b) {
  return b < 0xC0 ? b : std::size_t{b - 0xBFu} * 256;
}

// A masked client frame with FIN set and the shortest length form.
void append_frame(std::string& out, std::uint8_t opcode, std::string_view payload) {
  static constexpr unsigned char kKey[4] = {0x5A, 0x01, 0xC3, 0x7E};
  out.push_back(static_cast<char>(0x80 | opcode));
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) {
      out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    }
  }
  for (const unsigned char k : kKey) {
    out.push_back(static_cast<char>(k));
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ kKey[i % 4]));
  }
}

std::string reencode(const std::vector<Event>& events) {
  std::string out;
  for (const Event& e : events) {
    switch (e.kind) {
      case Event::Kind::kMessage: append_frame(out, e.text ? 0x1 : 0x2, e.payload); break;
      case Event::Kind::kPing: append_frame(out, 0x9, e.payload); break;
      case Event::Kind::kClose: {
        std::string p;
        if (e.code != 0) {
          p.push_back(static_cast<char>(e.code >> 8));
          p.push_back(static_cast<char>(e.code & 0xFF));
          p += e.payload;
        }
        append_frame(out, 0x8, p);
        break;
      }
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  huddle::fuzz::Bytes in(data, size);
  const std::size_t k = in.byte() % 16;
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < k; ++i) {
    sizes.push_back(chunk_size(in.byte()));
  }
  const std::string stream = in.take(in.left());
  const std::string_view s(stream);

  Run whole;
  whole.feed(s);
  if (whole.done()) {  // It reads nothing more: a valid text frame after it is not reported.
    std::string more;
    append_frame(more, 0x1, "more");
    whole.feed(more);
  }

  Run bytewise;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bytewise.feed(s.substr(i, 1));
  }
  CHECK(same(whole, bytewise));

  Run chunked;
  std::size_t at = 0;
  std::size_t next = 0;
  std::size_t cycle_progress = 0;
  while (at < s.size()) {
    std::size_t n = sizes.empty() ? 1 : sizes[next];
    if (!sizes.empty() && ++next == sizes.size()) {
      next = 0;
      if (cycle_progress == 0 && n == 0) {
        n = 1;  // Every size is 0: move on anyway.
      }
      cycle_progress = 0;
    }
    n = std::min(n, s.size() - at);
    chunked.feed(s.substr(at, n));
    at += n;
    cycle_progress += n;
  }
  CHECK(same(whole, chunked));

  Run again;
  again.feed(reencode(whole.events()));
  CHECK(again.events() == whole.events());
  CHECK(again.code() == 0);
  return 0;
}
