#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "platform/auth/keys.hpp"
#include "platform/core/result.hpp"

namespace clinicore::auth {

// The claims of an access token (JWS compact, alg EdDSA). `tenant_id` is empty in
// console tokens (their audience is the console realm).
struct AccessClaims {
  std::string issuer;
  std::string audience;
  std::string subject;    // the account id
  std::string tenant_id;  // "tid"
  std::string role;
  std::string jti;
  std::string session_id;  // "sid": the refresh-token family the token was issued in
  int64_t issued_at = 0;   // seconds since the epoch
  int64_t expires_at = 0;
};

// What a verified token must say to be accepted here.
struct TokenExpectation {
  std::string issuer;
  std::string audience;
  std::optional<std::string> tenant_id;  // a tenant token must name exactly this tenant
  int64_t now = 0;
  int64_t leeway_seconds = 30;
};

inline constexpr size_t kMaxTokenBytes = 4096;
// No access token is accepted with a longer lifetime, whatever CLINICORE_AUTH_ACCESS_TTL_MS
// says now: revocations last this long, so a token issued under an earlier, longer setting
// cannot outlive its revocation.
inline constexpr int64_t kMaxAccessLifetimeSeconds = 24 * 3600;

std::string IssueAccessToken(const KeyRing& keys, const AccessClaims& claims);

// Accepts EdDSA only. Refuses, with an Unauthenticated error saying why: oversized or
// malformed input, any other alg (none, HS*, RS*, ...), unknown header fields, an unknown
// kid, a bad signature, a wrong issuer or audience, another tenant's token, an expired or
// not-yet-valid token (beyond the leeway). Nothing of the payload is trusted before the
// signature checks out.
core::Result<AccessClaims> VerifyAccessToken(std::string_view token, const KeyRing& keys,
                                             const TokenExpectation& expected);

// How deeply objects and arrays nest in a JSON text (strings skipped); refuses JSON bombs
// before a parser sees them.
int JsonNestingDepth(std::string_view text);

}  // namespace clinicore::auth
