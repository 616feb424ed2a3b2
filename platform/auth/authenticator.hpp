#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "platform/auth/access_token.hpp"
#include "platform/auth/keys.hpp"
#include "platform/auth/realm.hpp"
#include "platform/auth/revocation_list.hpp"
#include "platform/cache/redis_client.hpp"
#include "platform/core/config.hpp"
#include "platform/core/metrics.hpp"
#include "platform/http/request.hpp"

namespace clinicore::auth {

// The authenticated caller of a request, set by the authorization middleware.
struct Principal {
  std::string realm;    // "tenant" | "console"
  std::string subject;  // account id
  std::string role;
  std::string tenant_id;  // empty for platform admins
  std::string jti;
  std::string session_id;  // the refresh-token family: what sign-out and revocation end
  int64_t expires_at = 0;
};

// The principal of the request; only valid on routes whose policy requires a token.
const Principal& CurrentPrincipal(const http::RequestContext& context);
const Principal* FindPrincipal(const http::RequestContext& context);

// Verified access tokens by SHA-256 of the token, kept until they expire (Ed25519
// verification costs ~50 µs; a hash and a lookup cost far less). Bounded and sharded.
class TokenCache {
 public:
  explicit TokenCache(size_t capacity) : per_shard_(capacity / kShards) {}
  std::optional<AccessClaims> Find(const std::string& digest, int64_t now);
  void Put(const std::string& digest, const AccessClaims& claims);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, AccessClaims> entries;
  };
  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

// Issues and checks access tokens of both realms, and keeps the deny-list (RevocationList):
// single tokens by jti, and whole sessions by sid (sign-out, a reused refresh token,
// deactivation, role change, deletion, a password change). When the deny-list can be read
// neither from this process's replica nor from Redis, an ordinary request goes on (the token
// is valid at most its access lifetime, which docs/security.md states) and a strict one (a
// privileged change, see Authorization) is refused with 503.
class Authenticator {
 public:
  Authenticator(KeyRing keys, core::AuthConfig config, std::shared_ptr<cache::RedisClient> redis,
                std::shared_ptr<core::Metrics> metrics);

  // A signed access token for the account in one session (refresh-token family); returns the
  // token and its claims.
  std::pair<std::string, AccessClaims> Issue(const RealmContext& realm, const std::string& subject,
                                             const std::string& role, const std::string& session_id) const;
  // Reads "Authorization: Bearer <token>" and checks it for this realm (and tenant).
  // `strict`: refuse (503) when the deny-list cannot be read, instead of trusting the token.
  core::Result<Principal> Authenticate(const http::RequestContext& context, const RealmContext& realm,
                                       bool strict = false);

  // Voids one token until it would have expired anyway.
  void DenyToken(const RealmContext& realm, const std::string& jti, int64_t expires_at);
  // Voids every access token issued in these sessions (refresh-token families), for as long
  // as any of them could still be valid. Sessions started later are not affected, however
  // soon after.
  void EndSessions(const RealmContext& realm, const std::vector<std::string>& session_ids);

  RevocationList& revocations() { return revocations_; }
  const KeyRing& keys() const { return keys_; }
  const core::AuthConfig& config() const { return config_; }

 private:
  void Deny(const RealmContext& realm, const std::vector<std::string>& entries, int64_t until, const char* what);

  KeyRing keys_;
  core::AuthConfig config_;
  std::shared_ptr<cache::RedisClient> redis_;
  std::shared_ptr<core::Metrics> metrics_;
  TokenCache cache_;
  RevocationList revocations_;
};

int64_t UnixNow();

}  // namespace clinicore::auth
