#include "platform/auth/access_token.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "platform/core/crypto.hpp"

namespace clinicore::auth {
namespace {

using core::Base64UrlEncode;

constexpr int64_t kNow = 1'800'000'000;
constexpr const char* kTenant = "3f0c6f1e-8d1b-4c55-9a55-2f5d0c1e9b11";
constexpr const char* kOtherTenant = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

class AccessTokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }

  void SetUp() override {
    auto ring = KeyRing::Parse(KeyRing::GenerateSigningKeyText(), "");
    ASSERT_TRUE(ring.ok());
    keys_ = *ring;
  }

  AccessClaims Claims() const {
    return {"clinicore", "clinicore-tenant", "u-1", kTenant, "doctor", "jti-1", "session-1", kNow - 10, kNow + 890};
  }
  TokenExpectation Expect(std::optional<std::string> tenant = std::string(kTenant), int64_t now = kNow) const {
    return {"clinicore", "clinicore-tenant", std::move(tenant), now, 30};
  }
  // A token with a hand-made header and claims, signed with our key.
  std::string Forge(const nlohmann::json& header, const nlohmann::json& claims) const {
    const std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
    return input + "." + Base64UrlEncode(keys_.Sign(input));
  }
  nlohmann::json ClaimsJson() const {
    return {{"iss", "clinicore"}, {"aud", "clinicore-tenant"}, {"sub", "u-1"}, {"tid", kTenant}, {"role", "doctor"},
            {"iat", kNow - 10},   {"exp", kNow + 890},         {"jti", "j"},   {"sid", "s"}};
  }
  void ExpectRefused(const std::string& token, const std::string& why) const {
    auto verified = VerifyAccessToken(token, keys_, Expect());
    ASSERT_FALSE(verified.ok()) << why;
    EXPECT_EQ(verified.error().code, core::ErrorCode::kUnauthenticated) << why;
    EXPECT_EQ(verified.error().fields.at(0).field, "Authorization") << why;
  }

  KeyRing keys_;
};

TEST_F(AccessTokenTest, IssuedTokensVerifyWithEveryClaim) {
  const std::string token = IssueAccessToken(keys_, Claims());
  auto verified = VerifyAccessToken(token, keys_, Expect());
  ASSERT_TRUE(verified.ok()) << verified.error().detail;
  EXPECT_EQ(verified->subject, "u-1");
  EXPECT_EQ(verified->tenant_id, kTenant);
  EXPECT_EQ(verified->role, "doctor");
  EXPECT_EQ(verified->jti, "jti-1");
  EXPECT_EQ(verified->session_id, "session-1");
  EXPECT_EQ(verified->expires_at, kNow + 890);
}

TEST_F(AccessTokenTest, RefusesOtherAlgorithmsIncludingNone) {
  for (const char* alg : {"none", "HS256", "RS256", "ES256", "eddsa", "Ed25519"}) {
    ExpectRefused(Forge({{"alg", alg}, {"kid", keys_.signing_kid()}}, ClaimsJson()), alg);
  }
  // "none" with an empty signature, the classic.
  const std::string none = Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(ClaimsJson().dump()) + ".";
  ExpectRefused(none, "alg none unsigned");
}

TEST_F(AccessTokenTest, RefusesUnknownKidsForeignKeysAndTampering) {
  ExpectRefused(Forge({{"alg", "EdDSA"}, {"kid", "someone-else"}}, ClaimsJson()), "unknown kid");
  ExpectRefused(Forge({{"alg", "EdDSA"}}, ClaimsJson()), "no kid");
  auto other = KeyRing::Parse(KeyRing::GenerateSigningKeyText(), "");
  ExpectRefused(IssueAccessToken(*other, Claims()), "signed by another key");
  std::string token = IssueAccessToken(keys_, Claims());
  const size_t dot = token.find('.');
  nlohmann::json promoted = ClaimsJson();
  promoted["role"] = "admin";
  ExpectRefused(token.substr(0, dot + 1) + Base64UrlEncode(promoted.dump()) + token.substr(token.rfind('.')),
                "claims swapped under the old signature");
  token.back() = token.back() == 'A' ? 'B' : 'A';
  ExpectRefused(token, "flipped signature");
}

TEST_F(AccessTokenTest, RefusesHeaderExtrasThatChangeVerification) {
  for (const char* extra : {"jku", "jwk", "x5u", "crit", "b64"}) {
    ExpectRefused(Forge({{"alg", "EdDSA"}, {"kid", keys_.signing_kid()}, {extra, "x"}}, ClaimsJson()), extra);
  }
  ExpectRefused(Forge({{"alg", "EdDSA"}, {"kid", keys_.signing_kid()}, {"typ", "at+jwt"}}, ClaimsJson()), "typ");
}

