// server/auth/jwt: one test per bad token, each with the exact reason it is refused.
#include "server/auth/jwt.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace huddle::auth {
namespace {

namespace v1 = huddle::v1;

constexpr std::int64_t kNow = 1'900'000'000;
const JwtKey kHs{JwtAlg::kHs256, "0123456789abcdef0123456789abcdef-test-secret"};

std::string b64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (auto& c : out) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

// A token signed with kHs over any claims (as another issuer might mint it).
std::string sign_hs256(const std::string& claims) {
  const std::string input = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kHs.key.data(), static_cast<int>(kHs.key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string(reinterpret_cast<const char*>(mac), len));
}

std::string claims_json(std::int64_t exp = kNow + 3600) {
  return R"({"sub":"alice","name":"Alice","iss":"huddle","aud":"huddle","exp":)" +
         std::to_string(exp) + "}";
}

// PEM pair generated in-process: {private, public}.
std::pair<std::string, std::string> keypair(bool rsa) {
  EVP_PKEY* raw = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(raw, &EVP_PKEY_free);
  auto pem = [&](bool priv) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (priv) {
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio.get(), pkey.get());
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  return {pem(true), pem(false)};
}

TokenSpec alice(std::int64_t ttl = 3600) {
  TokenSpec s;
  s.sub = "alice";
  s.name = "Alice";
  s.ttl_s = ttl;
  s.now_unix_s = kNow;
  return s;
}

TokenError refused(const JwtKey& key, const std::string& token, JwtPolicy policy = {}) {
  auto v = verify_member_token(key, policy, token, kNow);
  EXPECT_FALSE(v.identity.has_value()) << "accepted: " << token;
  return v.error;
}

TEST(Jwt, ValidHs256TokenGivesIdentityAndGrants) {
  auto spec = alice();
  spec.rooms = {{"pipeline", v1::ROLE_FACILITATOR}, {"q4", v1::ROLE_OBSERVER}};
  const auto token = mint_member_token(kHs, {}, spec);
  ASSERT_FALSE(token.empty());
  auto v = verify_member_token(kHs, {}, token, kNow);
  ASSERT_TRUE(v.identity) << to_string(v.error);
  EXPECT_EQ(v.identity->member_id, "alice");
  EXPECT_EQ(v.identity->display_name, "Alice");
  EXPECT_EQ(v.identity->expires_unix_s, kNow + 3600);
  ASSERT_EQ(v.identity->rooms.size(), 2U);
  EXPECT_EQ(v.identity->rooms.at("pipeline"), v1::ROLE_FACILITATOR);
  EXPECT_EQ(v.identity->rooms.at("q4"), v1::ROLE_OBSERVER);
}

TEST(Jwt, AlgNoneInAnyCaseIsRefused) {
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    SCOPED_TRACE(alg);
    const auto token = b64url(std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})") + "." +
                       b64url(claims_json()) + ".";
    EXPECT_EQ(refused(kHs, token), TokenError::kWrongAlgorithm);
  }
}

TEST(Jwt, Hs256SignedWithTheRs256PublicKeyIsRefused) {
  const auto [priv, pub] = keypair(/*rsa=*/true);
  const JwtKey server{JwtAlg::kRs256, pub};
  // The attacker signs HMAC with the server's public key as the secret: libjwt would verify it
  // as HS256 if the header chose the algorithm.
  const auto forged = mint_member_token(JwtKey{JwtAlg::kHs256, pub}, {}, alice());
  ASSERT_FALSE(forged.empty());
  EXPECT_EQ(refused(server, forged), TokenError::kWrongAlgorithm);
  // The real RS256 token verifies.
  const auto real = mint_member_token(JwtKey{JwtAlg::kRs256, priv}, {}, alice());
  EXPECT_TRUE(verify_member_token(server, {}, real, kNow).identity);
}

