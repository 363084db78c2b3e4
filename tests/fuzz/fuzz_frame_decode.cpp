// fuzz_frame_decode: arbitrary bytes as a client message, in both encodings (docs/PROTOCOL.md
// section 2), through what the server's Session does with it: decode_client_frame, then
// validate_client_frame (server/codec/frame_codec.hpp).
//
// Asserts, for every input and each encoding:
// - decoding either gives a frame or fails with MALFORMED_FRAME, nothing else (invariant 9);
// - validation gives OK or INVALID_ARGUMENT; a frame without a command or with an op_id over
//   the limit is never OK, and an OK frame has a command and an op_id within the limit;
// - round trip: a decoded frame re-encoded in the same encoding decodes again, to an equal
//   message (MessageDifferencer, unknown fields included) that validates the same;
// - a decoded frame re-encoded in the other encoding decodes to an equal message too (the two
//   encodings carry the same messages).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/util/message_differencer.h>

#include "fuzz_common.hpp"
#include "server/codec/frame_codec.hpp"

namespace {

using google::protobuf::util::MessageDifferencer;
using huddle::Errc;
using huddle::codec::CodecLimits;
using huddle::codec::Encoding;

Encoding other(Encoding e) {
  return e == Encoding::kProto ? Encoding::kJson : Encoding::kProto;
}

void check_validation(const huddle::v1::ClientFrame& frame, const CodecLimits& limits) {
  const auto ec = huddle::codec::validate_client_frame(frame, limits);
  HUDDLE_FUZZ_CHECK(!ec || ec == Errc::kInvalidArgument);
  if (frame.command_case() == huddle::v1::ClientFrame::COMMAND_NOT_SET ||
      frame.op_id().size() > limits.max_op_id_bytes) {
    HUDDLE_FUZZ_CHECK(ec == Errc::kInvalidArgument);
  }
}

void check_reencoded(const huddle::v1::ClientFrame& frame, Encoding encoding,
                     const CodecLimits& limits) {
  const std::string bytes = huddle::codec::encode_client_frame(frame, encoding);
  auto again = huddle::codec::decode_client_frame(bytes, encoding);
  HUDDLE_FUZZ_CHECK(again.has_value());
  HUDDLE_FUZZ_CHECK(MessageDifferencer::Equals(frame, *again));
  HUDDLE_FUZZ_CHECK(huddle::codec::validate_client_frame(frame, limits) ==
                    huddle::codec::validate_client_frame(*again, limits));
  // And it is a fixed point: encoding the re-decoded frame gives the same bytes (binary) or
  // text (JSON).
  HUDDLE_FUZZ_CHECK(huddle::codec::encode_client_frame(*again, encoding) == bytes);
}

void one_encoding(std::string_view input, Encoding encoding) {
  const CodecLimits limits;
  auto frame = huddle::codec::decode_client_frame(input, encoding);
  if (!frame) {
    HUDDLE_FUZZ_CHECK(frame.error() == Errc::kMalformedFrame);
    return;
  }
  check_validation(*frame, limits);
  check_reencoded(*frame, encoding, limits);
  check_reencoded(*frame, other(encoding), limits);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  huddle::fuzz::quiet_protobuf_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  one_encoding(input, Encoding::kProto);
  one_encoding(input, Encoding::kJson);
  return 0;
}
