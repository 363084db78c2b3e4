// Frame codec: the two wire encodings of protocol v1.
//   huddle.v1+proto: binary WebSocket messages, protobuf ClientFrame / ServerFrame.
//   huddle.v1+json : text WebSocket messages, proto3 canonical JSON of the same messages.
// Pure functions; no sockets. Events are encoded once per encoding as "pieces" that the writer
// concatenates into one EventBatch frame (see encode_event_piece).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "huddle/v1/event.pb.h"
#include "huddle/v1/frame.pb.h"

namespace huddle::codec {

enum class Encoding : unsigned char { kProto = 0, kJson = 1 };
inline constexpr std::size_t kEncodingCount = 2;

inline constexpr std::string_view kProtoSubprotocol = "huddle.v1+proto";
inline constexpr std::string_view kJsonSubprotocol = "huddle.v1+json";

struct CodecLimits {
  std::size_t max_op_id_bytes = 64;        // Dedup keys are stored per event; keep them small.
  std::size_t max_token_bytes = 8 * 1024;  // Hello.token, RefreshToken.token, Join.invite.
};

// Parses one client message. kMalformedFrame: not a ClientFrame in this encoding (bad protobuf,
// bad JSON, unknown JSON field, invalid UTF-8).
[[nodiscard]] Result<huddle::v1::ClientFrame> decode_client_frame(std::string_view bytes,
                                                                  Encoding encoding);

// Envelope checks that need no state: a command is set, op_id within limits.
// kInvalidArgument otherwise.
[[nodiscard]] boost::system::error_code validate_client_frame(const huddle::v1::ClientFrame& frame,
                                                              const CodecLimits& limits);

// One ServerFrame as a message piece. kProto: the bytes of ServerMessage{frames:[frame]}; any
// concatenation of pieces parses as one ServerMessage holding all their frames in order
// (protobuf appends repeated fields), so packing a connection's queue costs no re-encoding.
// kJson: the frame's JSON object; a message is kJsonMessagePrefix + pieces joined by "," +
// kJsonMessageSuffix. join_pieces() builds a message from pieces.
[[nodiscard]] std::string encode_server_frame(const huddle::v1::ServerFrame& frame,
                                              Encoding encoding);

// The piece of ServerFrame{event_batch{events:[event]}}.
[[nodiscard]] std::string encode_event_piece(const huddle::v1::Event& event, Encoding encoding);

inline constexpr std::string_view kJsonMessagePrefix = R"({"frames":[)";
inline constexpr std::string_view kJsonMessageSuffix = "]}";

// The piece of ServerFrame{snapshot{room_id, seq, board, ideas_omitted}}, without copying the
// board (a board of 2000 ideas is ~370 KB).
[[nodiscard]] std::string encode_snapshot_frame(std::string_view room_id, std::uint64_t seq,
                                                const huddle::v1::BoardSnapshot& board,
                                                std::uint32_t ideas_omitted, Encoding encoding);

// The GetIdeas reply in the proto encoding, in two parts so that a page many members ask for
// is encoded once and shared: the bytes of IdeasPage{has_more, ideas}, serializing each idea
// where it is; and the head, of each reply, that makes head + page the piece of
// ServerFrame{reply{request_id, ideas: page + seq}}. The page's `seq` (the head it was read at)
// is in the head, so one page serves every head at which the ideas are the same. (JSON: a
// ServerFrame through encode_server_frame.)
[[nodiscard]] std::string encode_ideas_page_body(std::span<const huddle::v1::Idea* const> ideas,
                                                 bool has_more);
[[nodiscard]] std::string encode_ideas_page_head(std::uint64_t request_id, std::uint64_t seq,
                                                 std::size_t page_size);

// The join reply in the proto encoding, with the online members encoded once each: the piece
// of ServerFrame{reply{request_id, join: result + online}}, where `online` is the concatenation
// of encode_online_member() of each (and `result` has none of its own).
[[nodiscard]] std::string encode_online_member(const huddle::v1::Member& member);
[[nodiscard]] std::string encode_join_reply(std::uint64_t request_id,
                                            const huddle::v1::JoinResult& result,
                                            std::string_view online);

// One WebSocket message from pieces (for tests and single sends; the Outbox packs its own).
[[nodiscard]] std::string join_pieces(const std::vector<std::string>& pieces, Encoding encoding);

// For clients and tests: parse a server message.
[[nodiscard]] Result<huddle::v1::ServerMessage> decode_server_message(std::string_view bytes,
                                                                      Encoding encoding);
// For clients and tests: encode a client message.
[[nodiscard]] std::string encode_client_frame(const huddle::v1::ClientFrame& frame,
                                              Encoding encoding);

}  // namespace huddle::codec
