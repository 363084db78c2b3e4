#include "server/net/admission.hpp"

#include <algorithm>
#include <cmath>

namespace huddle::net {

PeerSlot PeerSlot::acquire(NetContext& ctx, std::string ip) {
  PeerSlot slot;
  const auto& limits = ctx.options.limits;
  std::lock_guard lock(ctx.peers_mu);
  auto& from_ip = ctx.per_ip[ip];
  if ((limits.max_connections != 0 && ctx.tcp_connections >= limits.max_connections) ||
      (limits.max_connections_per_ip != 0 && from_ip >= limits.max_connections_per_ip)) {
    if (from_ip == 0) {
      ctx.per_ip.erase(ip);
    }
    slot.ip_ = std::move(ip);  // For the rejection's log line; counts nothing.
    return slot;
  }
  ++from_ip;
  ++ctx.tcp_connections;
  slot.ctx_ = &ctx;
  slot.ip_ = std::move(ip);
  return slot;
}

PeerSlot::PeerSlot(PeerSlot&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), ip_(std::move(other.ip_)) {}

PeerSlot& PeerSlot::operator=(PeerSlot&& other) noexcept {
  if (this != &other) {
    release();
    ctx_ = std::exchange(other.ctx_, nullptr);
    ip_ = std::move(other.ip_);
  }
  return *this;
}

PeerSlot::~PeerSlot() {
  release();
}

void PeerSlot::release() noexcept {
  if (ctx_ == nullptr) {
    return;
  }
  std::lock_guard lock(ctx_->peers_mu);
  --ctx_->tcp_connections;
  if (auto it = ctx_->per_ip.find(ip_); it != ctx_->per_ip.end() && --it->second == 0) {
    ctx_->per_ip.erase(it);
  }
  ctx_ = nullptr;
}

RateLimiter::RateLimiter(const LimitOptions& limits) noexcept
    : limits_(limits), tokens_(limits.command_burst) {}

RateLimiter::Verdict RateLimiter::on_message(std::chrono::steady_clock::time_point now,
                                             std::uint32_t& retry_after_ms) {
  if (limits_.frames_per_s != 0) {
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      frames_in_window_ = 0;
    }
    if (++frames_in_window_ > limits_.frames_per_s) {
      return Verdict::kClose;
    }
  }
  if (limits_.commands_per_s <= 0) {
    return Verdict::kOk;
  }
  if (last_ != std::chrono::steady_clock::time_point{}) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(limits_.command_burst, tokens_ + elapsed * limits_.commands_per_s);
  }
  last_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    refused_in_a_row_ = 0;
    return Verdict::kOk;
  }
  if (++refused_in_a_row_ >= std::max(1.0, limits_.command_burst)) {
    return Verdict::kClose;
  }
  retry_after_ms =
      static_cast<std::uint32_t>(std::ceil((1 - tokens_) / limits_.commands_per_s * 1000));
  return Verdict::kLimited;
}

}  // namespace huddle::net
