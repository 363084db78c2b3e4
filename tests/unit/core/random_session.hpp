// A seeded random board session for the property tests (replay_test, visibility_test): ~6
// members of mixed roles send thousands of random commands of every kind through the rules;
// only the accepted ones become events. Same seed, same session (std::mt19937); or the same
// choices (RandomOptions::choose), same session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "board_fixture.hpp"

namespace huddle::board::testing {

struct RandomOptions {
  std::uint32_t seed = 1;
  std::size_t commands = 3000;  // Attempted commands; roughly half are accepted.
  bool anonymous = false;
  bool hide_ideas = false;  // The room's initial option (SetHideIdeas flips it at random too).
  // Where the choices come from: unset, std::mt19937 seeded with `seed`; set, choose(n) returns
  // a value in [0, n) for each choice (tests/fuzz/fuzz_board.cpp feeds it from its input bytes).
  std::function<std::uint64_t(std::uint64_t)> choose;
  bool archive_near_end = true;  // Sessions of 100+ commands archive the room for the last 20.
};

// Member ids and display names are unique alphanumeric markers (no Markdown-escaped characters,
// none a substring of another) so tests can search serialized bytes and exports for them.
struct RandomMember {
  std::string id;
  std::string name;
  v1::Role role;  // At join; SetRole changes it during the session.
};
const std::vector<RandomMember>& random_members();  // The owner first; "idLateQ" joins mid-way.

// Idea texts (and some tags) carry a unique "SECRET<5 digits>Z" marker; nothing else does.
inline constexpr const char* kSecretPrefix = "SECRET";

struct RandomSession {
  Session session;  // session.log: the accepted events, from RoomCreated.
  std::size_t attempted = 0;
  std::map<int, std::size_t> accepted;  // By v1::Event::PayloadCase.
  std::map<Errc, std::size_t> rejected;
  // Every marker an idea's text or tags carried (posted or edited), by idea id.
  std::map<std::uint64_t, std::vector<std::string>> markers;
};

RandomSession random_session(const RandomOptions& options);

}  // namespace huddle::board::testing
