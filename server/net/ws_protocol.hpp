// WebSocket framing after the upgrade (RFC 6455 section 5), server side: an incremental frame
// reader and the frame headers the server writes. Pure code, no I/O: Session feeds it whatever
// bytes a read returned. The reader holds no buffer between messages (a message that arrives whole
// in one read is handed over in place, unmasked in the read buffer), which is what lets an idle
// connection cost a few hundred bytes (issue #5, W4). Beast still does the HTTP upgrade.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace huddle::net::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes the framing layer itself sends (RFC 6455 7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
inline constexpr std::uint16_t kCloseTooBig = 1009;

// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), checked
// incrementally so a message split across frames and reads is checked as one text, and an invalid
// byte fails at once (not at the message's end).
class Utf8Validator {
 public:
  // False at the first byte that cannot be part of valid UTF-8, and for any input after it.
  bool feed(std::string_view bytes) noexcept;
  // True when no code point is left open.
  [[nodiscard]] bool complete() const noexcept { return need_ == 0; }
  void reset() noexcept { *this = Utf8Validator{}; }

 private:
  std::uint8_t need_ = 0;   // Continuation bytes still expected.
  std::uint8_t lo_ = 0x80;  // Range of the next continuation byte.
  std::uint8_t hi_ = 0xBF;
};

[[nodiscard]] bool is_valid_utf8(std::string_view bytes) noexcept;

// RFC 6455 7.4: a code a peer may send in a close frame (1000-1003, 1007-1013, 3000-4999).
[[nodiscard]] bool is_valid_close_code(std::uint16_t code) noexcept;

// What the reader hands over, in wire order.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // A complete data message. `payload` is valid only during the call.
  virtual void on_message(std::string_view payload, bool text) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  // The peer's valid close frame: code 0 when it carried none. The reader reads nothing after it.
  // (A pong is accepted and not reported: any byte from the peer already counts as traffic.)
  virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
};

class FrameReader {
 public:
  explicit FrameReader(std::size_t max_message) : max_message_(max_message) {}

  // Parses `bytes` (unmasking them in place), calling `sink` for each complete message, ping and
  // close. Returns 0, or the close code that fails the connection:
  // - 1002, a protocol error: reserved bits or opcode, an unmasked frame, a fragmented or
  //   oversized control frame, a non-minimal length or one with the top bit set, a continuation
  //   with no open message or a new message inside one, and a close frame that is 1 byte long,
  //   has an invalid code or a reason that is not UTF-8 (no on_close then). Header checks come
  //   before the size check, so 1002 wins over 1009;
  // - 1007, invalid UTF-8 in a text message, at the first bad byte (before the message ends);
  // - 1009, a message past max_message, found from the frame header before its payload arrives.
  // After an error or a close frame, done() is true and feed reports nothing and returns 0.
  std::uint16_t feed(std::span<char> bytes, FrameSink& sink);

  // A close frame or an error ended the stream.
  [[nodiscard]] bool done() const noexcept { return done_; }
  // Bytes held on the heap (0 between messages that each arrived within one read).
  [[nodiscard]] std::size_t buffered_capacity() const noexcept;

 private:
  std::uint16_t parse_header();
  std::uint16_t on_payload(char* data, std::size_t n, FrameSink& sink);
  std::uint16_t on_control(std::string_view payload, FrameSink& sink);

  std::size_t max_message_;
  std::array<unsigned char, 14> header_{};  // A header split across reads.
  std::uint8_t header_len_ = 0;
  bool in_frame_ = false;  // The header is parsed; `remaining_` payload bytes follow.
  bool fin_ = false;
  bool done_ = false;
  Opcode op_ = Opcode::kContinuation;          // Of the current frame.
  Opcode message_op_ = Opcode::kContinuation;  // kText/kBinary while a data message is open.
  std::array<unsigned char, 4> key_{};
  std::uint8_t key_pos_ = 0;
  std::uint64_t frame_len_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t message_size_ = 0;  // Payload bytes of the open message so far.
  Utf8Validator utf8_;
  std::string message_;  // The open message, when it spans frames or reads.
  std::string control_;  // A control frame's payload, when it spans reads.
};

// The header of an unmasked (server) frame with FIN set: 2, 4 or 10 bytes written to `out`.
std::size_t encode_header(Opcode op, std::uint64_t payload_size, std::array<char, 10>& out);

// A whole control frame appended to `out`; a payload past 125 bytes is cut to 125 (the server
// sends only pongs, which echo at most 125 bytes, empty pings and code-only closes).
void append_control(std::string& out, Opcode op, std::string_view payload);
// A close frame with `code` (and no reason) appended to `out`.
void append_close(std::string& out, std::uint16_t code);

}  // namespace huddle::net::ws
