#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "platform/auth/account_store.hpp"
#include "platform/auth/authenticator.hpp"
#include "platform/auth/mfa_store.hpp"
#include "platform/auth/password.hpp"
#include "platform/cache/rate_limiter.hpp"
#include "platform/db/database.hpp"

namespace clinicore::auth {

// What a successful sign-in, sign-up or refresh hands the client.
struct Session {
  std::string access_token;
  int64_t access_expires_in = 0;  // seconds
  std::string refresh_token;
  int64_t refresh_expires_in = 0;
  Account account;
};
nlohmann::json SessionJson(const Session& session);

// The second factor sent with a sign-in (platform admins who enrolled one): a TOTP code or one
// of the recovery codes.
struct SecondFactor {
  std::optional<std::string> otp;
  std::optional<std::string> recovery_code;
};

// What enrolling a TOTP second factor hands the admin, once.
struct MfaEnrolment {
  std::string secret_base32;
  std::string otpauth_uri;
};

// Sign-in, refresh rotation with reuse detection, sign-out and session revocation for both
// realms. Every outcome worth knowing is written to the realm's audit table.
class AuthService {
 public:
  AuthService(db::Database& database, std::shared_ptr<Authenticator> authenticator,
              std::shared_ptr<cache::RateLimiter> limiter, std::shared_ptr<const PasswordHasher> hasher);

  // One message for every failure that could tell whether an account exists.
  // An account with a confirmed second factor also needs `factor` (401 naming `otp` without
  // it, so a client knows to ask); a console account without one is refused when
  // CLINICORE_CONSOLE_REQUIRE_MFA=1.
  core::Result<Session> Login(const RealmContext& realm, const std::string& email, const std::string& password,
                              const Caller& caller, const SecondFactor& factor = {});

  // ----- the TOTP second factor (platform admins; tenant admins and clinic owners may enrol) ---
  // A new pending secret (replacing a pending one); 409 when one is confirmed already.
  core::Result<MfaEnrolment> StartMfaEnrolment(const RealmContext& realm, const Principal& principal,
                                               const Caller& caller);
  // Confirms the pending secret with a code from it; returns the ten recovery codes (shown once).
  core::Result<std::vector<std::string>> ConfirmMfa(const RealmContext& realm, const Principal& principal,
                                                    const std::string& otp, const Caller& caller);
  // Turns the second factor off, proven with a current code or a recovery code; refused for
  // the console while CLINICORE_CONSOLE_REQUIRE_MFA=1. Ends the account's other sessions.
  core::Status DisableMfa(const RealmContext& realm, const Principal& principal, const SecondFactor& factor,
                          const Caller& caller);
  core::Result<Session> Refresh(const RealmContext& realm, const std::string& refresh_token, const Caller& caller);
  // Revokes the refresh token's family and, when given, voids the access token in hand.
  core::Status Logout(const RealmContext& realm, const std::string& refresh_token, const Principal* principal,
                      const Caller& caller);

  // Starts a session for an account inside the caller's transaction (sign-up, invitation
  // accepted): the refresh token exists only if that transaction commits.
  Session StartSession(db::Transaction& tx, const RealmContext& realm, const Account& account);
  // Ends every session of an account: refresh tokens revoked in the transaction, access
  // tokens voided through the deny-list once it commits (pass what this returns to
  // AfterCommitRevoke then). Sessions started afterwards are not affected.
  [[nodiscard]] std::vector<std::string> RevokeSessions(db::Transaction& tx, const RealmContext& realm,
                                                        const std::string& account_id, const std::string& reason);
  void AfterCommitRevoke(const RealmContext& realm, const std::vector<std::string>& sessions);

  // A signed-in account changes its password: the current one must be given (wrong guesses
  // count toward the sign-in lockout of the account), the new one passes the policy and
  // differs. Every other session of the account ends; the caller's own goes on. Returns how
  // many sessions ended. Audited as user.password_changed (or user.password_change_failed).
  core::Result<int> ChangePassword(const RealmContext& realm, const Principal& principal,
                                   const std::string& current_password, const std::string& new_password,
                                   const Caller& caller);

