#include "platform/auth/password.hpp"

#include <sodium.h>

#include <algorithm>
#include <sstream>
#include <unordered_set>

namespace clinicore::auth {

// The shipped list, embedded at build time (see CMakeLists.txt).
extern const char* const kCommonPasswordsText;

namespace {

constexpr size_t kMinCharacters = 10;
constexpr size_t kMaxBytes = 256;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

size_t Utf8Characters(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; }));
}

const std::unordered_set<std::string>& CommonPasswords() {
  static const std::unordered_set<std::string> list = [] {
    std::unordered_set<std::string> words;
    std::istringstream lines(kCommonPasswordsText);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line[0] != '#') words.insert(Lower(line));
    }
    return words;
  }();
  return list;
}

}  // namespace

PasswordHasher::PasswordHasher(unsigned long long ops_limit, size_t mem_limit)
    : ops_limit_(ops_limit), mem_limit_(mem_limit) {
  auto dummy = Hash("not a password anyone has: the timing twin of a real check");
  dummy_hash_ = dummy ? *dummy : std::string();
}

core::Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(encoded, password.data(), password.size(), ops_limit_, mem_limit_) != 0) {
    return core::Error::Unavailable("The server is too busy to hash a password; try again.",
                                    "crypto_pwhash_str failed (out of memory)");
  }
  return std::string(encoded);
}

bool PasswordHasher::Verify(const std::string& encoded_hash, std::string_view password) const {
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(const std::string& encoded_hash) const {
  return crypto_pwhash_str_needs_rehash(encoded_hash.c_str(), ops_limit_, mem_limit_) != 0;
}

void PasswordHasher::VerifyNothing(std::string_view password) const {
  (void)Verify(dummy_hash_, password);
}

bool IsCommonPassword(std::string_view password) {
  return CommonPasswords().count(Lower(password)) != 0;
}

core::Status CheckPasswordPolicy(std::string_view password, std::string_view email, const std::string& field) {
  auto refuse = [&field](const std::string& message) {
    return core::Error::InvalidArgument("The password " + message + ".", {{field, message}});
  };
  if (password.size() > kMaxBytes) return refuse("must be at most 256 bytes");
  if (Utf8Characters(password) < kMinCharacters) return refuse("must be at least 10 characters");
  if (IsCommonPassword(password)) return refuse("is too common; choose another");
  const std::string lowered = Lower(password);
  const std::string address = Lower(email);
  if (!address.empty() && (lowered == address || lowered == address.substr(0, address.find('@')))) {
    return refuse("must not be your email address");
  }
  return core::Ok();
}

}  // namespace clinicore::auth
