#include "platform/auth/mfa_store.hpp"

#include <nlohmann/json.hpp>

#include "platform/core/crypto.hpp"

namespace clinicore::auth {
namespace {

constexpr const char* kLockMfa = "auth.mfa_lock";
constexpr const char* kLockMfaSql =
    "SELECT encode(secret, 'hex'), confirmed_at IS NOT NULL, last_step, cardinality(recovery_hashes) "
    "FROM platform.admin_mfa WHERE account_id = $1::uuid FOR UPDATE";
constexpr const char* kStartMfa = "auth.mfa_start";
constexpr const char* kStartMfaSql =
    "INSERT INTO platform.admin_mfa (account_id, secret) VALUES ($1::uuid, decode($2, 'hex')) "
    "ON CONFLICT (account_id) DO UPDATE SET secret = EXCLUDED.secret, last_step = 0, recovery_hashes = '{}', "
    "created_at = now() WHERE admin_mfa.confirmed_at IS NULL RETURNING 1";
constexpr const char* kConfirmMfa = "auth.mfa_confirm";
constexpr const char* kConfirmMfaSql =
    "UPDATE platform.admin_mfa SET confirmed_at = now(), last_step = $2, "
    "recovery_hashes = ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) "
    "WHERE account_id = $1::uuid AND confirmed_at IS NULL";
constexpr const char* kEnrolMfa = "auth.mfa_enrol_confirmed";
constexpr const char* kEnrolMfaSql =
    "INSERT INTO platform.admin_mfa (account_id, secret, confirmed_at, recovery_hashes) "
    "VALUES ($1::uuid, decode($2, 'hex'), now(), ARRAY(SELECT jsonb_array_elements_text($3::jsonb))) "
    "ON CONFLICT (account_id) DO UPDATE SET secret = EXCLUDED.secret, confirmed_at = now(), last_step = 0, "
    "recovery_hashes = EXCLUDED.recovery_hashes, created_at = now()";
constexpr const char* kUseMfaStep = "auth.mfa_use_step";
constexpr const char* kUseMfaStepSql = "UPDATE platform.admin_mfa SET last_step = $2 WHERE account_id = $1::uuid";
constexpr const char* kUseRecovery = "auth.mfa_use_recovery";
constexpr const char* kUseRecoverySql =
    "UPDATE platform.admin_mfa SET recovery_hashes = array_remove(recovery_hashes, $2) "
    "WHERE account_id = $1::uuid AND $2 = ANY (recovery_hashes) RETURNING cardinality(recovery_hashes)";
constexpr const char* kRemoveMfa = "auth.mfa_remove";
constexpr const char* kRemoveMfaSql = "DELETE FROM platform.admin_mfa WHERE account_id = $1::uuid";

std::string HashesJson(const std::vector<std::string>& hashes) {
  return nlohmann::json(hashes).dump();
}

}  // namespace

void MfaStore::RegisterStatements(db::Database& database) {
  for (const auto& [name, sql] :
       std::initializer_list<std::pair<const char*, const char*>>{{kLockMfa, kLockMfaSql},
                                                                  {kStartMfa, kStartMfaSql},
                                                                  {kConfirmMfa, kConfirmMfaSql},
                                                                  {kEnrolMfa, kEnrolMfaSql},
                                                                  {kUseMfaStep, kUseMfaStepSql},
                                                                  {kUseRecovery, kUseRecoverySql},
                                                                  {kRemoveMfa, kRemoveMfaSql}}) {
    database.RegisterStatement(name, sql);
  }
}

std::optional<MfaState> MfaStore::Lock(db::Transaction& tx, const std::string& account_id) {
  const auto rows = tx.Exec(kLockMfa, account_id);
  if (rows.empty()) return std::nullopt;
  return MfaState{core::HexDecode(rows[0][0].as<std::string>()).value(), rows[0][1].as<bool>(),
                  rows[0][2].as<long long>(), rows[0][3].as<int>()};
}

bool MfaStore::StartEnrolment(db::Transaction& tx, const std::string& account_id, const std::string& secret) {
  return !tx.Exec(kStartMfa, account_id, core::HexEncode(secret)).empty();
}

bool MfaStore::Confirm(db::Transaction& tx, const std::string& account_id, long long step,
                       const std::vector<std::string>& recovery_hashes) {
  return tx.Exec(kConfirmMfa, account_id, step, HashesJson(recovery_hashes)).affected_rows() == 1;
}

void MfaStore::EnrolConfirmed(db::Transaction& tx, const std::string& account_id, const std::string& secret,
                              const std::vector<std::string>& recovery_hashes) {
  tx.Exec(kEnrolMfa, account_id, core::HexEncode(secret), HashesJson(recovery_hashes));
}

void MfaStore::UseStep(db::Transaction& tx, const std::string& account_id, long long step) {
  tx.Exec(kUseMfaStep, account_id, step);
}

std::optional<int> MfaStore::UseRecoveryCode(db::Transaction& tx, const std::string& account_id,
                                             const std::string& code_hash) {
  const auto rows = tx.Exec(kUseRecovery, account_id, code_hash);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<int>();
}

bool MfaStore::Remove(db::Transaction& tx, const std::string& account_id) {
  return tx.Exec(kRemoveMfa, account_id).affected_rows() == 1;
}

}  // namespace clinicore::auth
