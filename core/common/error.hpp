// Errc: every expected failure in Huddle, as a boost::system error category.
// Result<T> = boost::system::result<T>. The mapping to wire ErrorCodes and WebSocket close codes
// lives only in server/codec/wire_errors.cpp.
#pragma once

#include <string_view>
#include <system_error>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace huddle {

enum class Errc {
  kOk = 0,
  kMalformedFrame,        // Bytes are not a decodable ClientFrame.
  kInvalidArgument,       // A field breaks a documented limit.
  kUnauthenticated,       // Command before Hello.
  kAlreadyAuthenticated,  // A second Hello.
  kRoomNotFound,
  kRoomExists,
  kNotJoined,
  kPermissionDenied,
  kStorageUnavailable,  // The log failed; nothing was acked. Retryable.
  kConflict,            // Append whose prev_seq is not the stored head (internal; room resyncs).
  kOverloaded,          // Too much in flight. Retryable.
  kInternal,
  // The board's rules (core/board/rules.hpp). Nothing changed; not retryable.
  kWrongPhase,  // Not allowed in the current phase.
  kRoomClosed,  // The room is done.
  kIdeaNotFound,
  kGroupNotFound,
  kCommentNotFound,
  kActionNotFound,
  kMemberNotFound,  // Not in the roster.
  kVoteBudgetExceeded,
  kVoteCapExceeded,
  kNoVoteToRetract,
  kBudgetBelowVotesCast,
  kIdeaHidden,     // Another member's idea that is still hidden.
  kLimitExceeded,  // Too many ideas, groups, comments or action items.
  kExportTooLarge,
  kRoomArchived,  // An operator archived the room: read-only.
  kStorageFull,   // Retryable: the disk reserve is reached; writes refused until space returns.
  kRateLimited,   // Retryable later: the connection's command rate limit.
};
inline constexpr Errc kLastErrc = Errc::kRateLimited;  // Tests walk every value up to it.

const boost::system::error_category& huddle_category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), huddle_category()};
}

template <class T>
using Result = boost::system::result<T>;

// Swallowing an error is explicit and greppable.
inline void ignore_error(const boost::system::error_code& /*ec*/, std::string_view /*why*/) {}

}  // namespace huddle

namespace boost::system {
template <>
struct is_error_code_enum<huddle::Errc> : std::true_type {};
}  // namespace boost::system
