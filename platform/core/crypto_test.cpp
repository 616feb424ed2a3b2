#include "platform/core/crypto.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <set>

namespace clinicore::core {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(CryptoTest, Base64UrlRoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes) << i;
    bytes.push_back(static_cast<char>(i * 37));
  }
}

TEST_F(CryptoTest, Base64UrlDecodeIsStrict) {
  EXPECT_FALSE(Base64UrlDecode("aGk="));  // padding
  EXPECT_FALSE(Base64UrlDecode("a+8/"));  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("aG k"));  // whitespace
  EXPECT_FALSE(Base64UrlDecode("a"));     // impossible length
  EXPECT_FALSE(Base64UrlDecode("aGl"));   // non-zero unused bits: "aGk" is the canonical one
  EXPECT_EQ(Base64UrlDecode("aGk"), "hi");
  EXPECT_EQ(Base64UrlDecode(""), "");
}

TEST_F(CryptoTest, UuidsAndTokensAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewUuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    seen.insert(id);
    const std::string token = RandomToken();
    EXPECT_EQ(token.size(), 43u);
    EXPECT_EQ(Base64UrlDecode(token)->size(), 32u);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(CryptoTest, DigestsAndSecretComparison) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(HexDecode("00ff10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexDecode("0a0bzz"), std::nullopt);
  EXPECT_EQ(HexDecode("0a0"), std::nullopt);
  EXPECT_EQ(Sha256("abc").size(), 32u);
  EXPECT_TRUE(SameSecret("same", "same"));
  EXPECT_FALSE(SameSecret("same", "sam"));
  EXPECT_FALSE(SameSecret("", "x"));
}

}  // namespace
}  // namespace clinicore::core
