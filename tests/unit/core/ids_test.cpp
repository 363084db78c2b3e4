// Identity validation: room ids are store key prefixes, member ids appear in dedup keys.
#include "core/common/ids.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace huddle {
namespace {

struct IdCase {
  std::string name;
  std::string id;
  bool valid = false;
};

std::vector<IdCase> room_id_cases() {
  using namespace std::string_literals;
  return {
      {"Empty", "", false},
      {"OneLetter", "a", true},
      {"OneDigit", "7", true},
      {"SixtyFourBytes", std::string(64, 'a'), true},
      {"SixtyFiveBytes", std::string(65, 'a'), false},
      {"DashesAndUnderscoresInside", "q3-plan_v2", true},
      {"TrailingDash", "plan-", true},
      {"Uppercase", "Plan", false},
      {"UppercaseInside", "plAn", false},
      {"LeadingDash", "-plan", false},
      {"LeadingUnderscore", "_plan", false},
      {"EmbeddedNul", "pl\0an"s, false},
      {"OnlyNul", "\0"s, false},
      {"Space", "q3 plan", false},
      {"Dot", "q3.plan", false},
      {"Slash", "q3/plan", false},
      {"UnicodeLetter", "caf\xc3\xa9", false},
      {"UnicodeOnly", "\xe4\xbc\x9a", false},
      {"HighByte", "\xff", false},
  };
}

std::vector<IdCase> member_id_cases() {
  using namespace std::string_literals;
  return {
      {"Empty", "", false},
      {"OneLetter", "a", true},
      {"OneUppercaseLetter", "Z", true},
      {"SixtyFourBytes", std::string(64, 'x'), true},
      {"SixtyFiveBytes", std::string(65, 'x'), false},
      {"MixedCase", "GuestAb12", true},
      {"LeadingDash", "-guest", true},
      {"LeadingUnderscore", "_guest", true},
      {"OnlyDash", "-", true},
      {"EmbeddedNul", "gu\0est"s, false},
      {"Space", "guest 1", false},
      {"Colon", "guest:1", false},
      {"At", "guest@example", false},
      {"UnicodeLetter", "Jos\xc3\xa9", false},
      {"HighByte", "\x80", false},
  };
}

TEST(Ids, RoomIdsFollowTheDocumentedPattern) {
  for (const auto& c : room_id_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(is_valid_room_id(c.id), c.valid) << "size " << c.id.size();
  }
}

TEST(Ids, MemberIdsFollowTheDocumentedPattern) {
  for (const auto& c : member_id_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(is_valid_member_id(c.id), c.valid) << "size " << c.id.size();
  }
}

TEST(Ids, ValidationLooksAtTheWholeViewIncludingBytesAfterANul) {
  const std::string with_nul("room\0tail", 9);
  EXPECT_FALSE(is_valid_room_id(std::string_view(with_nul)));
  EXPECT_TRUE(is_valid_room_id(std::string_view(with_nul).substr(0, 4)));
  EXPECT_FALSE(is_valid_member_id(std::string_view(with_nul)));
}

TEST(Ids, StrongIdsCompareByValue) {
  EXPECT_EQ(RoomId{"a"}, RoomId{"a"});
  EXPECT_LT(Seq{1}, Seq{2});
  EXPECT_EQ(std::hash<MemberId>{}(MemberId{"m"}), std::hash<std::string>{}("m"));
}

}  // namespace
}  // namespace huddle
