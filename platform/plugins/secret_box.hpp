#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/result.hpp"

namespace clinicore::plugins {

// Seals the secret fields of a tenant's plugin config: XChaCha20-Poly1305 (libsodium's IETF
// AEAD) with a 256-bit key from CLINICORE_PLUGIN_SECRET_KEY and a random 192-bit nonce per
// seal. The associated data binds a sealed value to its tenant and plugin, so a value copied
// into another tenant's row fails to open.
//
// Layout: 0x02 (format) | key id (8 bytes) | nonce | ciphertext+tag. The key id names the key
// that sealed the value, so the key can be rotated: a box holds the current key (which seals)
// and any previous keys (CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS, which only open), and
// `clinicore plugin rekey` re-seals every stored value under the current key. The id is the
// first 8 bytes of BLAKE2b over a context string and the key: it tells keys apart and reveals
// nothing about them. Values of format 0x01 (no key id, sealed before rotation existed) are
// tried with every key.
class SecretBox {
 public:
  static constexpr unsigned char kFormatWithoutKeyId = 0x01;
  static constexpr unsigned char kFormat = 0x02;
  static constexpr size_t kKeyIdBytes = 8;

  // The current key and the previous ones: each standard base64 of exactly 32 bytes.
  static core::Result<SecretBox> FromBase64(const std::string& key_base64,
                                            const std::vector<std::string>& previous_base64 = {});

  // Always under the current key.
  std::string Seal(std::string_view plaintext, std::string_view associated) const;
  // Internal error when the value was tampered with, sealed under a key this box does not hold,
  // or bound to other associated data.
  core::Result<std::string> Open(std::string_view sealed, std::string_view associated) const;

  // True when `sealed` names the current key (Seal's output does): nothing to re-seal.
  bool SealedUnderCurrentKey(std::string_view sealed) const;
  // The current key's id, in hex (for operators: logs and `clinicore plugin rekey`).
  std::string CurrentKeyId() const;

  // The associated data for one tenant's plugin.
  static std::string Binding(std::string_view tenant_id, std::string_view plugin_name);

 private:
  struct Key {
    std::string id;     // kKeyIdBytes raw bytes
    std::string bytes;  // 32 raw bytes
  };
  explicit SecretBox(std::vector<Key> keys) : keys_(std::move(keys)) {}
  static std::optional<std::string> OpenWith(const Key& key, std::string_view body, std::string_view associated);

  std::vector<Key> keys_;  // the current key first
};

}  // namespace clinicore::plugins
