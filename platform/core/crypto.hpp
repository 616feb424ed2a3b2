#pragma once

#include <optional>
#include <string>
#include <string_view>

// Small byte-level helpers over libsodium shared by every component: identifiers, random
// tokens, base64url and digests. Call sodium_init() once at start-up (main does).
namespace clinicore::core {

// A random RFC 4122 version-4 UUID in its lower-case text form.
std::string NewUuid();

// `bytes` random bytes as base64url without padding (32 bytes → 43 characters).
std::string RandomToken(size_t bytes = 32);

std::string Base64UrlEncode(std::string_view bytes);
// Strict: base64url alphabet only, no padding, no whitespace, canonical trailing bits.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Lower-case hex of the bytes, and back: nullopt unless every character is hex, in pairs.
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

// SHA-256 of the bytes: raw 32 bytes, or 64 lower-case hex characters.
std::string Sha256(std::string_view bytes);
std::string Sha256Hex(std::string_view bytes);

// Compares two secrets in time that depends on neither content nor length.
bool SameSecret(std::string_view given, std::string_view expected);

}  // namespace clinicore::core
