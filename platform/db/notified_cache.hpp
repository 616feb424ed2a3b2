#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "platform/core/config.hpp"
#include "platform/core/metrics.hpp"
#include "platform/core/result.hpp"
#include "platform/db/change_listener.hpp"

namespace clinicore::db {

// Values read from a tenant's tables, kept in this process while PostgreSQL says they are
// current (decisions/0008; the account cache and the catalogue cache are two of these):
//   - A trigger announces every committed change on `channel` as "<schema>:<key part>"; a
//     ChangeListener of its own feeds those notices to Forget(). The writer also forgets the
//     entry right after its commit, so its own next read sees the change.
//   - It only serves while that listener is connected; whenever it connects or loses its
//     connection it is emptied, because notices in between are lost.
//   - A read that raced with a change is not kept: the generation counted before the read
//     must still be current when the value is remembered.
//   - Entries expire after `ttl` in any case; keys carry the tenant's schema, so one tenant's
//     entry never answers for another's. A ttl of 0 turns the cache off.
template <typename Value>
class NotifiedCache {
 public:
  struct Names {
    std::string channel;  // the NOTIFY channel its trigger announces on
    std::string metric;   // "<metric>_total" (hit/miss/bypass) and "<metric>_live"
    std::string what;     // "Account reads by id", for the metric's help text
  };
  using Load = std::function<core::Result<std::optional<Value>>()>;

  NotifiedCache(Names names, core::Millis ttl, size_t capacity, std::shared_ptr<core::Metrics> metrics)
      : names_(std::move(names)), ttl_(ttl), capacity_(capacity), metrics_(std::move(metrics)) {
    metrics_->DescribeCounter(names_.metric + "_total",
                              names_.what + ": hit, miss (read and kept or refused) or bypass (cache not live).");
    metrics_->DescribeGauge(names_.metric + "_live",
                            "1 while the cache hears change notices from PostgreSQL and serves reads.");
    metrics_->SetGauge(names_.metric + "_live", {}, 0);
  }
  virtual ~NotifiedCache() { StopListening(); }
  // Keys carry the tenant's schema, as the triggers' notices do: "<schema>:<id>".
  static std::string KeyOf(const std::string& schema, const std::string& id) { return schema + ":" + id; }
  // The notice (or Forget key) "<schema>:*" forgets every entry of that tenant: for caches of
  // answers that any change to a table may alter (pages of a list).
  static std::string WholeTenant(const std::string& schema) { return schema + ":*"; }
  NotifiedCache(const NotifiedCache&) = delete;
  NotifiedCache& operator=(const NotifiedCache&) = delete;

  // The cached value, or else what `load` reads (kept when it may be).
  core::Result<std::optional<Value>> ReadThrough(const std::string& key, const Load& load) {
    uint64_t generation = 0;
    bool live = false;
    {
      std::shared_lock lock(mutex_);
      live = live_ && ttl_.count() > 0;
      generation = generation_;
    }
    if (!live) {
      metrics_->AddCounter(names_.metric + "_total", {{"outcome", "bypass"}});
      return load();
    }
    if (auto hit = Find(key)) {
      metrics_->AddCounter(names_.metric + "_total", {{"outcome", "hit"}});
      return std::optional<Value>(std::move(*hit));
    }
    metrics_->AddCounter(names_.metric + "_total", {{"outcome", "miss"}});
    auto loaded = load();
    if (loaded && *loaded) Remember(key, **loaded, generation);
    return loaded;
  }

  // Hears PostgreSQL's change notices on a connection of its own (`serve` only: a CLI's
  // cache never goes live, so it always reads the database).
  void StartListening(const core::DatabaseConfig& config) {
    if (listener_ || ttl_.count() == 0) return;
    listener_ = std::make_unique<ChangeListener>(
        config, names_.channel, [this](const std::string& key) { Forget(key); },
        [this](bool listening) { SetLive(listening); });
    listener_->Start();
  }
  void StopListening() {
    if (listener_) listener_->Stop();
    listener_.reset();
    SetLive(false);
  }

  // `result`, after forgetting every entry of the tenant when it is a success: a write whose
  // change the writer's own next read must see before PostgreSQL's notice arrives.
  template <typename Result>
  Result ForgetTenantOnSuccess(const std::string& schema, Result result) {
    if (result.ok()) Forget(WholeTenant(schema));
    return result;
  }

  void Forget(const std::string& key) {
    std::unique_lock lock(mutex_);
    ++generation_;
    if (!key.ends_with(":*")) {
      entries_.erase(key);
      return;
    }
    const std::string_view prefix(key.data(), key.size() - 1);  // "<schema>:"
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->first.starts_with(prefix) ? entries_.erase(it) : ++it;
    }
  }
  void SetLive(bool live) {
    {
      std::unique_lock lock(mutex_);
      ++generation_;
      entries_.clear();
      live_ = live;
    }
    metrics_->SetGauge(names_.metric + "_live", {}, live ? 1 : 0);
  }
  bool live() const {
    std::shared_lock lock(mutex_);
    return live_;
  }
  size_t size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    Value value;
    std::chrono::steady_clock::time_point expires;
  };

  std::optional<Value> Find(const std::string& key) const {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= std::chrono::steady_clock::now()) return std::nullopt;
    return it->second.value;
  }

  void Remember(const std::string& key, const Value& value, uint64_t generation_before_read) {
    std::unique_lock lock(mutex_);
    // Changed (or the listener reconnected) while we read: what we read may be older than the
    // notice just handled, so keeping it could serve a stale value until it expires.
    if (!live_ || generation_ != generation_before_read) return;
    const auto now = std::chrono::steady_clock::now();
    if (entries_.size() >= capacity_) {
      for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->second.expires <= now ? entries_.erase(it) : ++it;
      }
      if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
    }
    entries_[key] = Entry{value, now + ttl_};
  }

  Names names_;
  std::unique_ptr<ChangeListener> listener_;
  core::Millis ttl_;
  size_t capacity_;
  std::shared_ptr<core::Metrics> metrics_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;
  bool live_ = false;
};

}  // namespace clinicore::db
