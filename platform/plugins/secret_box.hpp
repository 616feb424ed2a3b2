#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "platform/core/result.hpp"

namespace clinicore::plugins {

// Seals the secret fields of a tenant's plugin config: XChaCha20-Poly1305 (libsodium's IETF
// AEAD) with a 256-bit key from CLINICORE_PLUGIN_SECRET_KEY and a random 192-bit nonce per
// seal. The associated data binds a sealed value to its tenant and plugin, so a value copied
// into another tenant's row fails to open. Layout: 0x01 (format version) | nonce | ciphertext+tag.
class SecretBox {
 public:
  static constexpr unsigned char kFormat = 0x01;

  // The key: standard base64 of exactly 32 bytes.
  static core::Result<SecretBox> FromBase64(const std::string& key_base64);

  std::string Seal(std::string_view plaintext, std::string_view associated) const;
  // Internal error when the value was tampered with, sealed under another key, or bound to
  // other associated data.
  core::Result<std::string> Open(std::string_view sealed, std::string_view associated) const;

  // The associated data for one tenant's plugin.
  static std::string Binding(std::string_view tenant_id, std::string_view plugin_name);

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace clinicore::plugins
