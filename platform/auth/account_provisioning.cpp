#include "platform/auth/account_provisioning.hpp"

#include <vector>

#include "platform/auth/account_validation.hpp"

namespace clinicore::auth {

core::Result<Account> EnsureAccount(db::Database& database, AuthService& auth, AccountCache& accounts,
                                    const RealmContext& realm, const std::string& email, const std::string& full_name,
                                    const std::string& role, const std::string& password) {
  CLINICORE_TRY_STATUS(ValidateEmail(email));
  CLINICORE_TRY_STATUS(ValidateFullName(full_name));
  CLINICORE_TRY_STATUS(CheckPasswordPolicy(password, email));
  CLINICORE_TRY(const std::string hash, auth.hasher().Hash(password));
  bool existed = false;
  std::vector<std::string> ended;
  auto ensured = realm.Write(database, [&](db::Transaction& tx) -> core::Result<Account> {
    auto account = AccountStore::FindByEmail(tx, TenantRealm(), email);
    existed = account.has_value();
    ended.clear();
    if (!account) {
      account = AccountStore::Insert(tx, TenantRealm(),
                                     {email, full_name, std::nullopt, role, hash, std::nullopt, std::nullopt});
    } else {
      AccountStore::SetPasswordHash(tx, TenantRealm(), account->id, hash);
      account =
          AccountStore::Update(tx, TenantRealm(), account->id, {std::nullopt, std::nullopt, std::nullopt, role, true});
      ended = auth.RevokeSessions(tx, realm, account->id, "reset_by_operator");
    }
    AccountStore::Audit(
        tx, TenantRealm(),
        {existed ? "user.reset_by_operator" : "user.created_by_operator", std::nullopt, account->id, {{"role", role}}},
        {});
    tx.Commit();
    return *account;
  });
  if (ensured && existed) {
    accounts.Forget(AccountCache::KeyOf(realm.scope->schema, ensured->id));
    auth.AfterCommitRevoke(realm, ended);
  }
  return ensured;
}

}  // namespace clinicore::auth
