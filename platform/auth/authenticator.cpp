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
      cache_(config_.token_cache_entries) {
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

core::Result<Principal> Authenticator::Authenticate(const http::RequestContext& context, const RealmContext& realm) {
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
  if (IsDenied(realm, *claims)) {
    metrics_->AddCounter("clinicore_auth_token_checks_total", {{"outcome", "denied"}});
    return Unauthenticated("The access token was revoked; sign in again.");
  }
  metrics_->AddCounter("clinicore_auth_token_checks_total", {{"outcome", cached ? "cached" : "verified"}});
  return Principal{realm.realm->name, claims->subject,    claims->role,      claims->tenant_id,
                   claims->jti,       claims->session_id, claims->expires_at};
}

bool Authenticator::IsDenied(const RealmContext& realm, const AccessClaims& claims) {
  auto reply = redis_->Command({"MGET", DenyJtiKey(realm, claims.jti), DenySessionKey(realm, claims.session_id)});
  if (!reply || reply->type != cache::RedisValue::Type::kArray || reply->elements.size() != 2) return false;
  return reply->elements[0].type != cache::RedisValue::Type::kNil ||
         reply->elements[1].type != cache::RedisValue::Type::kNil;
}

void Authenticator::DenyToken(const RealmContext& realm, const std::string& jti, int64_t expires_at) {
  const int64_t ttl = std::max<int64_t>(1, expires_at - UnixNow() + 60);
  auto reply = redis_->Command({"SET", DenyJtiKey(realm, jti), "1", "EX", std::to_string(ttl)});
  if (!reply)
    core::log::Warn("auth_deny_unavailable", {{"tenant_id", realm.tenant_id}, {"detail", reply.error().detail}});
}

void Authenticator::EndSessions(const RealmContext& realm, const std::vector<std::string>& session_ids) {
  // Longer than any access token of these sessions can live (tokens longer than 24 h are refused).
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(config_.access_ttl + config_.leeway).count() + 60;
  for (const auto& session_id : session_ids) {
    auto reply = redis_->Command({"SET", DenySessionKey(realm, session_id), "1", "EX", std::to_string(ttl)});
    if (!reply) {
      core::log::Warn("auth_revoke_unavailable", {{"tenant_id", realm.tenant_id}, {"detail", reply.error().detail}});
      return;  // the client fails fast while Redis is down: the rest would fail the same way
    }
  }
}

}  // namespace clinicore::auth
