#include "platform/auth/realm.hpp"

#include "platform/cache/redis_client.hpp"

namespace clinicore::auth {

const Realm& TenantRealm() {
  static const Realm realm{"tenant",    "clinicore-tenant", "users",   "refresh_tokens",
                           "audit_log", "password_tokens",  "user_mfa"};
  return realm;
}

const Realm& ConsoleRealm() {
  static const Realm realm{
      "console", "clinicore-console", "platform.admins", "platform.admin_refresh_tokens", "platform.admin_audit",
      "",        "platform.admin_mfa"};
  return realm;
}

std::string RealmContext::Key(const std::string& suffix) const {
  if (!tenant_id.empty()) return cache::TenantKey(tenant_id, suffix);
  return "{platform}:" + suffix;
}

}  // namespace clinicore::auth
