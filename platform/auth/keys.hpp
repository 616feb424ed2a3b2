#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "platform/core/result.hpp"

namespace clinicore::auth {

using PublicKey = std::array<unsigned char, 32>;

// The Ed25519 keys of the token service: one key signs, every key in `verifying` (the
// signing key's own public half included) is accepted, so keys rotate without logging
// anyone out: publish the next key as verifying first, then make it the signing key.
class KeyRing {
 public:
  // signing: "<kid>:<base64url 32-byte seed>"; verifying: "" or comma-separated
  // "<kid>:<base64url 32-byte public key>". Errors name the variable, never the secret.
  static core::Result<KeyRing> Parse(const std::string& signing, const std::string& verifying);
  // A fresh signing key in the text form Parse takes (for `clinicore auth keygen`).
  static std::string GenerateSigningKeyText();

  const std::string& signing_kid() const { return signing_kid_; }
  // Detached Ed25519 signature (64 bytes) of `message` with the signing key.
  std::string Sign(std::string_view message) const;
  // False for an unknown kid or a bad signature.
  bool Verify(const std::string& kid, std::string_view message, std::string_view signature) const;
  // The public keys as a JWK Set (RFC 8037 OKP keys).
  nlohmann::json Jwks() const;

 private:
  std::string signing_kid_;
  std::array<unsigned char, 64> signing_secret_{};
  std::map<std::string, PublicKey> verifying_;
};

}  // namespace clinicore::auth
