// fuzz_resume: the server's resume decision (server/room/resume.hpp, called by Room::do_join)
// against a reference model written here from docs/PROTOCOL.md section 8, over rooms and
// resume positions built from the input bytes.
//
// The input picks: the room's epoch, the tail (how complete it is, sparse seq gaps, each
// event's size), the limits (small, so both bounds are reached), and the client's join (no
// resume; another epoch; a position in the chain, at the head, above it, just below the tail,
// between two sparse seqs, or anything).
//
// Asserts: the resolver's mode and from_seq equal the model's; for EXACT, the events it would
// send are exactly those after last_seq (the first one chains onto last_seq) and within the
// limits; the resolver reads byte sizes only of events it might send.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz_common.hpp"
#include "server/room/resume.hpp"

namespace {

namespace v1 = huddle::v1;
using huddle::fuzz::Bytes;
using huddle::room::ResumeDecision;
using huddle::room::ResumeLimits;
using huddle::room::ResumeRequest;

struct TailEvent {
  std::uint64_t seq;
  std::uint64_t prev_seq;
  std::size_t bytes;
};

class Tail final : public huddle::room::ResumeTail {
 public:
  explicit Tail(const std::vector<TailEvent>& events) : events_(events) {}
  std::size_t size() const override { return events_.size(); }
  std::uint64_t prev_seq(std::size_t i) const override {
    HUDDLE_FUZZ_CHECK(i < events_.size());
    return events_[i].prev_seq;
  }
  std::size_t byte_size(std::size_t i) const override {
    HUDDLE_FUZZ_CHECK(i < events_.size());
    lowest_sized = std::min(lowest_sized, i);
    return events_[i].bytes;
  }
  mutable std::size_t lowest_sized = SIZE_MAX;

 private:
  const std::vector<TailEvent>& events_;
};

// The reference model, from the protocol text (section 8), not from the server's code:
//   RESET     the epoch differs, or last_seq is a position this store never had: above the
//             head, or missing from a history it holds completely;
//   EXACT     same epoch, and last_seq is the head, or the events after last_seq are in the
//             in-memory tail and number at most max_events and weigh at most max_bytes;
//   SNAPSHOT  no resume (a fresh join); or more missed events than those bounds, or older than
//             the tail.
// from_seq is last_seq for EXACT, else the head.
struct Model {
  v1::ResumeMode mode;
  std::uint64_t from_seq;
  std::vector<std::size_t> sent;  // EXACT: tail indexes of the events to send, in order.
};

Model model(const ResumeRequest& r, std::uint64_t epoch, std::uint64_t head,
            const std::vector<TailEvent>& tail, const ResumeLimits& limits) {
  const auto decided = [&](v1::ResumeMode mode, std::vector<std::size_t> sent = {}) {
    return Model{mode, mode == v1::RESUME_MODE_EXACT ? r.last_seq : head, std::move(sent)};
  };
  if (!r.has_resume) {
    return decided(v1::RESUME_MODE_SNAPSHOT);
  }
  if (r.epoch != epoch) {
    return decided(v1::RESUME_MODE_RESET);
  }
  if (r.last_seq == head) {
    return decided(v1::RESUME_MODE_EXACT);
  }
  if (r.last_seq > head) {
    return decided(v1::RESUME_MODE_RESET);
  }
  // The positions the tail vouches for: the seq before its first event and every event's seq
  // (a client that applied event e holds last_seq = e.seq).
  const bool complete = !tail.empty() && tail.front().prev_seq == 0;
  bool known = !tail.empty() && r.last_seq == tail.front().prev_seq;
  for (const auto& e : tail) {
    known = known || e.seq == r.last_seq;
  }
  if (!known) {
    return decided(complete ? v1::RESUME_MODE_RESET : v1::RESUME_MODE_SNAPSHOT);
  }
  std::vector<std::size_t> missed;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < tail.size(); ++i) {
    if (tail[i].seq > r.last_seq) {
      missed.push_back(i);
      bytes += tail[i].bytes;
    }
  }
  if (missed.size() <= limits.max_events && bytes <= limits.max_bytes) {
    return decided(v1::RESUME_MODE_EXACT, std::move(missed));
  }
  return decided(v1::RESUME_MODE_SNAPSHOT);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::uint64_t epoch = in.byte() < 16 ? in.u64() : 1 + in.below(4);

  // The tail: a chain of up to 300 events, complete (from the room's first event) or not.
  std::vector<TailEvent> tail;
  const std::size_t n = in.below(301);
  const bool complete = in.byte() % 2 == 0;
  std::uint64_t prev = complete ? 0 : 1 + in.below(5000);
  const std::uint8_t max_gap = static_cast<std::uint8_t>(1 + in.below(4));  // 1: dense seqs.
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t seq = prev + 1 + in.below(max_gap);
    tail.push_back({seq, prev, static_cast<std::size_t>(1 + in.below(1000))});
    prev = seq;
  }
  // The head is the tail's last event; an empty tail has head 0 (an empty room) or, rarely,
  // any head (a tail that is not kept).
  std::uint64_t head = tail.empty() ? 0 : tail.back().seq;
  if (tail.empty() && in.byte() % 4 == 0) {
    head = in.below(10000);
  }
  const ResumeLimits limits{.max_events = in.below(301),
                            .max_bytes = static_cast<std::size_t>(in.below(60000))};

  ResumeRequest r;
  const auto how = in.byte() % 9;
  r.has_resume = how != 0;
  r.epoch = how == 1 ? epoch + 1 + in.below(3) : epoch;
  switch (how) {
    case 2: r.last_seq = head; break;
    case 3: r.last_seq = head + 1 + in.below(5); break;
    case 4: r.last_seq = tail.empty() ? 0 : tail.front().prev_seq; break;
    case 5:  // Just below the tail's first position, or a seq that never was (sparse).
      r.last_seq = tail.empty() ? 0 : tail[in.below(tail.size())].seq - 1;
      break;
    case 6: r.last_seq = in.u64(); break;
    case 7: r.last_seq = in.below(head + 2); break;
    default:  // A position in the chain.
      r.last_seq = tail.empty() ? head : tail[in.below(tail.size())].seq;
      break;
  }

  const Tail view(tail);
  const ResumeDecision got = huddle::room::resolve_resume(r, epoch, head, view, limits);
  const Model want = model(r, epoch, head, tail, limits);

  HUDDLE_FUZZ_CHECK(got.mode == want.mode);
  HUDDLE_FUZZ_CHECK(got.from_seq == want.from_seq);
  if (got.mode == v1::RESUME_MODE_EXACT) {
    // The events the room sends: tail[first..], exactly the model's.
    HUDDLE_FUZZ_CHECK(got.first <= tail.size());
    HUDDLE_FUZZ_CHECK(tail.size() - got.first == want.sent.size());
    for (std::size_t i = 0; i < want.sent.size(); ++i) {
      HUDDLE_FUZZ_CHECK(got.first + i == want.sent[i]);
    }
    if (got.first < tail.size()) {
      HUDDLE_FUZZ_CHECK(tail[got.first].prev_seq == r.last_seq);  // The gap closes exactly.
    }
  }
  // Sizes are read only for the events after the position found (the cost of a join stays
  // proportional to what it might send).
  if (view.lowest_sized != SIZE_MAX) {
    HUDDLE_FUZZ_CHECK(r.has_resume && r.epoch == epoch && r.last_seq < head);
    HUDDLE_FUZZ_CHECK(view.lowest_sized < tail.size() && tail[view.lowest_sized].seq > r.last_seq);
  }
  return 0;
}
