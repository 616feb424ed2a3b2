#include "platform/plugins/secret_box.hpp"

#include <sodium.h>

namespace clinicore::plugins {

core::Result<SecretBox> SecretBox::FromBase64(const std::string& key_base64) {
  std::string key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), key_base64.data(), key_base64.size(),
                        nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length != key.size()) {
    return core::Error::InvalidArgument("CLINICORE_PLUGIN_SECRET_KEY must be standard base64 of 32 bytes",
                                        {{"CLINICORE_PLUGIN_SECRET_KEY", "must be base64 of 32 bytes"}});
  }
  return SecretBox(std::move(key));
}

std::string SecretBox::Binding(std::string_view tenant_id, std::string_view plugin_name) {
  std::string binding = "clinicore.plugin-secrets.v1";
  binding += '\0';
  binding.append(tenant_id);
  binding += '\0';
  binding.append(plugin_name);
  return binding;
}

std::string SecretBox::Seal(std::string_view plaintext, std::string_view associated) const {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(1 + kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  bytes[0] = kFormat;
  randombytes_buf(bytes + 1, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      bytes + 1 + kNonce, &written, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), nullptr, bytes + 1,
      reinterpret_cast<const unsigned char*>(key_.data()));
  out.resize(1 + kNonce + written);
  return out;
}

core::Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view associated) const {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < 1 + kNonce + kTag || static_cast<unsigned char>(sealed[0]) != kFormat) {
    return core::Error::Internal("sealed plugin secrets: unknown format");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string plaintext(sealed.size() - 1 - kNonce - kTag, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plaintext.data()), &written, nullptr, bytes + 1 + kNonce,
          sealed.size() - 1 - kNonce, reinterpret_cast<const unsigned char*>(associated.data()), associated.size(),
          bytes + 1, reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    return core::Error::Internal("sealed plugin secrets do not open: another key, another tenant or tampered");
  }
  plaintext.resize(written);
  return plaintext;
}

}  // namespace clinicore::plugins
