// Errc -> wire ErrorCode: the only mapping (CONVENTIONS 3). Every failure reaches the client as a
// documented code (invariant 9), and only storage / overload failures invite a retry.
#include "server/codec/wire_errors.hpp"

#include <string>
#include <vector>

#include <boost/system/errc.hpp>
#include <gtest/gtest.h>

namespace huddle::codec {
namespace {

namespace v1 = huddle::v1;

struct MappingCase {
  Errc errc;
  v1::ErrorCode code;
};

// The documented mapping. kConflict is internal: the room resyncs and the client retries.
std::vector<MappingCase> mapping() {
  return {
      {Errc::kMalformedFrame, v1::ERROR_CODE_MALFORMED_FRAME},
      {Errc::kInvalidArgument, v1::ERROR_CODE_INVALID_ARGUMENT},
      {Errc::kUnauthenticated, v1::ERROR_CODE_UNAUTHENTICATED},
      {Errc::kAlreadyAuthenticated, v1::ERROR_CODE_ALREADY_AUTHENTICATED},
      {Errc::kRoomNotFound, v1::ERROR_CODE_ROOM_NOT_FOUND},
      {Errc::kRoomExists, v1::ERROR_CODE_ROOM_EXISTS},
      {Errc::kNotJoined, v1::ERROR_CODE_NOT_JOINED},
      {Errc::kPermissionDenied, v1::ERROR_CODE_PERMISSION_DENIED},
      {Errc::kStorageUnavailable, v1::ERROR_CODE_STORAGE_UNAVAILABLE},
      {Errc::kConflict, v1::ERROR_CODE_STORAGE_UNAVAILABLE},
      {Errc::kOverloaded, v1::ERROR_CODE_OVERLOADED},
      {Errc::kInternal, v1::ERROR_CODE_INTERNAL},
      {Errc::kWrongPhase, v1::ERROR_CODE_WRONG_PHASE},
      {Errc::kRoomClosed, v1::ERROR_CODE_ROOM_CLOSED},
      {Errc::kIdeaNotFound, v1::ERROR_CODE_IDEA_NOT_FOUND},
      {Errc::kGroupNotFound, v1::ERROR_CODE_GROUP_NOT_FOUND},
      {Errc::kCommentNotFound, v1::ERROR_CODE_COMMENT_NOT_FOUND},
      {Errc::kActionNotFound, v1::ERROR_CODE_ACTION_NOT_FOUND},
      {Errc::kMemberNotFound, v1::ERROR_CODE_MEMBER_NOT_FOUND},
      {Errc::kVoteBudgetExceeded, v1::ERROR_CODE_VOTE_BUDGET_EXCEEDED},
      {Errc::kVoteCapExceeded, v1::ERROR_CODE_VOTE_CAP_EXCEEDED},
      {Errc::kNoVoteToRetract, v1::ERROR_CODE_NO_VOTE_TO_RETRACT},
      {Errc::kBudgetBelowVotesCast, v1::ERROR_CODE_BUDGET_BELOW_VOTES_CAST},
      {Errc::kIdeaHidden, v1::ERROR_CODE_IDEA_HIDDEN},
      {Errc::kLimitExceeded, v1::ERROR_CODE_LIMIT_EXCEEDED},
      {Errc::kExportTooLarge, v1::ERROR_CODE_EXPORT_TOO_LARGE},
      {Errc::kRoomArchived, v1::ERROR_CODE_ROOM_ARCHIVED},
      {Errc::kStorageFull, v1::ERROR_CODE_STORAGE_FULL},
      {Errc::kRateLimited, v1::ERROR_CODE_RATE_LIMITED},
  };
}

// Every Errc value, kOk excluded, found through the category so that a new value cannot be
// forgotten: the category names values up to kLastErrc and calls the next one unknown.
std::vector<Errc> every_error() {
  std::vector<Errc> out;
  for (int v = static_cast<int>(Errc::kOk) + 1; v <= static_cast<int>(kLastErrc); ++v) {
    out.push_back(static_cast<Errc>(v));
  }
  return out;
}

TEST(WireErrors, TheTablesCoverEveryErrcValue) {
  EXPECT_EQ(huddle_category().message(static_cast<int>(kLastErrc) + 1), "unknown huddle error");
  EXPECT_EQ(mapping().size(), every_error().size());
}

TEST(WireErrors, EveryErrcMapsToADocumentedSpecificCode) {
  for (const Errc e : every_error()) {
    const auto ec = make_error_code(e);
    SCOPED_TRACE(ec.message());
    const auto code = to_wire_code(ec);
    EXPECT_TRUE(v1::ErrorCode_IsValid(code));
    EXPECT_NE(code, v1::ERROR_CODE_UNSPECIFIED);
    EXPECT_NE(ec.message(), "unknown huddle error");
  }
}

TEST(WireErrors, EachErrcMapsToItsDocumentedCode) {
  for (const auto& c : mapping()) {
    const auto ec = make_error_code(c.errc);
    SCOPED_TRACE(ec.message());
    EXPECT_EQ(to_wire_code(ec), c.code) << v1::ErrorCode_Name(to_wire_code(ec));
  }
}

TEST(WireErrors, OkMapsToUnspecified) {
  EXPECT_EQ(to_wire_code(make_error_code(Errc::kOk)), v1::ERROR_CODE_UNSPECIFIED);
}

TEST(WireErrors, OnlyStorageOverloadAndRateFailuresAreRetryable) {
  for (const Errc e : every_error()) {
    const auto ec = make_error_code(e);
    SCOPED_TRACE(ec.message());
    const auto code = to_wire_code(ec);
    const bool expected =
        code == v1::ERROR_CODE_STORAGE_UNAVAILABLE || code == v1::ERROR_CODE_OVERLOADED ||
        code == v1::ERROR_CODE_STORAGE_FULL || code == v1::ERROR_CODE_RATE_LIMITED;
    EXPECT_EQ(is_retryable(ec), expected);
  }
  EXPECT_TRUE(is_retryable(Errc::kStorageUnavailable));
  EXPECT_TRUE(is_retryable(Errc::kOverloaded));
  EXPECT_TRUE(is_retryable(Errc::kConflict));
  EXPECT_FALSE(is_retryable(Errc::kInvalidArgument));
  EXPECT_FALSE(is_retryable(Errc::kInternal));
}

TEST(WireErrors, ErrorReplyCarriesRequestIdCodeMessageAndRetryable) {
  const auto frame = make_error_reply(42, Errc::kStorageUnavailable);
  ASSERT_EQ(frame.frame_case(), v1::ServerFrame::kReply);
  const auto& reply = frame.reply();
  EXPECT_EQ(reply.request_id(), 42U);
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), v1::ERROR_CODE_STORAGE_UNAVAILABLE);
  EXPECT_EQ(reply.error().message(), "storage unavailable");
  EXPECT_TRUE(reply.error().retryable());
  EXPECT_EQ(reply.seq(), 0U);
  EXPECT_FALSE(reply.duplicate());
  EXPECT_EQ(reply.result_case(), v1::Reply::RESULT_NOT_SET);

