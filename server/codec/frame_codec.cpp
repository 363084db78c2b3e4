#include "server/codec/frame_codec.hpp"

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
  huddle::v1::ServerMessage message;
  *message.add_frames() = frame;
  return encode(message, encoding);
}

std::string encode_event_piece(const huddle::v1::Event& event, Encoding encoding) {
  huddle::v1::ServerFrame frame;
  *frame.mutable_event_batch()->add_events() = event;
  return encode_server_frame(frame, encoding);
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
