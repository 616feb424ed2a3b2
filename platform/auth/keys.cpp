#include "platform/auth/keys.hpp"

#include <sodium.h>

#include <regex>
#include <sstream>

#include "platform/core/crypto.hpp"

namespace clinicore::auth {
namespace {

using core::Error;

Error BadKey(const std::string& variable, const std::string& problem) {
  return Error::InvalidArgument(variable + ": " + problem, {{variable, problem}});
}

bool ValidKid(const std::string& kid) {
  static const std::regex kKid(R"(^[A-Za-z0-9._-]{1,64}$)");
  return std::regex_match(kid, kKid);
}

// Splits "<kid>:<base64url bytes>" and checks the byte length.
core::Result<std::pair<std::string, std::string>> SplitKey(const std::string& text, size_t bytes,
                                                           const std::string& variable) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return BadKey(variable, "each key must look like <kid>:<base64url key>");
  std::string kid = text.substr(0, colon);
  if (!ValidKid(kid)) return BadKey(variable, "a kid must be 1 to 64 of [A-Za-z0-9._-]");
  auto raw = core::Base64UrlDecode(text.substr(colon + 1));
  if (!raw || raw->size() != bytes) {
    return BadKey(variable, "the key of kid '" + kid + "' must be " + std::to_string(bytes) + " bytes in base64url");
  }
  return std::make_pair(std::move(kid), std::move(*raw));
}

}  // namespace

core::Result<KeyRing> KeyRing::Parse(const std::string& signing, const std::string& verifying) {
  constexpr const char* kSigning = "CLINICORE_AUTH_SIGNING_KEY";
  constexpr const char* kVerifying = "CLINICORE_AUTH_VERIFYING_KEYS";
  if (signing.empty()) return BadKey(kSigning, "is required (make one with `clinicore auth keygen`)");
  auto seed = SplitKey(signing, crypto_sign_SEEDBYTES, kSigning);
  if (!seed) return std::move(seed).error();
  KeyRing ring;
  ring.signing_kid_ = seed->first;
  PublicKey own{};
  crypto_sign_seed_keypair(own.data(), ring.signing_secret_.data(),
                           reinterpret_cast<const unsigned char*>(seed->second.data()));
  sodium_memzero(seed->second.data(), seed->second.size());
  ring.verifying_[ring.signing_kid_] = own;

  std::stringstream list(verifying);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item.empty()) continue;
    auto key = SplitKey(item, crypto_sign_PUBLICKEYBYTES, kVerifying);
    if (!key) return std::move(key).error();
    PublicKey public_key{};
    std::copy(key->second.begin(), key->second.end(), public_key.begin());
    auto [it, inserted] = ring.verifying_.emplace(key->first, public_key);
    if (!inserted && it->second != public_key) {
      return BadKey(kVerifying, "kid '" + key->first + "' names two different keys");
    }
  }
  return ring;
}

std::string KeyRing::GenerateSigningKeyText() {
  unsigned char seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  const std::string text = "k" + core::RandomToken(6) + ":" +
                           core::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(seed), sizeof seed));
  sodium_memzero(seed, sizeof seed);
  return text;
}

std::string KeyRing::Sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), signing_secret_.data());
  return signature;
}

bool KeyRing::Verify(const std::string& kid, std::string_view message, std::string_view signature) const {
  const auto key = verifying_.find(kid);
  if (key == verifying_.end() || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     key->second.data()) == 0;
}

nlohmann::json KeyRing::Jwks() const {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& [kid, key] : verifying_) {
    keys.push_back(
        {{"kty", "OKP"},
         {"crv", "Ed25519"},
         {"x", core::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()))},
         {"kid", kid},
         {"use", "sig"},
         {"alg", "EdDSA"}});
  }
  return {{"keys", keys}};
}

}  // namespace clinicore::auth
