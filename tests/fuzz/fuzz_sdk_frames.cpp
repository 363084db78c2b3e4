// fuzz_sdk_frames: arbitrary bytes as a message from a (broken or hostile) server, through the
// SDK's path for incoming messages: sdk::decode_server_message (client-sdk/src/
// server_message.hpp, what Client::Impl::read calls), then what the Client does with the frames
// that touch local state: a snapshot replaces the room's BoardMirror, events are applied to it
// (BoardMirror::apply, the core/board code), votes_left is read.
//
// The first input byte says how the message arrived (bit 0: a text message) and how many
// times to replay the frames (so that events apply onto a hostile snapshot); the rest is the
// message.
//
// Asserts: decoding gives a message or MALFORMED_FRAME, never anything else and never throws;
// a text message is always refused; whatever the frames hold, the mirror never crashes (ASan,
// UBSan) and keeps its contract: a duplicate leaves it as it was, an applied event moves its
// seq to the event's, a gap (or an event the board refuses) leaves the board as it was.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "huddle/board_mirror.hpp"
#include "server_message.hpp"

namespace {

namespace v1 = huddle::v1;
using huddle::BoardMirror;

void apply_event(BoardMirror& mirror, const v1::Event& e) {
  const auto before = mirror.seq();
  const bool had_board = mirror.has_board();
  const std::string bytes_before = had_board ? mirror.state().serialize() : std::string();
  switch (mirror.apply(e)) {
    case BoardMirror::Applied::kApplied:
      HUDDLE_FUZZ_CHECK(had_board && e.prev_seq() == before && mirror.seq() == e.seq());
      break;
    case BoardMirror::Applied::kDuplicate:
      HUDDLE_FUZZ_CHECK(had_board && e.seq() <= before && mirror.seq() == before);
      HUDDLE_FUZZ_CHECK(mirror.state().serialize() == bytes_before);
      break;
    case BoardMirror::Applied::kGap:
      // Not applied: the board is as it was (BoardState::apply changes nothing on an error).
      HUDDLE_FUZZ_CHECK(mirror.seq() == before);
      HUDDLE_FUZZ_CHECK(!had_board || mirror.state().serialize() == bytes_before);
      break;
  }
  for (const auto& m : mirror.snapshot().roster()) {
    (void)mirror.votes_left(m.member().member_id());
  }
  (void)mirror.votes_left(e.actor().member_id());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  huddle::fuzz::quiet_protobuf_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const bool text = (data[0] & 1) != 0;
  const int rounds = 1 + ((data[0] >> 1) & 1);
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  auto message = huddle::sdk::decode_server_message(bytes, text);
  if (!message) {
    HUDDLE_FUZZ_CHECK(message.error() == huddle::Errc::kMalformedFrame);
    return 0;
  }
  HUDDLE_FUZZ_CHECK(!text);

  // One mirror, as for a room the Client has joined (it does not check room ids against its
  // own rooms here: every frame counts).
  BoardMirror mirror;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& frame : message->frames()) {
      switch (frame.frame_case()) {
        case v1::ServerFrame::kSnapshot:
          mirror.reset(frame.snapshot());
          HUDDLE_FUZZ_CHECK(mirror.has_board() && mirror.seq() == frame.snapshot().board().seq());
          (void)mirror.state().serialize();
          break;
        case v1::ServerFrame::kEventBatch:
          for (const auto& e : frame.event_batch().events()) {
            apply_event(mirror, e);
          }
          break;
        case v1::ServerFrame::kReply:
          // History pages are applied like events (Client::Impl::finish_backfill).
          for (const auto& e : frame.reply().history().events()) {
            apply_event(mirror, e);
          }
          break;
        default: break;  // Presence, typing, room closed: handed to the application as is.
      }
    }
  }
  return 0;
}
