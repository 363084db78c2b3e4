#include "server/auth/jwt.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/util/json_util.h>

#include "core/common/ids.hpp"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace huddle::auth {

namespace v1 = huddle::v1;
namespace pb = google::protobuf;

namespace {

constexpr std::string_view kInviteAudience = "huddle-invite";
constexpr std::string_view kInviteIssuer = "huddle";
constexpr std::size_t kMinSecretBytes = 32;

struct JwtFree {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;
struct CFree {
  void operator()(char* p) const noexcept { std::free(p); }  // NOLINT(*-no-malloc)
};

jwt_alg_t to_libjwt(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kHs256: return JWT_ALG_HS256;
    case JwtAlg::kRs256: return JWT_ALG_RS256;
    case JwtAlg::kEs256: return JWT_ALG_ES256;
  }
  return JWT_ALG_INVAL;
}

std::string_view alg_name(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kHs256: return "HS256";
    case JwtAlg::kRs256: return "RS256";
    case JwtAlg::kEs256: return "ES256";
  }
  return "";
}

std::optional<std::string> read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const pb::Value* field(const pb::Struct& s, const char* name) {
  const auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::optional<std::string> string_claim(const pb::Struct& s, const char* name) {
  const auto* v = field(s, name);
  if (v == nullptr || v->kind_case() != pb::Value::kStringValue) {
    return std::nullopt;
  }
  return v->string_value();
}

// A NumericDate (seconds); nullopt when absent or not a whole number in range.
std::optional<std::int64_t> time_claim(const pb::Struct& s, const char* name, bool& bad) {
  const auto* v = field(s, name);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->kind_case() != pb::Value::kNumberValue || !std::isfinite(v->number_value()) ||
      std::fabs(v->number_value()) > 1e15) {
    bad = true;
    return std::nullopt;
  }
  return static_cast<std::int64_t>(v->number_value());
}

bool audience_has(const pb::Struct& s, std::string_view audience) {
  const auto* v = field(s, "aud");
  if (v == nullptr) {
    return false;
  }
  if (v->kind_case() == pb::Value::kStringValue) {
    return v->string_value() == audience;
  }
  if (v->kind_case() == pb::Value::kListValue) {
    for (const auto& a : v->list_value().values()) {
      if (a.kind_case() == pb::Value::kStringValue && a.string_value() == audience) {
        return true;
      }
    }
  }
  return false;
}

struct Decoded {
  pb::Struct claims;
  std::optional<TokenError> error;
};

// Verifies the signature with the configured algorithm only, then checks the registered
// claims every token needs: exp, nbf, iss, aud.
Decoded decode(JwtAlg alg, std::string_view key, std::string_view token, std::string_view issuer,
               std::string_view audience, std::int64_t leeway_s, std::int64_t now) {
  Decoded out;
  if (token.empty() || token.size() > kMaxTokenBytes ||
      token.find('\0') != std::string_view::npos) {
    out.error = TokenError::kMalformed;
    return out;
  }
  const std::string tok(token);
  jwt_t* raw = nullptr;
  // First without a key: only to read the header's algorithm, which must be ours.
  if (jwt_decode(&raw, tok.c_str(), nullptr, 0) != 0 || raw == nullptr) {
    out.error = TokenError::kMalformed;
    return out;
  }
  JwtPtr unverified(raw);
  const char* header_alg = jwt_get_header(unverified.get(), "alg");
  if (header_alg == nullptr || std::string_view(header_alg) != alg_name(alg)) {
    out.error = TokenError::kWrongAlgorithm;
    return out;
  }
  raw = nullptr;
  if (jwt_decode(&raw, tok.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 0 ||
      raw == nullptr) {
    out.error = TokenError::kBadSignature;
    return out;
  }
  JwtPtr verified(raw);
  if (jwt_get_alg(verified.get()) != to_libjwt(alg)) {
    out.error = TokenError::kWrongAlgorithm;
    return out;
  }
  std::unique_ptr<char, CFree> json(jwt_get_grants_json(verified.get(), nullptr));
  if (!json || !pb::util::JsonStringToMessage(json.get(), &out.claims).ok()) {
    out.error = TokenError::kMalformed;
    return out;
  }
  bool bad_time = false;
  const auto exp = time_claim(out.claims, "exp", bad_time);
  const auto nbf = time_claim(out.claims, "nbf", bad_time);
  if (bad_time) {
    out.error = TokenError::kBadClaims;
  } else if (!exp || *exp + leeway_s <= now) {
    out.error = TokenError::kExpired;
  } else if (nbf && *nbf - leeway_s > now) {
    out.error = TokenError::kNotYetValid;
  } else if (string_claim(out.claims, "iss") != std::optional<std::string>(issuer)) {
    out.error = TokenError::kWrongIssuer;
  } else if (!audience_has(out.claims, audience)) {
    out.error = TokenError::kWrongAudience;
  }
  return out;
}

std::string encode(const JwtKey& key, const pb::Struct& claims) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) {
    return {};
  }
  JwtPtr j(raw);
  std::string json;
  if (!pb::util::MessageToJsonString(claims, &json).ok() ||
      jwt_add_grants_json(j.get(), json.c_str()) != 0 ||
      jwt_set_alg(j.get(), to_libjwt(key.alg),
                  reinterpret_cast<const unsigned char*>(key.key.data()),
                  static_cast<int>(key.key.size())) != 0) {
    return {};
  }
  std::unique_ptr<char, CFree> out(jwt_encode_str(j.get()));
  return out ? std::string(out.get()) : std::string();
}

