// fuzz_auth: the checks a connection meets before it may act (server/auth): member tokens,
// invite links and the Origin check, on arbitrary input.
//   - verify_member_token never crashes; what it accepts is a well-formed identity (valid
//     member id, a 1..64-byte name, valid room ids with grant roles), and only under the
//     configured algorithm (HS256 here).
//   - a token minted from fuzzed claims verifies back to the same identity, and fails with any
//     one byte of its signature changed.
//   - verify_invite accepts only a grant role, for the room it was asked about.
//   - origin_allowed: "null" and "" never pass; with an allowlist, only its exact members pass;
//     without one, only "http://" + Host, and on a loopback listener only a loopback Host.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/ids.hpp"
#include "fuzz_common.hpp"
#include "server/auth/jwt.hpp"
#include "server/auth/origin.hpp"

namespace {

using huddle::fuzz::Bytes;
namespace auth = huddle::auth;
namespace v1 = huddle::v1;

#define CHECK HUDDLE_FUZZ_CHECK

const auth::JwtKey kKey{auth::JwtAlg::kHs256, "fuzz-secret-0123456789abcdef0123456789"};
constexpr std::int64_t kNow = 1'900'000'000;

bool grant_role(v1::Role r) {
  return r == v1::ROLE_FACILITATOR || r == v1::ROLE_PARTICIPANT || r == v1::ROLE_OBSERVER;
}

void check_identity(const auth::Identity& id) {
  CHECK(huddle::is_valid_member_id(id.member_id));
  CHECK(!id.display_name.empty() && id.display_name.size() <= 64);
  for (const auto& [room, role] : id.rooms) {
    CHECK(huddle::is_valid_room_id(room));
    CHECK(grant_role(role));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::string token = in.take(in.below(2048));
  const std::string other = in.take(in.byte());

  // Arbitrary tokens.
  const auto verified = auth::verify_member_token(kKey, {}, token, kNow);
  if (verified.identity) {
    check_identity(*verified.identity);
    CHECK(token.find('.') != std::string::npos);
  }
  const auto role = auth::verify_invite(kKey.key, token, other, kNow);
  CHECK(!role || grant_role(*role));

  // Round trip of fuzzed claims.
  auth::TokenSpec spec;
  spec.sub = other.substr(0, 64);
  spec.name = token.substr(0, 64);
  spec.ttl_s = 1 + in.byte();
  spec.now_unix_s = kNow;
  if (huddle::is_valid_room_id(other.substr(0, 16))) {
    spec.rooms[other.substr(0, 16)] = v1::ROLE_OBSERVER;
  }
  const auto minted = auth::mint_member_token(kKey, {}, spec);
  const auto back = auth::verify_member_token(kKey, {}, minted, kNow);
  if (huddle::is_valid_member_id(spec.sub) && !minted.empty()) {
    // (A name that is not UTF-8 cannot be put in JSON: mint refuses it, `minted` is empty.)
    CHECK(back.identity);
    CHECK(back.identity->member_id == spec.sub);
    CHECK(back.identity->display_name == (spec.name.empty() ? spec.sub : spec.name));
    CHECK(back.identity->rooms.size() == spec.rooms.size());
    // One signature character changed (not the last, whose low bits are base64 padding).
    std::string tampered = minted;
    const std::size_t at = tampered.size() - 2 - (in.byte() % 8);
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    CHECK(!auth::verify_member_token(kKey, {}, tampered, kNow).identity);
  } else {
    CHECK(!back.identity || huddle::is_valid_member_id(back.identity->member_id));
  }

  // Origin.
  const std::string origin = in.take(in.byte() % 65);
  const std::string host = in.take(in.byte() % 65);
  const bool tls = (in.byte() & 1) != 0;
  const bool loopback = (in.byte() & 1) != 0;
  const bool open = auth::origin_allowed(origin, host, tls, {}, loopback);
  if (open) {
    CHECK(origin != "null" && !origin.empty());
    CHECK(origin == (tls ? "https://" : "http://") + host);
    CHECK(!loopback || host.starts_with("127.") || host.starts_with("localhost") ||
          host.starts_with("[::1]"));
  }
  const std::vector<std::string> list = {host};
  CHECK(auth::origin_allowed(origin, "", tls, list, loopback) ==
        (origin == host && origin != "null" && !origin.empty()));
  return 0;
}
