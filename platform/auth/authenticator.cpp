#include "platform/auth/authenticator.hpp"

#include <chrono>

#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"

namespace clinicore::auth {
namespace {

using core::Error;
using core::ErrorCode;

Error Unauthenticated(std::string detail) {
  return Error{ErrorCode::kUnauthenticated, std::move(detail), {}, {{"Authorization", "missing or invalid"}}};
}

std::string DenyJtiKey(const RealmContext& realm, const std::string& jti) {
  return realm.Key("auth:deny:" + jti);
}
std::string DenySessionKey(const RealmContext& realm, const std::string& session_id) {
  return realm.Key("auth:deny-session:" + session_id);
}

}  // namespace

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const Principal* FindPrincipal(const http::RequestContext& context) {
  return std::any_cast<Principal>(&context.principal);
}

const Principal& CurrentPrincipal(const http::RequestContext& context) {
  return std::any_cast<const Principal&>(context.principal);
}

std::optional<AccessClaims> TokenCache::Find(const std::string& digest, int64_t now) {
  if (per_shard_ == 0) return std::nullopt;
  Shard& shard = shards_[static_cast<unsigned char>(digest[0]) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(digest);
  if (it == shard.entries.end()) return std::nullopt;
  if (it->second.expires_at <= now) {
    shard.entries.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void TokenCache::Put(const std::string& digest, const AccessClaims& claims) {
  if (per_shard_ == 0) return;
  Shard& shard = shards_[static_cast<unsigned char>(digest[0]) % kShards];
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= per_shard_) {
    const int64_t now = UnixNow();
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      it = it->second.expires_at <= now ? shard.entries.erase(it) : ++it;
    }
    if (shard.entries.size() >= per_shard_) shard.entries.erase(shard.entries.begin());
  }
  shard.entries.emplace(digest, claims);
}

Authenticator::Authenticator(KeyRing keys, core::AuthConfig config, std::shared_ptr<cache::RedisClient> redis,
                             std::shared_ptr<core::Metrics> metrics)
    : keys_(std::move(keys)),
      config_(std::move(config)),
      redis_(std::move(redis)),
      metrics_(std::move(metrics)),
      cache_(config_.token_cache_entries),
      revocations_(redis_, metrics_) {
  metrics_->DescribeCounter("clinicore_auth_token_checks_total",
                            "Access-token checks by outcome (cached, verified, refused, denied).");
}

std::pair<std::string, AccessClaims> Authenticator::Issue(const RealmContext& realm, const std::string& subject,
                                                          const std::string& role,
                                                          const std::string& session_id) const {
  AccessClaims claims;
  claims.issuer = config_.issuer;
  claims.audience = realm.realm->audience;
  claims.subject = subject;
  claims.tenant_id = realm.tenant_id;
  claims.role = role;
  claims.jti = core::RandomToken(16);
  claims.session_id = session_id;
  claims.issued_at = UnixNow();
  claims.expires_at = claims.issued_at + std::chrono::duration_cast<std::chrono::seconds>(config_.access_ttl).count();
  return {IssueAccessToken(keys_, claims), claims};
}

core::Result<Principal> Authenticator::Authenticate(const http::RequestContext& context, const RealmContext& realm,
                                                    bool strict) {
  const auto header = context.raw.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header) return Unauthenticated("This route needs 'Authorization: Bearer <access token>'.");
  if (header->size() <= kBearer.size() || header->compare(0, kBearer.size(), kBearer) != 0) {
    return Unauthenticated("Send the access token as 'Authorization: Bearer <token>'.");
  }
  const std::string_view token = std::string_view(*header).substr(kBearer.size());
  const int64_t now = UnixNow();
  TokenExpectation expected{config_.issuer, realm.realm->audience,
                            realm.tenant_id.empty() ? std::nullopt : std::optional<std::string>(realm.tenant_id), now,
                            std::chrono::duration_cast<std::chrono::seconds>(config_.leeway).count()};

  const std::string digest = token.size() <= kMaxTokenBytes ? core::Sha256(token) : std::string();
  std::optional<AccessClaims> claims =
      digest.empty() ? std::nullopt : cache_.Find(digest, now - expected.leeway_seconds);
  const bool cached = claims.has_value();
  if (cached) {
    // Cached claims were verified once; the audience and tenant still have to match here.
    if (claims->audience != expected.audience || claims->tenant_id != realm.tenant_id) claims.reset();
  }
  if (!claims) {
    auto verified = VerifyAccessToken(token, keys_, expected);
    if (!verified) {
      metrics_->AddCounter("clinicore_auth_token_checks_total", {{"outcome", "refused"}});
      return std::move(verified).error();
    }
    if (!cached) cache_.Put(digest, *verified);
    claims = std::move(verified).value();
  }
  const auto verdict =
      revocations_.Check({DenyJtiKey(realm, claims->jti), DenySessionKey(realm, claims->session_id)}, now);
  if (verdict == RevocationList::Verdict::kDenied) {
    metrics_->AddCounter("clinicore_auth_token_checks_total", {{"outcome", "denied"}});
    return Unauthenticated("The access token was revoked; sign in again.");
  }
  if (verdict == RevocationList::Verdict::kUnknown && strict) {
    metrics_->AddCounter("clinicore_auth_token_checks_total", {{"outcome", "unconfirmed"}});
    return Error::Unavailable("Whether this access token was revoked cannot be checked now; retry shortly.",
                              "deny-list unreadable");
  }
  metrics_->AddCounter("clinicore_auth_token_checks_total", {{"outcome", cached ? "cached" : "verified"}});
  return Principal{realm.realm->name, claims->subject,    claims->role,      claims->tenant_id,
                   claims->jti,       claims->session_id, claims->expires_at};
}

void Authenticator::DenyToken(const RealmContext& realm, const std::string& jti, int64_t expires_at) {
  Deny(realm, {DenyJtiKey(realm, jti)}, expires_at + 60, "auth_deny_unavailable");
}

void Authenticator::EndSessions(const RealmContext& realm, const std::vector<std::string>& session_ids) {
  // As long as any access token of these sessions could be accepted: the longest lifetime the
  // verifier takes, not the one configured now (a token issued under a longer setting lives on).
  const int64_t until = UnixNow() + kMaxAccessLifetimeSeconds +
                        std::chrono::duration_cast<std::chrono::seconds>(config_.leeway).count() + 60;
  std::vector<std::string> entries;
  for (const auto& session_id : session_ids) entries.push_back(DenySessionKey(realm, session_id));
  Deny(realm, entries, until, "auth_revoke_unavailable");
}

void Authenticator::Deny(const RealmContext& realm, const std::vector<std::string>& entries, int64_t until,
                         const char* what) {
  // The refresh tokens are revoked in PostgreSQL already, and privileged requests read that
  // (AccountStore::CurrentActor); what Redis missed is logged.
  if (auto denied = revocations_.Deny(entries, until); !denied) {
    core::log::Warn(what, {{"tenant_id", realm.tenant_id}, {"detail", denied.error().internal}});
  }
}

}  // namespace clinicore::auth
