#include "server/fanout/outbox.hpp"

#include <utility>

namespace huddle::fanout {

Outbox::Outbox(codec::Encoding encoding, OutboxOptions options)
    : encoding_(encoding), options_(options) {}

Outbox::~Outbox() {
  count_bytes(-static_cast<std::int64_t>(queued_bytes_));
}

void Outbox::wake(bool at_once) {
  if (armed_ && wakeup_) {
    armed_ = false;
    wakeup_(at_once);
  }
}

std::size_t Outbox::uncount(const Payload& payload) {
  if (&payload == outside_bound_queued_) {
    outside_bound_queued_ = nullptr;
    return 0;
  }
  return payload.size(encoding_);
}

void Outbox::push(PayloadPtr payload) {
  if (closed_ || overflowed_) {
    return;
  }
  // One snapshot at a time rides outside the bound; a second (a member re-joining without
  // reading) counts like anything else.
  const bool outside = payload->outside_bound && outside_bound_queued_ == nullptr;
  const std::size_t n = outside ? 0 : payload->size(encoding_);
  if (queued_bytes_ + n > options_.max_bytes) {
    // Invariant 8: never grow past the bound. Drop the queue; the member resumes from its
    // last applied seq after the 4008 close.
    count_bytes(-static_cast<std::int64_t>(queued_bytes_));
    overflowed_ = true;
    release();
    armed_ = true;  // The writer must hear about the overflow even if it is idle.
    wake();
    return;
  }
  queued_bytes_ += n;
  if (outside) {
    outside_bound_queued_ = payload.get();
  }
  const bool payload_at_once = payload->write_at_once;
  queue_.push_back(std::move(payload));
  if (options_.metrics != nullptr) {
    options_.metrics->deliveries.add();
    options_.metrics->outbox_bytes.add(static_cast<std::int64_t>(n));
  }
  wake(payload_at_once);
}

bool Outbox::take_message(OutMessage& out) {
  out.packed_.clear();
  out.whole_.reset();
  out.whole_bytes_ = {};
  if (queue_.empty() || overflowed_) {
    release();  // Idle: hold no storage until the next push.
    armed_ = true;
    return false;
  }
  armed_ = false;
  const std::size_t before = queued_bytes_;
  const bool json = encoding_ == codec::Encoding::kJson;
  out.prefix_ = json ? codec::kJsonMessagePrefix : std::string_view();
  out.suffix_ = json ? codec::kJsonMessageSuffix : std::string_view();
  std::size_t taken = 0;
  if (const auto& first = *queue_.front();
      first.size(encoding_) >= options_.zero_copy_bytes || !first.tail(encoding_).empty()) {
    out.whole_bytes_ = first.for_encoding(encoding_);
    if (!first.tail(encoding_).empty()) {
      out.suffix_ = first.tail(encoding_);  // Proto: no message suffix of its own.
    }
    queued_bytes_ -= uncount(first);
    out.whole_ = std::move(queue_.front());
    taken = 1;
  } else {
    // The message wrapper, and the "," before each further JSON piece.
    const std::size_t overhead = out.prefix_.size() + out.suffix_.size() + (json ? 1 : 0);
    // First what fits, then one buffer of that size: a 200 KB batch (a resume of 1000 events)
    // grown by doubling cost 2 ms here, mostly page faults of the buffers it outgrew.
    std::size_t size = 0;
    while (taken < queue_.size()) {
      const auto& piece = queue_[taken]->for_encoding(encoding_);
      if (taken > 0 &&
          (piece.size() >= options_.zero_copy_bytes || !queue_[taken]->tail(encoding_).empty() ||
           size + piece.size() + overhead > options_.max_batch_bytes)) {
        break;
      }
      size += piece.size() + (json && taken > 0 ? 1 : 0);
      ++taken;
    }
    out.packed_.reserve(size);
    for (std::size_t i = 0; i < taken; ++i) {
      const auto& piece = queue_[i]->for_encoding(encoding_);
      if (json && i > 0) {
        out.packed_.push_back(',');
      }
      out.packed_.append(piece);
      queued_bytes_ -= uncount(*queue_[i]);
    }
  }
  // Keeps the capacity while busy; it is released once take_message finds nothing.
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(taken));
  count_bytes(static_cast<std::int64_t>(queued_bytes_) - static_cast<std::int64_t>(before));
  return true;
}

std::array<std::string_view, 3> OutMessage::parts() const {
  return {prefix_, whole_ ? whole_bytes_ : std::string_view(packed_), suffix_};
}

std::string OutMessage::str() const {
  std::string out;
  for (const auto part : parts()) {
    out.append(part);
  }
  return out;
}

void OutMessage::release() {
  std::string().swap(packed_);
  whole_.reset();
  whole_bytes_ = {};
}

void Outbox::count_bytes(std::int64_t delta) {
  if (options_.metrics != nullptr && delta != 0) {
    options_.metrics->outbox_bytes.add(delta);
  }
}

void Outbox::close() {
  count_bytes(-static_cast<std::int64_t>(queued_bytes_));
  closed_ = true;
  release();
}

void Outbox::release() {
  std::vector<PayloadPtr>().swap(queue_);
  queued_bytes_ = 0;
  outside_bound_queued_ = nullptr;
}

}  // namespace huddle::fanout
