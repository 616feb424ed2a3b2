#include "platform/auth/password.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace clinicore::auth {
namespace {

class PasswordTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(PasswordTest, HashesAreArgon2idAndVerify) {
  PasswordHasher hasher(2, 19u << 20);
  auto hash = hasher.Hash("correct horse battery staple");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_NE(hash->find("m=19456,t=2"), std::string::npos);
  EXPECT_TRUE(hasher.Verify(*hash, "correct horse battery staple"));
  EXPECT_FALSE(hasher.Verify(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(hasher.Verify("", "x"));
  EXPECT_FALSE(hasher.Verify("not a hash", "x"));
  EXPECT_FALSE(hasher.NeedsRehash(*hash));
  PasswordHasher stronger(3, 19u << 20);
  EXPECT_TRUE(stronger.NeedsRehash(*hash));
  EXPECT_TRUE(stronger.Verify(*hash, "correct horse battery staple"));  // old hashes still verify
}

TEST_F(PasswordTest, PolicyRefusesShortCommonAndSelfNamedPasswords) {
  auto field_of = [](const core::Status& status) { return status.error().fields.at(0).field; };
  EXPECT_TRUE(CheckPasswordPolicy("a sturdy passphrase", "ann@example.com").ok());
  auto short_one = CheckPasswordPolicy("short", "ann@example.com");
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(field_of(short_one), "password");
  EXPECT_FALSE(CheckPasswordPolicy("Password123", "ann@example.com").ok());
  EXPECT_FALSE(CheckPasswordPolicy("QWERTYUIOP", "ann@example.com").ok());
  EXPECT_FALSE(CheckPasswordPolicy("1234567890", "ann@example.com").ok());
  EXPECT_FALSE(CheckPasswordPolicy("annabel@example.com", "ANNABEL@example.com").ok());
  EXPECT_FALSE(CheckPasswordPolicy("annabellee", "annabellee@example.com").ok());
  EXPECT_FALSE(CheckPasswordPolicy(std::string(257, 'x'), "ann@example.com").ok());
  // Ten characters, counted as characters, not bytes.
  EXPECT_FALSE(CheckPasswordPolicy("ααααααααα", "ann@example.com").ok());
  EXPECT_TRUE(CheckPasswordPolicy("αβγδεζηθικ", "ann@example.com").ok());
  EXPECT_EQ(field_of(CheckPasswordPolicy("short", "", "new_password")), "new_password");
  EXPECT_TRUE(IsCommonPassword("iloveyou123"));
  EXPECT_FALSE(IsCommonPassword("# Passwords refused whatever their length: common choices and their usual variants"));
}

}  // namespace
}  // namespace clinicore::auth
