#include "server/codec/frame_codec.hpp"

#include <initializer_list>
#include <vector>

#include <google/protobuf/util/json_util.h>

namespace huddle::codec {
namespace {

namespace pbu = google::protobuf::util;

pbu::JsonPrintOptions print_options() {
  pbu::JsonPrintOptions opts;
  opts.add_whitespace = false;
  opts.always_print_primitive_fields = false;
  opts.preserve_proto_field_names = false;  // Canonical lowerCamelCase.
  return opts;
}

template <class Message>
Result<Message> parse(std::string_view bytes, Encoding encoding) {
  Message msg;
  if (encoding == Encoding::kProto) {
    if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Errc::kMalformedFrame;
    }
    return msg;
  }
  pbu::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;  // A typo in a field name is an error, not silence.
  if (!pbu::JsonStringToMessage(google::protobuf::StringPiece(bytes.data(), bytes.size()), &msg,
                                opts)
           .ok()) {
    return Errc::kMalformedFrame;
  }
  return msg;
}

// Hand-written protobuf envelopes (proto3 wire format: a length-delimited field is its tag,
// the varint length, then the bytes). Field numbers from proto/huddle/v1/frame.proto/event.proto.
constexpr std::uint32_t kServerMessageFrames = huddle::v1::ServerMessage::kFramesFieldNumber;
constexpr std::uint32_t kServerFrameReply = huddle::v1::ServerFrame::kReplyFieldNumber;
constexpr std::uint32_t kReplyRequestId = huddle::v1::Reply::kRequestIdFieldNumber;
constexpr std::uint32_t kReplyIdeas = huddle::v1::Reply::kIdeasFieldNumber;
constexpr std::uint32_t kReplyJoin = huddle::v1::Reply::kJoinFieldNumber;
constexpr std::uint32_t kJoinResultOnline = huddle::v1::JoinResult::kOnlineFieldNumber;
constexpr std::uint32_t kIdeasPageIdeas = huddle::v1::IdeasPage::kIdeasFieldNumber;
constexpr std::uint32_t kIdeasPageHasMore = huddle::v1::IdeasPage::kHasMoreFieldNumber;
constexpr std::uint32_t kIdeasPageSeq = huddle::v1::IdeasPage::kSeqFieldNumber;
constexpr std::uint32_t kServerFrameEventBatch = huddle::v1::ServerFrame::kEventBatchFieldNumber;
constexpr std::uint32_t kServerFrameSnapshot = huddle::v1::ServerFrame::kSnapshotFieldNumber;
constexpr std::uint32_t kEventBatchEvents = huddle::v1::EventBatch::kEventsFieldNumber;
constexpr std::uint32_t kRoomSnapshotRoomId = huddle::v1::RoomSnapshot::kRoomIdFieldNumber;
constexpr std::uint32_t kRoomSnapshotSeq = huddle::v1::RoomSnapshot::kSeqFieldNumber;
constexpr std::uint32_t kRoomSnapshotBoard = huddle::v1::RoomSnapshot::kBoardFieldNumber;
constexpr std::uint32_t kRoomSnapshotIdeasOmitted =
    huddle::v1::RoomSnapshot::kIdeasOmittedFieldNumber;

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void append_bytes_field(std::string& out, std::uint32_t field, std::string_view bytes) {
  append_varint(out, (field << 3) | 2U);
  append_varint(out, bytes.size());
  out.append(bytes);
}

// The message is serialized straight into `out`, after its tag and length.
void append_message_field(std::string& out, std::uint32_t field,
                          const google::protobuf::MessageLite& msg) {
  append_varint(out, (field << 3) | 2U);
  const std::size_t size = msg.ByteSizeLong();
  append_varint(out, size);
  const std::size_t at = out.size();
  out.resize(at + size);
  msg.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(out.data() + at));
}

void append_varint_field(std::string& out, std::uint32_t field, std::uint64_t value) {
  append_varint(out, (field << 3) | 0U);
  append_varint(out, value);
}