  // Re-reads the account of a privileged request's token: Unauthenticated when it is gone,
  // inactive or the token's session was revoked (durable in PostgreSQL, whatever Redis knows);
  // otherwise the principal takes the role the database holds now.
  core::Status ConfirmActor(const RealmContext& realm, Principal& principal);

  // Ends every lockout of the account's sign-in (from every source), for `clinicore auth
  // unlock`; returns how many counters it removed.
  core::Result<int> Unlock(const RealmContext& realm, const std::string& email);

  // Per-IP limits of the public auth routes (sign-up, refresh); Login applies its own.
  core::Status CheckRate(const RealmContext& realm, const std::string& what, const std::string& ip,
                         cache::RateLimit limit);

  // Runs between a password's verification (outside any transaction, Argon2id is slow) and
  // the transaction that acts on it: tests commit a concurrent change in that window.
  void SetAfterVerifyHook(std::function<void()> hook) { after_verify_ = std::move(hook); }

  const PasswordHasher& hasher() const { return *hasher_; }
  db::Database& database() { return database_; }
  Authenticator& authenticator() { return *authenticator_; }

 private:
  // `family_age_seconds`: how old the session is; its refresh token never outlives the
  // session's maximum age (CLINICORE_AUTH_SESSION_MAX_MS).
  Session IssueInFamily(db::Transaction& tx, const RealmContext& realm, const Account& account,
                        const std::string& family_id, long long family_age_seconds = 0);
  // The account locked (AccountStore::LockLive) when it is still active with the hash that
  // was verified; nullopt when it changed since it was read.
  static std::optional<Account> LockUnchanged(db::Transaction& tx, const RealmContext& realm, const Account& verified);
  // The limiter keys of one account's sign-ins: the account (failures from every source),
  // the account from this source (/64 for IPv6), and "this source signed in to it before".
  struct LoginKeys {
    std::string account;
    std::string source;
    std::string familiar;
  };
  static LoginKeys KeysFor(const RealmContext& realm, const std::string& email, const Caller& caller);
  // Per-address limits, then the account's lock from this source, then its lock from every
  // source (which holds only sources it never signed in from).
  core::Status CheckLoginLimits(const RealmContext& realm, const LoginKeys& keys, const Caller& caller);
  // Returns the lock this source of the account is now under (zero when none).
  std::chrono::milliseconds RecordLoginFailure(const LoginKeys& keys);
  void RecordLoginSuccess(const LoginKeys& keys);
  static std::string AccountKey(const RealmContext& realm, const std::string& email);
  core::Error FailPasswordChange(const RealmContext& realm, const Account& account, const LoginKeys& keys,
                                 const Caller& caller);
  // Every account of this realm must have a second factor (the console, when configured).
  bool RequiresMfa(const RealmContext& realm) const;
  // The outcome of checking a second factor inside the sign-in transaction ("" = passed).
  std::string CheckSecondFactor(db::Transaction& tx, const RealmContext& realm, const Account& account,
                                const SecondFactor& factor);
  core::Error SecondFactorRefused(const RealmContext& realm, const LoginKeys& keys, const Account& account,
                                  const std::string& refusal, const Caller& caller);
  core::Result<Session> FailLogin(const RealmContext& realm, const LoginKeys& keys,
                                  const std::optional<Account>& account, const std::string& reason,
                                  const Caller& caller);

  db::Database& database_;
  std::shared_ptr<Authenticator> authenticator_;
  std::shared_ptr<cache::RateLimiter> limiter_;
  std::shared_ptr<const PasswordHasher> hasher_;
  std::function<void()> after_verify_;
};

// The problem every rate limit and lockout answers with: 429 and Retry-After.
core::Error TooManyRequests(const std::string& detail, std::chrono::seconds retry_after);

}  // namespace clinicore::auth
