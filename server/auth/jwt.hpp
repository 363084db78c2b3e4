// JSON Web Tokens for member authentication (--auth jwt) and for invite links, on libjwt
// (Debian's libjwt-dev) and OpenSSL. Nothing here parses JSON or base64 by hand.
//
// The algorithm is fixed by the key (configuration), never taken from the token's header: a
// token whose header names another algorithm is refused even when its signature verifies under
// that algorithm (the "HS256 signed with the RS256 public key" attack), and "none" in any
// spelling is refused. `exp`, `iss`, `aud` and `sub` are required; `nbf` is honoured; both clock
// checks allow `leeway`.
//
// Claims of a member token:
//   sub    member id, [A-Za-z0-9_-]{1,64}      name   display name, 1..64 bytes (default: sub)
//   rooms  {"room-id": "facilitator" | "participant" | "observer", ...}: room grants
// Claims of an invite (audience "huddle-invite", signed with the server's invite key, HS256):
//   room, role, exp, iss, aud.
// Thread-safe: every function is pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "huddle/v1/board.pb.h"

namespace huddle::auth {

enum class JwtAlg { kHs256, kRs256, kEs256 };

// What verifies (and, for HS256, also signs) tokens.
struct JwtKey {
  JwtAlg alg = JwtAlg::kHs256;
  std::string key;  // HS256: the secret bytes. RS256/ES256: the public key, PEM.
};

// Loads --jwt-secret-file (HS256; trailing newlines dropped; at least 32 bytes) or
// --jwt-public-key (PEM; RSA -> RS256, EC P-256 -> ES256). nullopt with `error` set otherwise.
std::optional<JwtKey> load_secret_file(const std::string& path, std::string& error);
std::optional<JwtKey> load_public_key_file(const std::string& path, std::string& error);

struct JwtPolicy {
  std::string issuer = "huddle";
  std::string audience = "huddle";
  std::int64_t leeway_s = 10;
};

// Why a token was refused. Logged (never the token itself); the client only learns
// UNAUTHENTICATED (or PERMISSION_DENIED for an invite).
enum class TokenError {
  kMalformed,       // Not three base64url parts of JSON, or too long.
  kWrongAlgorithm,  // The header names an algorithm other than the configured one (or none).
  kBadSignature,
  kExpired,         // exp + leeway <= now, or no exp.
  kNotYetValid,     // nbf - leeway > now.
  kWrongIssuer,     // Missing or not the configured one.
  kWrongAudience,   // Missing, or (string or array) without the configured one.
  kMissingSubject,  // No sub, or not a valid member id.
  kBadClaims,       // A claim of the wrong type or value (name, rooms, room, role).
};
std::string_view to_string(TokenError e) noexcept;

inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;

struct Identity {
  std::string member_id;
  std::string display_name;
  std::int64_t expires_unix_s = 0;
  std::map<std::string, huddle::v1::Role, std::less<>> rooms;  // Grants.
};

struct Verified {
  std::optional<Identity> identity;  // Set iff accepted.
  TokenError error = TokenError::kMalformed;
};
Verified verify_member_token(const JwtKey& key, const JwtPolicy& policy, std::string_view token,
                             std::int64_t now_unix_s);

// Mints a member token (huddle-server token, tests). Needs an HS256 key, or a PEM private key
// in `key.key` for RS256/ES256. Empty on failure, and for claims verify_member_token would
// refuse (an invalid sub, a name over 64 bytes or not UTF-8, an invalid room id).
struct TokenSpec {
  std::string sub;
  std::string name;
  std::map<std::string, huddle::v1::Role, std::less<>> rooms;
  std::int64_t ttl_s = 8 * 3600;
  std::int64_t now_unix_s = 0;
  std::int64_t not_before_unix_s = 0;  // nbf; 0 = none.
};
std::string mint_member_token(const JwtKey& key, const JwtPolicy& policy, const TokenSpec& spec);

// Invite links: HS256 with the server's invite key.
struct Invite {
  std::string room_id;
  huddle::v1::Role role = huddle::v1::ROLE_PARTICIPANT;
  std::int64_t expires_unix_s = 0;
};
std::string mint_invite(std::string_view invite_key, const Invite& invite, std::int64_t now_unix_s);
// The invite's role if it is valid, unexpired and for `room_id`; nullopt otherwise.
std::optional<huddle::v1::Role> verify_invite(std::string_view invite_key, std::string_view token,
                                              std::string_view room_id, std::int64_t now_unix_s,
                                              TokenError* why = nullptr);

// Role names in grants and invites: "facilitator", "participant", "observer" (never "owner").
std::optional<huddle::v1::Role> parse_grant_role(std::string_view name) noexcept;
std::string_view grant_role_name(huddle::v1::Role role) noexcept;

}  // namespace huddle::auth
