#include "platform/auth/account_cache.hpp"

#include <mutex>

namespace clinicore::auth {

AccountCache::AccountCache(core::Millis ttl, size_t capacity, std::shared_ptr<core::Metrics> metrics)
    : ttl_(ttl), capacity_(capacity), metrics_(std::move(metrics)) {
  metrics_->DescribeCounter("clinicore_auth_account_cache_total",
                            "Account reads by id: hit, miss (read and kept or refused) or bypass (cache not live).");
  metrics_->DescribeGauge("clinicore_auth_account_cache_live",
                          "1 while the account cache hears change notices from PostgreSQL and serves reads.");
  metrics_->SetGauge("clinicore_auth_account_cache_live", {}, 0);
}

AccountCache::~AccountCache() {
  StopListening();
}

void AccountCache::StartListening(const core::DatabaseConfig& config) {
  if (listener_ || ttl_.count() == 0) return;
  listener_ = std::make_unique<db::ChangeListener>(
      config, kAccountChangeChannel, [this](const std::string& key) { Forget(key); },
      [this](bool listening) { SetLive(listening); });
  listener_->Start();
}

void AccountCache::StopListening() {
  if (listener_) listener_->Stop();
  listener_.reset();
  SetLive(false);
}

core::Result<std::optional<Account>> AccountCache::ReadThrough(const std::string& key, const Load& load) {
  uint64_t generation = 0;
  bool live = false;
  {
    std::shared_lock lock(mutex_);
    live = live_ && ttl_.count() > 0;
    generation = generation_;
  }
  if (!live) {
    metrics_->AddCounter("clinicore_auth_account_cache_total", {{"outcome", "bypass"}});
    return load();
  }
  if (auto hit = Find(key)) {
    metrics_->AddCounter("clinicore_auth_account_cache_total", {{"outcome", "hit"}});
    return std::optional<Account>(std::move(*hit));
  }
  metrics_->AddCounter("clinicore_auth_account_cache_total", {{"outcome", "miss"}});
  auto loaded = load();
  if (loaded && *loaded) Remember(key, **loaded, generation);
  return loaded;
}

std::optional<Account> AccountCache::Find(const std::string& key) const {
  std::shared_lock lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.expires <= std::chrono::steady_clock::now()) return std::nullopt;
  return it->second.account;
}

void AccountCache::Remember(const std::string& key, const Account& account, uint64_t generation_before_read) {
  std::unique_lock lock(mutex_);
  // Changed (or the listener reconnected) while we read: what we read may be older than the
  // notice that was just handled, so keeping it could serve a stale account until it expires.
  if (!live_ || generation_ != generation_before_read) return;
  const auto now = std::chrono::steady_clock::now();
  if (entries_.size() >= capacity_) {
    for (auto it = entries_.begin(); it != entries_.end();) it = it->second.expires <= now ? entries_.erase(it) : ++it;
    if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
  }
  entries_[key] = Entry{account, now + ttl_};
}

void AccountCache::Forget(const std::string& key) {
  std::unique_lock lock(mutex_);
  ++generation_;
  entries_.erase(key);
}

void AccountCache::SetLive(bool live) {
  {
    std::unique_lock lock(mutex_);
    ++generation_;
    entries_.clear();
    live_ = live;
  }
  metrics_->SetGauge("clinicore_auth_account_cache_live", {}, live ? 1 : 0);
}

bool AccountCache::live() const {
  std::shared_lock lock(mutex_);
  return live_;
}

size_t AccountCache::size() const {
  std::shared_lock lock(mutex_);
  return entries_.size();
}

}  // namespace clinicore::auth
