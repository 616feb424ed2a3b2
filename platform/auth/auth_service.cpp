#include "platform/auth/auth_service.hpp"

#include "platform/auth/totp.hpp"
#include "platform/cache/address_bucket.hpp"
#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"

namespace clinicore::auth {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

constexpr const char* kWrongCredentials = "The email or password is wrong.";

Error WrongCredentials() {
  return Error{ErrorCode::kUnauthenticated, kWrongCredentials, {}, {{"password", "email or password is wrong"}}};
}

Error BadRefreshToken(std::string detail) {
  return Error{ErrorCode::kUnauthenticated, std::move(detail), {}, {{"refresh_token", "is not valid"}}};
}

long long Seconds(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::seconds>(ms).count();
}

}  // namespace

core::Error TooManyRequests(const std::string& detail, std::chrono::seconds retry_after) {
  Error error{ErrorCode::kResourceExhausted, detail, {}, {}};
  error.retry_after_seconds = static_cast<int>(retry_after.count());
  return error;
}

nlohmann::json SessionJson(const Session& session) {
  return {{"token_type", "Bearer"},
          {"access_token", session.access_token},
          {"expires_in", session.access_expires_in},
          {"refresh_token", session.refresh_token},
          {"refresh_expires_in", session.refresh_expires_in},
          {"user", AccountJson(session.account)}};
}

AuthService::AuthService(db::Database& database, std::shared_ptr<Authenticator> authenticator,
                         std::shared_ptr<cache::RateLimiter> limiter, std::shared_ptr<const PasswordHasher> hasher)
    : database_(database),
      authenticator_(std::move(authenticator)),
      limiter_(std::move(limiter)),
      hasher_(std::move(hasher)) {}

core::Status AuthService::CheckRate(const RealmContext& realm, const std::string& what, const std::string& ip,
                                    cache::RateLimit limit) {
  const auto decision = limiter_->Hit(realm.Key("rate:" + what + ":ip:" + cache::AddressBucket(ip)), limit,
                                      cache::WhenRedisDown::kLimitLocally);
  if (decision.allowed) return core::Ok();
  return TooManyRequests("Too many requests from your address; try again later.", decision.retry_after);
}

AuthService::LoginKeys AuthService::KeysFor(const RealmContext& realm, const std::string& email, const Caller& caller) {
  LoginKeys keys;
  keys.account = AccountKey(realm, email);
  const std::string bucket = cache::AddressBucket(caller.ip);
  keys.source = keys.account + ":src:" + bucket;
  keys.familiar = keys.account + ":known:" + bucket;
  return keys;
}

core::Status AuthService::CheckLoginLimits(const RealmContext& realm, const LoginKeys& keys, const Caller& caller) {
  const auto& config = authenticator_->config();
  // One address's sign-ins over every tenant and the console: a per-tenant limit alone lets
  // one source spray a password across thousands of tenants.
  const auto global = limiter_->Hit("{platform}:rate:login-any:ip:" + cache::AddressBucket(caller.ip),
                                    {config.login_per_ip_global_per_minute, std::chrono::minutes(1)},
                                    cache::WhenRedisDown::kLimitLocally);
  if (!global.allowed) {
    return TooManyRequests("Too many sign-ins from your address; try again later.", global.retry_after);
  }
  if (auto per_ip = CheckRate(realm, "login", caller.ip, {config.login_per_ip_per_minute, std::chrono::minutes(1)});
      !per_ip) {
    return per_ip;
  }
  // Per account *and source*: a stranger's attempts use up the stranger's budget, not the
  // account holder's.
  const auto per_account =
      limiter_->Hit(keys.source + ":rate", {config.login_per_account_per_minute, std::chrono::minutes(1)},
                    cache::WhenRedisDown::kLimitLocally);
  if (!per_account.allowed) {
    return TooManyRequests("Too many sign-in attempts for this account; try again later.", per_account.retry_after);
  }
  if (const auto locked = limiter_->LockedFor(keys.source); locked.count() > 0) {
    return TooManyRequests("Too many failed sign-ins for this account from your address; try again later.",
                           std::chrono::duration_cast<std::chrono::seconds>(locked) + std::chrono::seconds(1));
  }
  // Failures from every source slow down only the sources the account has not signed in from:
  // an attack spread over many addresses cannot lock its holder out.
  if (const auto locked = limiter_->LockedFor(keys.account);
      locked.count() > 0 && !limiter_->Remembers(keys.familiar)) {
    return TooManyRequests(
        "Too many failed sign-ins for this account; from an address it has not signed in from, try again later.",
        std::chrono::duration_cast<std::chrono::seconds>(locked) + std::chrono::seconds(1));
  }
  return core::Ok();
}

