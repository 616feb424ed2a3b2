#include "platform/plugins/secret_box.hpp"

#include <sodium.h>

#include "platform/core/crypto.hpp"

namespace clinicore::plugins {
namespace {

constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr const char* kKeyIdContext = "clinicore.plugin-secret-key-id.v1";

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::optional<std::string> DecodeKey(const std::string& base64) {
  std::string key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), base64.data(), base64.size(), nullptr,
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length != key.size()) {
    return std::nullopt;
  }
  return key;
}

std::string KeyIdOf(const std::string& key) {
  unsigned char digest[crypto_generichash_BYTES_MIN];
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, sizeof digest);
  crypto_generichash_update(&state, Bytes(kKeyIdContext), std::char_traits<char>::length(kKeyIdContext) + 1);
  crypto_generichash_update(&state, Bytes(key), key.size());
  crypto_generichash_final(&state, digest, sizeof digest);
  return std::string(reinterpret_cast<const char*>(digest), SecretBox::kKeyIdBytes);
}

}  // namespace

core::Result<SecretBox> SecretBox::FromBase64(const std::string& key_base64,
                                              const std::vector<std::string>& previous_base64) {
  std::vector<Key> keys;
  auto current = DecodeKey(key_base64);
  if (!current) {
    return core::Error::InvalidArgument("CLINICORE_PLUGIN_SECRET_KEY must be standard base64 of 32 bytes",
                                        {{"CLINICORE_PLUGIN_SECRET_KEY", "must be base64 of 32 bytes"}});
  }
  keys.push_back({KeyIdOf(*current), std::move(*current)});
  for (const auto& encoded : previous_base64) {
    auto previous = DecodeKey(encoded);
    if (!previous) {
      return core::Error::InvalidArgument(
          "CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS must list standard base64 keys of 32 bytes",
          {{"CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS", "each key must be base64 of 32 bytes"}});
    }
    keys.push_back({KeyIdOf(*previous), std::move(*previous)});
  }
  return SecretBox(std::move(keys));
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
  const Key& key = keys_.front();
  const size_t header = 1 + kKeyIdBytes;
  std::string out(header + kNonce + plaintext.size() + kTag, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  bytes[0] = kFormat;
  key.id.copy(out.data() + 1, kKeyIdBytes);
  randombytes_buf(bytes + header, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(bytes + header + kNonce, &written, Bytes(plaintext), plaintext.size(),
                                             Bytes(associated), associated.size(), nullptr, bytes + header,
                                             Bytes(key.bytes));
  out.resize(header + kNonce + written);
  return out;
}

// body: nonce | ciphertext+tag.
std::optional<std::string> SecretBox::OpenWith(const Key& key, std::string_view body, std::string_view associated) {
  std::string plaintext(body.size() - kNonce - kTag, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plaintext.data()), &written, nullptr,
                                                 Bytes(body) + kNonce, body.size() - kNonce, Bytes(associated),
                                                 associated.size(), Bytes(body), Bytes(key.bytes)) != 0) {
    return std::nullopt;
  }
  plaintext.resize(written);
  return plaintext;
}

core::Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view associated) const {
  const unsigned char format = sealed.empty() ? 0 : static_cast<unsigned char>(sealed[0]);
  if (format == kFormatWithoutKeyId && sealed.size() >= 1 + kNonce + kTag) {
    for (const auto& key : keys_) {
      if (auto opened = OpenWith(key, sealed.substr(1), associated)) return *std::move(opened);
    }
    return core::Error::Internal("sealed plugin secrets do not open: another key, another tenant or tampered");
  }
  if (format != kFormat || sealed.size() < 1 + kKeyIdBytes + kNonce + kTag) {
    return core::Error::Internal("sealed plugin secrets: unknown format");
  }
  const std::string_view id = sealed.substr(1, kKeyIdBytes);
  for (const auto& key : keys_) {
    if (key.id != id) continue;
    if (auto opened = OpenWith(key, sealed.substr(1 + kKeyIdBytes), associated)) return *std::move(opened);
    return core::Error::Internal("sealed plugin secrets do not open: another tenant or tampered");
  }
  return core::Error::Internal("sealed plugin secrets were sealed under key " + core::HexEncode(id) +
                               ", which this server does not hold (CLINICORE_PLUGIN_SECRET_KEY, "
                               "CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS)");
}

bool SecretBox::SealedUnderCurrentKey(std::string_view sealed) const {
  return sealed.size() > kKeyIdBytes && static_cast<unsigned char>(sealed[0]) == kFormat &&
         sealed.substr(1, kKeyIdBytes) == keys_.front().id;
}

std::string SecretBox::CurrentKeyId() const {
  return core::HexEncode(keys_.front().id);
}

}  // namespace clinicore::plugins