void set_string(pb::Struct& s, const char* name, std::string_view value) {
  (*s.mutable_fields())[name].set_string_value(std::string(value));
}
void set_number(pb::Struct& s, const char* name, std::int64_t value) {
  (*s.mutable_fields())[name].set_number_value(static_cast<double>(value));
}

}  // namespace

std::string_view to_string(TokenError e) noexcept {
  switch (e) {
    case TokenError::kMalformed: return "malformed";
    case TokenError::kWrongAlgorithm: return "wrong_algorithm";
    case TokenError::kBadSignature: return "bad_signature";
    case TokenError::kExpired: return "expired";
    case TokenError::kNotYetValid: return "not_yet_valid";
    case TokenError::kWrongIssuer: return "wrong_issuer";
    case TokenError::kWrongAudience: return "wrong_audience";
    case TokenError::kMissingSubject: return "missing_subject";
    case TokenError::kBadClaims: return "bad_claims";
  }
  return "unknown";
}

std::optional<v1::Role> parse_grant_role(std::string_view name) noexcept {
  if (name == "facilitator") {
    return v1::ROLE_FACILITATOR;
  }
  if (name == "participant") {
    return v1::ROLE_PARTICIPANT;
  }
  if (name == "observer") {
    return v1::ROLE_OBSERVER;
  }
  return std::nullopt;
}

std::string_view grant_role_name(v1::Role role) noexcept {
  switch (role) {
    case v1::ROLE_FACILITATOR: return "facilitator";
    case v1::ROLE_OBSERVER: return "observer";
    default: return "participant";
  }
}

std::optional<JwtKey> load_secret_file(const std::string& path, std::string& error) {
  auto secret = read_file(path, error);
  if (!secret) {
    return std::nullopt;
  }
  while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) {
    secret->pop_back();
  }
  if (secret->size() < kMinSecretBytes) {
    error = path + ": a JWT secret needs at least 32 bytes";
    return std::nullopt;
  }
  return JwtKey{JwtAlg::kHs256, std::move(*secret)};
}

std::optional<JwtKey> load_public_key_file(const std::string& path, std::string& error) {
  auto pem = read_file(path, error);
  if (!pem) {
    return std::nullopt;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!pkey) {
    error = path + ": not a PEM public key";
    return std::nullopt;
  }
  switch (EVP_PKEY_base_id(pkey.get())) {
    case EVP_PKEY_RSA: return JwtKey{JwtAlg::kRs256, std::move(*pem)};
    case EVP_PKEY_EC: return JwtKey{JwtAlg::kEs256, std::move(*pem)};
    default: error = path + ": only RSA (RS256) and EC P-256 (ES256) keys are supported"; break;
  }
  return std::nullopt;
}

