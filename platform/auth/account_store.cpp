#include "platform/auth/account_store.hpp"

#include <algorithm>
#include <set>

#include "platform/core/crypto.hpp"
#include "platform/kit/page.hpp"

namespace clinicore::auth {
namespace {

using core::Error;

#define CLINICORE_ACCOUNT_COLUMNS                                                 \
  "id::text, email, full_name, phone, role, active, locale, password_hash, "      \
  "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
  "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
  "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '|' || id::text"

struct Statement {
  const char* name;
  std::string (*sql)(const Realm&);
};

std::string Name(const Realm& realm, const char* statement) {
  return "auth." + realm.name + "." + statement;
}

const Statement kStatements[] = {
    {"find_by_email",
     [](const Realm& r) {
       return "SELECT " CLINICORE_ACCOUNT_COLUMNS " FROM " + r.accounts_table +
              " WHERE email_normalized = $1 AND deleted_at IS NULL";
     }},
    {"find_by_id",
     [](const Realm& r) {
       return "SELECT " CLINICORE_ACCOUNT_COLUMNS " FROM " + r.accounts_table +
              " WHERE id = $1::uuid AND deleted_at IS NULL";
     }},
    {"insert",
     [](const Realm& r) {
       return "INSERT INTO " + r.accounts_table +
              " (email, email_normalized, full_name, phone, role, password_hash, locale, created_by) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid) RETURNING " CLINICORE_ACCOUNT_COLUMNS;
     }},
    {"update",
     [](const Realm& r) {
       return "UPDATE " + r.accounts_table +
              " SET full_name = coalesce($2, full_name), phone = coalesce($3, phone), "
              "locale = coalesce($4, locale), role = coalesce($5, role), active = coalesce($6, active), "
              "updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL RETURNING " CLINICORE_ACCOUNT_COLUMNS;
     }},
    {"soft_delete",
     [](const Realm& r) {
       return "UPDATE " + r.accounts_table +
              " SET deleted_at = now(), active = false, updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL";
     }},
    {"list",
     [](const Realm& r) {
       return "SELECT " CLINICORE_ACCOUNT_COLUMNS " FROM " + r.accounts_table +
              " WHERE deleted_at IS NULL AND ($1::text IS NULL OR role = $1) "
              "AND ($2::text IS NULL OR email_normalized LIKE $2 ESCAPE '\\' OR full_name ILIKE $2 ESCAPE '\\') "
              "AND ($3::timestamp IS NULL OR (created_at, id) > ($3::timestamp AT TIME ZONE 'UTC', $4::uuid)) "
              "ORDER BY created_at, id LIMIT $5";
     }},
    {"set_password_hash",
     [](const Realm& r) {
       // An invitation must not outlive the password it was meant to set: a password set any
       // other way (a change, an operator reset, another invitation) voids it.
       const std::string voided = r.password_tokens_table.empty()
                                      ? ""
                                      : "WITH voided AS (UPDATE " + r.password_tokens_table +
                                            " SET used_at = now() WHERE user_id = $1::uuid AND used_at IS NULL) ";
       return voided + "UPDATE " + r.accounts_table + " SET password_hash = $2, updated_at = now() WHERE id = $1::uuid";
     }},
    // Whether the caller of a privileged request is who the token says: the role and active
    // flag now, and whether the token's session was revoked (durable, unlike the deny-list).
    {"actor_state",
     [](const Realm& r) {
       return "SELECT a.role, a.active AND a.deleted_at IS NULL, EXISTS (SELECT 1 FROM " + r.refresh_table +
              " t WHERE t.family_id = $2::uuid AND t.user_id = a.id AND t.revoked_at IS NOT NULL) FROM " +
              r.accounts_table + " a WHERE a.id = $1::uuid";
     }},
    // The account row is the serialization point of an account's sessions: every refresh,
    // revocation and sign-in locks it first (FOR NO KEY UPDATE, which a refresh token's
    // foreign key does not wait on), so a revocation's later statements see every token a
    // concurrent refresh inserted, and a refresh waits out a revocation in flight.
    {"lock_account",
     [](const Realm& r) { return "SELECT 1 FROM " + r.accounts_table + " WHERE id = $1::uuid FOR NO KEY UPDATE"; }},
    {"lock_live_account",
     [](const Realm& r) {
       return "SELECT " CLINICORE_ACCOUNT_COLUMNS " FROM " + r.accounts_table +
              " WHERE id = $1::uuid AND deleted_at IS NULL FOR NO KEY UPDATE";
     }},
    {"lock_account_of_token",
     [](const Realm& r) {
       return "SELECT 1 FROM " + r.accounts_table + " WHERE id = (SELECT user_id FROM " + r.refresh_table +
              " WHERE token_hash = $1) FOR NO KEY UPDATE";
     }},
    {"lock_account_of_family",
     [](const Realm& r) {
       return "SELECT 1 FROM " + r.accounts_table + " WHERE id = (SELECT user_id FROM " + r.refresh_table +
              " WHERE family_id = $1::uuid LIMIT 1) FOR NO KEY UPDATE";
     }},
    {"insert_refresh",
     [](const Realm& r) {
       return "INSERT INTO " + r.refresh_table +
              " (token_hash, family_id, user_id, expires_at) "
              "VALUES ($1, $2::uuid, $3::uuid, now() + make_interval(secs => $4))";
     }},
    {"rotate_refresh",
     [](const Realm& r) {
       return "UPDATE " + r.refresh_table +
              " AS t SET rotated_at = now() WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL "
              "AND expires_at > now() RETURNING t.family_id::text, t.user_id::text, "
              "(SELECT floor(extract(epoch FROM now() - min(f.issued_at)))::bigint FROM " +
              r.refresh_table + " f WHERE f.family_id = t.family_id)";
     }},
    {"lookup_refresh",
     [](const Realm& r) {
       return "SELECT family_id::text, user_id::text, rotated_at IS NOT NULL, revoked_at IS NOT NULL, "
              "expires_at <= now() FROM " +
              r.refresh_table + " WHERE token_hash = $1";
     }},
    {"revoke_family",
     [](const Realm& r) {
       return "UPDATE " + r.refresh_table +
              " SET revoked_at = now(), revoked_reason = $2 WHERE family_id = $1::uuid AND revoked_at IS NULL";
     }},
    {"revoke_sessions",
     [](const Realm& r) {
       return "UPDATE " + r.refresh_table +
              " SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1::uuid AND revoked_at IS NULL "
              "AND family_id IS DISTINCT FROM $3::uuid RETURNING family_id::text";
     }},
    {"audit",
     [](const Realm& r) {
       return "INSERT INTO " + r.audit_table +
              " (action, actor_id, subject_id, ip, request_id, details) "
              "VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6::jsonb)";
     }},
};

Account AccountFromRow(const pqxx::row& row) {
  Account account;
  account.id = row[0].as<std::string>();
  account.email = row[1].as<std::string>();
  account.full_name = row[2].as<std::string>();
  if (!row[3].is_null()) account.phone = row[3].as<std::string>();
  account.role = row[4].as<std::string>();
  account.active = row[5].as<bool>();
  if (!row[6].is_null()) account.locale = row[6].as<std::string>();
  if (!row[7].is_null()) account.password_hash = row[7].as<std::string>();
  account.created_at = row[8].as<std::string>();
  account.updated_at = row[9].as<std::string>();
  account.cursor_key = row[10].as<std::string>();
  return account;
}

std::optional<Account> FirstAccount(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  return AccountFromRow(result[0]);
}

pqxx::binarystring Bytes(const std::string& bytes) {
  return pqxx::binarystring(bytes);
}

std::string LikePattern(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return "%" + escaped + "%";
}

}  // namespace

std::string NormalizeEmail(std::string_view email) {
  std::string out(email);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

nlohmann::json AccountJson(const Account& account) {
  return {{"id", account.id},
          {"email", account.email},
          {"full_name", account.full_name},
          {"phone", account.phone ? nlohmann::json(*account.phone) : nullptr},
          {"role", account.role},
          {"active", account.active},
          {"locale", account.locale ? nlohmann::json(*account.locale) : nullptr},
          {"password_set", account.password_hash.has_value()},
          {"created_at", account.created_at},
          {"updated_at", account.updated_at}};
}

void AccountStore::RegisterStatements(db::Database& database) {
  for (const Realm* realm : {&TenantRealm(), &ConsoleRealm()}) {
    for (const auto& statement : kStatements)
      database.RegisterStatement(Name(*realm, statement.name), statement.sql(*realm));
  }
}

std::optional<Account> AccountStore::FindByEmail(db::Transaction& tx, const Realm& realm, const std::string& email) {
  return FirstAccount(tx.Exec(Name(realm, "find_by_email"), NormalizeEmail(email)));
}

std::optional<Account> AccountStore::FindById(db::Transaction& tx, const Realm& realm, const std::string& id) {
  return FirstAccount(tx.Exec(Name(realm, "find_by_id"), id));
}

Account AccountStore::Insert(db::Transaction& tx, const Realm& realm, const NewAccount& account) {
  return AccountFromRow(tx.Exec(Name(realm, "insert"), account.email, NormalizeEmail(account.email), account.full_name,
                                account.phone, account.role, account.password_hash, account.locale,
                                account.created_by)[0]);
}

std::optional<Account> AccountStore::Update(db::Transaction& tx, const Realm& realm, const std::string& id,
                                            const AccountPatch& patch) {
  return FirstAccount(
      tx.Exec(Name(realm, "update"), id, patch.full_name, patch.phone, patch.locale, patch.role, patch.active));
}

bool AccountStore::SoftDelete(db::Transaction& tx, const Realm& realm, const std::string& id) {
  return tx.Exec(Name(realm, "soft_delete"), id).affected_rows() == 1;
}

core::Result<AccountPage> AccountStore::List(db::Transaction& tx, const Realm& realm, const AccountFilter& filter) {
  std::optional<std::string> after_time;
  std::optional<std::string> after_id;
  if (filter.page.after) {
    const auto& position = *filter.page.after;
    if (position.size() != 2 || !position[0].is_string() || !position[1].is_string()) {
      return Error::InvalidArgument("cursor is not one this API returned.", {{"cursor", "is malformed"}});
    }
    after_time = position[0].get<std::string>();
    after_id = position[1].get<std::string>();
  }
  std::optional<std::string> pattern;
  if (filter.search) pattern = LikePattern(NormalizeEmail(*filter.search));
  AccountPage page;
  const int limit = filter.page.limit;
  const auto rows = tx.Exec(Name(realm, "list"), filter.role, pattern, after_time, after_id, limit + 1);
  for (const auto& row : rows) page.items.push_back(AccountFromRow(row));
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    const std::string& key = page.items.back().cursor_key;  // "<created_at>|<id>"
    const auto bar = key.find('|');
    page.next_cursor = kit::EncodeCursor(filter.page.list, {key.substr(0, bar), key.substr(bar + 1)});
  }
  return page;
}

void AccountStore::SetPasswordHash(db::Transaction& tx, const Realm& realm, const std::string& id,
                                   const std::string& hash) {
  tx.Exec(Name(realm, "set_password_hash"), id, hash);
}

std::optional<ActorState> AccountStore::CurrentActor(db::Transaction& tx, const Realm& realm, const std::string& id,
                                                     const std::string& session_id) {
  const auto rows = tx.Exec(Name(realm, "actor_state"), id,
                            session_id.empty() ? std::nullopt : std::optional<std::string>(session_id));
  if (rows.empty()) return std::nullopt;
  return ActorState{rows[0][0].as<std::string>(), rows[0][1].as<bool>(), rows[0][2].as<bool>()};
}

void AccountStore::InsertRefresh(db::Transaction& tx, const Realm& realm, const std::string& token_hash,
                                 const std::string& family_id, const std::string& user_id, long long ttl_seconds) {
  tx.Exec(Name(realm, "insert_refresh"), Bytes(token_hash), family_id, user_id, ttl_seconds);
}

std::optional<Account> AccountStore::LockLive(db::Transaction& tx, const Realm& realm, const std::string& id) {
  return FirstAccount(tx.Exec(Name(realm, "lock_live_account"), id));
}

std::optional<RefreshState> AccountStore::Rotate(db::Transaction& tx, const Realm& realm,
                                                 const std::string& token_hash) {
  tx.Exec(Name(realm, "lock_account_of_token"), Bytes(token_hash));
  const auto rows = tx.Exec(Name(realm, "rotate_refresh"), Bytes(token_hash));
  if (rows.empty()) return std::nullopt;
  RefreshState state{rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
  state.family_age_seconds = rows[0][2].as<long long>();
  return state;
}

std::optional<RefreshState> AccountStore::Lookup(db::Transaction& tx, const Realm& realm,
                                                 const std::string& token_hash) {
  const auto rows = tx.Exec(Name(realm, "lookup_refresh"), Bytes(token_hash));
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  return RefreshState{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<bool>(), row[3].as<bool>(),
                      row[4].as<bool>()};
}

int AccountStore::RevokeFamily(db::Transaction& tx, const Realm& realm, const std::string& family_id,
                               const std::string& reason) {
  tx.Exec(Name(realm, "lock_account_of_family"), family_id);
  return static_cast<int>(tx.Exec(Name(realm, "revoke_family"), family_id, reason).affected_rows());
}

std::vector<std::string> AccountStore::RevokeSessions(db::Transaction& tx, const Realm& realm,
                                                      const std::string& user_id, const std::string& reason,
                                                      const std::optional<std::string>& keep_session) {
  tx.Exec(Name(realm, "lock_account"), user_id);
  std::set<std::string> families;
  for (const auto& row : tx.Exec(Name(realm, "revoke_sessions"), user_id, reason, keep_session)) {
    families.insert(row[0].as<std::string>());
  }
  return {families.begin(), families.end()};
}

void AccountStore::Audit(db::Transaction& tx, const Realm& realm, const AuditEvent& event, const Caller& caller) {
  tx.Exec(Name(realm, "audit"), event.action, event.actor_id, event.subject_id,
          caller.ip.empty() ? std::nullopt : std::optional<std::string>(caller.ip),
          caller.request_id.empty() ? std::nullopt : std::optional<std::string>(caller.request_id),
          event.details.dump());
}

}  // namespace clinicore::auth
