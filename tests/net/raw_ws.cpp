#include "tests/net/raw_ws.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

namespace huddle::testing::raw {

namespace {

constexpr std::array<std::uint8_t, 4> kMaskKey = {0x37, 0xfa, 0x21, 0x3d};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// Parses one frame from the front of `buf`; nullopt if it is not complete yet.
std::optional<Received> parse_frame(std::string& buf) {
  if (buf.size() < 2) {
    return std::nullopt;
  }
  const auto b0 = static_cast<std::uint8_t>(buf[0]);
  const auto b1 = static_cast<std::uint8_t>(buf[1]);
  Received r;
  r.fin = (b0 & 0x80U) != 0;
  r.rsv = static_cast<std::uint8_t>((b0 >> 4U) & 0x7U);
  r.opcode = static_cast<std::uint8_t>(b0 & 0x0FU);
  r.masked = (b1 & 0x80U) != 0;
  std::uint64_t len = b1 & 0x7FU;
  std::size_t pos = 2;
  const std::size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
  if (buf.size() < pos + ext) {
    return std::nullopt;
  }
  if (ext > 0) {
    len = 0;
    for (std::size_t i = 0; i < ext; ++i) {
      len = (len << 8U) | static_cast<std::uint8_t>(buf[pos + i]);
    }
    pos += ext;
  }
  std::array<std::uint8_t, 4> key{};
  if (r.masked) {
    if (buf.size() < pos + 4) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < 4; ++i) {
      key[i] = static_cast<std::uint8_t>(buf[pos + i]);
    }
    pos += 4;
  }
  if (buf.size() - pos < len) {
    return std::nullopt;
  }
  r.payload = buf.substr(pos, static_cast<std::size_t>(len));
  if (r.masked) {
    for (std::size_t i = 0; i < r.payload.size(); ++i) {
      r.payload[i] = static_cast<char>(static_cast<std::uint8_t>(r.payload[i]) ^ key[i % 4]);
    }
  }
  buf.erase(0, pos + static_cast<std::size_t>(len));
  return r;
}

}  // namespace

// ---- Frames ----

Frame text(std::string payload, bool fin) {
  return Frame{.opcode = kText, .payload = std::move(payload), .fin = fin};
}
Frame binary(std::string payload, bool fin) {
  return Frame{.opcode = kBinary, .payload = std::move(payload), .fin = fin};
}
Frame cont(std::string payload, bool fin) {
  return Frame{.opcode = kCont, .payload = std::move(payload), .fin = fin};
}
Frame ping(std::string payload) {
  return Frame{.opcode = kPing, .payload = std::move(payload)};
}
Frame pong(std::string payload) {
  return Frame{.opcode = kPong, .payload = std::move(payload)};
}
Frame close_frame(std::uint16_t code, std::string reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8U));
  payload.push_back(static_cast<char>(code & 0xFFU));
  payload += reason;
  return Frame{.opcode = kClose, .payload = std::move(payload)};
}
Frame control(std::uint8_t opcode, std::string payload, bool fin) {
  return Frame{.opcode = opcode, .payload = std::move(payload), .fin = fin};
}
Frame with_rsv(Frame f, std::uint8_t rsv) {
  f.rsv = rsv;
  return f;
}
Frame unmasked(Frame f) {
  f.masked = false;
  return f;
}
Frame with_length_form(Frame f, LengthForm form) {
  f.length_form = form;
  return f;
}
Frame declaring(Frame f, std::uint64_t length) {
  f.declared_length = length;
  return f;
}

std::string encode(const Frame& f) {
  std::string out;
  out.push_back(
      static_cast<char>((f.fin ? 0x80U : 0U) | ((f.rsv & 0x7U) << 4U) | (f.opcode & 0x0FU)));
  const std::uint64_t len = f.declared_length.value_or(f.payload.size());
  const std::uint8_t mask_bit = f.masked ? 0x80U : 0U;
  auto form = f.length_form;
  if (form == LengthForm::kMinimal) {
    form = len < 126 ? LengthForm::kMinimal : len <= 0xFFFF ? LengthForm::k16 : LengthForm::k64;
  }
  switch (form) {
    case LengthForm::kMinimal:
      out.push_back(static_cast<char>(mask_bit | static_cast<std::uint8_t>(len)));
      break;
    case LengthForm::k16:
      if (len > 0xFFFF) {
        throw std::invalid_argument("a 16-bit length cannot hold " + std::to_string(len));
      }
      out.push_back(static_cast<char>(mask_bit | 126U));
      out.push_back(static_cast<char>((len >> 8U) & 0xFFU));
      out.push_back(static_cast<char>(len & 0xFFU));
      break;
    case LengthForm::k64:
      out.push_back(static_cast<char>(mask_bit | 127U));
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((len >> static_cast<unsigned>(shift)) & 0xFFU));
      }
      break;
  }
  if (f.masked) {
    for (auto k : kMaskKey) {
      out.push_back(static_cast<char>(k));
    }
  }
  const auto start = out.size();
  out += f.payload;
  if (f.masked) {
    for (std::size_t i = 0; i < f.payload.size(); ++i) {
      out[start + i] =
          static_cast<char>(static_cast<std::uint8_t>(out[start + i]) ^ kMaskKey[i % 4]);
    }
  }
  return out;
}

std::string encode_all(const std::vector<Frame>& frames) {
  std::string out;
  for (const auto& f : frames) {
    out += encode(f);
  }
  return out;
}

std::uint16_t close_code_of(const Received& close) {
  if (close.payload.size() < 2) {
    return 1005;
  }
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(close.payload[0]) << 8U) |
                                    static_cast<std::uint8_t>(close.payload[1]));
}

// ---- Socket ----

