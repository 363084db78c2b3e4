// ChaosProxy: a TCP proxy for tests that breaks connections on purpose. It listens on
// 127.0.0.1:0 and forwards each accepted connection to 127.0.0.1:<upstream_port>; while chaos is
// on, at seeded random times per connection it either resets it (both sockets closed with
// SO_LINGER 0, so both peers see an RST) or stalls it (stops forwarding in one or both
// directions for a while, then resumes). Otherwise it forwards bytes unchanged.
//
// Seeded: one std::mt19937_64 hands each accepted connection its own generator, so a seed (print
// it, see seed_from_env) replays the same decisions per connection (timing still varies).
//
// Threading: its own io_context on its own thread; every socket and timer lives there. The
// public member functions are thread-safe. The destructor closes every connection and joins.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace huddle::testing {

struct ChaosOptions {
  std::uint16_t upstream_port = 0;  // On 127.0.0.1.
  std::uint64_t seed = 1;
  bool chaos = true;  // Off: a plain forwarder until set_chaos(true).
  // Time from a connection's start (or its last stall's end) to its next chaos event.
  std::chrono::milliseconds min_gap{200};
  std::chrono::milliseconds max_gap{2'500};
  double reset_probability = 0.35;  // Else the event is a stall.
  std::chrono::milliseconds min_stall{50};
  std::chrono::milliseconds max_stall{1'500};
};

class ChaosProxy {
 public:
  struct Counters {
    std::uint64_t accepted = 0;  // Connections accepted (and forwarded upstream).
    std::uint64_t resets = 0;    // Connections reset by chaos.
    std::uint64_t stalls = 0;    // Stalls started by chaos.
    std::uint64_t bytes = 0;     // Bytes forwarded, both directions.
  };

  explicit ChaosProxy(ChaosOptions options);
  ~ChaosProxy();
  ChaosProxy(const ChaosProxy&) = delete;
  ChaosProxy& operator=(const ChaosProxy&) = delete;
  ChaosProxy(ChaosProxy&&) = delete;
  ChaosProxy& operator=(ChaosProxy&&) = delete;

  // The listening port on 127.0.0.1.
  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] std::uint64_t seed() const noexcept;
  // Off: no new resets or stalls; stalls in progress end at once. On: chaos again.
  void set_chaos(bool on);
  [[nodiscard]] Counters counters() const;

  // HUDDLE_CHAOS_SEED from the environment if set (decimal), else a fresh random seed.
  [[nodiscard]] static std::uint64_t seed_from_env();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huddle::testing