std::chrono::milliseconds AuthService::RecordLoginFailure(const LoginKeys& keys) {
  const auto& config = authenticator_->config();
  (void)limiter_->RecordFailure(keys.account,
                                {config.lockout_global_threshold, config.lockout_base, config.lockout_max});
  return limiter_->RecordFailure(keys.source, {config.lockout_threshold, config.lockout_base, config.lockout_max});
}

void AuthService::RecordLoginSuccess(const LoginKeys& keys) {
  limiter_->RecordSuccess(keys.source);
  limiter_->Remember(keys.familiar, authenticator_->config().familiar_source_ttl);
}

core::Result<int> AuthService::Unlock(const RealmContext& realm, const std::string& email) {
  const std::string account = AccountKey(realm, email);
  return limiter_->Clear(account, account + ":src:");
}

Result<Session> AuthService::FailLogin(const RealmContext& realm, const LoginKeys& keys,
                                       const std::optional<Account>& account, const std::string& reason,
                                       const Caller& caller) {
  const auto lock = RecordLoginFailure(keys);
  // Failures for unknown addresses count against the address too, but only real accounts
  // get audit rows (the audit table must not fill with guesses).
  if (account) {
    auto audited = realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
      AccountStore::Audit(tx, *realm.realm, {"login.failed", std::nullopt, account->id, {{"reason", reason}}}, caller);
      if (lock.count() > 0) {
        AccountStore::Audit(tx, *realm.realm,
                            {"login.locked_out", std::nullopt, account->id, {{"lock_seconds", Seconds(lock)}}}, caller);
      }
      tx.Commit();
      return core::Ok();
    });
    if (!audited) return std::move(audited).error();
  }
  return WrongCredentials();
}

Result<Session> AuthService::Login(const RealmContext& realm, const std::string& email, const std::string& password,
                                   const Caller& caller, const SecondFactor& factor) {
  const LoginKeys keys = KeysFor(realm, email, caller);
  if (auto limited = CheckLoginLimits(realm, keys, caller); !limited) return std::move(limited).error();

  auto found = realm.Read(database_, [&](db::Transaction& tx) -> Result<std::optional<Account>> {
    return AccountStore::FindByEmail(tx, *realm.realm, email);
  });
  if (!found) return std::move(found).error();
  const std::optional<Account>& account = *found;
  // Argon2id runs outside any transaction: no pooled connection waits on it.
  if (!account || !account->password_hash) {
    hasher_->VerifyNothing(password);
    return FailLogin(realm, keys, account, account ? "no_password" : "unknown", caller);
  }
  if (!hasher_->Verify(*account->password_hash, password)) {
    return FailLogin(realm, keys, account, "wrong_password", caller);
  }
  if (!account->active) return FailLogin(realm, keys, account, "inactive", caller);

  std::optional<std::string> rehash;
  if (hasher_->NeedsRehash(*account->password_hash)) {
    auto hashed = hasher_->Hash(password);
    if (hashed) rehash = *hashed;
  }
  if (after_verify_) after_verify_();
  struct Attempt {
    std::optional<Session> session;
    std::string refusal;  // why there is none
  };
  auto started = realm.Write(database_, [&](db::Transaction& tx) -> Result<Attempt> {
    // The password was checked against a row read before: a password change, deactivation
    // or role change committed since then wins (the row stays locked until this commits).
    const auto current = LockUnchanged(tx, realm, *account);
    if (!current) {
      tx.Commit();
      return Attempt{std::nullopt, "changed_during_sign_in"};
    }
    // Checked once the password is right, in the same transaction: a code is used up only by
    // a sign-in that happens.
    if (auto refusal = CheckSecondFactor(tx, realm, *current, factor); !refusal.empty()) {
      tx.Commit();  // nothing was written
      return Attempt{std::nullopt, refusal};
    }
    if (rehash) AccountStore::SetPasswordHash(tx, *realm.realm, current->id, *rehash);
    Session session = StartSession(tx, realm, *current);
    nlohmann::json details = {{"rehashed", rehash.has_value()}};
    if (factor.otp) details["second_factor"] = "otp";
    if (factor.recovery_code) details["second_factor"] = "recovery_code";
    AccountStore::Audit(tx, *realm.realm, {"login.succeeded", current->id, current->id, details}, caller);
    tx.Commit();
    return Attempt{std::move(session), ""};
  });
  if (!started) return std::move(started).error();
  if (started->refusal == "changed_during_sign_in") return FailLogin(realm, keys, account, started->refusal, caller);
  if (!started->session) return SecondFactorRefused(realm, keys, *account, started->refusal, caller);
  RecordLoginSuccess(keys);
  return std::move(*started->session);
}

