#include "server/net/ws_protocol.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace huddle::net::ws {

namespace {

bool is_control(Opcode op) {
  return (static_cast<std::uint8_t>(op) & 0x8U) != 0;
}

bool is_known(std::uint8_t op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

// XORs `data` with the frame's key, starting at key offset `pos`; returns the next offset.
std::uint8_t unmask(char* data, std::size_t n, const std::array<unsigned char, 4>& key,
                    std::uint8_t pos) {
  std::size_t i = 0;
  for (; i < n && ((pos + i) & 3U) != 0; ++i) {
    data[i] = static_cast<char>(static_cast<unsigned char>(data[i]) ^ key[(pos + i) & 3U]);
  }
  // Eight bytes at a time, with the key rotated to the aligned offset (it is 0 here).
  std::uint32_t k32 = 0;
  std::memcpy(&k32, key.data(), 4);
  const std::uint64_t k64 = (static_cast<std::uint64_t>(k32) << 32U) | k32;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, 8);
    word ^= k64;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < n; ++i) {
    data[i] = static_cast<char>(static_cast<unsigned char>(data[i]) ^ key[(pos + i) & 3U]);
  }
  return static_cast<std::uint8_t>((pos + n) & 3U);
}

}  // namespace

// ---- UTF-8 ----

bool Utf8Validator::feed(std::string_view bytes) noexcept {
  if (need_ == 0xFF) {
    return false;  // Failed before.
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p != end) {
    if (need_ == 0) {
      // ASCII runs, eight bytes at a time.
      while (end - p >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, 8);
        if ((word & 0x8080808080808080ULL) != 0) {
          break;
        }
        p += 8;
      }
      if (p == end) {
        break;
      }
      const unsigned char c = *p++;
      if (c < 0x80) {
        continue;
      }
      if (c >= 0xC2 && c <= 0xDF) {
        need_ = 1, lo_ = 0x80, hi_ = 0xBF;
      } else if (c == 0xE0) {
        need_ = 2, lo_ = 0xA0, hi_ = 0xBF;  // No overlong 3-byte forms.
      } else if (c == 0xED) {
        need_ = 2, lo_ = 0x80, hi_ = 0x9F;  // No surrogates.
      } else if (c >= 0xE1 && c <= 0xEF) {
        need_ = 2, lo_ = 0x80, hi_ = 0xBF;
      } else if (c == 0xF0) {
        need_ = 3, lo_ = 0x90, hi_ = 0xBF;  // No overlong 4-byte forms.
      } else if (c >= 0xF1 && c <= 0xF3) {
        need_ = 3, lo_ = 0x80, hi_ = 0xBF;
      } else if (c == 0xF4) {
        need_ = 3, lo_ = 0x80, hi_ = 0x8F;  // Nothing past U+10FFFF.
      } else {
        need_ = 0xFF, lo_ = 1, hi_ = 0;  // Failed: no byte is in [1, 0].
        return false;
      }
    } else {
      const unsigned char c = *p++;
      if (c < lo_ || c > hi_) {
        need_ = 0xFF, lo_ = 1, hi_ = 0;
        return false;
      }
      --need_;
      lo_ = 0x80, hi_ = 0xBF;
    }
  }
  return true;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

bool is_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) {
    return true;
  }
  if (code >= 1007 && code <= 1013) {
    return true;
  }
  return code >= 3000 && code <= 4999;
}

// ---- Reading ----

std::size_t FrameReader::buffered_capacity() const noexcept {
  return message_.capacity() + control_.capacity() - 2 * std::string().capacity();
}

std::uint16_t FrameReader::feed(std::span<char> bytes, FrameSink& sink) {
  char* p = bytes.data();
  char* const end = p + bytes.size();
  while (!done_) {
    if (!in_frame_) {
      // The header: 2 bytes, then 0, 2 or 8 of extended length, then the 4-byte mask key.
      auto want = [this]() -> std::size_t {
        if (header_len_ < 2) {
          return 2;
        }
        const unsigned len7 = header_[1] & 0x7FU;
        return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header_[1] & 0x80U) != 0 ? 4 : 0);
      };
      while (header_len_ < want() && p != end) {
        header_[header_len_++] = static_cast<unsigned char>(*p++);
        if (header_len_ == 2) {
          // Fail on the first two bytes alone: an unmasked frame has no key to wait for.
          if (const auto code = parse_header(); code != 0) {
            done_ = true;
            return code;
          }
        }
      }
      if (header_len_ < want()) {
        return 0;  // The rest of the header comes with a later read.
      }
      if (const auto code = parse_header(); code != 0) {
        done_ = true;
        return code;
      }
    }
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(end - p)));
    if (n == 0 && remaining_ != 0) {
      return 0;  // More payload comes with a later read.
    }
    if (const auto code = on_payload(p, n, sink); code != 0) {
      done_ = true;
      return code;
    }
    p += n;
    if (p == end) {
      return 0;
    }
  }
  return 0;
}

