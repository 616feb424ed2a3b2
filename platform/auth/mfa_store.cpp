#include "platform/auth/mfa_store.hpp"

#include <nlohmann/json.hpp>

#include "platform/core/crypto.hpp"

namespace clinicore::auth {
namespace {

struct Statement {
  const char* name;
  std::string (*sql)(const Realm&);
};

std::string Name(const Realm& realm, const char* statement) {
  return "auth." + realm.name + ".mfa_" + statement;
}

// Every realm's table has the same shape; only its name differs (a compile-time constant).
const Statement kStatements[] = {
    {"lock",
     [](const Realm& r) {
       return "SELECT encode(secret, 'hex'), confirmed_at IS NOT NULL, last_step, cardinality(recovery_hashes) FROM " +
              r.mfa_table + " WHERE account_id = $1::uuid FOR UPDATE";
     }},
    {"start",
     [](const Realm& r) {
       return "INSERT INTO " + r.mfa_table +
              " AS m (account_id, secret) VALUES ($1::uuid, decode($2, 'hex')) ON CONFLICT (account_id) DO UPDATE "
              "SET secret = EXCLUDED.secret, last_step = 0, recovery_hashes = '{}', created_at = now() "
              "WHERE m.confirmed_at IS NULL RETURNING 1";
     }},
    {"confirm",
     [](const Realm& r) {
       return "UPDATE " + r.mfa_table +
              " SET confirmed_at = now(), last_step = $2, recovery_hashes = ARRAY(SELECT "
              "jsonb_array_elements_text($3::jsonb)) WHERE account_id = $1::uuid AND confirmed_at IS NULL";
     }},
    {"enrol_confirmed",
     [](const Realm& r) {
       return "INSERT INTO " + r.mfa_table +
              " (account_id, secret, confirmed_at, recovery_hashes) VALUES ($1::uuid, decode($2, 'hex'), now(), "
              "ARRAY(SELECT jsonb_array_elements_text($3::jsonb))) ON CONFLICT (account_id) DO UPDATE SET "
              "secret = EXCLUDED.secret, confirmed_at = now(), last_step = 0, recovery_hashes = "
              "EXCLUDED.recovery_hashes, created_at = now()";
     }},
    {"use_step",
     [](const Realm& r) { return "UPDATE " + r.mfa_table + " SET last_step = $2 WHERE account_id = $1::uuid"; }},
    {"use_recovery",
     [](const Realm& r) {
       return "UPDATE " + r.mfa_table +
              " SET recovery_hashes = array_remove(recovery_hashes, $2) WHERE account_id = $1::uuid AND $2 = ANY "
              "(recovery_hashes) RETURNING cardinality(recovery_hashes)";
     }},
    {"remove", [](const Realm& r) { return "DELETE FROM " + r.mfa_table + " WHERE account_id = $1::uuid"; }},
};

std::string HashesJson(const std::vector<std::string>& hashes) {
  return nlohmann::json(hashes).dump();
}

}  // namespace

void MfaStore::RegisterStatements(db::Database& database) {
  for (const Realm* realm : {&TenantRealm(), &ConsoleRealm()}) {
    for (const auto& statement : kStatements)
      database.RegisterStatement(Name(*realm, statement.name), statement.sql(*realm));
  }
}

std::optional<MfaState> MfaStore::Lock(db::Transaction& tx, const Realm& realm, const std::string& account_id) {
  const auto rows = tx.Exec(Name(realm, "lock"), account_id);
  if (rows.empty()) return std::nullopt;
  return MfaState{core::HexDecode(rows[0][0].as<std::string>()).value(), rows[0][1].as<bool>(),
                  rows[0][2].as<long long>(), rows[0][3].as<int>()};
}

bool MfaStore::StartEnrolment(db::Transaction& tx, const Realm& realm, const std::string& account_id,
                              const std::string& secret) {
  return !tx.Exec(Name(realm, "start"), account_id, core::HexEncode(secret)).empty();
}

bool MfaStore::Confirm(db::Transaction& tx, const Realm& realm, const std::string& account_id, long long step,
                       const std::vector<std::string>& recovery_hashes) {
  return tx.Exec(Name(realm, "confirm"), account_id, step, HashesJson(recovery_hashes)).affected_rows() == 1;
}

void MfaStore::EnrolConfirmed(db::Transaction& tx, const Realm& realm, const std::string& account_id,
                              const std::string& secret, const std::vector<std::string>& recovery_hashes) {
  tx.Exec(Name(realm, "enrol_confirmed"), account_id, core::HexEncode(secret), HashesJson(recovery_hashes));
}

void MfaStore::UseStep(db::Transaction& tx, const Realm& realm, const std::string& account_id, long long step) {
  tx.Exec(Name(realm, "use_step"), account_id, step);
}

std::optional<int> MfaStore::UseRecoveryCode(db::Transaction& tx, const Realm& realm, const std::string& account_id,
                                             const std::string& code_hash) {
  const auto rows = tx.Exec(Name(realm, "use_recovery"), account_id, code_hash);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<int>();
}

bool MfaStore::Remove(db::Transaction& tx, const Realm& realm, const std::string& account_id) {
  return tx.Exec(Name(realm, "remove"), account_id).affected_rows() == 1;
}

}  // namespace clinicore::auth
