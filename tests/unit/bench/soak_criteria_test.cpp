// The soak's p99 drift criterion (bench/soak_criteria.hpp): stalls of the machine in the last
// minute must not fail it (CI stop 17 failed on them: whole-minute p99 5.09 -> 15.41 ms), and a
// cost that grows with the run must.
#include "bench/soak_criteria.hpp"

#include <random>

#include <gtest/gtest.h>

namespace huddle::bench::soak_sim {
namespace {

constexpr std::int64_t kMsNs = 1'000'000;
constexpr int kPerSecond = 333;  // Deliveries per second in the CI tier (~20,000 a minute).

// A minute of deliveries at kPerSecond, latencies 1-4 ms (times `scale`), plus `stall_ms` added to
// those received in seconds [stall_from_s, stall_from_s + stall_s): the posts that waited out a
// stall of the machine arrive late, by up to its length.
MinuteLatencies minute(std::uint32_t seed, double scale = 1.0, double stall_from_s = -1,
                       double stall_s = 0, double stall_ms = 0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> base(1.0, 4.0), into(0.0, 1.0);
  MinuteLatencies m;
  for (int i = 0; i < 60 * kPerSecond; ++i) {
    const double t_s = static_cast<double>(i) / kPerSecond;
    double ms = base(rng) * scale;
    if (t_s >= stall_from_s && t_s < stall_from_s + stall_s) {
      ms += stall_ms * into(rng);
    }
    m[static_cast<std::size_t>(t_s / 10.0)].push_back(static_cast<std::int64_t>(ms * kMsNs));
  }
  return m;
}

TEST(SoakP99Drift, AnUnchangedRunPasses) {
  const auto d = p99_drift(minute(1), {minute(2)}, 2.0);
  EXPECT_TRUE(d.ok);
  EXPECT_NEAR(d.baseline_ms, 3.97, 0.05);
  EXPECT_NEAR(d.last_ms, 3.97, 0.05);
  EXPECT_NEAR(d.limit_ms, d.baseline_ms + 2.0, 1e-9);
}

TEST(SoakP99Drift, OneStallOfTheMachineDoesNotFailIt) {
  // 0.8 s stopped at 25 s: ~270 deliveries held back by up to 800 ms.
  const auto m2 = minute(1);
  const auto last = minute(2, 1.0, 25.0, 0.8, 800.0);
  EXPECT_GT(minute_p99_ms(last), 3 * minute_p99_ms(m2)) << "the whole-minute p99 sees the stall";
  const auto d = p99_drift(m2, {last}, 2.0);
  EXPECT_TRUE(d.ok) << d.last_ms << " vs " << d.limit_ms;
}

TEST(SoakP99Drift, OneStallAcrossTwoWindowsDoesNotFailIt) {
  const auto d = p99_drift(minute(1), {minute(2, 1.0, 19.5, 1.0, 800.0)}, 2.0);
  EXPECT_TRUE(d.ok) << d.last_ms << " vs " << d.limit_ms;
}

TEST(SoakP99Drift, OneLongStallDoesNotFailIt) {
  // 40 s of the minute at ~3x the latency (the longest burst seen here).
  const auto d = p99_drift(minute(1), {minute(2, 1.0, 10.0, 40.0, 10.0)}, 2.0);
  EXPECT_TRUE(d.ok) << d.last_ms << " vs " << d.limit_ms;
}

TEST(SoakP99Drift, ALatencyThatGrewOverTheRunFailsIt) {
  // Every delivery 2.5x slower in the last minute: p99 ~4 -> ~10 ms.
  const auto d = p99_drift(minute(1), {minute(2, 2.5)}, 2.0);
  EXPECT_FALSE(d.ok) << d.last_ms << " vs " << d.limit_ms;
  // With no floor, 1.2x is the bound: 1.3x slower fails, 1.1x passes.
  EXPECT_FALSE(p99_drift(minute(1, 2.0), {minute(2, 1.3 * 2.0)}, 0.0).ok);
  EXPECT_TRUE(p99_drift(minute(1, 2.0), {minute(2, 1.1 * 2.0)}, 0.0).ok);
}

// 100 of a window's deliveries held back by up to 300 ms (a burst of slow fsyncs), in `windows`.
MinuteLatencies with_bursts(MinuteLatencies m, std::initializer_list<std::size_t> windows) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> into(0.0, 300.0);
  for (const std::size_t w : windows) {
    for (std::size_t i = 0; i < 100; ++i) {
      m[w][i * 30] += static_cast<std::int64_t>(into(rng) * kMsNs);
    }
  }
  return m;
}

TEST(SoakP99Drift, BurstsOfSlowFsyncsInUpToFourWindowsDoNotFailIt) {
  // Seen on this VM: bursts of 25-35 ms fdatasyncs lasting 10-40 s, up to four windows.
  const auto last = with_bursts(minute(2), {1, 2, 3, 4});
  EXPECT_GT(minute_p99_ms(last), 3 * minute_p99_ms(minute(1)));
  const auto d = p99_drift(minute(1), {last}, 2.0);
  EXPECT_TRUE(d.ok) << d.last_ms << " vs " << d.limit_ms;
  // Bursts in the baseline minute only make the limit no tighter.
  EXPECT_TRUE(p99_drift(with_bursts(minute(1), {0, 5}), {minute(2)}, 2.0).ok);
}

TEST(SoakP99Drift, AStallThatRecursInEveryWindowFailsIt) {
  // A periodic cost that came up during the run (a flush or a sweep that got slow) hits every
  // window; that is drift.
  const auto d = p99_drift(minute(1), {with_bursts(minute(2), {0, 1, 2, 3, 4, 5})}, 2.0);
  EXPECT_FALSE(d.ok) << d.last_ms << " vs " << d.limit_ms;
}

TEST(SoakP99Drift, ASlowMinuteAmongTheLastThreeDoesNotFailIt) {
  // Seen in a 60-minute run here: a whole minute at a steady p99 of 27.8 ms between 5 ms minutes.
  const auto slow = minute(3, 7.0);
  EXPECT_FALSE(p99_drift(minute(1), {slow}, 2.0).ok);
  EXPECT_TRUE(p99_drift(minute(1), {slow, minute(2), slow}, 2.0).ok);
  const auto d = p99_drift(minute(1), {minute(2, 7.0), minute(3, 1.05), minute(4, 7.0)}, 2.0);
  EXPECT_TRUE(d.ok);
  EXPECT_NEAR(d.last_ms, 1.05 * 3.97, 0.1) << "the best of the three is judged";
}

TEST(SoakP99Drift, ALatencyThatGrewInAllOfTheLastThreeMinutesFailsIt) {
  const auto d = p99_drift(minute(1), {minute(2, 1.6), minute(3, 2.0), minute(4, 2.5)}, 2.0);
  EXPECT_FALSE(d.ok) << d.last_ms << " vs " << d.limit_ms;
}

TEST(SoakP99Drift, TooLittleOfAMinuteCannotPass) {
  auto last = minute(2);
  for (std::size_t w = 0; w < 3; ++w) {
    last[w].clear();  // Three windows without deliveries: too little of the minute.
  }
  EXPECT_TRUE(std::isnan(steady_p99_ms(last)));
  EXPECT_FALSE(p99_drift(minute(1), {last}, 2.0).ok);
  EXPECT_FALSE(p99_drift(MinuteLatencies{}, {minute(2)}, 2.0).ok);
  EXPECT_FALSE(p99_drift(minute(1), {}, 2.0).ok) << "no minute after minute 2";
}

}  // namespace
}  // namespace huddle::bench::soak_sim