// Validates the header bytes read so far (two, or all of them); when all are there, starts the
// frame. Returns a close code on a protocol violation.
std::uint16_t FrameReader::parse_header() {
  const unsigned b0 = header_[0];
  const unsigned b1 = header_[1];
  const auto raw_op = static_cast<std::uint8_t>(b0 & 0x0FU);
  const bool fin = (b0 & 0x80U) != 0;
  if ((b0 & 0x70U) != 0 || !is_known(raw_op) || (b1 & 0x80U) == 0) {
    return kCloseProtocolError;  // Reserved bits (no extension), reserved opcode, unmasked.
  }
  const auto op = static_cast<Opcode>(raw_op);
  const unsigned len7 = b1 & 0x7FU;
  if (is_control(op) && (!fin || len7 > 125)) {
    return kCloseProtocolError;  // Control frames: unfragmented, at most 125 bytes.
  }
  if (op == Opcode::kContinuation && message_op_ == Opcode::kContinuation) {
    return kCloseProtocolError;  // Nothing to continue.
  }
  if ((op == Opcode::kText || op == Opcode::kBinary) && message_op_ != Opcode::kContinuation) {
    return kCloseProtocolError;  // A new message before the open one ended.
  }
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  if (header_len_ < 2 + ext + 4) {
    return 0;  // Only the first two bytes so far.
  }
  std::uint64_t len = len7;
  if (ext != 0) {
    len = 0;
    for (std::size_t i = 0; i < ext; ++i) {
      len = (len << 8U) | header_[2 + i];
    }
    // The shortest form is mandatory; the 64-bit form's top bit must be 0 (RFC 6455 5.2).
    if ((ext == 2 && len < 126) || (ext == 8 && (len <= 0xFFFF || (len >> 63U) != 0))) {
      return kCloseProtocolError;
    }
  }
  if (!is_control(op) &&
      len > max_message_ - std::min<std::uint64_t>(message_size_, max_message_)) {
    return kCloseTooBig;  // Known from the header: no payload byte is read.
  }
  std::copy_n(header_.begin() + static_cast<std::ptrdiff_t>(2 + ext), 4, key_.begin());
  key_pos_ = 0;
  op_ = op;
  fin_ = fin;
  frame_len_ = len;
  remaining_ = len;
  header_len_ = 0;
  in_frame_ = true;
  if (op == Opcode::kText || op == Opcode::kBinary) {
    message_op_ = op;
    message_size_ = 0;
    utf8_.reset();
  }
  return 0;
}

std::uint16_t FrameReader::on_payload(char* data, std::size_t n, FrameSink& sink) {
  key_pos_ = unmask(data, n, key_, key_pos_);
  remaining_ -= n;
  const bool frame_done = remaining_ == 0;
  if (frame_done) {
    in_frame_ = false;
  }
  if (is_control(op_)) {
    if (frame_done && control_.empty()) {
      return on_control({data, n}, sink);  // The whole frame is in this read.
    }
    control_.append(data, n);
    if (!frame_done) {
      return 0;
    }
    std::string payload = std::exchange(control_, std::string());
    return on_control(payload, sink);
  }
  message_size_ += n;
  if (message_op_ == Opcode::kText) {
    if (!utf8_.feed({data, n}) || (frame_done && fin_ && !utf8_.complete())) {
      return kCloseInvalidPayload;
    }
  }
  const bool message_done = frame_done && fin_;
  if (message_done && message_.empty() && message_size_ == n) {
    // The whole message is in this read (earlier fragments, if any, were empty): no copy.
    const bool text = message_op_ == Opcode::kText;
    message_op_ = Opcode::kContinuation;
    message_size_ = 0;
    sink.on_message({data, n}, text);
    return 0;
  }
  message_.append(data, n);
  if (!message_done) {
    return 0;
  }
  const bool text = message_op_ == Opcode::kText;
  message_op_ = Opcode::kContinuation;
  message_size_ = 0;
  const std::string message = std::exchange(message_, std::string());
  sink.on_message(message, text);
  return 0;
}

std::uint16_t FrameReader::on_control(std::string_view payload, FrameSink& sink) {
  switch (op_) {
    case Opcode::kPing: sink.on_ping(payload); return 0;
    case Opcode::kClose: {
      if (payload.size() == 1) {
        return kCloseProtocolError;
      }
      std::uint16_t code = 0;
      std::string_view reason;
      if (payload.size() >= 2) {
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8U) |
                                          static_cast<unsigned char>(payload[1]));
        reason = payload.substr(2);
        if (!is_valid_close_code(code) || !is_valid_utf8(reason)) {
          return kCloseProtocolError;
        }
      }
      done_ = true;
      sink.on_close(code, reason);
      return 0;
    }
    default: return 0;  // A pong: its bytes already counted as traffic.
  }
}

// ---- Writing ----

std::size_t encode_header(Opcode op, std::uint64_t payload_size, std::array<char, 10>& out) {
  out[0] = static_cast<char>(0x80U | static_cast<unsigned>(op));
  if (payload_size < 126) {
    out[1] = static_cast<char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = static_cast<char>(126);
    out[2] = static_cast<char>((payload_size >> 8U) & 0xFFU);
    out[3] = static_cast<char>(payload_size & 0xFFU);
    return 4;
  }
  out[1] = static_cast<char>(127);
  for (int i = 0; i < 8; ++i) {
    out[2 + i] =
        static_cast<char>((payload_size >> (8U * (7U - static_cast<unsigned>(i)))) & 0xFFU);
  }
  return 10;
}

void append_control(std::string& out, Opcode op, std::string_view payload) {
  std::array<char, 10> header{};
  const auto n = encode_header(op, std::min<std::size_t>(payload.size(), 125), header);
  out.append(header.data(), n);
  out.append(payload.substr(0, 125));
}

void append_close(std::string& out, std::uint16_t code) {
  const std::array<char, 2> payload{static_cast<char>(code >> 8U), static_cast<char>(code & 0xFFU)};
  append_control(out, Opcode::kClose, {payload.data(), payload.size()});
}

}  // namespace huddle::net::ws
