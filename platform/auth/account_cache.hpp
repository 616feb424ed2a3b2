#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "platform/auth/account_store.hpp"
#include "platform/core/config.hpp"
#include "platform/core/metrics.hpp"
#include "platform/core/result.hpp"
#include "platform/db/change_listener.hpp"

namespace clinicore::auth {

// Accounts read by id, kept in this process so that a signed-in user's own profile (read on
// every page load) costs no database round trip. decisions/0008 explains the design:
//   - Every committed change to a `users` row is announced by a trigger on the PostgreSQL
//     channel kAccountChangeChannel as "<schema>:<id>" (migrations/tenant/0003); a
//     db::ChangeListener feeds those notices to Forget(). The process that made the change
//     also forgets the entry itself right after its commit, so its own next read sees it.
//   - The cache only serves while that listener is connected (SetLive); whenever it connects
//     or loses its connection the cache is emptied, because notices in between are lost.
//   - A read that raced with a change is not kept: Remember() takes the generation counted
//     before the read, and any Forget() since then makes it refuse.
//   - Entries expire after `ttl` in any case; keys carry the tenant's schema, so one tenant's
//     entry can never answer for another's.
class AccountCache {
 public:
  static constexpr const char* kAccountChangeChannel = "clinicore_accounts";
  using Load = std::function<core::Result<std::optional<Account>>()>;

  AccountCache(core::Millis ttl, size_t capacity, std::shared_ptr<core::Metrics> metrics);
  ~AccountCache();
  AccountCache(const AccountCache&) = delete;
  AccountCache& operator=(const AccountCache&) = delete;

  static std::string KeyOf(const std::string& schema, const std::string& id) { return schema + ":" + id; }

  // The cached account, or else what `load` reads (kept when it may be).
  core::Result<std::optional<Account>> ReadThrough(const std::string& key, const Load& load);

  // Hears PostgreSQL's change notices on a connection of its own (`serve` only: the CLI's
  // cache never goes live, so it always reads the database).
  void StartListening(const core::DatabaseConfig& config);
  void StopListening();

  void Forget(const std::string& key);
  void SetLive(bool live);
  bool live() const;
  size_t size() const;

 private:
  struct Entry {
    Account account;
    std::chrono::steady_clock::time_point expires;
  };
  std::optional<Account> Find(const std::string& key) const;
  void Remember(const std::string& key, const Account& account, uint64_t generation_before_read);

  std::unique_ptr<db::ChangeListener> listener_;
  core::Millis ttl_;
  size_t capacity_;
  std::shared_ptr<core::Metrics> metrics_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;
  bool live_ = false;
};

}  // namespace clinicore::auth
