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
#include "platform/db/notified_cache.hpp"

namespace clinicore::auth {

// Accounts read by id, kept in this process so that a signed-in user's own profile (read on
// every page load) costs no database round trip (decisions/0008, db::NotifiedCache): every
// committed change to a `users` row is announced on kAccountChangeChannel as
// "<schema>:<id>" by a trigger (migrations/tenant/0003).
class AccountCache : public db::NotifiedCache<Account> {
 public:
  static constexpr const char* kAccountChangeChannel = "clinicore_accounts";

  AccountCache(core::Millis ttl, size_t capacity, std::shared_ptr<core::Metrics> metrics)
      : NotifiedCache({kAccountChangeChannel, "clinicore_auth_account_cache", "Account reads by id"}, ttl, capacity,
                      std::move(metrics)) {}
};

}  // namespace clinicore::auth
