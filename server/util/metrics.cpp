#include "server/util/metrics.hpp"

#include <fmt/format.h>

#include "huddle/v1/error.pb.h"
#include "huddle/v1/frame.pb.h"

namespace huddle::metrics {

std::size_t this_thread_slot() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
  return slot;
}

void Histogram::observe_us(std::int64_t us) noexcept {
  if (us < 0) {
    us = 0;
  }
  const double s = static_cast<double>(us) / 1e6;
  std::size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) {
    ++i;
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(us), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const char* name, const char* help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], cumulative);
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name,
                     static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6, name,
                     count_.load(std::memory_order_relaxed));
}

void Metrics::command(int field_number, int error_code) noexcept {
  if (field_number <= 0 || static_cast<std::size_t>(field_number) >= kCommands || error_code < 0 ||
      static_cast<std::size_t>(error_code) >= kResults) {
    return;
  }
  commands[static_cast<std::size_t>(field_number)][static_cast<std::size_t>(error_code)].fetch_add(
      1, std::memory_order_relaxed);
}

void Metrics::resume(int mode) noexcept {
  if (mode >= 0 && static_cast<std::size_t>(mode) < resumes.size()) {
    resumes[static_cast<std::size_t>(mode)].fetch_add(1, std::memory_order_relaxed);
  }
}

namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string Metrics::render(const std::string& extra) const {
  std::string out;
  header(out, "huddle_connections", "gauge", "Open WebSocket connections, by subprotocol.");
  out += fmt::format("huddle_connections{{subprotocol=\"huddle.v1+proto\"}} {}\n",
                     connections[0].value());
  out += fmt::format("huddle_connections{{subprotocol=\"huddle.v1+json\"}} {}\n",
                     connections[1].value());
  header(out, "huddle_room_members", "gauge", "Connections joined to rooms.");
  out += fmt::format("huddle_room_members {}\n", room_members.value());
  header(out, "huddle_outbox_bytes", "gauge", "Bytes queued in connection outboxes.");
  out += fmt::format("huddle_outbox_bytes {}\n", outbox_bytes.value());
  header(out, "huddle_deliveries_total", "counter", "Frames pushed to connection outboxes.");
  out += fmt::format("huddle_deliveries_total {}\n", deliveries.value());
  header(out, "huddle_events_appended_total", "counter", "Events made durable.");
  out += fmt::format("huddle_events_appended_total {}\n", events_appended.value());
  header(out, "huddle_slow_consumer_closes_total", "counter",
         "Connections closed with 4008 (outbox past its bound).");
  out += fmt::format("huddle_slow_consumer_closes_total {}\n", slow_consumer_closes.value());
  header(out, "huddle_rejected_frames_total", "counter",
         "Client messages and connections refused, by reason.");
  static constexpr std::array<const char*, static_cast<std::size_t>(Rejected::kCount)> kReasons = {
      "malformed", "too_big", "wrong_message_type", "rate_limited",
      "auth",      "origin",  "connection_cap"};
  for (std::size_t i = 0; i < kReasons.size(); ++i) {
    out += fmt::format("huddle_rejected_frames_total{{reason=\"{}\"}} {}\n", kReasons[i],
                       rejected[i].load(std::memory_order_relaxed));
  }
  header(out, "huddle_resumes_total", "counter", "Joins by resume mode.");
  for (int m = 1; m < static_cast<int>(resumes.size()); ++m) {
    out += fmt::format("huddle_resumes_total{{mode=\"{}\"}} {}\n",
                       v1::ResumeMode_Name(static_cast<v1::ResumeMode>(m)),
                       resumes[static_cast<std::size_t>(m)].load(std::memory_order_relaxed));
  }
  header(out, "huddle_commands_total", "counter",
         "Commands by type and result (ok or error code).");
  const auto* frame = v1::ClientFrame::descriptor();
  for (std::size_t c = 0; c < kCommands; ++c) {
    const auto* field = frame->FindFieldByNumber(static_cast<int>(c));
    if (field == nullptr || field->containing_oneof() == nullptr) {
      continue;
    }
    for (std::size_t r = 0; r < kResults; ++r) {
      const auto n = commands[c][r].load(std::memory_order_relaxed);
      if (n == 0) {
        continue;
      }
      out += fmt::format(
          "huddle_commands_total{{command=\"{}\",result=\"{}\"}} {}\n", field->name(),
          r == 0 ? std::string("ok") : v1::ErrorCode_Name(static_cast<v1::ErrorCode>(r)), n);
    }
  }
  append_latency.render(out, "huddle_append_latency_seconds",
                        "From handing an event to the log to its being durable.");
  fanout_latency.render(out, "huddle_fanout_latency_seconds",
                        "From an event being durable to its frame in every member's outbox, per "
                        "shard.");
  out += extra;
  return out;
}

}  // namespace huddle::metrics
