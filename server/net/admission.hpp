// Admission: who may connect and how fast they may talk (docs/PROTOCOL.md, section 12).
//   PeerSlot     one counted TCP connection, for the total and per-address caps (HTTP 503).
//   (the browser Origin check, HTTP 403, is auth::origin_allowed in server/auth/origin.hpp)
//   RateLimiter  per-connection command token bucket and frames-per-second cap (4029).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/net/net_context.hpp"

namespace huddle::net {

// Counts one TCP connection from accept to close. Move-only; releases in its destructor.
class PeerSlot {
 public:
  PeerSlot() = default;
  // Counts the connection if both caps allow it; an empty slot (admitted() false) otherwise.
  static PeerSlot acquire(NetContext& ctx, std::string ip);
  PeerSlot(PeerSlot&& other) noexcept;
  PeerSlot& operator=(PeerSlot&& other) noexcept;
  PeerSlot(const PeerSlot&) = delete;
  PeerSlot& operator=(const PeerSlot&) = delete;
  ~PeerSlot();

  [[nodiscard]] bool admitted() const noexcept { return ctx_ != nullptr; }
  [[nodiscard]] const std::string& ip() const noexcept { return ip_; }

 private:
  void release() noexcept;
  NetContext* ctx_ = nullptr;
  std::string ip_;
};

class RateLimiter {
 public:
  enum class Verdict { kOk, kLimited, kClose };
  explicit RateLimiter(const LimitOptions& limits) noexcept;
  // One message received at `now`. kLimited: refuse it, the next is accepted after
  // `retry_after_ms`. kClose: close with 4029 (too many frames, or refusals went on).
  Verdict on_message(std::chrono::steady_clock::time_point now, std::uint32_t& retry_after_ms);

 private:
  const LimitOptions& limits_;
  double tokens_;
  std::chrono::steady_clock::time_point last_{};
  std::chrono::steady_clock::time_point window_start_{};
  std::uint32_t frames_in_window_ = 0;
  std::uint32_t refused_in_a_row_ = 0;
};

}  // namespace huddle::net