Verified verify_member_token(const JwtKey& key, const JwtPolicy& policy, std::string_view token,
                             std::int64_t now_unix_s) {
  Verified out;
  auto d =
      decode(key.alg, key.key, token, policy.issuer, policy.audience, policy.leeway_s, now_unix_s);
  if (d.error) {
    out.error = *d.error;
    return out;
  }
  const auto sub = string_claim(d.claims, "sub");
  if (!sub || !is_valid_member_id(*sub)) {
    out.error = TokenError::kMissingSubject;
    return out;
  }
  Identity id;
  id.member_id = *sub;
  if (const auto* name = field(d.claims, "name")) {
    if (name->kind_case() != pb::Value::kStringValue || name->string_value().empty() ||
        name->string_value().size() > 64) {
      out.error = TokenError::kBadClaims;
      return out;
    }
    id.display_name = name->string_value();
  } else {
    id.display_name = *sub;
  }
  bool bad_time = false;
  id.expires_unix_s = time_claim(d.claims, "exp", bad_time).value_or(0);
  if (const auto* rooms = field(d.claims, "rooms")) {
    if (rooms->kind_case() != pb::Value::kStructValue) {
      out.error = TokenError::kBadClaims;
      return out;
    }
    for (const auto& [room, role] : rooms->struct_value().fields()) {
      const auto r = role.kind_case() == pb::Value::kStringValue
                         ? parse_grant_role(role.string_value())
                         : std::nullopt;
      if (!r || !is_valid_room_id(room)) {
        out.error = TokenError::kBadClaims;
        return out;
      }
      id.rooms.emplace(room, *r);
    }
  }
  out.identity = std::move(id);
  return out;
}

std::string mint_member_token(const JwtKey& key, const JwtPolicy& policy, const TokenSpec& spec) {
  // What verify_member_token would refuse (or, for a name that is not UTF-8, what JSON cannot
  // carry) is not minted.
  if (!is_valid_member_id(spec.sub) || spec.name.size() > 64 ||
      !pb::internal::IsStructurallyValidUTF8(spec.name)) {
    return {};
  }
  for (const auto& [room, role] : spec.rooms) {
    if (!is_valid_room_id(room) || !parse_grant_role(grant_role_name(role))) {
      return {};
    }
  }
  pb::Struct claims;
  set_string(claims, "sub", spec.sub);
  if (!spec.name.empty()) {
    set_string(claims, "name", spec.name);
  }
  set_string(claims, "iss", policy.issuer);
  set_string(claims, "aud", policy.audience);
  set_number(claims, "iat", spec.now_unix_s);
  set_number(claims, "exp", spec.now_unix_s + spec.ttl_s);
  if (spec.not_before_unix_s != 0) {
    set_number(claims, "nbf", spec.not_before_unix_s);
  }
  if (!spec.rooms.empty()) {
    auto& rooms = *(*claims.mutable_fields())["rooms"].mutable_struct_value();
    for (const auto& [room, role] : spec.rooms) {
      set_string(rooms, room.c_str(), grant_role_name(role));
    }
  }
  return encode(key, claims);
}

std::string mint_invite(std::string_view invite_key, const Invite& invite,
                        std::int64_t now_unix_s) {
  pb::Struct claims;
  set_string(claims, "iss", kInviteIssuer);
  set_string(claims, "aud", kInviteAudience);
  set_string(claims, "room", invite.room_id);
  set_string(claims, "role", grant_role_name(invite.role));
  set_number(claims, "iat", now_unix_s);
  set_number(claims, "exp", invite.expires_unix_s);
  return encode(JwtKey{JwtAlg::kHs256, std::string(invite_key)}, claims);
}

std::optional<v1::Role> verify_invite(std::string_view invite_key, std::string_view token,
                                      std::string_view room_id, std::int64_t now_unix_s,
                                      TokenError* why) {
  auto d = decode(JwtAlg::kHs256, invite_key, token, kInviteIssuer, kInviteAudience,
                  /*leeway_s=*/0, now_unix_s);
  TokenError ignored{};
  TokenError& error = why != nullptr ? *why : ignored;
  if (d.error) {
    error = *d.error;
    return std::nullopt;
  }
  const auto room = string_claim(d.claims, "room");
  const auto role = string_claim(d.claims, "role");
  const auto parsed = role ? parse_grant_role(*role) : std::nullopt;
  if (!room || *room != room_id || !parsed) {
    error = TokenError::kBadClaims;
    return std::nullopt;
  }
  return parsed;
}

}  // namespace huddle::auth