std::string AuthService::CheckSecondFactor(db::Transaction& tx, const RealmContext& realm, const Account& account,
                                           const SecondFactor& factor) {
  const auto mfa = MfaStore::Lock(tx, *realm.realm, account.id);
  if (!mfa || !mfa->confirmed) return RequiresMfa(realm) ? "mfa_not_enrolled" : "";
  if (factor.otp) {
    const auto step = totp::Verify(mfa->secret, *factor.otp, totp::CurrentStep(), mfa->last_step);
    if (!step) return "wrong_otp";
    MfaStore::UseStep(tx, *realm.realm, account.id, *step);
    return "";
  }
  if (factor.recovery_code) {
    if (!MfaStore::UseRecoveryCode(tx, *realm.realm, account.id, totp::RecoveryCodeHash(*factor.recovery_code))) {
      return "wrong_recovery_code";
    }
    return "";
  }
  return "otp_required";
}

Error AuthService::SecondFactorRefused(const RealmContext& realm, const LoginKeys& keys, const Account& account,
                                       const std::string& refusal, const Caller& caller) {
  if (refusal == "otp_required") {
    return Error{ErrorCode::kUnauthenticated,
                 "This account signs in with a second factor: send otp (or one of its recovery codes as "
                 "recovery_code).",
                 {},
                 {{"otp", "is required"}}};
  }
  // A wrong code counts like a wrong password: the lockout bounds guessing of both.
  auto failed = FailLogin(realm, keys, account, refusal, caller);
  if (!failed && failed.error().code == ErrorCode::kInternal) return std::move(failed).error();
  if (refusal == "mfa_not_enrolled") {
    return Error{ErrorCode::kPermissionDenied,
                 "Platform admins sign in with a second factor here (CLINICORE_CONSOLE_REQUIRE_MFA=1) and this "
                 "account has none: an operator enrolls one with `clinicore admin mfa-enroll <email>`.",
                 {},
                 {{"otp", "no second factor is enrolled"}}};
  }
  const std::string field = refusal == "wrong_otp" ? "otp" : "recovery_code";
  return Error{ErrorCode::kUnauthenticated,
               "The one-time code is wrong or was used already.",
               {},
               {{field, "is wrong or was used"}}};
}

bool AuthService::RequiresMfa(const RealmContext& realm) const {
  return realm.realm == &ConsoleRealm() && authenticator_->config().console_require_mfa;
}

Result<MfaEnrolment> AuthService::StartMfaEnrolment(const RealmContext& realm, const Principal& principal,
                                                    const Caller& caller) {
  const std::string secret = totp::NewSecret();
  auto started = realm.Write(database_, [&](db::Transaction& tx) -> Result<MfaEnrolment> {
    auto account = AccountStore::LockLive(tx, *realm.realm, principal.subject);
    if (!account || !account->active) {
      return Error{ErrorCode::kUnauthenticated, "The account of this access token is no longer active.", {}, {}};
    }
    if (!MfaStore::StartEnrolment(tx, *realm.realm, account->id, secret)) {
      return Error{ErrorCode::kConflict,
                   "A second factor is enrolled already: disable it first to enrol another.",
                   {},
                   {{"mfa", "is enrolled"}}};
    }
    AccountStore::Audit(tx, *realm.realm, {"mfa.enrolment_started", account->id, account->id, {}}, caller);
    tx.Commit();
    const std::string& issuer = authenticator_->config().issuer;
    return MfaEnrolment{
        totp::Base32(secret),
        totp::ProvisioningUri(realm.tenant_id.empty() ? issuer + " console" : issuer, account->email, secret)};
  });
  return started;
}

