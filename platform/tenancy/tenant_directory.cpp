#include "platform/tenancy/tenant_directory.hpp"

#include <algorithm>
#include <vector>

#include "platform/core/log.hpp"
#include "platform/tenancy/tenant_repository.hpp"

namespace clinicore::tenancy {

TenantDirectory::TenantDirectory(db::Database& database, std::shared_ptr<cache::RedisClient> redis, core::Millis ttl,
                                 size_t capacity)
    : database_(database), redis_(std::move(redis)), ttl_(ttl), capacity_(std::max<size_t>(capacity, 1)) {}

TenantDirectory::~TenantDirectory() {
  StopListening();
}

core::Result<Tenant> TenantDirectory::Resolve(const std::string& key) {
  // A key that cannot name a tenant costs neither a query nor a cache entry.
  if (!IsUuid(key) && !ValidateSlug(key).ok()) return core::Error::NotFound("No tenant '" + key + "' exists.");
  const auto now = std::chrono::steady_clock::now();
  {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.expires > now) {
      it->second.used.store(++clock_, std::memory_order_relaxed);
      if (!it->second.tenant) return core::Error::NotFound("No tenant '" + key + "' exists.");
      return *it->second.tenant;
    }
  }
  const uint64_t generation = generation_;
  auto loaded = database_.ReadOnce(
      [&](db::Transaction& tx) -> core::Result<std::optional<Tenant>> { return TenantRepository::FindByKey(tx, key); });
  if (!loaded) return std::move(loaded).error();
  {
    std::unique_lock lock(mutex_);
    // A change published while we were reading makes what we read suspect: don't cache it.
    if (generation == generation_) {
      // Unknown slugs are cached too (so a flood of them costs one query each per TTL); the
      // bound keeps that flood from growing memory without limit, and what it evicts is what
      // was used least recently, so the tenants in use stay cached through it.
      entries_.erase(key);
      if (entries_.size() >= capacity_) EvictLeastRecentlyUsedLocked();
      entries_.try_emplace(key, *loaded, now + ttl_, ++clock_);
    }
  }
  if (!loaded.value()) return core::Error::NotFound("No tenant '" + key + "' exists.");
  return *loaded.value();
}

// Drops the least recently used tenth of the entries at once (one pass over the map), so the
// cost of a pass is shared by the inserts that fill the room it made.
void TenantDirectory::EvictLeastRecentlyUsedLocked() {
  std::vector<uint64_t> uses;
  uses.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) uses.push_back(entry.used.load(std::memory_order_relaxed));
  const size_t evict = std::max<size_t>(1, entries_.size() / 10);
  std::nth_element(uses.begin(), uses.begin() + static_cast<std::ptrdiff_t>(evict - 1), uses.end());
  const uint64_t cutoff = uses[evict - 1];
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.used.load(std::memory_order_relaxed) <= cutoff ? entries_.erase(it) : std::next(it);
  }
}

void TenantDirectory::InvalidateLocal() {
  std::unique_lock lock(mutex_);
  ++generation_;
  entries_.clear();
}

void TenantDirectory::PublishChange() {
  InvalidateLocal();
  if (!redis_) return;
  if (auto published = redis_->Command({"PUBLISH", kChangeChannel, "changed"}); !published) {
    // Other replicas still converge when their entries expire (ttl).
    core::log::Warn("tenant_change_not_published", {{"detail", published.error().internal}});
  }
}

void TenantDirectory::StartListening(const core::RedisConfig& config) {
  if (subscription_) return;
  // Anything published while we were not subscribed is lost: every (re)subscription starts
  // from a clean cache.
  subscription_ = std::make_unique<cache::RedisSubscription>(
      config, kChangeChannel,
      cache::RedisSubscription::Handlers{[this] {
                                           InvalidateLocal();
                                           return true;
                                         },
                                         [this](const std::string&) { InvalidateLocal(); }, nullptr});
  subscription_->Start();
}

void TenantDirectory::StopListening() {
  if (subscription_) subscription_->Stop();
  subscription_.reset();
}

}  // namespace clinicore::tenancy
