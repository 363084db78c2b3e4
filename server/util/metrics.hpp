// Metrics: what GET /metrics reports, in the Prometheus text format, names prefixed huddle_.
// Nothing here takes a lock: counters on the per-delivery path (deliveries, outbox bytes) add to
// a per-thread slot (no shared cache line between shards); the rest are relaxed atomics. A scrape
// sums the slots, so it may be a few increments behind; every counter only moves forward
// (gauges are sums of deltas). Owner: the Server; contexts hold a pointer.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace huddle::metrics {

inline constexpr std::size_t kSlots = 16;

// This thread's slot, assigned round-robin on first use.
std::size_t this_thread_slot() noexcept;

class Counter {  // Also a gauge: add() takes negative deltas.
 public:
  void add(std::int64_t n = 1) noexcept {
    slots_[this_thread_slot()].v.fetch_add(n, std::memory_order_relaxed);
  }
  [[nodiscard]] std::int64_t value() const noexcept {
    std::int64_t sum = 0;
    for (const auto& s : slots_) {
      sum += s.v.load(std::memory_order_relaxed);
    }
    return sum;
  }

 private:
  struct alignas(64) Slot {
    std::atomic<std::int64_t> v{0};
  };
  std::array<Slot, kSlots> slots_{};
};

// Latency in seconds: cumulative buckets as Prometheus wants them.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                     0.05,   0.1,   0.2,   0.5,   1.0,  2.0};
  void observe_us(std::int64_t us) noexcept;
  void render(std::string& out, const char* name, const char* help) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // Last: +Inf.
  std::atomic<std::uint64_t> sum_us_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Refusals, by reason: frames (first three), then admission and authentication.
enum class Rejected {
  kMalformed,
  kTooBig,
  kWrongMessageType,
  kRateLimited,    // A command refused by the rate limit (RATE_LIMITED).
  kAuth,           // A token refused (Hello, RefreshToken), or the auth deadline passed.
  kOrigin,         // An upgrade from an Origin not allowed (403).
  kConnectionCap,  // A connection past --max-connections[-per-ip] (503).
  kCount
};

struct Metrics {
  // Gauges.
  std::array<Counter, 2> connections;  // By subprotocol: [0] huddle.v1+proto, [1] huddle.v1+json.
  Counter room_members;                // Connections joined to rooms (one per connection x room).
  Counter outbox_bytes;                // Bytes queued in every connection's outbox.
  // Counters.
  Counter deliveries;  // Frames pushed to outboxes (events, replies, presence, ...).
  Counter events_appended;
  Counter slow_consumer_closes;
  std::array<std::atomic<std::uint64_t>, 4> resumes{};  // By v1::ResumeMode.
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Rejected::kCount)> rejected{};
  // Commands by ClientFrame field number (the command) and v1::ErrorCode (0 = ok).
  static constexpr std::size_t kCommands = 64;
  static constexpr std::size_t kResults = 32;
  std::array<std::array<std::atomic<std::uint64_t>, kResults>, kCommands> commands{};
  Histogram append_latency;  // Room hands the event to the log -> durable.
  // Durable -> the event's frame is in every member's outbox on one shard (one sample per shard
  // that has members); the socket write follows within the write cork.
  Histogram fanout_latency;

  void command(int field_number, int error_code) noexcept;
  void reject(Rejected why) noexcept {
    rejected[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  }
  void resume(int mode) noexcept;

  // Gauges the owner computes at scrape time (rooms loaded, RocksDB figures), as ready lines.
  [[nodiscard]] std::string render(const std::string& extra) const;
};

}  // namespace huddle::metrics
