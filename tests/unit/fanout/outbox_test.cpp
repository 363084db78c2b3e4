// Outbox: FIFO, batching of consecutive event pieces, the byte bound (invariant 8) and shared
// immutable payloads (invariant 7).
#include "server/fanout/outbox.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace huddle::fanout {
namespace {

namespace v1 = huddle::v1;
using codec::Encoding;

constexpr std::array<bool, codec::kEncodingCount> kBoth{true, true};

v1::Event event(std::uint64_t seq) {
  v1::Event e;
  e.set_room_id("r");
  e.set_seq(seq);
  e.set_prev_seq(seq - 1);
  e.set_time_unix_ms(1'700'000'000'000);
  e.mutable_actor()->set_member_id("m");
  // Same size for every seq in 2..9 (seq 1 omits prev_seq 0): byte arithmetic stays simple.
  e.mutable_chat_posted()->set_text("chat " + std::to_string(seq % 10));
  return e;
}

PayloadPtr piece(std::uint64_t seq) {
  return make_event_payload(event(seq), kBoth);
}

std::size_t bytes_of(std::uint64_t seq, Encoding encoding) {
  return piece(seq)->for_encoding(encoding).size();
}

PayloadPtr reply_frame(std::uint64_t request_id) {
  v1::ServerFrame f;
  f.mutable_reply()->set_request_id(request_id);
  return make_frame_payload(f, kBoth);
}

// What one take_message() delivered, decoded.
struct Message {
  std::string bytes;
  v1::ServerMessage message;
};

std::vector<Message> drain(Outbox& outbox) {
  std::vector<Message> out;
  OutMessage taken;
  while (outbox.take_message(taken)) {
    const std::string bytes = taken.str();
    auto message = codec::decode_server_message(bytes, outbox.encoding());
    EXPECT_TRUE(message) << "undecodable message: " << bytes;
    out.push_back(Message{bytes, message ? *message : v1::ServerMessage{}});
  }
  return out;
}

// The seqs of every event in the message, in order.
std::vector<std::uint64_t> seqs_of(const v1::ServerMessage& message) {
  std::vector<std::uint64_t> out;
  for (const auto& frame : message.frames()) {
    for (const auto& e : frame.event_batch().events()) {
      out.push_back(e.seq());
    }
  }
  return out;
}

using Seqs = std::vector<std::uint64_t>;

TEST(Outbox, FramesComeOutInPushOrderInOneMessage) {
  Outbox outbox(Encoding::kProto, OutboxOptions{});
  for (std::uint64_t id = 1; id <= 5; ++id) {
    outbox.push(reply_frame(id));
  }
  const auto messages = drain(outbox);
  ASSERT_EQ(messages.size(), 1U);
  ASSERT_EQ(messages[0].message.frames_size(), 5);
  for (std::uint64_t id = 1; id <= 5; ++id) {
    EXPECT_EQ(messages[0].message.frames(static_cast<int>(id - 1)).reply().request_id(), id);
  }
  EXPECT_EQ(outbox.queued_bytes(), 0U);
  EXPECT_EQ(outbox.queued_items(), 0U);
}

TEST(Outbox, ConsecutiveProtoPiecesBecomeOneMessageInOrder) {
  Outbox outbox(Encoding::kProto, OutboxOptions{});
  for (std::uint64_t seq = 1; seq <= 6; ++seq) {
    outbox.push(piece(seq));
  }
  const auto messages = drain(outbox);
  ASSERT_EQ(messages.size(), 1U);
  ASSERT_EQ(messages[0].message.frames(0).frame_case(), v1::ServerFrame::kEventBatch);
  EXPECT_EQ(seqs_of(messages[0].message), (Seqs{1, 2, 3, 4, 5, 6}));
}

TEST(Outbox, ConsecutiveJsonPiecesBecomeOneValidMessageDocument) {
  Outbox outbox(Encoding::kJson, OutboxOptions{});
  for (std::uint64_t seq = 1; seq <= 6; ++seq) {
    outbox.push(piece(seq));
  }
  const auto messages = drain(outbox);
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_TRUE(messages[0].bytes.starts_with(codec::kJsonMessagePrefix));
  EXPECT_TRUE(messages[0].bytes.ends_with(codec::kJsonMessageSuffix));
  EXPECT_EQ(seqs_of(messages[0].message), (Seqs{1, 2, 3, 4, 5, 6}));
}

// Replies and events interleaved in the queue go out in one message, in push order: a
// publisher's acks do not cost a write each (and do not split its event batches).
TEST(Outbox, RepliesAndEventsShareOneMessageInPushOrder) {
  for (const auto encoding : {Encoding::kProto, Encoding::kJson}) {
    SCOPED_TRACE(static_cast<int>(encoding));
    Outbox outbox(encoding, OutboxOptions{});
    outbox.push(piece(1));
    outbox.push(piece(2));
    outbox.push(reply_frame(99));
    outbox.push(piece(3));
    outbox.push(reply_frame(100));
    outbox.push(reply_frame(101));
    const auto messages = drain(outbox);
    ASSERT_EQ(messages.size(), 1U);
    const auto& m = messages[0].message;
    ASSERT_EQ(m.frames_size(), 6);
    EXPECT_EQ(m.frames(0).event_batch().events(0).seq(), 1U);
    EXPECT_EQ(m.frames(1).event_batch().events(0).seq(), 2U);
    EXPECT_EQ(m.frames(2).reply().request_id(), 99U);
    EXPECT_EQ(m.frames(3).event_batch().events(0).seq(), 3U);
    EXPECT_EQ(m.frames(4).reply().request_id(), 100U);
    EXPECT_EQ(m.frames(5).reply().request_id(), 101U);
  }
}

// Every message fits max_batch_bytes unless it holds a single piece; nothing is lost or reordered.
void expect_batches_respect(Encoding encoding, std::size_t max_batch_bytes) {
  SCOPED_TRACE("encoding " + std::to_string(static_cast<int>(encoding)) + " max_batch_bytes " +
               std::to_string(max_batch_bytes));
  Outbox outbox(encoding, OutboxOptions{.max_batch_bytes = max_batch_bytes});
  for (std::uint64_t seq = 1; seq <= 9; ++seq) {
    outbox.push(piece(seq));
  }
  Seqs all;
  for (const auto& m : drain(outbox)) {
    const auto seqs = seqs_of(m.message);
    ASSERT_FALSE(seqs.empty()) << "a message must hold at least one piece";
    if (seqs.size() > 1) {
      EXPECT_LE(m.bytes.size(), max_batch_bytes) << seqs.size() << " events";
    }
    all.insert(all.end(), seqs.begin(), seqs.end());
  }
  EXPECT_EQ(all, (Seqs{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Outbox, ProtoBatchesRespectMaxBatchBytes) {
  const std::size_t piece_bytes = bytes_of(2, Encoding::kProto);
  for (std::size_t max = 1; max <= 4 * piece_bytes + 2; ++max) {  // Up to 4 pieces a batch.
    expect_batches_respect(Encoding::kProto, max);
  }
}

TEST(Outbox, JsonBatchesRespectMaxBatchBytesIncludingPrefixAndSuffix) {
  const std::size_t piece_bytes = bytes_of(2, Encoding::kJson);
  const std::size_t overhead = codec::kJsonMessagePrefix.size() + codec::kJsonMessageSuffix.size();
  for (std::size_t max = 1; max <= overhead + 4 * (piece_bytes + 1) + 2; ++max) {
    expect_batches_respect(Encoding::kJson, max);
  }
}

TEST(Outbox, ATinyBatchLimitStillSendsOnePiecePerMessage) {
  Outbox outbox(Encoding::kProto, OutboxOptions{.max_batch_bytes = 1});
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    outbox.push(piece(seq));
  }
  const auto messages = drain(outbox);
  ASSERT_EQ(messages.size(), 3U);
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    EXPECT_EQ(seqs_of(messages[seq - 1].message), (Seqs{seq}));
  }
}

TEST(Outbox, ABatchLimitOfTwoPiecesPacksTwoPiecesPerMessage) {
  // Pieces 2..9 all have the same size.
  const std::size_t piece_bytes = bytes_of(2, Encoding::kProto);
  Outbox outbox(Encoding::kProto, OutboxOptions{.max_batch_bytes = 2 * piece_bytes + 1});
  for (std::uint64_t seq = 2; seq <= 6; ++seq) {
    outbox.push(piece(seq));
  }
  const auto messages = drain(outbox);
  ASSERT_EQ(messages.size(), 3U);
  EXPECT_EQ(seqs_of(messages[0].message), (Seqs{2, 3}));
  EXPECT_EQ(seqs_of(messages[1].message), (Seqs{4, 5}));
  EXPECT_EQ(seqs_of(messages[2].message), (Seqs{6}));
}

TEST(Outbox, WakeupRunsOnceWhileTheWriterIsBusyAndAgainOnceItIsIdle) {
  Outbox outbox(Encoding::kProto, OutboxOptions{});
  int wakeups = 0;
  outbox.set_wakeup([&](bool) { ++wakeups; });
  outbox.push(reply_frame(1));
  EXPECT_EQ(wakeups, 1);
  outbox.push(reply_frame(2));
  EXPECT_EQ(wakeups, 1);  // The writer has not looked yet: no second wakeup.

  OutMessage msg;
  ASSERT_TRUE(outbox.take_message(msg));  // Writer busy with frames 1 and 2.
  outbox.push(reply_frame(3));
  EXPECT_EQ(wakeups, 1);
  ASSERT_TRUE(outbox.take_message(msg));  // Frame 3.
  outbox.push(reply_frame(4));
  EXPECT_EQ(wakeups, 1);  // Still busy: it has not seen an empty queue yet.
  ASSERT_TRUE(outbox.take_message(msg));
  EXPECT_FALSE(outbox.take_message(msg));  // Idle now.
  EXPECT_TRUE(msg.str().empty());
  EXPECT_EQ(wakeups, 1);
  outbox.push(reply_frame(5));
  EXPECT_EQ(wakeups, 2);
  outbox.push(piece(6));
  EXPECT_EQ(wakeups, 2);
}

// A join's reply (write_at_once) tells an idle writer not to wait for the shard's corked flush;
// anything else, and anything pushed while the writer is already woken, does not.
TEST(Outbox, AWriteAtOncePayloadWakesAnIdleWriterToWriteAtOnce) {
  Outbox outbox(Encoding::kProto, OutboxOptions{});
  std::vector<bool> wakes;
  outbox.set_wakeup([&](bool at_once) { wakes.push_back(at_once); });
  outbox.push(piece(1));
  auto urgent = std::make_shared<Payload>(*reply_frame(2));
  urgent->write_at_once = true;
  outbox.push(urgent);  // The writer was woken by piece 1 already: no second wakeup.
  EXPECT_EQ(wakes, (std::vector<bool>{false}));

  OutMessage msg;
  ASSERT_TRUE(outbox.take_message(msg));
  EXPECT_FALSE(outbox.take_message(msg));  // Idle again.
  outbox.push(urgent);
  outbox.push(piece(3));
  EXPECT_EQ(wakes, (std::vector<bool>{false, true}));
}

// Invariant 8: past max_bytes the outbox drops its queue, reports overflow, wakes the writer
// (even a busy one) so it closes with 4008, and accepts nothing more.
TEST(Outbox, PushingPastMaxBytesOverflowsDropsTheQueueAndWakesTheWriter) {
  const std::size_t three =
      bytes_of(1, Encoding::kProto) + bytes_of(2, Encoding::kProto) + bytes_of(3, Encoding::kProto);
  Outbox outbox(Encoding::kProto, OutboxOptions{.max_bytes = three});
  int wakeups = 0;
  outbox.set_wakeup([&](bool) { ++wakeups; });
  outbox.push(piece(1));
  outbox.push(piece(2));
  outbox.push(piece(3));
  EXPECT_FALSE(outbox.overflowed());
  EXPECT_EQ(outbox.queued_bytes(), three);
  EXPECT_EQ(wakeups, 1);

  outbox.push(piece(4));
  EXPECT_TRUE(outbox.overflowed());
  EXPECT_EQ(outbox.queued_bytes(), 0U);
  EXPECT_EQ(outbox.queued_items(), 0U);
  EXPECT_EQ(wakeups, 2);

  outbox.push(piece(5));
  outbox.push(reply_frame(6));
  EXPECT_EQ(outbox.queued_items(), 0U);
  EXPECT_EQ(outbox.queued_bytes(), 0U);
  EXPECT_EQ(wakeups, 2);
  OutMessage msg;
  EXPECT_FALSE(outbox.take_message(msg));
  EXPECT_TRUE(outbox.overflowed());
}

// Invariant 8 and big boards: a join snapshot bigger than the whole bound is queued outside it
// (joining a big board is not a 4008); live traffic behind it is bounded as always; only one
// snapshot at a time gets that, and the accounting is back to zero once it is written.
TEST(Outbox, OneJoinSnapshotAtATimeIsQueuedOutsideTheBound) {
  const std::size_t three =
      bytes_of(1, Encoding::kProto) + bytes_of(2, Encoding::kProto) + bytes_of(3, Encoding::kProto);
  Outbox outbox(Encoding::kProto, OutboxOptions{.max_bytes = three});
  v1::ServerFrame f;
  f.mutable_snapshot()->set_room_id(std::string(4 * three, 'r'));
  auto snapshot = std::make_shared<Payload>(*make_frame_payload(f, kBoth));
  snapshot->outside_bound = true;
  ASSERT_GT(snapshot->size(Encoding::kProto), three);

  outbox.push(snapshot);
  EXPECT_FALSE(outbox.overflowed());
  EXPECT_EQ(outbox.queued_bytes(), 0U);
  outbox.push(piece(1));
  outbox.push(piece(2));
  outbox.push(piece(3));
  EXPECT_FALSE(outbox.overflowed());
  EXPECT_EQ(outbox.queued_bytes(), three);
  outbox.push(piece(4));  // Over the bound by the live traffic alone.
  EXPECT_TRUE(outbox.overflowed());

  Outbox again(Encoding::kProto, OutboxOptions{.max_bytes = three});
  again.push(snapshot);
  again.push(piece(1));
  OutMessage msg;
  ASSERT_TRUE(again.take_message(msg));
  EXPECT_EQ(msg.str().substr(0, snapshot->size(Encoding::kProto)),
            snapshot->for_encoding(Encoding::kProto));
  while (again.take_message(msg)) {
  }
  EXPECT_EQ(again.queued_bytes(), 0U);

  // A member that joins twice without reading: the second snapshot counts, and overflows.
  again.push(snapshot);
  EXPECT_FALSE(again.overflowed());
  again.push(snapshot);
  EXPECT_TRUE(again.overflowed());
}

// Invariant 8: the writer hears about an overflow even while a message is in flight.
TEST(Outbox, OverflowWakesABusyWriter) {
  const std::size_t two = bytes_of(2, Encoding::kJson) + bytes_of(3, Encoding::kJson);
  Outbox outbox(Encoding::kJson, OutboxOptions{.max_bytes = two});
  int wakeups = 0;
  outbox.set_wakeup([&](bool) { ++wakeups; });
  outbox.push(piece(1));
  OutMessage msg;
  ASSERT_TRUE(outbox.take_message(msg));  // Busy.
  outbox.push(piece(2));
  outbox.push(piece(3));
  EXPECT_EQ(wakeups, 1);
  outbox.push(piece(4));
  EXPECT_TRUE(outbox.overflowed());
  EXPECT_EQ(wakeups, 2);
  EXPECT_FALSE(outbox.take_message(msg));
}

// Invariant 8: the bound counts the bytes of the outbox's own encoding.
TEST(Outbox, ExactlyMaxBytesQueuedIsStillAccepted) {
  // Pieces 2..9 all have the same size.
  const std::size_t two = bytes_of(2, Encoding::kProto) + bytes_of(3, Encoding::kProto);
  Outbox outbox(Encoding::kProto, OutboxOptions{.max_bytes = two});
  outbox.push(piece(2));
  outbox.push(piece(3));
  EXPECT_FALSE(outbox.overflowed());
  OutMessage msg;
  ASSERT_TRUE(outbox.take_message(msg));
  EXPECT_EQ(outbox.queued_bytes(), 0U);
  outbox.push(piece(4));
  outbox.push(piece(5));  // Draining made room again.
  EXPECT_FALSE(outbox.overflowed());
  EXPECT_EQ(outbox.queued_bytes(), two);
}

TEST(Outbox, CloseDropsTheQueueAndLaterPushes) {
  Outbox outbox(Encoding::kProto, OutboxOptions{});
  outbox.push(piece(1));
  outbox.push(reply_frame(2));
  outbox.close();
  EXPECT_EQ(outbox.queued_items(), 0U);
  EXPECT_EQ(outbox.queued_bytes(), 0U);
  outbox.push(piece(3));
  EXPECT_EQ(outbox.queued_items(), 0U);
  OutMessage msg;
  EXPECT_FALSE(outbox.take_message(msg));
}

// Invariant 7: recipients share one immutable encoded buffer; outboxes hold pointers, not copies.
TEST(Outbox, OutboxesShareOnePayloadInsteadOfCopyingIt) {
  Outbox a(Encoding::kProto, OutboxOptions{});
  Outbox b(Encoding::kProto, OutboxOptions{});
  Outbox c(Encoding::kJson, OutboxOptions{});
  const PayloadPtr p = piece(1);
  const std::string* proto_bytes = &p->for_encoding(Encoding::kProto);
  EXPECT_EQ(p.use_count(), 1);
  a.push(p);
  b.push(p);
  c.push(p);
  EXPECT_EQ(p.use_count(), 4);
  EXPECT_EQ(&p->for_encoding(Encoding::kProto), proto_bytes);

  OutMessage from_a;
  OutMessage from_b;
  OutMessage from_c;
  ASSERT_TRUE(a.take_message(from_a));
  ASSERT_TRUE(b.take_message(from_b));
  ASSERT_TRUE(c.take_message(from_c));
  EXPECT_EQ(from_a.str(), *proto_bytes);
  EXPECT_EQ(from_b.str(), *proto_bytes);
  EXPECT_EQ(from_c.str(), std::string(codec::kJsonMessagePrefix) +
                              p->for_encoding(Encoding::kJson) +
                              std::string(codec::kJsonMessageSuffix));
  EXPECT_EQ(p.use_count(), 1);  // Taken messages released their references.
}

// Invariant 7: make_event_payload encodes only the encodings asked for.
TEST(Outbox, PayloadsEncodeOnlyTheWantedEncodings) {
  const auto proto_only = make_event_payload(event(1), {true, false});
  EXPECT_FALSE(proto_only->for_encoding(Encoding::kProto).empty());
  EXPECT_TRUE(proto_only->for_encoding(Encoding::kJson).empty());
}

// W4 (idle memory): an outbox holds queue storage only while it holds payloads. A partial take
// keeps the rest in order; once the writer finds it empty, the storage is released; an overflow
// and a close release it too.
TEST(Outbox, HoldsNoStorageOnceDrainedOverflowedOrClosed) {
  const std::size_t piece_bytes = bytes_of(2, Encoding::kProto);  // Pieces 2..9: one size.
  Outbox outbox(Encoding::kProto, OutboxOptions{.max_batch_bytes = 2 * piece_bytes + 1});
  EXPECT_EQ(outbox.storage_bytes(), 0U);
  for (std::uint64_t seq = 2; seq <= 6; ++seq) {
    outbox.push(piece(seq));
  }
  EXPECT_GT(outbox.storage_bytes(), 0U);
  OutMessage taken;
  ASSERT_TRUE(outbox.take_message(taken));  // 2, 3
  EXPECT_EQ(outbox.queued_items(), 3U);
  EXPECT_EQ(outbox.queued(0)->for_encoding(Encoding::kProto),
            piece(4)->for_encoding(Encoding::kProto));
  const auto rest = drain(outbox);
  ASSERT_EQ(rest.size(), 2U);
  EXPECT_EQ(seqs_of(rest[0].message), (Seqs{4, 5}));
  EXPECT_EQ(seqs_of(rest[1].message), (Seqs{6}));
  EXPECT_EQ(outbox.storage_bytes(), 0U) << "an idle outbox keeps its queue's storage";

  Outbox small(Encoding::kProto, OutboxOptions{.max_bytes = 2 * piece_bytes});
  small.push(piece(2));
  small.push(piece(3));
  small.push(piece(4));  // Overflow.
  ASSERT_TRUE(small.overflowed());
  EXPECT_EQ(small.storage_bytes(), 0U);

  Outbox closing(Encoding::kProto, OutboxOptions{});
  closing.push(piece(1));
  closing.close();
  EXPECT_EQ(closing.storage_bytes(), 0U);
  EXPECT_EQ(closing.queued_items(), 0U);
}

// Invariant 7 for large payloads: a payload of zero_copy_bytes or more (a board snapshot) is its
// own message, written from the shared buffer itself; the small ones around it are packed as
// usual, in order, and JSON still gets its message wrapper.
TEST(Outbox, ALargePayloadIsSentFromTheSharedBufferWithoutACopy) {
  for (const auto encoding : {Encoding::kProto, Encoding::kJson}) {
    v1::ServerFrame big_frame;
    big_frame.mutable_snapshot()->set_room_id(std::string(40 * 1024, 'r'));
    const PayloadPtr big = make_frame_payload(big_frame, kBoth);
    Outbox outbox(encoding, OutboxOptions{.zero_copy_bytes = 32 * 1024});
    outbox.push(piece(1));
    outbox.push(piece(2));
    outbox.push(big);
    outbox.push(piece(3));

    OutMessage msg;
    ASSERT_TRUE(outbox.take_message(msg));
    EXPECT_FALSE(msg.zero_copy());
    auto decoded = codec::decode_server_message(msg.str(), encoding);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(seqs_of(*decoded), (Seqs{1, 2}));

    ASSERT_TRUE(outbox.take_message(msg));
    ASSERT_TRUE(msg.zero_copy());
    EXPECT_EQ(msg.parts()[1].data(), big->for_encoding(encoding).data()) << "copied";
    EXPECT_EQ(big.use_count(), 2);  // Held by the message until the next take.
    decoded = codec::decode_server_message(msg.str(), encoding);
    ASSERT_TRUE(decoded);
    ASSERT_EQ(decoded->frames_size(), 1);
    EXPECT_EQ(decoded->frames(0).snapshot().room_id().size(), 40U * 1024);

    ASSERT_TRUE(outbox.take_message(msg));
    EXPECT_FALSE(msg.zero_copy());
    EXPECT_EQ(big.use_count(), 1);
    decoded = codec::decode_server_message(msg.str(), encoding);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(seqs_of(*decoded), (Seqs{3}));
    EXPECT_FALSE(outbox.take_message(msg));
    EXPECT_EQ(outbox.queued_bytes(), 0U);
  }
}

// A payload with a shared tail (a GetIdeas page) is a message of its own, written as its head and
// the tail in place (no copy), and counts both toward the bound.
TEST(Outbox, APayloadWithATailIsItsOwnMessageOfHeadAndTailUncopied) {
  std::vector<v1::Idea> ideas(2);
  ideas[0].set_idea_id(4);
  ideas[1].set_idea_id(6);
  const std::vector<const v1::Idea*> page = {&ideas[0], &ideas[1]};
  const auto tail = std::make_shared<const std::string>(codec::encode_ideas_page_body(page, true));
  auto with_tail = std::make_shared<Payload>();
  with_tail->bytes[static_cast<std::size_t>(Encoding::kProto)] =
      codec::encode_ideas_page_head(5, 9, tail->size());
  with_tail->proto_tail = tail;
  const PayloadPtr paged = with_tail;

  Outbox outbox(Encoding::kProto, OutboxOptions{});
  outbox.push(piece(1));
  outbox.push(paged);
  outbox.push(piece(2));
  EXPECT_EQ(outbox.queued_bytes(), bytes_of(1, Encoding::kProto) + paged->size(Encoding::kProto) +
                                       bytes_of(2, Encoding::kProto));
  EXPECT_EQ(paged->size(Encoding::kProto),
            paged->for_encoding(Encoding::kProto).size() + tail->size());

  OutMessage msg;
  ASSERT_TRUE(outbox.take_message(msg));
  auto decoded = codec::decode_server_message(msg.str(), Encoding::kProto);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(seqs_of(*decoded), (Seqs{1}));  // Packing stops before the page.

  ASSERT_TRUE(outbox.take_message(msg));
  ASSERT_TRUE(msg.zero_copy());
  EXPECT_EQ(msg.parts()[1].data(), paged->for_encoding(Encoding::kProto).data()) << "copied";
  EXPECT_EQ(msg.parts()[2].data(), tail->data()) << "copied";
  decoded = codec::decode_server_message(msg.str(), Encoding::kProto);
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->frames_size(), 1);
  EXPECT_EQ(decoded->frames(0).reply().request_id(), 5U);
  ASSERT_EQ(decoded->frames(0).reply().ideas().ideas_size(), 2);
  EXPECT_EQ(decoded->frames(0).reply().ideas().ideas(1).idea_id(), 6U);
  EXPECT_TRUE(decoded->frames(0).reply().ideas().has_more());

  ASSERT_TRUE(outbox.take_message(msg));
  decoded = codec::decode_server_message(msg.str(), Encoding::kProto);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(seqs_of(*decoded), (Seqs{2}));
  EXPECT_FALSE(outbox.take_message(msg));
  EXPECT_EQ(outbox.queued_bytes(), 0U);
}

}  // namespace
}  // namespace huddle::fanout
