// Outbox: one connection's bounded FIFO of shared payloads, drained by its session's writer.
// It holds memory only while it holds payloads: an idle connection's outbox allocates nothing.
// Owner: the session's shard (single thread); rooms on that shard push directly, rooms on other
// shards post one closure per shard per event (see room/room.cpp deliver()).
// Invariant 8: past max_bytes the outbox stops accepting, drops what it holds and reports
// overflow; the session then closes with 4008 and the client resumes without loss. One join
// snapshot at a time is queued outside the bound (Payload::outside_bound): a board can be bigger
// than the bound, and joining it must not be a 4008.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/fanout/payload.hpp"
#include "server/util/metrics.hpp"

namespace huddle::fanout {

struct OutboxOptions {
  std::size_t max_bytes = 1024 * 1024;       // Per member; past it: close 4008 (slow consumer).
  std::size_t max_batch_bytes = 256 * 1024;  // One WebSocket message (ServerMessage) at most.
  // A payload this big (a board snapshot, a history page) is its own message, written from the
  // shared buffer without a copy: a join storm copies no snapshot per member.
  std::size_t zero_copy_bytes = 16 * 1024;
  metrics::Metrics* metrics = nullptr;  // Deliveries and queued bytes; none in unit tests.
};

// One WebSocket message for the writer: small payloads packed (copied) into one buffer, or one
// large payload sent from its shared, immutable buffer, which the message holds until the write
// completes. JSON wraps either in the message prefix and suffix.
class OutMessage {
 public:
  // The message's bytes, in order, as three parts (some empty): a gather write.
  [[nodiscard]] std::array<std::string_view, 3> parts() const;
  [[nodiscard]] std::string str() const;  // The parts joined.
  [[nodiscard]] bool zero_copy() const noexcept { return whole_ != nullptr; }
  // Drops the payload and the packed buffer's memory (the writer is idle).
  void release();

 private:
  friend class Outbox;
  std::string packed_;
  PayloadPtr whole_;
  std::string_view whole_bytes_;
  std::string_view prefix_;
  std::string_view suffix_;
};

class Outbox {
 public:
  Outbox(codec::Encoding encoding, OutboxOptions options);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;
  Outbox(Outbox&&) = delete;
  Outbox& operator=(Outbox&&) = delete;
  ~Outbox();

  // Called (on the owner's thread) when the writer should look again: after a push into an
  // outbox whose writer was idle, and on overflow. `at_once`: the push was a payload with
  // write_at_once; the writer should not wait for a corked flush.
  void set_wakeup(std::function<void(bool at_once)> wakeup) { wakeup_ = std::move(wakeup); }

  // REQUIRES: on the owner's thread. Drops the payload if the outbox is closed or overflowed.
  void push(PayloadPtr payload);

  // REQUIRES: on the owner's thread. Moves the next WebSocket message into `out` (cleared first):
  // the queued payloads, in order, packed into one ServerMessage of at most max_batch_bytes
  // (one payload at least), or one payload of zero_copy_bytes or more, or with a tail, on its own
  // (its head and tail are the message's parts). Returns false,
  // and arms the wakeup, when there is nothing to send; the queue's storage is released then.
  [[nodiscard]] bool take_message(OutMessage& out);

  // The writer has a message in flight; pushes will not call the wakeup until take_message()
  // finds the queue empty again.
  [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }
  [[nodiscard]] std::size_t queued_bytes() const noexcept { return queued_bytes_; }
  [[nodiscard]] std::size_t queued_items() const noexcept { return queue_.size(); }
  // The i-th queued payload (0 = oldest), for inspection: tests check recipients share buffers.
  [[nodiscard]] const PayloadPtr& queued(std::size_t i) const { return queue_.at(i); }
  // Bytes of queue storage held (0 when idle), for the idle-memory test.
  [[nodiscard]] std::size_t storage_bytes() const noexcept {
    return queue_.capacity() * sizeof(PayloadPtr);
  }
  [[nodiscard]] codec::Encoding encoding() const noexcept { return encoding_; }
  // Stop accepting (connection closing).
  void close();

 private:
  void wake(bool at_once = false);
  // For a payload leaving the queue: the bytes it counted against max_bytes (none for the one
  // queued outside the bound, which then no longer is).
  [[nodiscard]] std::size_t uncount(const Payload& payload);
  void count_bytes(std::int64_t delta);
  void release();  // Drops the queue and its storage.

  codec::Encoding encoding_;
  OutboxOptions options_;
  std::vector<PayloadPtr> queue_;  // Owner: session shard. Oldest first.
  std::size_t queued_bytes_ = 0;   // Owner: session shard. Sum of queue_ bytes for encoding_,
                                   // but for outside_bound_queued_.
  // The join snapshot queued outside the bound (Payload::outside_bound), if any.
  const Payload* outside_bound_queued_ = nullptr;
  bool armed_ = true;  // Writer idle: the next push must wake it.
  bool overflowed_ = false;
  bool closed_ = false;
  std::function<void(bool)> wakeup_;
};

}  // namespace huddle::fanout