Result<std::vector<std::string>> AuthService::ConfirmMfa(const RealmContext& realm, const Principal& principal,
                                                         const std::string& otp, const Caller& caller) {
  const auto codes = totp::NewRecoveryCodes();
  std::vector<std::string> hashes;
  for (const auto& code : codes) hashes.push_back(totp::RecoveryCodeHash(code));
  auto confirmed = realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
    const auto mfa = MfaStore::Lock(tx, *realm.realm, principal.subject);
    if (!mfa || mfa->confirmed) {
      return Error{ErrorCode::kFailedPrecondition,
                   mfa ? "The second factor is confirmed already." : "Start an enrolment first (POST .../mfa/totp).",
                   {},
                   {{"otp", "no pending enrolment"}}};
    }
    const auto step = totp::Verify(mfa->secret, otp, totp::CurrentStep(), mfa->last_step);
    if (!step) {
      return Error::InvalidArgument("The code does not match the new secret; check the device's clock.",
                                    {{"otp", "does not match"}});
    }
    MfaStore::Confirm(tx, *realm.realm, principal.subject, *step, hashes);
    AccountStore::Audit(tx, *realm.realm, {"mfa.enabled", principal.subject, principal.subject, {}}, caller);
    tx.Commit();
    return core::Ok();
  });
  if (!confirmed) return std::move(confirmed).error();
  return codes;
}

core::Status AuthService::DisableMfa(const RealmContext& realm, const Principal& principal, const SecondFactor& factor,
                                     const Caller& caller) {
  if (RequiresMfa(realm)) {
    return Error{ErrorCode::kFailedPrecondition,
                 "Platform admins must keep a second factor here (CLINICORE_CONSOLE_REQUIRE_MFA=1).",
                 {},
                 {{"mfa", "is required"}}};
  }
  // Wrong codes count toward the account's sign-in lockout: a stolen access token must not
  // become a way to guess them.
  auto found = realm.Read(database_, [&](db::Transaction& tx) -> Result<std::optional<Account>> {
    return AccountStore::FindById(tx, *realm.realm, principal.subject);
  });
  if (!found) return std::move(found).error();
  if (!*found) return Error{ErrorCode::kUnauthenticated, "The account of this access token is gone.", {}, {}};
  const LoginKeys keys = KeysFor(realm, (*found)->email, caller);
  if (auto limited = CheckLoginLimits(realm, keys, caller); !limited) return limited;
  std::vector<std::string> ended;
  auto disabled = realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
    const auto mfa = MfaStore::Lock(tx, *realm.realm, principal.subject);
    if (!mfa || !mfa->confirmed) {
      return Error{ErrorCode::kFailedPrecondition, "No second factor is enrolled.", {}, {{"mfa", "is not enrolled"}}};
    }
    const bool proven =
        (factor.otp && totp::Verify(mfa->secret, *factor.otp, totp::CurrentStep(), mfa->last_step)) ||
        (factor.recovery_code &&
         MfaStore::UseRecoveryCode(tx, *realm.realm, principal.subject, totp::RecoveryCodeHash(*factor.recovery_code)));
    if (!proven) {
      return Error{ErrorCode::kUnauthenticated,
                   "Send a current code (otp) or a recovery code (recovery_code) to turn the second factor off.",
                   {},
                   {{factor.recovery_code ? "recovery_code" : "otp", "is wrong, missing or was used"}}};
    }
    MfaStore::Remove(tx, *realm.realm, principal.subject);
    ended = AccountStore::RevokeSessions(tx, *realm.realm, principal.subject, "mfa_disabled", principal.session_id);
    AccountStore::Audit(tx, *realm.realm,
                        {"mfa.disabled", principal.subject, principal.subject, {{"sessions_ended", ended.size()}}},
                        caller);
    tx.Commit();
    return core::Ok();
  });
  if (!disabled) {
    if (disabled.error().code == ErrorCode::kUnauthenticated) RecordLoginFailure(keys);
    return disabled;
  }
  authenticator_->EndSessions(realm, ended);
  return core::Ok();
}

std::optional<Account> AuthService::LockUnchanged(db::Transaction& tx, const RealmContext& realm,
                                                  const Account& verified) {
  auto current = AccountStore::LockLive(tx, *realm.realm, verified.id);
  if (!current || !current->active || current->password_hash != verified.password_hash) return std::nullopt;
  return current;
}

std::string AuthService::AccountKey(const RealmContext& realm, const std::string& email) {
  return realm.Key("login:" + core::Sha256Hex(NormalizeEmail(email)).substr(0, 32));
}