TEST(Jwt, Es256TokensVerifyWithTheEcPublicKey) {
  const auto [priv, pub] = keypair(/*rsa=*/false);
  const auto token = mint_member_token(JwtKey{JwtAlg::kEs256, priv}, {}, alice());
  ASSERT_FALSE(token.empty());
  EXPECT_TRUE(verify_member_token(JwtKey{JwtAlg::kEs256, pub}, {}, token, kNow).identity);
  // An RS256 server refuses it (wrong algorithm), whatever its signature.
  const auto [rsa_priv, rsa_pub] = keypair(true);
  EXPECT_EQ(refused(JwtKey{JwtAlg::kRs256, rsa_pub}, token), TokenError::kWrongAlgorithm);
}

TEST(Jwt, BadSignatureIsRefused) {
  const auto other = mint_member_token(JwtKey{JwtAlg::kHs256, std::string(40, 'x')}, {}, alice());
  EXPECT_EQ(refused(kHs, other), TokenError::kBadSignature);
  auto token = mint_member_token(kHs, {}, alice());
  token.back() = token.back() == 'A' ? 'B' : 'A';  // One signature character changed.
  EXPECT_EQ(refused(kHs, token), TokenError::kBadSignature);
  // Payload swapped under a valid signature.
  const auto good = mint_member_token(kHs, {}, alice());
  const auto dot1 = good.find('.');
  const auto dot2 = good.rfind('.');
  const auto tampered = good.substr(0, dot1 + 1) +
                        b64url(R"({"sub":"mallory","iss":"huddle","aud":"huddle","exp":)" +
                               std::to_string(kNow + 3600) + "}") +
                        good.substr(dot2);
  EXPECT_EQ(refused(kHs, tampered), TokenError::kBadSignature);
}

TEST(Jwt, TruncatedOrGarbageTokensAreMalformed) {
  const auto token = mint_member_token(kHs, {}, alice());
  EXPECT_EQ(refused(kHs, token.substr(0, token.size() / 2)), TokenError::kMalformed);
  EXPECT_EQ(refused(kHs, token.substr(0, token.size() - 5)), TokenError::kBadSignature);
  EXPECT_EQ(refused(kHs, token.substr(0, token.find('.'))), TokenError::kMalformed);
  EXPECT_EQ(refused(kHs, ""), TokenError::kMalformed);
  EXPECT_EQ(refused(kHs, "not a token"), TokenError::kMalformed);
  EXPECT_EQ(refused(kHs, std::string(kMaxTokenBytes + 1, 'a')), TokenError::kMalformed);
  EXPECT_EQ(refused(kHs, std::string("a\0b", 3)), TokenError::kMalformed);
}

TEST(Jwt, ExpiredAndNotYetValidHonourTheLeeway) {
  JwtPolicy policy;
  policy.leeway_s = 10;
  auto spec = alice(/*ttl=*/-11);  // Expired 11 s ago: past the 10 s leeway.
  EXPECT_EQ(refused(kHs, mint_member_token(kHs, policy, spec), policy), TokenError::kExpired);
  spec.ttl_s = -9;  // Within the leeway: accepted.
  EXPECT_TRUE(
      verify_member_token(kHs, policy, mint_member_token(kHs, policy, spec), kNow).identity);

  auto early = alice();
  early.not_before_unix_s = kNow + 11;  // Valid from 11 s from now: past the leeway.
  EXPECT_EQ(refused(kHs, mint_member_token(kHs, policy, early), policy), TokenError::kNotYetValid);
  early.not_before_unix_s = kNow + 9;
  EXPECT_TRUE(
      verify_member_token(kHs, policy, mint_member_token(kHs, policy, early), kNow).identity);
}

TEST(Jwt, WrongIssuerOrAudienceIsRefused) {
  JwtPolicy other;
  other.issuer = "someone-else";
  EXPECT_EQ(refused(kHs, mint_member_token(kHs, other, alice())), TokenError::kWrongIssuer);
  JwtPolicy aud;
  aud.audience = "another-app";
  EXPECT_EQ(refused(kHs, mint_member_token(kHs, aud, alice())), TokenError::kWrongAudience);
}

