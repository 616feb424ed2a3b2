#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "platform/cache/redis_client.hpp"
#include "platform/cache/redis_subscription.hpp"
#include "platform/core/config.hpp"
#include "platform/db/database.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::tenancy {

// Resolves a tenant by slug or id with an in-process cache, so a request costs no registry
// query. Changes invalidate every replica's cache through Redis pub/sub; entries also expire
// after `ttl`, which bounds staleness while Redis is down.
class TenantDirectory {
 public:
  TenantDirectory(db::Database& database, std::shared_ptr<cache::RedisClient> redis, core::Millis ttl,
                  size_t capacity = kMaxEntries);
  ~TenantDirectory();
  TenantDirectory(const TenantDirectory&) = delete;
  TenantDirectory& operator=(const TenantDirectory&) = delete;

  // NotFound for an unknown key; Unavailable when the registry cannot be read.
  core::Result<Tenant> Resolve(const std::string& key);

  // Drops this process's cache and tells the other replicas to drop theirs.
  void PublishChange();
  void InvalidateLocal();

  // Subscribes to the change channel on a connection of its own, reconnecting as needed.
  void StartListening(const core::RedisConfig& config);
  void StopListening();

  static constexpr const char* kChangeChannel = "clinicore:platform:tenant-changes";
  static constexpr size_t kMaxEntries = 100'000;

 private:
  struct Entry {
    Entry(std::optional<Tenant> found, std::chrono::steady_clock::time_point until, uint64_t use)
        : tenant(std::move(found)), expires(until), used(use) {}
    std::optional<Tenant> tenant;  // nullopt: known not to exist
    std::chrono::steady_clock::time_point expires;
    std::atomic<uint64_t> used;  // the clock_ tick of its last read: readers bump it under the shared lock
  };
  void EvictLeastRecentlyUsedLocked();

  db::Database& database_;
  std::shared_ptr<cache::RedisClient> redis_;
  core::Millis ttl_;
  size_t capacity_;
  std::atomic<uint64_t> clock_{0};
  std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::atomic<uint64_t> generation_{0};

  std::unique_ptr<cache::RedisSubscription> subscription_;
};

}  // namespace clinicore::tenancy