Result<int> AuthService::ChangePassword(const RealmContext& realm, const Principal& principal,
                                        const std::string& current_password, const std::string& new_password,
                                        const Caller& caller) {
  auto found = realm.Read(database_, [&](db::Transaction& tx) -> Result<std::optional<Account>> {
    return AccountStore::FindById(tx, *realm.realm, principal.subject);
  });
  if (!found) return std::move(found).error();
  if (!*found || !(*found)->active) {
    return Error{ErrorCode::kUnauthenticated, "The account of this access token is no longer active.", {}, {}};
  }
  const Account& account = **found;
  const LoginKeys keys = KeysFor(realm, account.email, caller);
  if (auto limited = CheckLoginLimits(realm, keys, caller); !limited) return std::move(limited).error();
  if (!account.password_hash || !hasher_->Verify(*account.password_hash, current_password)) {
    if (!account.password_hash) hasher_->VerifyNothing(current_password);
    return FailPasswordChange(realm, account, keys, caller);
  }
  if (auto policy = CheckPasswordPolicy(new_password, account.email, "new_password"); !policy) {
    return std::move(policy).error();
  }
  if (hasher_->Verify(*account.password_hash, new_password)) {
    return Error::InvalidArgument("The new password is the current one.",
                                  {{"new_password", "must differ from the current password"}});
  }
  auto hash = hasher_->Hash(new_password);
  if (!hash) return std::move(hash).error();
  if (after_verify_) after_verify_();
  std::vector<std::string> ended;
  auto changed = realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
    if (!LockUnchanged(tx, realm, account)) {
      return Error{ErrorCode::kConflict,
                   "The account changed while the password was being checked; try again.",
                   {},
                   {{"current_password", "changed meanwhile"}}};
    }
    AccountStore::SetPasswordHash(tx, *realm.realm, account.id, *hash);
    ended = AccountStore::RevokeSessions(tx, *realm.realm, account.id, "password_changed", principal.session_id);
    AccountStore::Audit(tx, *realm.realm,
                        {"user.password_changed", account.id, account.id, {{"sessions_ended", ended.size()}}}, caller);
    tx.Commit();
    return core::Ok();
  });
  if (!changed) return std::move(changed).error();
  RecordLoginSuccess(keys);
  authenticator_->EndSessions(realm, ended);
  return static_cast<int>(ended.size());
}

// A wrong current password counts toward the account's sign-in lockout: a stolen access token
// must not become a way to guess the password.
Error AuthService::FailPasswordChange(const RealmContext& realm, const Account& account, const LoginKeys& keys,
                                      const Caller& caller) {
  const auto lock = RecordLoginFailure(keys);
  auto audited = realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
    AccountStore::Audit(tx, *realm.realm,
                        {"user.password_change_failed", account.id, account.id, {{"lock_seconds", Seconds(lock)}}},
                        caller);
    tx.Commit();
    return core::Ok();
  });
  if (!audited) return std::move(audited).error();
  return Error::InvalidArgument("The current password is not correct.",
                                {{"current_password", "is not your current password"}});
}

Session AuthService::StartSession(db::Transaction& tx, const RealmContext& realm, const Account& account) {
  return IssueInFamily(tx, realm, account, core::NewUuid());
}

Session AuthService::IssueInFamily(db::Transaction& tx, const RealmContext& realm, const Account& account,
                                   const std::string& family_id, long long family_age_seconds) {
  const auto& config = authenticator_->config();
  Session session;
  session.account = account;
  auto [token, claims] = authenticator_->Issue(realm, account.id, account.role, family_id);
  session.access_token = std::move(token);
  session.access_expires_in = claims.expires_at - claims.issued_at;
  session.refresh_token = core::RandomToken(32);
  session.refresh_expires_in =
      std::min(Seconds(config.refresh_ttl), std::max(1LL, Seconds(config.session_max) - family_age_seconds));
  AccountStore::InsertRefresh(tx, *realm.realm, core::Sha256(session.refresh_token), family_id, account.id,
                              session.refresh_expires_in);
  return session;
}