// One level of nesting: the inner part is the length-delimited field `field`, after `before`
// (the level's other fields, already encoded: a parser takes fields in any order).
struct Level {
  std::uint32_t field;
  std::string_view before = {};
};

// `inner_size` bytes wrapped in `levels` (innermost first): the heads of every level, outermost
// first, so that the inner part is written once, after them, and never copied up a level.
std::string heads(std::size_t inner_size, std::initializer_list<Level> levels) {
  std::vector<std::string> parts;  // Innermost first.
  std::size_t size = inner_size;
  for (const auto& level : levels) {
    std::string head(level.before);
    append_varint(head, (level.field << 3) | 2U);
    append_varint(head, size);
    size += head.size();
    parts.push_back(std::move(head));
  }
  std::string out;
  out.reserve(size);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    out.append(*it);
  }
  return out;
}

std::string request_id_field(std::uint64_t request_id) {
  std::string out;
  if (request_id != 0) {
    append_varint_field(out, kReplyRequestId, request_id);
  }
  return out;
}

std::string nest(std::string_view inner, std::initializer_list<Level> levels) {
  std::string out = heads(inner.size(), levels);
  out.append(inner);
  return out;
}

std::string nest(const google::protobuf::MessageLite& inner, std::initializer_list<Level> levels) {
  const std::size_t size = inner.ByteSizeLong();
  std::string out = heads(size, levels);
  const std::size_t at = out.size();
  out.resize(at + size);
  inner.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(out.data() + at));
  return out;
}

template <class Message>
std::string encode(const Message& msg, Encoding encoding) {
  std::string out;
  if (encoding == Encoding::kProto) {
    msg.SerializeToString(&out);
    return out;
  }
  auto status = pbu::MessageToJsonString(msg, &out, print_options());
  // Our own messages always convert; a failure here is a bug, not input.
  if (!status.ok()) {
    out.clear();
  }
  return out;
}

}  // namespace

Result<huddle::v1::ClientFrame> decode_client_frame(std::string_view bytes, Encoding encoding) {
  auto frame = parse<huddle::v1::ClientFrame>(bytes, encoding);
  if (frame && encoding == Encoding::kProto) {
    // Fields this server does not know are dropped here, before anything can copy them into
    // an event, the log or another member's frame (JSON refuses them instead).
    frame->DiscardUnknownFields();
  }
  return frame;
}

boost::system::error_code validate_client_frame(const huddle::v1::ClientFrame& frame,
                                                const CodecLimits& limits) {
  if (frame.command_case() == huddle::v1::ClientFrame::COMMAND_NOT_SET) {
    return Errc::kInvalidArgument;
  }
  if (frame.op_id().size() > limits.max_op_id_bytes) {
    return Errc::kInvalidArgument;
  }
  const std::string* token = frame.has_hello()           ? &frame.hello().token()
                             : frame.has_refresh_token() ? &frame.refresh_token().token()
                             : frame.has_join()          ? &frame.join().invite()
                                                         : nullptr;
  if (token != nullptr && token->size() > limits.max_token_bytes) {
    return Errc::kInvalidArgument;
  }
  return {};
}

std::string encode_server_frame(const huddle::v1::ServerFrame& frame, Encoding encoding) {
  if (encoding == Encoding::kJson) {
    return encode(frame, encoding);
  }
  // ServerMessage{frames: [frame]} written around the frame's own bytes: the same bytes as
  // copying the frame into a ServerMessage and serializing that, without the copy.
  return nest(frame, {{kServerMessageFrames}});
}

std::string encode_event_piece(const huddle::v1::Event& event, Encoding encoding) {
  if (encoding == Encoding::kJson) {
    huddle::v1::ServerFrame frame;
    *frame.mutable_event_batch()->add_events() = event;
    return encode(frame, encoding);
  }
  // ServerMessage{frames: [ServerFrame{event_batch: EventBatch{events: [event]}}]}.
  return nest(event, {{kEventBatchEvents}, {kServerFrameEventBatch}, {kServerMessageFrames}});
}

