// The resume decision of a join (DESIGN.md invariant 2, docs/PROTOCOL.md section 8): EXACT,
// SNAPSHOT or RESET, from the client's position and the room's in-memory tail. Pure (no Room,
// no clock, no I/O), so that it is tested against a reference model of the protocol text
// (tests/fuzz/fuzz_resume.cpp) as well as through Room::do_join, which calls it.
//
// Positions are found by the prev_seq chain, never by seq arithmetic (seqs may be sparse).
#pragma once

#include <cstddef>
#include <cstdint>

#include "huddle/v1/frame.pb.h"

namespace huddle::room {

// The client's side: JoinRoom.resume, if set.
struct ResumeRequest {
  bool has_resume = false;  // false: a fresh join (SNAPSHOT).
  std::uint64_t epoch = 0;
  std::uint64_t last_seq = 0;
};

// The room's side.
struct ResumeLimits {
  std::size_t max_events = 1000;       // RoomOptions::max_resume_events.
  std::size_t max_bytes = 512 * 1024;  // RoomOptions::max_resume_bytes.
};

// The room's newest durable events, oldest first, as the resolver reads them. Precondition: a
// chain (event i's prev_seq is event i-1's seq) whose last event is the head; it may be empty,
// and it holds the whole history when event 0's prev_seq is 0. Only prev_seq is read for every
// event; byte_size only for the events an EXACT resume would send.
class ResumeTail {
 public:
  virtual ~ResumeTail() = default;
  [[nodiscard]] virtual std::size_t size() const = 0;
  [[nodiscard]] virtual std::uint64_t prev_seq(std::size_t i) const = 0;
  // The event's protobuf size (what an EXACT resume sends).
  [[nodiscard]] virtual std::size_t byte_size(std::size_t i) const = 0;

 protected:
  ResumeTail() = default;
  ResumeTail(const ResumeTail&) = default;
  ResumeTail& operator=(const ResumeTail&) = default;
};

struct ResumeDecision {
  huddle::v1::ResumeMode mode = huddle::v1::RESUME_MODE_SNAPSHOT;
  // JoinResult.from_seq: last_seq for EXACT, else the head (the snapshot's seq).
  std::uint64_t from_seq = 0;
  // EXACT: index in the tail of the first event to send (tail.size(): nothing to send).
  // Otherwise meaningless.
  std::size_t first = 0;
};

// EXACT: same epoch, and last_seq is the head, or the events after last_seq are in the tail and
//        number at most limits.max_events and weigh at most limits.max_bytes.
// SNAPSHOT: no resume; or same epoch but more missed events than the limits, or older than the
//        tail (not found in a tail that does not hold the whole history).
// RESET: another epoch; or last_seq above the head; or not a position of a tail that holds the
//        whole history.
[[nodiscard]] ResumeDecision resolve_resume(const ResumeRequest& request, std::uint64_t room_epoch,
                                            std::uint64_t head_seq, const ResumeTail& tail,
                                            const ResumeLimits& limits);

}  // namespace huddle::room
