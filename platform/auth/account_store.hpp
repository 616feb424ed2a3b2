#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/auth/realm.hpp"
#include "platform/db/database.hpp"
#include "platform/kit/page.hpp"

namespace clinicore::auth {

struct Account {
  std::string id;
  std::string email;
  std::string full_name;
  std::optional<std::string> phone;
  std::string role;
  bool active = true;
  std::optional<std::string> locale;
  std::optional<std::string> password_hash;
  std::string created_at;
  std::string updated_at;
  std::string cursor_key;  // created_at to the microsecond + id: the keyset position
};

// What a client may see of an account (never the hash).
nlohmann::json AccountJson(const Account& account);

struct NewAccount {
  std::string email;
  std::string full_name;
  std::optional<std::string> phone;
  std::string role;
  std::optional<std::string> password_hash;
  std::optional<std::string> locale;
  std::optional<std::string> created_by;
};

struct AccountPatch {
  std::optional<std::string> full_name;
  std::optional<std::string> phone;
  std::optional<std::string> locale;
  std::optional<std::string> role;
  std::optional<bool> active;
};

struct AccountFilter {
  std::optional<std::string> role;
  std::optional<std::string> search;  // substring of the email or name
  kit::PageRequest page;              // limit, the decoded cursor and the list it belongs to
};

struct AccountPage {
  std::vector<Account> items;
  std::optional<std::string> next_cursor;
};

struct RefreshState {
  std::string family_id;
  std::string user_id;
  bool rotated = false;
  bool revoked = false;
  bool expired = false;
  long long family_age_seconds = 0;  // Rotate: how long ago the session (family) began
};

// An account as a privileged request re-reads it (AccountStore::CurrentActor).
struct ActorState {
  std::string role;
  bool active = false;           // and not deleted
  bool session_revoked = false;  // the token's session (refresh-token family) was ended
};

struct AuditEvent {
  std::string action;  // "login.succeeded", "refresh.reused", "user.role_changed", ...
  std::optional<std::string> actor_id;
  std::optional<std::string> subject_id;
  nlohmann::json details = nlohmann::json::object();
};

// Every statement on a realm's account, refresh-token and audit tables. The statements
// of both realms are registered at start-up under "auth.<realm>.<name>".
class AccountStore {
 public:
  static void RegisterStatements(db::Database& database);

  static std::optional<Account> FindByEmail(db::Transaction& tx, const Realm& realm, const std::string& email);
  static std::optional<Account> FindById(db::Transaction& tx, const Realm& realm, const std::string& id);
  // AlreadyExists naming "email" when a live account has the address.
  static Account Insert(db::Transaction& tx, const Realm& realm, const NewAccount& account);
  static std::optional<Account> Update(db::Transaction& tx, const Realm& realm, const std::string& id,
                                       const AccountPatch& patch);
  static bool SoftDelete(db::Transaction& tx, const Realm& realm, const std::string& id);
  static core::Result<AccountPage> List(db::Transaction& tx, const Realm& realm, const AccountFilter& filter);
  static void SetPasswordHash(db::Transaction& tx, const Realm& realm, const std::string& id, const std::string& hash);

  // The live account, its row locked until the transaction ends: a sign-in or password
  // change re-reads it here after verifying outside the transaction, and goes on only when
  // nothing changed meanwhile.
  static std::optional<Account> LockLive(db::Transaction& tx, const Realm& realm, const std::string& id);

  // nullopt when no such account exists (deleted ones are reported inactive).
  static std::optional<ActorState> CurrentActor(db::Transaction& tx, const Realm& realm, const std::string& id,
                                                const std::string& session_id);

  static void InsertRefresh(db::Transaction& tx, const Realm& realm, const std::string& token_hash,
                            const std::string& family_id, const std::string& user_id, long long ttl_seconds);
  // Rotate, RevokeFamily and RevokeSessions first lock the account's row (see LockLive), so
  // none of them can miss a token that a concurrent refresh of the account inserts.
  // Marks a live, unexpired token rotated; nullopt when it is not (then Lookup says why).
  static std::optional<RefreshState> Rotate(db::Transaction& tx, const Realm& realm, const std::string& token_hash);
  static std::optional<RefreshState> Lookup(db::Transaction& tx, const Realm& realm, const std::string& token_hash);
  static int RevokeFamily(db::Transaction& tx, const Realm& realm, const std::string& family_id,
                          const std::string& reason);
  // Revokes every live refresh token of the account (but those of `keep_session`); returns the
  // families (sessions) it ended.
  static std::vector<std::string> RevokeSessions(db::Transaction& tx, const Realm& realm, const std::string& user_id,
                                                 const std::string& reason,
                                                 const std::optional<std::string>& keep_session = std::nullopt);

  static void Audit(db::Transaction& tx, const Realm& realm, const AuditEvent& event, const Caller& caller);
};

std::string NormalizeEmail(std::string_view email);

}  // namespace clinicore::auth