  const auto invalid = make_error_reply(7, Errc::kInvalidArgument);
  EXPECT_EQ(invalid.reply().request_id(), 7U);
  EXPECT_EQ(invalid.reply().error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_FALSE(invalid.reply().error().retryable());
  EXPECT_FALSE(invalid.reply().error().message().empty());
}

TEST(WireErrors, AnErrorFromAnotherCategoryIsInternal) {
  const auto io = boost::system::errc::make_error_code(boost::system::errc::io_error);
  EXPECT_EQ(to_wire_code(io), v1::ERROR_CODE_INTERNAL);
  EXPECT_FALSE(is_retryable(io));
  // Same numeric value as a huddle code, other category: still INTERNAL.
  const boost::system::error_code same_value(static_cast<int>(Errc::kStorageUnavailable),
                                             boost::system::generic_category());
  EXPECT_EQ(to_wire_code(same_value), v1::ERROR_CODE_INTERNAL);
  const auto reply = make_error_reply(1, io);
  EXPECT_EQ(reply.reply().error().code(), v1::ERROR_CODE_INTERNAL);
  EXPECT_FALSE(reply.reply().error().retryable());
}

TEST(WireErrors, CloseCodesAreTheDocumentedOnes) {
  EXPECT_EQ(close_code::kSlowConsumer, 4008);  // Invariant 8: the slow-consumer close.
  EXPECT_EQ(close_code::kPolicyViolation, 1008);
  EXPECT_EQ(close_code::kTooBig, 1009);
  EXPECT_EQ(close_code::kProtocolError, 1002);
}

}  // namespace
}  // namespace huddle::codec
