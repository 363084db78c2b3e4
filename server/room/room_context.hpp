// What every Room needs from the server around it. Owned by the Server; outlives all rooms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/board/rules.hpp"
#include "server/store/event_log.hpp"
#include "server/util/clock.hpp"
#include "server/util/metrics.hpp"
#include "server/util/shards.hpp"

namespace huddle::room {

struct RoomOptions {
  std::size_t max_resume_events = 1000;       // EXACT up to this many missed events, else SNAPSHOT.
  std::size_t max_resume_bytes = 512 * 1024;  // ...and this many bytes (half the default outbox).
  std::size_t tail_events = 2048;          // Newest events kept in memory (>= max_resume_events).
  std::size_t snapshot_every = 256;        // Store the board every N events: O(N) room loads.
  std::size_t dedup_window = 4096;         // op ids remembered per room (newest events).
  std::size_t max_pending_appends = 8192;  // In flight per room; past it: OVERLOADED.
  std::size_t max_queued_commands = 8192;  // While the room loads; past it: OVERLOADED.
  std::size_t max_history_page = 200;      // GetHistory limit cap.
  std::size_t max_history_bytes = 256 * 1024;  // A page's events; fewer events when they are big.
  std::size_t max_ideas_page = 500;            // GetIdeas limit cap (a page also stops at
                                               // max_history_bytes).
  std::size_t max_export_bytes = 512 * 1024;   // Export command; larger boards: HTTP export.
  std::size_t max_members =
      10000;  // Joined connections; past it a join gets LIMIT_EXCEEDED. 0: none.
  // A room with no member and nothing in flight for this long leaves memory (it reloads from
  // snapshot + tail on the next join). 0 = never.
  std::int64_t idle_eviction_ms = 5 * 60 * 1000;
  board::BoardLimits board{};
};

struct RoomContext {
  ShardSet* shards = nullptr;
  store::EventLog* log = nullptr;
  const Clock* clock = nullptr;
  boost::asio::any_io_executor reader;  // Blocking store reads run here, off the I/O shards.
  metrics::Metrics* metrics = nullptr;  // Optional (unit tests run without).
  std::string invite_key;  // Signs CreateInvite links (HS256); empty: CreateInvite is refused.
  RoomOptions options{};
};

}  // namespace huddle::room