Result<Session> AuthService::Refresh(const RealmContext& realm, const std::string& refresh_token,
                                     const Caller& caller) {
  const auto& config = authenticator_->config();
  if (auto limited =
          CheckRate(realm, "refresh", caller.ip, {config.refresh_per_ip_per_minute, std::chrono::minutes(1)});
      !limited) {
    return std::move(limited).error();
  }
  const std::string token_hash = core::Sha256(refresh_token);
  bool reused = false;
  std::string reused_account;
  std::string reused_family;
  auto result = realm.Write(database_, [&](db::Transaction& tx) -> Result<Session> {
    auto rotated = AccountStore::Rotate(tx, *realm.realm, token_hash);
    if (!rotated) {
      auto state = AccountStore::Lookup(tx, *realm.realm, token_hash);
      if (!state) return BadRefreshToken("The refresh token is not valid.");
      if (state->rotated && !state->revoked) {
        // A rotated token came back: someone holds a copy. End the whole family.
        const int revoked = AccountStore::RevokeFamily(tx, *realm.realm, state->family_id, "reuse_detected");
        AccountStore::Audit(tx, *realm.realm,
                            {"refresh.reused",
                             std::nullopt,
                             state->user_id,
                             {{"family_id", state->family_id}, {"tokens_revoked", revoked}}},
                            caller);
        tx.Commit();
        reused = true;
        reused_account = state->user_id;
        reused_family = state->family_id;
        return BadRefreshToken("This refresh token was already used; every session it started has been ended.");
      }
      return BadRefreshToken(state->expired ? "The refresh token has expired." : "The refresh token was revoked.");
    }
    if (rotated->family_age_seconds >= Seconds(config.session_max)) {
      // Only a token issued under a longer maximum gets here (tokens are capped to it).
      AccountStore::RevokeFamily(tx, *realm.realm, rotated->family_id, "session_max_age");
      tx.Commit();
      return BadRefreshToken("The session reached its maximum age; sign in again.");
    }
    auto account = AccountStore::FindById(tx, *realm.realm, rotated->user_id);
    if (!account || !account->active) {
      AccountStore::RevokeFamily(tx, *realm.realm, rotated->family_id, "account_inactive");
      tx.Commit();
      return BadRefreshToken("The account of this refresh token is no longer active.");
    }
    Session session = IssueInFamily(tx, realm, *account, rotated->family_id, rotated->family_age_seconds);
    tx.Commit();
    return session;
  });
  if (reused) {
    // A copy of a refresh token is in someone else's hands: the access tokens of that session
    // end too (the account's other sessions, on other devices, were not exposed).
    authenticator_->EndSessions(realm, {reused_family});
    core::log::Warn("auth_refresh_reuse", {{"tenant_id", realm.tenant_id}, {"account_id", reused_account}});
  }
  return result;
}

core::Status AuthService::Logout(const RealmContext& realm, const std::string& refresh_token,
                                 const Principal* principal, const Caller& caller) {
  const std::string token_hash = core::Sha256(refresh_token);
  std::vector<std::string> ended;
  auto done = realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
    auto state = AccountStore::Lookup(tx, *realm.realm, token_hash);
    if (state && !state->revoked) {
      AccountStore::RevokeFamily(tx, *realm.realm, state->family_id, "logout");
      AccountStore::Audit(tx, *realm.realm, {"logout", state->user_id, state->user_id, {}}, caller);
      ended.push_back(state->family_id);
    }
    tx.Commit();
    return core::Ok();
  });
  if (!done) return done;
  // Every access token of the session ends (those issued before its last refresh too), and
  // the one in hand even when it belongs to another session than the refresh token sent.
  authenticator_->EndSessions(realm, ended);
  if (principal != nullptr) authenticator_->DenyToken(realm, principal->jti, principal->expires_at);
  return core::Ok();
}

core::Status AuthService::ConfirmActor(const RealmContext& realm, Principal& principal) {
  auto state = realm.ReadOnce(database_, [&](db::Transaction& tx) -> Result<std::optional<ActorState>> {
    return AccountStore::CurrentActor(tx, *realm.realm, principal.subject, principal.session_id);
  });
  if (!state) return std::move(state).error();
  if (!*state || !(*state)->active) {
    return Error{ErrorCode::kUnauthenticated,
                 "The account of this access token is no longer active.",
                 {},
                 {{"Authorization", "account inactive"}}};
  }
  if ((*state)->session_revoked) {
    return Error{ErrorCode::kUnauthenticated,
                 "The access token was revoked; sign in again.",
                 {},
                 {{"Authorization", "session ended"}}};
  }
  principal.role = (*state)->role;
  return core::Ok();
}

std::vector<std::string> AuthService::RevokeSessions(db::Transaction& tx, const RealmContext& realm,
                                                     const std::string& account_id, const std::string& reason) {
  return AccountStore::RevokeSessions(tx, *realm.realm, account_id, reason);
}

void AuthService::AfterCommitRevoke(const RealmContext& realm, const std::vector<std::string>& sessions) {
  authenticator_->EndSessions(realm, sessions);
}

}  // namespace clinicore::auth
