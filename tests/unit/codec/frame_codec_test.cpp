// Frame codec: both wire encodings, malformed input, envelope validation, and the batching
// property the Outbox relies on (pieces concatenate into one EventBatch without re-encoding).
#include "server/codec/frame_codec.hpp"

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

namespace huddle::codec {
namespace {

namespace v1 = huddle::v1;
using google::protobuf::util::MessageDifferencer;

constexpr Encoding kBothEncodings[] = {Encoding::kProto, Encoding::kJson};

const char* name_of(Encoding e) {
  return e == Encoding::kProto ? "proto" : "json";
}

// One ClientFrame per command, every field set to a non-default value.
std::vector<v1::ClientFrame> one_frame_per_command() {
  std::vector<v1::ClientFrame> frames;
  auto next = [&frames](std::uint64_t request_id) -> v1::ClientFrame& {
    auto& f = frames.emplace_back();
    f.set_request_id(request_id);
    f.set_op_id("op-" + std::to_string(request_id));
    return f;
  };
  {
    auto* hello = next(1).mutable_hello();
    hello->set_display_name("Ann");
    hello->set_member_id("guest-1");
  }
  next(2).mutable_list_rooms();
  {
    auto* create = next(3).mutable_create_room();
    create->set_room_id("q3-plan");
    create->set_title("Q3 plan");
  }
  {
    auto* join = next(4).mutable_join();
    join->set_room_id("q3-plan");
    join->mutable_resume()->set_epoch(std::numeric_limits<std::uint64_t>::max());
    join->mutable_resume()->set_last_seq(41);
    join->set_snapshot_ideas(100);
  }
  next(5).mutable_leave()->set_room_id("q3-plan");
  {
    auto* post = next(6).mutable_post_chat();
    post->set_room_id("q3-plan");
    post->set_text("caf\xc3\xa9 \xe2\x98\x95 and ideas");
  }
  next(7).mutable_typing()->set_room_id("q3-plan");
  {
    auto* mark = next(8).mutable_mark_read();
    mark->set_room_id("q3-plan");
    mark->set_seq(12);
  }
  // The board commands (field values near their documented limits where it matters).
  {
    auto* goal = next(20).mutable_set_goal();
    goal->set_room_id("q3-plan");
    goal->mutable_goal()->set_objective("Close 3 more deals in Q3");
    goal->mutable_goal()->set_success_criteria("Pipeline +20%");
  }
  {
    auto* role = next(21).mutable_set_role();
    role->set_room_id("q3-plan");
    role->set_member_id("bob");
    role->set_role(v1::ROLE_FACILITATOR);
  }
  {
    auto* phase = next(22).mutable_set_phase();
    phase->set_room_id("q3-plan");
    phase->set_phase(v1::PHASE_VOTE);
    phase->set_timer_minutes(10);
  }
  {
    auto* voting = next(23).mutable_set_voting();
    voting->set_room_id("q3-plan");
    voting->set_budget(5);
    voting->set_per_idea_cap(2);
  }
  {
    auto* hide = next(24).mutable_set_hide_ideas();
    hide->set_room_id("q3-plan");
    hide->set_hide_ideas(true);
  }
  next(25).mutable_reveal_ideas()->set_room_id("q3-plan");
  {
    auto* idea = next(26).mutable_post_idea();
    idea->set_room_id("q3-plan");
    idea->set_text("Bundle onboarding with the annual plan");
    idea->add_tags("pricing");
  }
  {
    auto* edit = next(27).mutable_edit_idea();
    edit->set_room_id("q3-plan");
    edit->set_idea_id(7);
    edit->set_text("Bundle onboarding");
  }
  {
    auto* del = next(28).mutable_delete_idea();
    del->set_room_id("q3-plan");
    del->set_idea_id(7);
  }
  {
    auto* move = next(29).mutable_move_idea();
    move->set_room_id("q3-plan");
    move->set_idea_id(7);
    move->set_group_id(9);
  }
  {
    auto* group = next(30).mutable_create_group();
    group->set_room_id("q3-plan");
    group->set_name("Pricing");
  }
  {
    auto* rename = next(31).mutable_rename_group();
    rename->set_room_id("q3-plan");
    rename->set_group_id(9);
    rename->set_name("Packaging");
  }
  {
    auto* merge = next(32).mutable_merge_groups();
    merge->set_room_id("q3-plan");
    merge->set_from_group_id(9);
    merge->set_into_group_id(10);
  }
  {
    auto* del = next(33).mutable_delete_group();
    del->set_room_id("q3-plan");
    del->set_group_id(10);
  }
  {
    auto* comment = next(34).mutable_post_comment();
    comment->set_room_id("q3-plan");
    comment->set_idea_id(7);
    comment->set_text("Legal needs to sign off");
  }
  {
    auto* del = next(35).mutable_delete_comment();
    del->set_room_id("q3-plan");
    del->set_idea_id(7);
    del->set_comment_id(11);
  }
  {
    auto* react = next(36).mutable_react();
    react->set_room_id("q3-plan");
    react->set_idea_id(7);
    react->set_reaction(v1::REACTION_CELEBRATE);
    react->set_remove(true);
  }
  {
    auto* vote = next(37).mutable_vote();
    vote->set_room_id("q3-plan");
    vote->set_idea_id(7);
  }
  {
    auto* unvote = next(38).mutable_unvote();
    unvote->set_room_id("q3-plan");
    unvote->set_idea_id(7);
  }
  {
    auto* action = next(39).mutable_create_action();
    action->set_room_id("q3-plan");
    action->set_title("Draft the bundle price sheet");
    action->set_owner_id("bob");
    action->set_due_date("2026-12-04");
    action->set_idea_id(7);
  }
  {
    auto* update = next(40).mutable_update_action();
    update->set_room_id("q3-plan");
    update->set_action_id(13);
    update->set_title("Draft the price sheet");
    update->set_owner_id("carol");
    update->set_due_date("2026-12-05");
  }
  {
    auto* status = next(41).mutable_set_action_status();
    status->set_room_id("q3-plan");
    status->set_action_id(13);
    status->set_status(v1::ACTION_STATUS_DONE);
  }
  {
    auto* exp = next(42).mutable_export_();
    exp->set_room_id("q3-plan");
    exp->set_format(v1::EXPORT_FORMAT_CSV);
  }
  next(43).mutable_refresh_token()->set_token("eyJhbGciOiJIUzI1NiJ9.e30.sig");
  {
    auto* invite = next(44).mutable_create_invite();
    invite->set_room_id("q3-plan");
    invite->set_role(v1::ROLE_OBSERVER);
    invite->set_ttl_seconds(3600);
  }
  {
    auto* ideas = next(45).mutable_get_ideas();
    ideas->set_room_id("q3-plan");
    ideas->set_before_idea_id(1'000'000);
    ideas->set_limit(500);
  }
  {
    auto* history = next(std::numeric_limits<std::uint64_t>::max()).mutable_get_history();
    history->set_room_id("q3-plan");
    history->set_before_seq(100);
    history->set_limit(20);
  }
  return frames;
}

TEST(FrameCodec, TheRoundTripTableCoversEveryCommand) {
  const auto* oneof = v1::ClientFrame::descriptor()->FindOneofByName("command");
  ASSERT_NE(oneof, nullptr);
  std::set<int> covered;
  for (const auto& f : one_frame_per_command()) {
    covered.insert(static_cast<int>(f.command_case()));
  }
  std::set<int> all;
  for (int i = 0; i < oneof->field_count(); ++i) {
    all.insert(oneof->field(i)->number());
  }
  EXPECT_EQ(covered, all) << "a new command needs a row in one_frame_per_command()";
}

TEST(FrameCodec, EveryCommandRoundTripsInBothEncodings) {
  for (const auto encoding : kBothEncodings) {
    for (const auto& frame : one_frame_per_command()) {
      SCOPED_TRACE(std::string(name_of(encoding)) + " " + frame.ShortDebugString());
      const std::string bytes = encode_client_frame(frame, encoding);
      ASSERT_FALSE(bytes.empty());
      auto decoded = decode_client_frame(bytes, encoding);
      ASSERT_TRUE(decoded) << decoded.error().message();
      EXPECT_TRUE(MessageDifferencer::Equals(*decoded, frame));
      EXPECT_FALSE(validate_client_frame(*decoded, CodecLimits{}));
    }
  }
}

TEST(FrameCodec, JsonUsesLowerCamelCaseNamesAndUint64AsStrings) {
  v1::ClientFrame frame;
  frame.set_request_id(18446744073709551615ULL);
  frame.mutable_get_history()->set_room_id("r");
  frame.mutable_get_history()->set_before_seq(9);
  const std::string json = encode_client_frame(frame, Encoding::kJson);
  EXPECT_NE(json.find(R"("requestId":"18446744073709551615")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("getHistory":{)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("roomId":"r")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("beforeSeq":"9")"), std::string::npos) << json;
  EXPECT_EQ(json.find("request_id"), std::string::npos) << json;
}

TEST(FrameCodec, LiteralBrowserJsonDecodes) {
  auto frame = decode_client_frame(R"({"requestId":"7","postChat":{"roomId":"r","text":"hi"}})",
                                   Encoding::kJson);
  ASSERT_TRUE(frame) << frame.error().message();
  EXPECT_EQ(frame->request_id(), 7U);
  ASSERT_EQ(frame->command_case(), v1::ClientFrame::kPostChat);
  EXPECT_EQ(frame->post_chat().room_id(), "r");
  EXPECT_EQ(frame->post_chat().text(), "hi");
  EXPECT_FALSE(validate_client_frame(*frame, CodecLimits{}));
}

TEST(FrameCodec, LiteralJsonWithResumePositionDecodes) {
  auto frame =
      decode_client_frame(R"({"requestId":"8","opId":"j1",)"
                          R"("join":{"roomId":"r","resume":{"epoch":"5","lastSeq":"12"}}})",
                          Encoding::kJson);
  ASSERT_TRUE(frame) << frame.error().message();
  EXPECT_EQ(frame->op_id(), "j1");
  EXPECT_EQ(frame->join().resume().epoch(), 5U);
  EXPECT_EQ(frame->join().resume().last_seq(), 12U);
}

struct MalformedCase {
  std::string name;
  std::string bytes;
  Encoding encoding;
};

std::string truncated_post_chat() {
  v1::ClientFrame frame;
  frame.set_request_id(1);
  frame.mutable_post_chat()->set_room_id("room");
  frame.mutable_post_chat()->set_text("a chat line long enough to cut");
  std::string bytes = encode_client_frame(frame, Encoding::kProto);
  bytes.pop_back();
  return bytes;
}

// ClientFrame{post_chat(15){room_id(1)="r", text(2)=0xff 0xfe}}, written by hand because
// protobuf refuses to produce invalid UTF-8 in a proto3 string.
std::string invalid_utf8_post_chat() {
  const std::string inner = std::string("\x0a\x01r", 3) + std::string("\x12\x02\xff\xfe", 4);
  return std::string("\x7a", 1) + static_cast<char>(inner.size()) + inner;
}

std::vector<MalformedCase> malformed_cases() {
  return {
      {"GarbageBytes", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", Encoding::kProto},
      {"FieldNumberZero", std::string("\x00\x01", 2), Encoding::kProto},
      {"InvalidWireType", "\x0f\x01", Encoding::kProto},
      {"TruncatedProtobuf", truncated_post_chat(), Encoding::kProto},
      {"LengthBeyondTheEnd", "\x7a\x10\x0a", Encoding::kProto},
      {"InvalidUtf8InAStringField", invalid_utf8_post_chat(), Encoding::kProto},
      {"EmptyJson", "", Encoding::kJson},
      {"WhitespaceJson", "  ", Encoding::kJson},
      {"TruncatedJson", R"({"requestId":"7","postChat":{"roomId":)", Encoding::kJson},
      {"NotJson", "hello", Encoding::kJson},
      {"JsonArray", "[1,2]", Encoding::kJson},
      {"UnknownJsonField", R"({"requestId":"7","bogus":1})", Encoding::kJson},
      {"SnakeCaseTypoField", R"({"requestId":"7","postChat":{"room":"r"}})", Encoding::kJson},
      {"WrongJsonTypeForMessage", R"({"requestId":"7","postChat":"hi"})", Encoding::kJson},
      {"WrongJsonTypeForNumber", R"({"requestId":true})", Encoding::kJson},
      {"WrongJsonTypeForString", R"({"postChat":{"text":5}})", Encoding::kJson},
      {"NegativeUint64", R"({"requestId":"-1"})", Encoding::kJson},
      {"TwoCommands", R"({"typing":{"roomId":"r"},"leave":{"roomId":"r"}})", Encoding::kJson},
      {"BinaryBytesOnJson", truncated_post_chat(), Encoding::kJson},
  };
}

TEST(FrameCodec, MalformedInputIsMalformedFrame) {
  for (const auto& c : malformed_cases()) {
    SCOPED_TRACE(c.name);
    auto frame = decode_client_frame(c.bytes, c.encoding);
    ASSERT_FALSE(frame) << frame->ShortDebugString();
    EXPECT_EQ(frame.error(), Errc::kMalformedFrame);
  }
}

TEST(FrameCodec, EmptyBinaryInputIsAFrameWithoutACommand) {
  auto frame = decode_client_frame("", Encoding::kProto);
  ASSERT_TRUE(frame);
  EXPECT_EQ(validate_client_frame(*frame, CodecLimits{}), Errc::kInvalidArgument);
}

TEST(FrameCodec, FrameWithoutACommandIsInvalidArgument) {
  v1::ClientFrame frame;
  frame.set_request_id(3);
  frame.set_op_id("x");
  EXPECT_EQ(validate_client_frame(frame, CodecLimits{}), Errc::kInvalidArgument);
}

TEST(FrameCodec, UnknownBinaryFieldsAreDroppedAtDecode) {
  v1::ClientFrame f;
  f.mutable_post_chat()->set_room_id("r");
  f.mutable_post_chat()->set_text("hi");
  std::string bytes = f.SerializeAsString();
  bytes += std::string("\x9a\x06\x03", 3) + "xyz";  // Field 99, length-delimited.
  auto decoded = decode_client_frame(bytes, Encoding::kProto);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->SerializeAsString(), f.SerializeAsString());
  EXPECT_TRUE(decoded->GetReflection()->GetUnknownFields(*decoded).empty());
}

TEST(FrameCodec, TokensAndInvitesPastEightKibAreInvalidArgument) {
  const std::string big(8 * 1024 + 1, 'a');
  v1::ClientFrame hello;
  hello.mutable_hello()->set_token(big);
  v1::ClientFrame refresh;
  refresh.mutable_refresh_token()->set_token(big);
  v1::ClientFrame join;
  join.mutable_join()->set_room_id("r");
  join.mutable_join()->set_invite(big);
  for (const auto& f : {hello, refresh, join}) {
    EXPECT_EQ(validate_client_frame(f, {}), make_error_code(Errc::kInvalidArgument));
  }
  join.mutable_join()->set_invite(big.substr(1));
  EXPECT_FALSE(validate_client_frame(join, {}));
}

TEST(FrameCodec, OpIdUpToSixtyFourBytesIsAccepted) {
  v1::ClientFrame frame;
  frame.mutable_typing()->set_room_id("r");
  frame.set_op_id(std::string(64, 'o'));
  EXPECT_FALSE(validate_client_frame(frame, CodecLimits{}));
  frame.set_op_id(std::string(65, 'o'));
  EXPECT_EQ(validate_client_frame(frame, CodecLimits{}), Errc::kInvalidArgument);
  EXPECT_FALSE(validate_client_frame(frame, CodecLimits{.max_op_id_bytes = 65}));
}

v1::Event sample_event(std::uint64_t seq) {
  v1::Event e;
  e.set_room_id("r");
  e.set_seq(seq);
  e.set_prev_seq(seq - 1);
  e.set_time_unix_ms(1'700'000'000'000 + static_cast<std::int64_t>(seq));
  e.mutable_actor()->set_member_id("m" + std::to_string(seq % 3));
  e.mutable_actor()->set_display_name("M");
  switch (seq % 3) {
    case 0: e.mutable_room_created()->set_title("t"); break;
    case 1: e.mutable_member_joined(); break;
    default: e.mutable_chat_posted()->set_text("chat " + std::to_string(seq)); break;
  }
  return e;
}

// The message holds n one-event batch frames, events first..first+n-1 in order.
void expect_frames_of(const Result<v1::ServerMessage>& message, std::uint64_t first,
                      std::size_t n) {
  ASSERT_TRUE(message) << message.error().message();
  ASSERT_EQ(static_cast<std::size_t>(message->frames_size()), n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& frame = message->frames(static_cast<int>(i));
    ASSERT_EQ(frame.frame_case(), v1::ServerFrame::kEventBatch);
    ASSERT_EQ(frame.event_batch().events_size(), 1);
    EXPECT_TRUE(MessageDifferencer::Equals(frame.event_batch().events(0), sample_event(first + i)))
        << "event " << i;
  }
}

TEST(FrameCodec, ConcatenatedProtoPiecesParseAsOneMessageInOrder) {
  for (std::size_t n : {1U, 2U, 7U, 100U}) {
    SCOPED_TRACE(n);
    std::string message;
    for (std::size_t i = 0; i < n; ++i) {
      message += encode_event_piece(sample_event(10 + i), Encoding::kProto);
    }
    expect_frames_of(decode_server_message(message, Encoding::kProto), 10, n);
  }
}

TEST(FrameCodec, JsonPiecesJoinedWithPrefixAndSuffixParseAsOneMessageInOrder) {
  for (std::size_t n : {1U, 2U, 7U, 100U}) {
    SCOPED_TRACE(n);
    std::vector<std::string> pieces;
    for (std::size_t i = 0; i < n; ++i) {
      pieces.push_back(encode_event_piece(sample_event(10 + i), Encoding::kJson));
    }
    const auto message = join_pieces(pieces, Encoding::kJson);
    EXPECT_TRUE(message.starts_with(kJsonMessagePrefix));
    expect_frames_of(decode_server_message(message, Encoding::kJson), 10, n);
  }
}

TEST(FrameCodec, APieceIsTheEncodingOfAOneEventBatchFrame) {
  v1::ServerFrame frame;
  *frame.mutable_event_batch()->add_events() = sample_event(5);
  for (const auto encoding : kBothEncodings) {
    EXPECT_EQ(encode_event_piece(sample_event(5), encoding), encode_server_frame(frame, encoding));
  }
}

// Frames of every kind packed into one message come back in order (replies between events).
TEST(FrameCodec, MixedFramesInOneMessageKeepTheirOrder) {
  v1::ServerFrame reply;
  reply.mutable_reply()->set_request_id(7);
  reply.mutable_reply()->set_seq(11);
  for (const auto encoding : kBothEncodings) {
    SCOPED_TRACE(name_of(encoding));
    const std::vector<std::string> pieces = {encode_event_piece(sample_event(11), encoding),
                                             encode_server_frame(reply, encoding),
                                             encode_event_piece(sample_event(12), encoding)};
    auto message = decode_server_message(join_pieces(pieces, encoding), encoding);
    ASSERT_TRUE(message);
    ASSERT_EQ(message->frames_size(), 3);
    EXPECT_EQ(message->frames(0).event_batch().events(0).seq(), 11U);
    EXPECT_EQ(message->frames(1).reply().request_id(), 7U);
    EXPECT_EQ(message->frames(2).event_batch().events(0).seq(), 12U);
  }
}

TEST(FrameCodec, ServerFramesRoundTripInBothEncodings) {
  v1::ServerFrame reply;
  reply.mutable_reply()->set_request_id(9);
  reply.mutable_reply()->set_seq(12);
  reply.mutable_reply()->set_duplicate(true);
  auto* join = reply.mutable_reply()->mutable_join();
  join->set_mode(v1::RESUME_MODE_SNAPSHOT);
  join->set_epoch(77);
  join->mutable_room()->set_room_id("r");
  v1::ServerFrame snapshot;
  snapshot.mutable_snapshot()->set_room_id("r");
  snapshot.mutable_snapshot()->set_seq(3);
  snapshot.mutable_snapshot()->mutable_board()->set_chat_message_count(2);
  for (const auto encoding : kBothEncodings) {
    for (const auto* frame : {&reply, &snapshot}) {
      SCOPED_TRACE(name_of(encoding));
      auto decoded = decode_server_message(
          join_pieces({encode_server_frame(*frame, encoding)}, encoding), encoding);
      ASSERT_TRUE(decoded);
      ASSERT_EQ(decoded->frames_size(), 1);
      EXPECT_TRUE(MessageDifferencer::Equals(decoded->frames(0), *frame));
    }
  }
}

// The hand-written envelopes (no copy of the frame, the event or the board) must be the bytes
// protobuf itself writes for ServerMessage{frames: [frame]}.
TEST(FrameCodec, HandWrittenEnvelopesAreTheBytesProtobufWrites) {
  auto protobuf_bytes = [](const v1::ServerFrame& frame) {
    v1::ServerMessage message;
    *message.add_frames() = frame;
    return message.SerializeAsString();
  };
  for (const std::uint64_t seq : {1U, 5U, 300U, 70'000U}) {
    SCOPED_TRACE(seq);
    v1::ServerFrame frame;
    *frame.mutable_event_batch()->add_events() = sample_event(seq);
    EXPECT_EQ(encode_event_piece(sample_event(seq), Encoding::kProto), protobuf_bytes(frame));
    frame.Clear();
    frame.mutable_reply()->set_request_id(seq);
    frame.mutable_reply()->set_seq(seq + 1);
    EXPECT_EQ(encode_server_frame(frame, Encoding::kProto), protobuf_bytes(frame));
  }
  // A board past 16 KiB: the length varints take 3 bytes at every level.
  v1::BoardSnapshot board;
  board.set_seq(42);
  for (int i = 0; i < 200; ++i) {
    auto* idea = board.add_ideas();
    idea->set_idea_id(static_cast<std::uint64_t>(i + 1));
    idea->set_text(std::string(100, 'x'));
  }
  v1::ServerFrame snap;
  snap.mutable_snapshot()->set_room_id("r");
  snap.mutable_snapshot()->set_seq(42);
  *snap.mutable_snapshot()->mutable_board() = board;
  EXPECT_EQ(encode_snapshot_frame("r", 42, board, 0, Encoding::kProto), protobuf_bytes(snap));
}

// With ideas left out, the snapshot says how many (its fields in another order: same message).
TEST(FrameCodec, ASnapshotCarriesTheCountOfIdeasLeftOutInBothEncodings) {
  v1::BoardSnapshot board;
  board.set_seq(9);
  board.add_ideas()->set_idea_id(8);
  v1::ServerFrame want;
  want.mutable_snapshot()->set_room_id("r");
  want.mutable_snapshot()->set_seq(9);
  *want.mutable_snapshot()->mutable_board() = board;
  want.mutable_snapshot()->set_ideas_omitted(1234);
  for (const auto encoding : kBothEncodings) {
    SCOPED_TRACE(name_of(encoding));
    auto decoded = decode_server_message(
        join_pieces({encode_snapshot_frame("r", 9, board, 1234, encoding)}, encoding), encoding);
    ASSERT_TRUE(decoded);
    ASSERT_EQ(decoded->frames_size(), 1);
    EXPECT_TRUE(MessageDifferencer::Equals(decoded->frames(0), want));
  }
}

// The GetIdeas reply: a head per request around a shared page, packed after other frames.
TEST(FrameCodec, AnIdeasPageHeadAndItsPageAreOneReply) {
  std::vector<v1::Idea> ideas(3);
  for (std::size_t i = 0; i < ideas.size(); ++i) {
    ideas[i].set_idea_id(10 + i);
    ideas[i].set_text("idea " + std::to_string(i));
    ideas[i].mutable_author()->set_member_id("m");
  }
  const std::vector<const v1::Idea*> page = {&ideas[0], &ideas[1], &ideas[2]};
  for (const bool has_more : {false, true}) {
    SCOPED_TRACE(has_more);
    const auto body = encode_ideas_page_body(page, has_more);
    // One page body, many heads: each reply carries its own request id and head seq.
    for (const auto& [request_id, seq] :
         {std::pair<std::uint64_t, std::uint64_t>{0, 77}, {5, 0}, {1U << 20, 1ULL << 40}}) {
      const auto message = encode_event_piece(sample_event(3), Encoding::kProto) +
                           encode_ideas_page_head(request_id, seq, body.size()) + body;
      auto decoded = decode_server_message(message, Encoding::kProto);
      ASSERT_TRUE(decoded);
      ASSERT_EQ(decoded->frames_size(), 2);
      v1::Reply want;
      want.set_request_id(request_id);
      for (const auto& idea : ideas) {
        *want.mutable_ideas()->add_ideas() = idea;
      }
      want.mutable_ideas()->set_has_more(has_more);
      want.mutable_ideas()->set_seq(seq);
      EXPECT_TRUE(MessageDifferencer::Equals(decoded->frames(1).reply(), want))
          << decoded->frames(1).ShortDebugString();
    }
  }
}

// The join reply with its online members encoded once each, appended after the other fields.
TEST(FrameCodec, AJoinReplyWithPreEncodedOnlineMembersParsesInTheirOrder) {
  v1::JoinResult result;
  result.set_epoch(4);
  result.set_head_seq(99);
  result.set_mode(v1::RESUME_MODE_SNAPSHOT);
  result.set_last_read_seq(7);
  std::string online;
  v1::Reply want;
  want.set_request_id(3);
  *want.mutable_join() = result;
  for (const char* id : {"ann", "bob", "cat"}) {
    v1::Member m;
    m.set_member_id(id);
    m.set_display_name(std::string("Name ") + id);
    online += encode_online_member(m);
    *want.mutable_join()->add_online() = m;
  }
  auto decoded = decode_server_message(encode_join_reply(3, result, online), Encoding::kProto);
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->frames_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(decoded->frames(0).reply(), want))
      << decoded->frames(0).ShortDebugString();
}

}  // namespace
}  // namespace huddle::codec