TEST(Jwt, MissingOrInvalidSubjectIsRefused) {
  const auto exp = std::to_string(kNow + 3600);
  EXPECT_EQ(refused(kHs, sign_hs256(R"({"iss":"huddle","aud":"huddle","exp":)" + exp + "}")),
            TokenError::kMissingSubject);
  EXPECT_EQ(refused(kHs, sign_hs256(R"({"sub":"has space","iss":"huddle","aud":"huddle","exp":)" +
                                    exp + "}")),
            TokenError::kMissingSubject);
  EXPECT_EQ(
      refused(kHs, sign_hs256(R"({"sub":42,"iss":"huddle","aud":"huddle","exp":)" + exp + "}")),
      TokenError::kMissingSubject);
  // The helper signs what verifies when the claims are right.
  EXPECT_TRUE(verify_member_token(
                  kHs, {},
                  sign_hs256(R"({"sub":"ok","iss":"huddle","aud":"huddle","exp":)" + exp + "}"),
                  kNow)
                  .identity);
}

// Found by fuzz_auth: a name that is not UTF-8 came back changed from a minted token.
TEST(Jwt, ClaimsThatWouldNotVerifyAreNotMinted) {
  auto spec = alice();
  spec.name = "Ann \xff\xfe";
  EXPECT_EQ(mint_member_token(kHs, {}, spec), "");
  spec.name = std::string(65, 'a');
  EXPECT_EQ(mint_member_token(kHs, {}, spec), "");
  spec.name = "Zoë";
  EXPECT_FALSE(mint_member_token(kHs, {}, spec).empty());
  spec.rooms = {{"Not A Room", v1::ROLE_OBSERVER}};
  EXPECT_EQ(mint_member_token(kHs, {}, spec), "");
}

TEST(Jwt, NameDefaultsToSubject) {
  auto spec = alice();
  spec.name.clear();
  auto v = verify_member_token(kHs, {}, mint_member_token(kHs, {}, spec), kNow);
  ASSERT_TRUE(v.identity);
  EXPECT_EQ(v.identity->display_name, "alice");
}

TEST(Invite, RoundTripsForItsRoomOnly) {
  const std::string key(32, 'k');
  const auto invite = mint_invite(key, Invite{"pipeline", v1::ROLE_OBSERVER, kNow + 600}, kNow);
  EXPECT_EQ(verify_invite(key, invite, "pipeline", kNow), v1::ROLE_OBSERVER);
  TokenError why{};
  EXPECT_FALSE(verify_invite(key, invite, "other-room", kNow, &why));
  EXPECT_EQ(why, TokenError::kBadClaims);
}

TEST(Invite, ExpiredOrTamperedOrForeignKeyIsRefused) {
  const std::string key(32, 'k');
  const auto invite = mint_invite(key, Invite{"pipeline", v1::ROLE_PARTICIPANT, kNow + 60}, kNow);
  TokenError why{};
  EXPECT_FALSE(verify_invite(key, invite, "pipeline", kNow + 60, &why));  // No leeway.
  EXPECT_EQ(why, TokenError::kExpired);
  // Upgrade the role in the payload: the signature no longer matches.
  const auto dot1 = invite.find('.');
  const auto dot2 = invite.rfind('.');
  const auto tampered = invite.substr(0, dot1 + 1) +
                        b64url(R"({"aud":"huddle-invite","exp":)" + std::to_string(kNow + 60) +
                               R"(,"iss":"huddle","role":"facilitator","room":"pipeline"})") +
                        invite.substr(dot2);
  EXPECT_FALSE(verify_invite(key, tampered, "pipeline", kNow, &why));
  EXPECT_EQ(why, TokenError::kBadSignature);
  EXPECT_FALSE(verify_invite(std::string(32, 'z'), invite, "pipeline", kNow, &why));
  EXPECT_EQ(why, TokenError::kBadSignature);
  // A member token is not an invite (audience), even signed with the invite key.
  const auto member = mint_member_token(JwtKey{JwtAlg::kHs256, key}, {}, alice());
  EXPECT_FALSE(verify_invite(key, member, "pipeline", kNow, &why));
  EXPECT_EQ(why, TokenError::kWrongAudience);
}

}  // namespace
}  // namespace huddle::auth
