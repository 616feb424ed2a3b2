#pragma once

#include <optional>
#include <string>

#include "platform/db/database.hpp"

namespace clinicore::auth {

// An account realm: tenant users (in each tenant's schema) or platform admins (in the
// platform schema). Both have tables of the same shape, so one implementation of sign-in,
// refresh rotation, revocation and audit serves both; only names differ.
struct Realm {
  std::string name;            // "tenant" | "console": statement names and Redis keys
  std::string audience;        // the token audience; a token of one realm is refused by the other
  std::string accounts_table;  // "users" (search_path = the tenant's schema) | "platform.admins"
  std::string refresh_table;
  std::string audit_table;
  // One-time password tokens (invitations); empty when the realm has none. Setting a
  // password any way voids the account's outstanding ones.
  std::string password_tokens_table;
  // The TOTP second factors of the realm's accounts (docs/security.md).
  std::string mfa_table;
};

const Realm& TenantRealm();
const Realm& ConsoleRealm();

// One realm as seen by one request: the tenant's database scope for tenant users.
struct RealmContext {
  const Realm* realm = nullptr;
  std::optional<db::TenantScope> scope;  // set for the tenant realm
  std::string tenant_id;                 // empty for the console realm

  // Redis key for this realm's short-lived auth state; tenant keys carry the tenant hash tag.
  std::string Key(const std::string& suffix) const;

  template <typename Fn>
  auto Write(db::Database& database, Fn&& fn) const {
    return scope ? database.WriteInTenant(*scope, std::forward<Fn>(fn)) : database.Write(std::forward<Fn>(fn));
  }
  // One statement, one round trip (see Database::ReadOnceInTenant).
  template <typename Fn>
  auto ReadOnce(db::Database& database, Fn&& fn) const {
    return scope ? database.ReadOnceInTenant(*scope, std::forward<Fn>(fn)) : database.ReadOnce(std::forward<Fn>(fn));
  }
  template <typename Fn>
  auto Read(db::Database& database, Fn&& fn) const {
    return scope ? database.ReadInTenant(*scope, std::forward<Fn>(fn)) : database.Read(std::forward<Fn>(fn));
  }
};

// Who made the call, for rate limits and the audit trail.
struct Caller {
  std::string ip;
  std::string request_id;
};

}  // namespace clinicore::auth
