// A raw-socket WebSocket client for protocol-abuse tests: a plain blocking TCP socket to
// 127.0.0.1, a hand-built upgrade request, and hand-built frames with any flags, opcode, masking,
// length encoding or fragmentation, so a test can send exactly the bytes RFC 6455 forbids and see
// what the server answers (its frames, its close code, whether it drops the connection). Every
// read has a deadline; nothing here sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huddle::testing::raw {

using namespace std::chrono_literals;

// RFC 6455 section 5.2 opcodes (3-7 and 0xB-0xF are reserved).
inline constexpr std::uint8_t kCont = 0x0;
inline constexpr std::uint8_t kText = 0x1;
inline constexpr std::uint8_t kBinary = 0x2;
inline constexpr std::uint8_t kClose = 0x8;
inline constexpr std::uint8_t kPing = 0x9;
inline constexpr std::uint8_t kPong = 0xA;

// The reserved bits, as they sit in the first header byte shifted right by 4.
inline constexpr std::uint8_t kRsv1 = 0x4;
inline constexpr std::uint8_t kRsv2 = 0x2;
inline constexpr std::uint8_t kRsv3 = 0x1;

// How the payload length is written: the shortest form (what RFC 6455 requires), or forced into
// the 16-bit (126) or 64-bit (127) form, which is non-minimal for short payloads.
enum class LengthForm : std::uint8_t { kMinimal, k16, k64 };

// One frame as the client sends it.
struct Frame {
  std::uint8_t opcode = kText;
  std::string payload;
  bool fin = true;
  std::uint8_t rsv = 0;  // kRsv1 | kRsv2 | kRsv3
  bool masked = true;
  LengthForm length_form = LengthForm::kMinimal;
  // Written in the length field instead of payload.size() (a frame that announces more than it
  // carries, such as a 2^63 length): only `payload` follows the header.
  std::optional<std::uint64_t> declared_length;
};

Frame text(std::string payload, bool fin = true);
Frame binary(std::string payload, bool fin = true);
Frame cont(std::string payload, bool fin = true);
Frame ping(std::string payload = "");
Frame pong(std::string payload = "");
// A close frame with a 2-byte code and a reason.
Frame close_frame(std::uint16_t code, std::string reason = "");
// A frame of any opcode.
Frame control(std::uint8_t opcode, std::string payload, bool fin = true);
// Fluent modifiers (return a changed copy).
Frame with_rsv(Frame f, std::uint8_t rsv);
Frame unmasked(Frame f);
Frame with_length_form(Frame f, LengthForm form);
Frame declaring(Frame f, std::uint64_t length);

// The frame's bytes on the wire (masked with a fixed key when `masked`).
std::string encode(const Frame& f);
std::string encode_all(const std::vector<Frame>& frames);

// One frame as the server sent it (payload unmasked if it was masked).
struct Received {
  std::uint8_t opcode = 0;
  bool fin = true;
  std::uint8_t rsv = 0;
  bool masked = false;
  std::string payload;
};

// The close code in a close frame's payload; 1005 (no status) when it carries none.
std::uint16_t close_code_of(const Received& close);

// A blocking TCP connection to 127.0.0.1:port. Move-only; closes on destruction.
class Socket {
 public:
  // Throws std::runtime_error if the connection fails.
  explicit Socket(std::uint16_t port);
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  // Sends everything; `chunk` > 0 splits it into writes of that size. Returns false if the peer
  // has gone (EPIPE, ECONNRESET): abuse tests keep writing after the server has closed.
  bool send_all(std::string_view bytes, std::size_t chunk = 0);
  enum class Read : std::uint8_t { kData, kEof, kTimeout, kError };
  // Appends what arrives before `deadline` to `out` (one recv).
  Read read_some(std::string& out, std::chrono::steady_clock::time_point deadline);
  // Half-closes (FIN) the sending side.
  void shutdown_send();
  void close();
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

// An HTTP/1.1 response head (and body, if Content-Length says so).
struct HttpResponse {
  unsigned status = 0;  // 0: the connection ended (or timed out) before a status line.
  std::map<std::string, std::string> headers;  // Names in lower case.
  std::string body;
};

// Reads one response from `sock`; bytes after it (WebSocket frames after a 101) stay in `rest`.
HttpResponse read_http_response(Socket& sock, std::string& rest,
                                std::chrono::steady_clock::time_point deadline);

// An upgrade request for `path` offering `subprotocols` ("" = no Sec-WebSocket-Protocol header).
std::string upgrade_request(std::string_view path, std::string_view subprotocols,
                            std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==");

// How a connection ended, as read by RawWs::read_until_close.
struct Ending {
  std::vector<Received> frames;        // Every non-close frame before the close, in order.
  std::optional<std::uint16_t> close;  // The server's close code, if it sent a close frame.
  std::string close_reason;            // Its reason.
  bool eof = false;                    // The server closed the TCP connection.
  bool timed_out = false;              // Neither happened before the deadline.
};

// A WebSocket connection over Socket, upgraded by hand.
class RawWs {
 public:
  // Connects and upgrades to /ws offering `subprotocol`. Throws std::runtime_error unless the
  // server answers 101 with that subprotocol.
  RawWs(std::uint16_t port, std::string_view subprotocol);

  bool send(const Frame& f) { return sock_.send_all(encode(f)); }
  bool send_bytes(std::string_view bytes, std::size_t chunk = 0) {
    return sock_.send_all(bytes, chunk);
  }
  // The next frame, or nullopt on EOF, error or the deadline (see eof() and timed_out()).
  std::optional<Received> read_frame(std::chrono::milliseconds timeout = 3s);
  // Reads frames until the server's close frame (answering it with a close of the same code,
  // as RFC 6455 section 5.5.1 asks) and then until the server drops TCP, or the deadline.
  Ending read_until_close(std::chrono::milliseconds timeout = 3s);
  [[nodiscard]] bool eof() const noexcept { return eof_; }
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

 private:
  Socket sock_;
  std::string buf_;
  bool eof_ = false;
  bool timed_out_ = false;
};

}  // namespace huddle::testing::raw
