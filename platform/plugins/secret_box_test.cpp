#include "platform/plugins/secret_box.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace clinicore::plugins {
namespace {

constexpr const char* kKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";  // "0123456789abcdef0123456789abcdef"

TEST(SecretBoxTest, SealsAndOpensBoundToTenantAndPlugin) {
  ASSERT_GE(sodium_init(), 0);
  auto box = SecretBox::FromBase64(kKey);
  ASSERT_TRUE(box.ok());
  const std::string secret = R"({"token":"s3cr3t-value"})";
  const auto binding = SecretBox::Binding("tenant-a", "webhook");
  const std::string sealed = box->Seal(secret, binding);
  EXPECT_EQ(sealed.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(static_cast<unsigned char>(sealed[0]), SecretBox::kFormat);
  EXPECT_NE(box->Seal(secret, binding), sealed);  // a fresh nonce every time
  auto opened = box->Open(sealed, binding);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, secret);

  // Another tenant's row, another plugin, another key, one flipped bit: none opens.
  EXPECT_FALSE(box->Open(sealed, SecretBox::Binding("tenant-b", "webhook")).ok());
  EXPECT_FALSE(box->Open(sealed, SecretBox::Binding("tenant-a", "web-form")).ok());
  auto other = SecretBox::FromBase64("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->Open(sealed, binding).ok());
  std::string tampered = sealed;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(box->Open(tampered, binding).ok());
  EXPECT_FALSE(box->Open("short", binding).ok());
}

constexpr const char* kNewKey = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";  // "fedcba9876543210fedcba9876543210"

TEST(SecretBoxTest, AValueNamesTheKeyThatSealedIt) {
  ASSERT_GE(sodium_init(), 0);
  auto old_box = SecretBox::FromBase64(kKey);
  auto new_box = SecretBox::FromBase64(kNewKey);
  ASSERT_TRUE(old_box.ok() && new_box.ok());
  EXPECT_NE(old_box->CurrentKeyId(), new_box->CurrentKeyId());
  EXPECT_EQ(old_box->CurrentKeyId().size(), 2 * SecretBox::kKeyIdBytes);
  EXPECT_EQ(SecretBox::FromBase64(kKey)->CurrentKeyId(), old_box->CurrentKeyId());  // derived, stable

  const auto binding = SecretBox::Binding("tenant-a", "webhook");
  const std::string sealed = old_box->Seal("secret", binding);
  EXPECT_TRUE(old_box->SealedUnderCurrentKey(sealed));
  EXPECT_FALSE(new_box->SealedUnderCurrentKey(sealed));
  // A box without the sealing key says which key it would need.
  auto refused = new_box->Open(sealed, binding);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().internal.find(old_box->CurrentKeyId()), std::string::npos) << refused.error().internal;
}

TEST(SecretBoxTest, PreviousKeysOpenButNeverSeal) {
  ASSERT_GE(sodium_init(), 0);
  auto old_box = SecretBox::FromBase64(kKey);
  auto rotated = SecretBox::FromBase64(kNewKey, {kKey});
  ASSERT_TRUE(old_box.ok() && rotated.ok());
  const auto binding = SecretBox::Binding("tenant-a", "webhook");
  const std::string old_sealed = old_box->Seal("secret", binding);
  auto opened = rotated->Open(old_sealed, binding);
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  EXPECT_EQ(*opened, "secret");
  EXPECT_FALSE(rotated->SealedUnderCurrentKey(old_sealed));

  const std::string resealed = rotated->Seal(*opened, binding);
  EXPECT_TRUE(rotated->SealedUnderCurrentKey(resealed));
  EXPECT_FALSE(old_box->Open(resealed, binding).ok());                                      // the old key alone cannot
  EXPECT_FALSE(rotated->Open(old_sealed, SecretBox::Binding("tenant-b", "webhook")).ok());  // still bound
  EXPECT_FALSE(SecretBox::FromBase64(kNewKey, {"c2hvcnQ="}).ok());
  EXPECT_EQ(SecretBox::FromBase64(kNewKey, {"c2hvcnQ="}).error().fields.at(0).field,
            "CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS");
}

// Values sealed before key ids existed: 0x01 | nonce | ciphertext+tag, under whichever key.
TEST(SecretBoxTest, ValuesWithoutAKeyIdStillOpenWithAnyConfiguredKey) {
  ASSERT_GE(sodium_init(), 0);
  const auto binding = SecretBox::Binding("tenant-a", "webhook");
  std::string key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  size_t length = 0;
  ASSERT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), kKey,
                              std::char_traits<char>::length(kKey), nullptr, &length, nullptr,
                              sodium_base64_VARIANT_ORIGINAL),
            0);
  const std::string plaintext = "legacy";
  std::string legacy(
      1 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES,
      '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(legacy.data());
  bytes[0] = SecretBox::kFormatWithoutKeyId;
  randombytes_buf(bytes + 1, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(bytes + 1 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &written,
                                             reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                                             reinterpret_cast<const unsigned char*>(binding.data()), binding.size(),
                                             nullptr, bytes + 1, reinterpret_cast<const unsigned char*>(key.data()));

  auto rotated = SecretBox::FromBase64(kNewKey, {kKey});
  ASSERT_TRUE(rotated.ok());
  auto opened = rotated->Open(legacy, binding);
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  EXPECT_EQ(*opened, "legacy");
  EXPECT_FALSE(rotated->SealedUnderCurrentKey(legacy));
  EXPECT_FALSE(SecretBox::FromBase64(kNewKey)->Open(legacy, binding).ok());
}

TEST(SecretBoxTest, RefusesKeysThatAreNot32Bytes) {
  EXPECT_FALSE(SecretBox::FromBase64("c2hvcnQ=").ok());
  EXPECT_FALSE(SecretBox::FromBase64("not base64 at all!").ok());
  EXPECT_EQ(SecretBox::FromBase64("").error().fields.at(0).field, "CLINICORE_PLUGIN_SECRET_KEY");
}

}  // namespace
}  // namespace clinicore::plugins