Socket::Socket(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close();
    throw std::runtime_error(std::string("connect() failed: ") + std::strerror(err));
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Socket::Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Socket::~Socket() {
  close();
}

void Socket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void Socket::shutdown_send() {
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_WR);
  }
}

bool Socket::send_all(std::string_view bytes, std::size_t chunk) {
  const std::size_t step = chunk == 0 ? bytes.size() : chunk;
  while (!bytes.empty()) {
    const auto piece = bytes.substr(0, std::min(step, bytes.size()));
    std::size_t sent = 0;
    while (sent < piece.size()) {
      const auto n = ::send(fd_, piece.data() + sent, piece.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return false;  // EPIPE / ECONNRESET: the server has closed.
      }
      sent += static_cast<std::size_t>(n);
    }
    bytes.remove_prefix(piece.size());
  }
  return true;
}

Socket::Read Socket::read_some(std::string& out, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Read::kTimeout;
    }
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return ready == 0 ? Read::kTimeout : Read::kError;
    }
    std::array<char, 16 * 1024> chunk{};
    const auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno == ECONNRESET ? Read::kEof : Read::kError;
    }
    if (n == 0) {
      return Read::kEof;
    }
    out.append(chunk.data(), static_cast<std::size_t>(n));
    return Read::kData;
  }
}

// ---- HTTP ----

HttpResponse read_http_response(Socket& sock, std::string& rest,
                                std::chrono::steady_clock::time_point deadline) {
  HttpResponse res;
  std::string buf = std::move(rest);
  rest.clear();
  std::size_t end = std::string::npos;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (sock.read_some(buf, deadline) != Socket::Read::kData) {
      return res;  // Closed or timed out before a complete head: status 0.
    }
  }
  const std::string head = buf.substr(0, end);
  buf.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  // "HTTP/1.1 101 Switching Protocols"
  const auto sp = status_line.find(' ');
  if (sp != std::string::npos) {
    res.status = static_cast<unsigned>(std::strtoul(status_line.c_str() + sp + 1, nullptr, 10));
  }
  while (line_end != std::string::npos) {
    const auto next = head.find("\r\n", line_end + 2);
    const auto line = head.substr(
        line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      res.headers[lower(line.substr(0, colon))] = trim(std::string_view(line).substr(colon + 1));
    }
    line_end = next;
  }
  if (auto it = res.headers.find("content-length"); it != res.headers.end() && res.status != 101) {
    const auto len = static_cast<std::size_t>(std::strtoull(it->second.c_str(), nullptr, 10));
    while (buf.size() < len) {
      if (sock.read_some(buf, deadline) != Socket::Read::kData) {
        break;
      }
    }
    res.body = buf.substr(0, std::min(len, buf.size()));
    buf.erase(0, res.body.size());
  }
  rest = std::move(buf);
  return res;
}

std::string upgrade_request(std::string_view path, std::string_view subprotocols,
                            std::string_view key) {
  std::string req = "GET " + std::string(path) + " HTTP/1.1\r\n";
  req += "Host: 127.0.0.1\r\n";
  req += "Upgrade: websocket\r\n";
  req += "Connection: Upgrade\r\n";
  req += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
  req += "Sec-WebSocket-Version: 13\r\n";
  if (!subprotocols.empty()) {
    req += "Sec-WebSocket-Protocol: " + std::string(subprotocols) + "\r\n";
  }
  req += "\r\n";
  return req;
}

// ---- RawWs ----

RawWs::RawWs(std::uint16_t port, std::string_view subprotocol) : sock_(port) {
  if (!sock_.send_all(upgrade_request("/ws", subprotocol))) {
    throw std::runtime_error("could not send the upgrade request");
  }
  auto res = read_http_response(sock_, buf_, std::chrono::steady_clock::now() + 5s);
  if (res.status != 101) {
    throw std::runtime_error("upgrade answered " + std::to_string(res.status) + ": " + res.body);
  }
  if (res.headers["sec-websocket-protocol"] != subprotocol) {
    throw std::runtime_error("upgrade picked subprotocol '" +
                             res.headers["sec-websocket-protocol"] + "'");
  }
}

std::optional<Received> RawWs::read_frame(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto f = parse_frame(buf_)) {
      return f;
    }
    if (eof_) {
      return std::nullopt;
    }
    switch (sock_.read_some(buf_, deadline)) {
      case Socket::Read::kData: break;
      case Socket::Read::kTimeout: timed_out_ = true; return std::nullopt;
      case Socket::Read::kEof:
      case Socket::Read::kError: eof_ = true; break;
    }
  }
}

Ending RawWs::read_until_close(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Ending end;
  while (!end.close) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto f = read_frame(std::max(left, std::chrono::milliseconds(1)));
    if (!f) {
      end.eof = eof_;
      end.timed_out = timed_out_;
      return end;
    }
    if (f->opcode == kClose) {
      end.close = close_code_of(*f);
      end.close_reason = f->payload.size() > 2 ? f->payload.substr(2) : std::string();
      // Echo it; the server may already have stopped reading, so a failed write is fine.
      const auto echo = *end.close == 1005 ? control(kClose, "") : close_frame(*end.close);
      sock_.send_all(encode(echo));
    } else {
      end.frames.push_back(std::move(*f));
    }
  }
  // Then the server drops TCP (RFC 6455 section 7.1.1: the server closes first).
  std::string ignored;
  for (;;) {
    switch (sock_.read_some(ignored, deadline)) {
      case Socket::Read::kData: ignored.clear(); continue;
      case Socket::Read::kTimeout: end.timed_out = true; return end;
      case Socket::Read::kEof:
      case Socket::Read::kError: end.eof = true; return end;
    }
  }
}

}  // namespace huddle::testing::raw
