#include "platform/auth/totp.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace clinicore::auth::totp {
namespace {

// RFC 6238 appendix B, SHA-256 rows: the 32-byte ASCII seed, 8 digits.
constexpr const char* kRfcSeed = "12345678901234567890123456789012";

TEST(TotpTest, MatchesTheRfc6238Sha256Vectors) {
  ASSERT_GE(sodium_init(), 0);
  const std::pair<int64_t, const char*> vectors[] = {{59, "46119246"},         {1111111109, "68084774"},
                                                     {1111111111, "67062674"}, {1234567890, "91819424"},
                                                     {2000000000, "90698825"}, {20000000000, "77737706"}};
  for (const auto& [time, code] : vectors) {
    EXPECT_EQ(Hotp(kRfcSeed, static_cast<uint64_t>(StepAt(time)), 8), code) << time;
  }
}

TEST(TotpTest, AcceptsTheNeighbouringStepsOnceEach) {
  ASSERT_GE(sodium_init(), 0);
  const std::string key = NewSecret();
  ASSERT_EQ(key.size(), kSecretBytes);
  const int64_t now = 1000;
  EXPECT_EQ(Verify(key, Hotp(key, now), now, 0), now);
  EXPECT_EQ(Verify(key, Hotp(key, now - 1), now, 0), now - 1);  // clock drift, both ways
  EXPECT_EQ(Verify(key, Hotp(key, now + 1), now, 0), now + 1);
  EXPECT_FALSE(Verify(key, Hotp(key, now - 2), now, 0));
  EXPECT_FALSE(Verify(key, Hotp(key, now + 2), now, 0));
  // Replay: a step at or before the last one used is refused.
  EXPECT_FALSE(Verify(key, Hotp(key, now), now, now));
  EXPECT_FALSE(Verify(key, Hotp(key, now - 1), now, now - 1));
  EXPECT_EQ(Verify(key, Hotp(key, now + 1), now, now), now + 1);
  // Shape.
  EXPECT_FALSE(Verify(key, "12345", now, 0));
  EXPECT_FALSE(Verify(key, "1234567", now, 0));
  EXPECT_FALSE(Verify(key, "", now, 0));
}

TEST(TotpTest, Base32RoundTripsAndRefusesOtherCharacters) {
  EXPECT_EQ(Base32("foobar"), "MZXW6YTBOI");  // RFC 4648 test vector, without padding
  EXPECT_EQ(FromBase32("MZXW6YTBOI"), "foobar");
  EXPECT_EQ(FromBase32("mzxw 6ytb oi======"), "foobar");
  EXPECT_FALSE(FromBase32("MZXW1"));
  EXPECT_FALSE(FromBase32("MZ-W"));
  ASSERT_GE(sodium_init(), 0);
  const std::string secret = NewSecret();
  EXPECT_EQ(FromBase32(Base32(secret)), secret);
}

TEST(TotpTest, ProvisioningUriNamesTheAlgorithmAndEscapesNames) {
  const std::string uri = ProvisioningUri("clinicore console", "ana@example.test", "foobar");
  EXPECT_EQ(uri,
            "otpauth://totp/clinicore%20console:ana@example.test?secret=MZXW6YTBOI&issuer=clinicore%20console"
            "&algorithm=SHA256&digits=6&period=30");
}

TEST(TotpTest, RecoveryCodesAreDistinctAndHashIgnoringCaseAndDashes) {
  ASSERT_GE(sodium_init(), 0);
  const auto codes = NewRecoveryCodes();
  ASSERT_EQ(codes.size(), 10u);
  for (const auto& code : codes) EXPECT_EQ(code.size(), 14u) << code;
  EXPECT_NE(codes[0], codes[1]);
  EXPECT_EQ(RecoveryCodeHash("ABCD-EFGH-2345"), RecoveryCodeHash("abcdefgh2345"));
  EXPECT_NE(RecoveryCodeHash("ABCD-EFGH-2345"), RecoveryCodeHash("ABCD-EFGH-2346"));
}

}  // namespace
}  // namespace clinicore::auth::totp
