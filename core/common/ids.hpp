// Strong types for identities, so a room id is never passed where a member id is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace huddle {

template <class Tag, class T>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(T v) : v_(std::move(v)) {}
  const T& value() const noexcept { return v_; }
  auto operator<=>(const StrongId&) const = default;
  bool operator==(const StrongId&) const = default;

 private:
  T v_{};
};

using RoomId = StrongId<struct RoomIdTag, std::string>;
using MemberId = StrongId<struct MemberIdTag, std::string>;
using OpId = StrongId<struct OpIdTag, std::string>;
using RequestId = StrongId<struct RequestIdTag, std::uint64_t>;
using Seq = StrongId<struct SeqTag, std::uint64_t>;
using Epoch = StrongId<struct EpochTag, std::uint64_t>;

// Room ids: [a-z0-9][a-z0-9_-]{0,63}. They are key prefixes in the store, so they never hold 0x00.
[[nodiscard]] bool is_valid_room_id(std::string_view id) noexcept;
// Member ids: [A-Za-z0-9_-]{1,64}.
[[nodiscard]] bool is_valid_member_id(std::string_view id) noexcept;

}  // namespace huddle

template <class Tag, class T>
struct std::hash<huddle::StrongId<Tag, T>> {
  std::size_t operator()(const huddle::StrongId<Tag, T>& id) const noexcept {
    return std::hash<T>{}(id.value());
  }
};
