#include "core/common/ids.hpp"

namespace huddle {
namespace {
constexpr std::size_t kMaxIdBytes = 64;

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
}  // namespace

bool is_valid_room_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIdBytes || !is_lower_alnum(id.front())) {
    return false;
  }
  for (char c : id) {
    if (!is_lower_alnum(c) && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

bool is_valid_member_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return false;
  }
  for (char c : id) {
    if (!is_alnum(c) && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace huddle
