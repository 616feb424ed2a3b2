#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/auth/realm.hpp"
#include "platform/db/database.hpp"

namespace clinicore::auth {

// An account's TOTP second factor (the realm's mfa_table: platform.admin_mfa, platform
// migration 0008; user_mfa of each tenant, tenant migration 0009).
struct MfaState {
  std::string secret;  // raw bytes
  bool confirmed = false;
  long long last_step = 0;  // the time step of the last code accepted
  int recovery_codes_left = 0;
};

class MfaStore {
 public:
  static void RegisterStatements(db::Database& database);

  // The row, locked for the rest of the transaction (sign-in and enrolment serialize on it).
  static std::optional<MfaState> Lock(db::Transaction& tx, const Realm& realm, const std::string& account_id);
  // A new pending secret; false when a confirmed one exists (disable it first).
  static bool StartEnrolment(db::Transaction& tx, const Realm& realm, const std::string& account_id,
                             const std::string& secret);
  // Pending -> confirmed, with the step of the code that confirmed it and the recovery hashes.
  static bool Confirm(db::Transaction& tx, const Realm& realm, const std::string& account_id, long long step,
                      const std::vector<std::string>& recovery_hashes);
  // A confirmed secret at once (operators: `clinicore admin mfa-enroll`).
  static void EnrolConfirmed(db::Transaction& tx, const Realm& realm, const std::string& account_id,
                             const std::string& secret, const std::vector<std::string>& recovery_hashes);
  static void UseStep(db::Transaction& tx, const Realm& realm, const std::string& account_id, long long step);
  // Removes one recovery code; the number left, or nullopt when it was not one of them.
  static std::optional<int> UseRecoveryCode(db::Transaction& tx, const Realm& realm, const std::string& account_id,
                                            const std::string& code_hash);
  static bool Remove(db::Transaction& tx, const Realm& realm, const std::string& account_id);
};

}  // namespace clinicore::auth
