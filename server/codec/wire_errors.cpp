#include "server/codec/wire_errors.hpp"

namespace huddle::codec {

huddle::v1::ErrorCode to_wire_code(const boost::system::error_code& ec) {
  if (ec.category() != huddle_category()) {
    return huddle::v1::ERROR_CODE_INTERNAL;
  }
  switch (static_cast<Errc>(ec.value())) {
    case Errc::kOk: return huddle::v1::ERROR_CODE_UNSPECIFIED;
    case Errc::kMalformedFrame: return huddle::v1::ERROR_CODE_MALFORMED_FRAME;
    case Errc::kInvalidArgument: return huddle::v1::ERROR_CODE_INVALID_ARGUMENT;
    case Errc::kUnauthenticated: return huddle::v1::ERROR_CODE_UNAUTHENTICATED;
    case Errc::kAlreadyAuthenticated: return huddle::v1::ERROR_CODE_ALREADY_AUTHENTICATED;
    case Errc::kRoomNotFound: return huddle::v1::ERROR_CODE_ROOM_NOT_FOUND;
    case Errc::kRoomExists: return huddle::v1::ERROR_CODE_ROOM_EXISTS;
    case Errc::kNotJoined: return huddle::v1::ERROR_CODE_NOT_JOINED;
    case Errc::kPermissionDenied: return huddle::v1::ERROR_CODE_PERMISSION_DENIED;
    case Errc::kStorageUnavailable: return huddle::v1::ERROR_CODE_STORAGE_UNAVAILABLE;
    // A conflict is the room resynchronizing with its log after a failed append: nothing was
    // stored, and a retry will get the next seq.
    case Errc::kConflict: return huddle::v1::ERROR_CODE_STORAGE_UNAVAILABLE;
    case Errc::kOverloaded: return huddle::v1::ERROR_CODE_OVERLOADED;
    case Errc::kInternal: return huddle::v1::ERROR_CODE_INTERNAL;
    case Errc::kWrongPhase: return huddle::v1::ERROR_CODE_WRONG_PHASE;
    case Errc::kRoomClosed: return huddle::v1::ERROR_CODE_ROOM_CLOSED;
    case Errc::kIdeaNotFound: return huddle::v1::ERROR_CODE_IDEA_NOT_FOUND;
    case Errc::kGroupNotFound: return huddle::v1::ERROR_CODE_GROUP_NOT_FOUND;
    case Errc::kCommentNotFound: return huddle::v1::ERROR_CODE_COMMENT_NOT_FOUND;
    case Errc::kActionNotFound: return huddle::v1::ERROR_CODE_ACTION_NOT_FOUND;
    case Errc::kMemberNotFound: return huddle::v1::ERROR_CODE_MEMBER_NOT_FOUND;
    case Errc::kVoteBudgetExceeded: return huddle::v1::ERROR_CODE_VOTE_BUDGET_EXCEEDED;
    case Errc::kVoteCapExceeded: return huddle::v1::ERROR_CODE_VOTE_CAP_EXCEEDED;
    case Errc::kNoVoteToRetract: return huddle::v1::ERROR_CODE_NO_VOTE_TO_RETRACT;
    case Errc::kBudgetBelowVotesCast: return huddle::v1::ERROR_CODE_BUDGET_BELOW_VOTES_CAST;
    case Errc::kIdeaHidden: return huddle::v1::ERROR_CODE_IDEA_HIDDEN;
    case Errc::kLimitExceeded: return huddle::v1::ERROR_CODE_LIMIT_EXCEEDED;
    case Errc::kExportTooLarge: return huddle::v1::ERROR_CODE_EXPORT_TOO_LARGE;
    case Errc::kRoomArchived: return huddle::v1::ERROR_CODE_ROOM_ARCHIVED;
    case Errc::kStorageFull: return huddle::v1::ERROR_CODE_STORAGE_FULL;
    case Errc::kRateLimited: return huddle::v1::ERROR_CODE_RATE_LIMITED;
  }
  return huddle::v1::ERROR_CODE_INTERNAL;
}

bool is_retryable(const boost::system::error_code& ec) {
  auto code = to_wire_code(ec);
  return code == huddle::v1::ERROR_CODE_STORAGE_UNAVAILABLE ||
         code == huddle::v1::ERROR_CODE_OVERLOADED || code == huddle::v1::ERROR_CODE_STORAGE_FULL ||
         code == huddle::v1::ERROR_CODE_RATE_LIMITED;
}

huddle::v1::ServerFrame make_error_reply(std::uint64_t request_id,
                                         const boost::system::error_code& ec) {
  huddle::v1::ServerFrame frame;
  auto* reply = frame.mutable_reply();
  reply->set_request_id(request_id);
  auto* error = reply->mutable_error();
  error->set_code(to_wire_code(ec));
  error->set_message(ec.message());
  error->set_retryable(is_retryable(ec));
  return frame;
}

}  // namespace huddle::codec
