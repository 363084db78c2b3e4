// The only mapping from internal errors (Errc) to what the wire carries: huddle.v1.ErrorCode in
// an error Reply, or a WebSocket close code. Documented in docs/PROTOCOL.md.
#pragma once

#include <cstdint>

#include "core/common/error.hpp"
#include "huddle/v1/error.pb.h"
#include "huddle/v1/frame.pb.h"

namespace huddle::codec {

// WebSocket close codes the server sends (RFC 6455 plus the 4000-4999 application range).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;  // Server shutting down; reconnect and resume.
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;  // Text frame on +proto, binary on +json.
inline constexpr std::uint16_t kInvalidPayload = 1007;   // Repeated malformed frames.
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kTooBig = 1009;        // Message over the frame limit.
inline constexpr std::uint16_t kAuthFailed = 4001;    // Bad token, or it expired unrefreshed.
inline constexpr std::uint16_t kAuthTimeout = 4002;   // No successful hello within the deadline.
inline constexpr std::uint16_t kSlowConsumer = 4008;  // Outbox over its bound; resume losslessly.
inline constexpr std::uint16_t kRateLimited = 4029;   // Kept sending past the rate limit.
}  // namespace close_code

[[nodiscard]] huddle::v1::ErrorCode to_wire_code(const boost::system::error_code& ec);
[[nodiscard]] bool is_retryable(const boost::system::error_code& ec);

// A Reply carrying `ec` for request `request_id`.
[[nodiscard]] huddle::v1::ServerFrame make_error_reply(std::uint64_t request_id,
                                                       const boost::system::error_code& ec);

}  // namespace huddle::codec
