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

TEST(SecretBoxTest, RefusesKeysThatAreNot32Bytes) {
  EXPECT_FALSE(SecretBox::FromBase64("c2hvcnQ=").ok());
  EXPECT_FALSE(SecretBox::FromBase64("not base64 at all!").ok());
  EXPECT_EQ(SecretBox::FromBase64("").error().fields.at(0).field, "CLINICORE_PLUGIN_SECRET_KEY");
}

}  // namespace
}  // namespace clinicore::plugins
