#pragma once

#include <string>
#include <string_view>

#include "platform/core/result.hpp"

namespace clinicore::auth {

// Argon2id through libsodium's crypto_pwhash_str: the salt and the cost live inside the
// encoded hash, so a hash made under older limits still verifies and is upgraded on the
// next successful login (NeedsRehash).
class PasswordHasher {
 public:
  PasswordHasher(unsigned long long ops_limit, size_t mem_limit);

  // Unavailable when the memory for the hash cannot be had.
  core::Result<std::string> Hash(std::string_view password) const;
  bool Verify(const std::string& encoded_hash, std::string_view password) const;
  bool NeedsRehash(const std::string& encoded_hash) const;
  // Spends the time of one verification on a fixed hash, so answering for an account
  // that does not exist takes as long as for one that does.
  void VerifyNothing(std::string_view password) const;

 private:
  unsigned long long ops_limit_;
  size_t mem_limit_;
  std::string dummy_hash_;
};

// The password policy: 10 to 256 characters, not in the common-password list shipped in
// platform/auth/data/, not the account's email or its local part. Errors name `field`.
core::Status CheckPasswordPolicy(std::string_view password, std::string_view email,
                                 const std::string& field = "password");
bool IsCommonPassword(std::string_view password);

}  // namespace clinicore::auth
