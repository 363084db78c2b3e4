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
