#include "core/common/error.hpp"

#include <string>

namespace huddle {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"

class HuddleCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "huddle"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kOk: return "ok";
      case Errc::kMalformedFrame: return "malformed frame";
      case Errc::kInvalidArgument: return "invalid argument";
      case Errc::kUnauthenticated: return "hello required";
      case Errc::kAlreadyAuthenticated: return "already said hello";
      case Errc::kRoomNotFound: return "room not found";
      case Errc::kRoomExists: return "room exists";
      case Errc::kNotJoined: return "not joined to the room";
      case Errc::kPermissionDenied: return "permission denied";
      case Errc::kStorageUnavailable: return "storage unavailable";
      case Errc::kConflict: return "append conflict";
      case Errc::kOverloaded: return "overloaded";
      case Errc::kInternal: return "internal error";
      case Errc::kWrongPhase: return "not allowed in this phase";
      case Errc::kRoomClosed: return "the room is closed (done phase)";
      case Errc::kIdeaNotFound: return "idea not found";
      case Errc::kGroupNotFound: return "group not found";
      case Errc::kCommentNotFound: return "comment not found";
      case Errc::kActionNotFound: return "action item not found";
      case Errc::kMemberNotFound: return "member not in the room";
      case Errc::kVoteBudgetExceeded: return "no votes left";
      case Errc::kVoteCapExceeded: return "per-idea vote cap reached";
      case Errc::kNoVoteToRetract: return "no vote to retract on this idea";
      case Errc::kBudgetBelowVotesCast: return "a member has cast more votes than that budget";
      case Errc::kIdeaHidden: return "the idea is hidden";
      case Errc::kLimitExceeded: return "board limit reached";
      case Errc::kExportTooLarge: return "export too large for a frame; use the HTTP export";
      case Errc::kRoomArchived: return "room archived: read-only";
      case Errc::kStorageFull: return "storage full: writes refused until space returns";
      case Errc::kRateLimited: return "rate limited: too many commands";
    }
    return "unknown huddle error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& huddle_category() noexcept {
  static const HuddleCategory kCategory;
  return kCategory;
}

}  // namespace huddle
