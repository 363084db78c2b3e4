// How the Client decodes one WebSocket message from the server (huddle.v1+proto: one binary
// ServerMessage, docs/PROTOCOL.md section 2). Pure: no socket, no Client, so that arbitrary
// bytes can be fed to it (tests/fuzz/fuzz_sdk_frames.cpp). Internal to the SDK.
#pragma once

#include <string_view>

#include "core/common/error.hpp"
#include "huddle/v1/frame.pb.h"

namespace huddle::sdk {

// `bytes` as the ServerMessage it encodes. `text`: the message came as a WebSocket text
// message, which this subprotocol never sends. kMalformedFrame for a text message or bytes that
// are not a ServerMessage (a broken or hostile server: the Client reports it, drops the
// connection and reconnects). Never throws.
[[nodiscard]] Result<huddle::v1::ServerMessage> decode_server_message(std::string_view bytes,
                                                                      bool text);

}  // namespace huddle::sdk