std::string encode_snapshot_frame(std::string_view room_id, std::uint64_t seq,
                                  const huddle::v1::BoardSnapshot& board,
                                  std::uint32_t ideas_omitted, Encoding encoding) {
  if (encoding == Encoding::kJson) {
    huddle::v1::ServerFrame frame;
    auto* s = frame.mutable_snapshot();
    s->set_room_id(std::string(room_id));
    s->set_seq(seq);
    *s->mutable_board() = board;
    s->set_ideas_omitted(ideas_omitted);
    return encode(frame, encoding);
  }
  // ServerMessage{frames: [ServerFrame{snapshot: RoomSnapshot{room_id, seq, ideas_omitted,
  // board}}]}, the board serialized in place (a board of 2000 ideas is ~370 KB: no copy of it).
  std::string fields;
  if (!room_id.empty()) {
    append_bytes_field(fields, kRoomSnapshotRoomId, room_id);
  }
  if (seq != 0) {
    append_varint_field(fields, kRoomSnapshotSeq, seq);
  }
  if (ideas_omitted != 0) {
    append_varint_field(fields, kRoomSnapshotIdeasOmitted, ideas_omitted);
  }
  return nest(board,
              {{kRoomSnapshotBoard, fields}, {kServerFrameSnapshot}, {kServerMessageFrames}});
}

std::string encode_ideas_page_body(std::span<const huddle::v1::Idea* const> ideas, bool has_more) {
  // Each idea serialized from where it is: a page of 500 ideas copies none of them.
  std::string body;
  if (has_more) {
    append_varint_field(body, kIdeasPageHasMore, 1);
  }
  for (const auto* idea : ideas) {
    append_message_field(body, kIdeasPageIdeas, *idea);
  }
  return body;
}

std::string encode_ideas_page_head(std::uint64_t request_id, std::uint64_t seq,
                                   std::size_t page_size) {
  // ServerMessage{frames: [ServerFrame{reply: Reply{request_id, ideas: IdeasPage{seq, ...}}}]},
  // up to the page's own fields. `seq` comes first, out of field order: a parser takes a
  // message's fields in any order (protobuf's encoding guide), and a field occurs once here.
  std::string seq_field;
  if (seq != 0) {
    append_varint_field(seq_field, kIdeasPageSeq, seq);
  }
  auto out = heads(
      seq_field.size() + page_size,
      {{kReplyIdeas, request_id_field(request_id)}, {kServerFrameReply}, {kServerMessageFrames}});
  out.append(seq_field);
  return out;
}

std::string encode_online_member(const huddle::v1::Member& member) {
  std::string out;
  append_message_field(out, kJoinResultOnline, member);
  return out;
}

std::string encode_join_reply(std::uint64_t request_id, const huddle::v1::JoinResult& result,
                              std::string_view online) {
  // JoinResult's other fields, then the online members.
  std::string join;
  result.SerializeToString(&join);
  join.append(online);
  return nest(
      join,
      {{kReplyJoin, request_id_field(request_id)}, {kServerFrameReply}, {kServerMessageFrames}});
}

std::string join_pieces(const std::vector<std::string>& pieces, Encoding encoding) {
  std::string out;
  if (encoding == Encoding::kJson) {
    out.append(kJsonMessagePrefix);
  }
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (encoding == Encoding::kJson && i > 0) {
      out.push_back(',');
    }
    out.append(pieces[i]);
  }
  if (encoding == Encoding::kJson) {
    out.append(kJsonMessageSuffix);
  }
  return out;
}

Result<huddle::v1::ServerMessage> decode_server_message(std::string_view bytes, Encoding encoding) {
  return parse<huddle::v1::ServerMessage>(bytes, encoding);
}

std::string encode_client_frame(const huddle::v1::ClientFrame& frame, Encoding encoding) {
  return encode(frame, encoding);
}

}  // namespace huddle::codec
