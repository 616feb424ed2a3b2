#include "platform/auth/totp.hpp"

#include <sodium.h>

#include <cctype>
#include <chrono>

#include "platform/core/crypto.hpp"

namespace clinicore::auth::totp {
namespace {

constexpr const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string PercentEncode(std::string_view text) {
  static constexpr const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

int64_t CurrentStep() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return StepAt(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

std::string Hotp(std::string_view key, uint64_t counter, int digits) {
  unsigned char message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  // crypto_auth_hmacsha256 takes a 32-byte key; the _init form takes any length (RFC 2104).
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, message, sizeof message);
  crypto_auth_hmacsha256_final(&state, mac);
  const int offset = mac[sizeof mac - 1] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

std::optional<int64_t> Verify(std::string_view key, std::string_view code, int64_t now_step, int64_t last_used_step) {
  if (code.size() != static_cast<size_t>(kDigits)) return std::nullopt;
  std::optional<int64_t> matched;
  for (int64_t step = now_step - 1; step <= now_step + 1; ++step) {
    if (step <= last_used_step || step < 0) continue;
    const std::string expected = Hotp(key, static_cast<uint64_t>(step));
    if (sodium_memcmp(expected.data(), code.data(), expected.size()) == 0 && !matched) matched = step;
  }
  return matched;
}

std::string NewSecret() {
  std::string secret(kSecretBytes, '\0');
  randombytes_buf(secret.data(), secret.size());
  return secret;
}

std::string Base32(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> FromBase32(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char raw : text) {
    if (raw == ' ' || raw == '=') continue;
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(raw)));
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= '2' && c <= '7') value = 26 + (c - '2');
    if (value < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string ProvisioningUri(std::string_view issuer, std::string_view account, std::string_view secret) {
  return "otpauth://totp/" + PercentEncode(issuer) + ":" + PercentEncode(account) + "?secret=" + Base32(secret) +
         "&issuer=" + PercentEncode(issuer) + "&algorithm=SHA256&digits=" + std::to_string(kDigits) +
         "&period=" + std::to_string(kStepSeconds);
}

std::vector<std::string> NewRecoveryCodes() {
  std::vector<std::string> codes;
  for (int i = 0; i < 10; ++i) {
    std::string code;
    for (int group = 0; group < 3; ++group) {
      if (group > 0) code += '-';
      for (int c = 0; c < 4; ++c) code += kAlphabet[randombytes_uniform(32)];
    }
    codes.push_back(code);
  }
  return codes;
}

std::string RecoveryCodeHash(std::string_view code) {
  std::string normalized;
  for (const char c : code) {
    if (c == '-' || c == ' ') continue;
    normalized += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return core::Sha256Hex(normalized);
}

}  // namespace clinicore::auth::totp
