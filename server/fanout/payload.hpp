// Payload: one server frame encoded once per wire encoding, as a message piece (see
// codec::encode_server_frame), and shared, immutable, by every recipient (invariant 7). An
// outbox holds pointers to payloads, never copies; its writer packs them into messages.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "server/codec/frame_codec.hpp"

namespace huddle::fanout {

struct Payload {
  // bytes[encoding]; only the encodings some recipient uses are filled.
  std::array<std::string, codec::kEncodingCount> bytes;
  // Optional, proto only: bytes shared with other payloads, which follow bytes[kProto] to make
  // the piece (a GetIdeas page that many members ask for: each reply has its own head, with its
  // request id, and the same page). A payload with a tail is always a message of its own.
  std::shared_ptr<const std::string> proto_tail;
  // A reply its member waits on before anything else (the join's reply): pushed into an idle
  // outbox, it has the writer write as soon as the current handler is done, not at the shard's
  // next corked flush (WriteScheduler), which a storm of page replies can make milliseconds late.
  bool write_at_once = false;
  // A join's snapshot: the whole board (or its newest ideas), which may be bigger than the
  // outbox bound. One such payload at a time is queued outside the bound (Outbox::push), so a
  // board of any size the board limits allow can be joined; live traffic queued behind it is
  // bounded as always (invariant 8).
  bool outside_bound = false;

  // The piece's bytes, or its head when it has a tail.
  [[nodiscard]] const std::string& for_encoding(codec::Encoding e) const {
    return bytes[static_cast<std::size_t>(e)];
  }
  [[nodiscard]] std::string_view tail(codec::Encoding e) const {
    return e == codec::Encoding::kProto && proto_tail ? std::string_view(*proto_tail)
                                                      : std::string_view();
  }
  [[nodiscard]] std::size_t size(codec::Encoding e) const {
    return for_encoding(e).size() + tail(e).size();
  }
};

using PayloadPtr = std::shared_ptr<const Payload>;

// Encodes `event` as a batch piece for each encoding whose flag is set.
[[nodiscard]] inline PayloadPtr make_event_payload(
    const huddle::v1::Event& event, const std::array<bool, codec::kEncodingCount>& wanted) {
  auto p = std::make_shared<Payload>();
  for (std::size_t i = 0; i < codec::kEncodingCount; ++i) {
    if (wanted[i]) {
      p->bytes[i] = codec::encode_event_piece(event, static_cast<codec::Encoding>(i));
    }
  }
  return p;
}

// Encodes a whole frame for each encoding whose flag is set.
[[nodiscard]] inline PayloadPtr make_frame_payload(
    const huddle::v1::ServerFrame& frame, const std::array<bool, codec::kEncodingCount>& wanted) {
  auto p = std::make_shared<Payload>();
  for (std::size_t i = 0; i < codec::kEncodingCount; ++i) {
    if (wanted[i]) {
      p->bytes[i] = codec::encode_server_frame(frame, static_cast<codec::Encoding>(i));
    }
  }
  return p;
}

// A frame for one recipient.
[[nodiscard]] inline PayloadPtr make_frame_payload(const huddle::v1::ServerFrame& frame,
                                                   codec::Encoding encoding) {
  std::array<bool, codec::kEncodingCount> wanted{};
  wanted[static_cast<std::size_t>(encoding)] = true;
  return make_frame_payload(frame, wanted);
}

}  // namespace huddle::fanout