TEST_F(AccessTokenTest, RefusesWrongAudienceIssuerTenantAndTimes) {
  auto with = [&](const char* name, nlohmann::json value) {
    nlohmann::json claims = ClaimsJson();
    claims[name] = std::move(value);
    return Forge({{"alg", "EdDSA"}, {"kid", keys_.signing_kid()}}, claims);
  };
  ExpectRefused(with("aud", "clinicore-console"), "console audience");
  ExpectRefused(with("aud", nlohmann::json::array({"clinicore-tenant"})), "audience array");
  ExpectRefused(with("iss", "evil"), "issuer");
  ExpectRefused(with("tid", kOtherTenant), "another tenant");
  ExpectRefused(with("exp", kNow - 31), "expired beyond the leeway");
  ExpectRefused(with("iat", kNow + 60), "issued in the future");
  ExpectRefused(with("exp", kNow + 3 * 24 * 3600), "lifetime too long");
  ExpectRefused(with("exp", "soon"), "exp not a number");
  ExpectRefused(with("sub", ""), "empty subject");
  ExpectRefused(with("role", nlohmann::json::object()), "role not a string");
  ExpectRefused(with("sid", 7), "sid not a string");
  for (const char* required : {"iss", "aud", "sub", "role", "jti", "sid", "iat", "exp"}) {
    nlohmann::json claims = ClaimsJson();
    claims.erase(required);
    ExpectRefused(Forge({{"alg", "EdDSA"}, {"kid", keys_.signing_kid()}}, claims), std::string("no ") + required);
  }
  // Within the leeway it still passes.
  nlohmann::json just_expired = ClaimsJson();
  just_expired["iat"] = kNow - 900;
  just_expired["exp"] = kNow - 20;
  EXPECT_TRUE(
      VerifyAccessToken(Forge({{"alg", "EdDSA"}, {"kid", keys_.signing_kid()}}, just_expired), keys_, Expect()).ok());
  // A tenant token is refused where a console token is expected.
  auto console = VerifyAccessToken(IssueAccessToken(keys_, Claims()), keys_,
                                   {"clinicore", "clinicore-tenant", std::nullopt, kNow, 30});
  EXPECT_FALSE(console.ok());
}

TEST_F(AccessTokenTest, RefusesMalformedInputOfEveryShape) {
  const std::string good = IssueAccessToken(keys_, Claims());
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."), std::string("a.b"), std::string("a.b.c.d"),
        good.substr(0, good.size() / 2), good + "=",
        good.substr(0, good.find('.')) + ".!!!." + good.substr(good.rfind('.') + 1), std::string("Bearer ") + good,
        std::string(kMaxTokenBytes + 1, 'a'), std::string("e30.e30."), good + "." + good}) {
    ExpectRefused(bad, "malformed: " + bad.substr(0, 40));
  }
}

TEST_F(AccessTokenTest, RefusesNestedJsonBombsWithoutParsingThem) {
  std::string bomb(100, '[');
  bomb += std::string(100, ']');
  nlohmann::json claims = ClaimsJson();
  const std::string input =
      Base64UrlEncode(R"({"alg":"EdDSA","kid":")" + keys_.signing_kid() + "\",\"x\":" + bomb + "}") + "." +
      Base64UrlEncode(claims.dump());
  ExpectRefused(input + "." + Base64UrlEncode(keys_.Sign(input)), "nested header");
  const std::string nested_claims = Base64UrlEncode(R"({"alg":"EdDSA","kid":")" + keys_.signing_kid() + "\"}") + "." +
                                    Base64UrlEncode("{\"sub\":" + bomb + "}");
  ExpectRefused(nested_claims + "." + Base64UrlEncode(keys_.Sign(nested_claims)), "nested claims");
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[{{{"})"), 1);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"\"[[["})"), 1);
  EXPECT_EQ(JsonNestingDepth("[[[]]]"), 3);
}

TEST_F(AccessTokenTest, KeyRingParsingAndRotation) {
  EXPECT_FALSE(KeyRing::Parse("", "").ok());
  EXPECT_FALSE(KeyRing::Parse("nokid", "").ok());
  EXPECT_FALSE(KeyRing::Parse("k1:short", "").ok());
  EXPECT_FALSE(KeyRing::Parse("bad kid:" + std::string(43, 'A'), "").ok());
  auto failed = KeyRing::Parse("k1:" + std::string(43, 'A'), "k2:tooshort");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().detail.find("CLINICORE_AUTH_VERIFYING_KEYS"), std::string::npos);

  // Rotation: tokens of the old key verify while its public key stays listed.
  const std::string old_text = KeyRing::GenerateSigningKeyText();
  auto old_ring = KeyRing::Parse(old_text, "");
  const std::string old_public = old_ring->Jwks()["keys"][0]["x"];
  const std::string old_kid = old_ring->signing_kid();
  auto rotated = KeyRing::Parse(KeyRing::GenerateSigningKeyText(), old_kid + ":" + old_public);
  ASSERT_TRUE(rotated.ok()) << rotated.error().detail;
  EXPECT_EQ(rotated->Jwks()["keys"].size(), 2u);
  EXPECT_TRUE(VerifyAccessToken(IssueAccessToken(*old_ring, Claims()), *rotated, Expect()).ok());
  auto retired = KeyRing::Parse(KeyRing::GenerateSigningKeyText(), "");
  EXPECT_FALSE(VerifyAccessToken(IssueAccessToken(*old_ring, Claims()), *retired, Expect()).ok());
}

TEST_F(AccessTokenTest, JwksPublishesOnlyPublicOkpKeys) {
  const auto jwks = keys_.Jwks();
  ASSERT_EQ(jwks["keys"].size(), 1u);
  const auto& key = jwks["keys"][0];
  EXPECT_EQ(key["kty"], "OKP");
  EXPECT_EQ(key["crv"], "Ed25519");
  EXPECT_EQ(key["alg"], "EdDSA");
  EXPECT_EQ(key["kid"], keys_.signing_kid());
  EXPECT_FALSE(key.contains("d"));
  EXPECT_EQ(core::Base64UrlDecode(key["x"].get<std::string>())->size(), 32u);
}

}  // namespace
}  // namespace clinicore::auth
