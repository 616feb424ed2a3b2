#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clinicore::auth {

// Time-based one-time passwords, RFC 6238 with HMAC-SHA-256 (libsodium has no SHA-1, and
// RFC 6238 names SHA-256 as an option; authenticator apps read `algorithm=SHA256` from the
// otpauth URI): 6 digits, 30-second steps. The secret is 32 random bytes.
namespace totp {

inline constexpr int kDigits = 6;
inline constexpr int kStepSeconds = 30;
inline constexpr size_t kSecretBytes = 32;

// HOTP value (RFC 4226 dynamic truncation) of `counter` under `key`, as `digits` decimal digits.
std::string Hotp(std::string_view key, uint64_t counter, int digits = kDigits);
// The time step of a Unix time, and of now (the system clock: codes follow wall-clock time).
inline int64_t StepAt(int64_t unix_seconds) {
  return unix_seconds / kStepSeconds;
}
int64_t CurrentStep();

// The step (now - 1 ... now + 1, for clock drift) whose code is `code`, if any and later than
// `last_used_step` (a code is good once: the caller stores the step it returns). Compares in
// constant time.
std::optional<int64_t> Verify(std::string_view key, std::string_view code, int64_t now_step, int64_t last_used_step);

std::string NewSecret();  // kSecretBytes random bytes

// RFC 4648 base32 without padding (what authenticator apps take), and back (case and spaces
// ignored); nullopt for anything else.
std::string Base32(std::string_view bytes);
std::optional<std::string> FromBase32(std::string_view text);

// otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA256&digits=6&period=30
std::string ProvisioningUri(std::string_view issuer, std::string_view account, std::string_view secret);

// Ten single-use recovery codes ("xxxx-xxxx-xxxx", base32 letters: 60 bits each), and the hash
// stored for one (SHA-256 hex of the code without dashes, upper-cased: they carry enough
// entropy that a fast hash is enough).
std::vector<std::string> NewRecoveryCodes();
std::string RecoveryCodeHash(std::string_view code);

}  // namespace totp
}  // namespace clinicore::auth
