#pragma once

#include <string>

#include "platform/auth/account_cache.hpp"
#include "platform/auth/account_store.hpp"
#include "platform/auth/auth_service.hpp"
#include "platform/db/database.hpp"

namespace clinicore::auth {

// Creates a tenant account with a known password, or resets an existing one to it with the
// given role, active (operators' `clinicore tenant ensure-user`, the demo tenant, tests). A
// reset ends the account's sessions, drops it from this process's account cache and is
// audited like every other account change.
core::Result<Account> EnsureAccount(db::Database& database, AuthService& auth, AccountCache& accounts,
                                    const RealmContext& realm, const std::string& email, const std::string& full_name,
                                    const std::string& role, const std::string& password);

}  // namespace clinicore::auth
