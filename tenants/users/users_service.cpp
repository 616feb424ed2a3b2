#include "tenants/users/users_service.hpp"

#include "platform/auth/access_policy.hpp"
#include "platform/auth/account_validation.hpp"
#include "platform/core/crypto.hpp"
#include "platform/modules/audit.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::users {
namespace {

using auth::Account;
using auth::AccountStore;
using auth::TenantRealm;
using core::Error;
using core::ErrorCode;
using core::Result;

constexpr const char* kInsertToken = "users.insert_password_token";
constexpr const char* kUseToken = "users.use_password_token";

Error EmailTaken() {
  return Error{ErrorCode::kAlreadyExists, "An account with this email already exists.", {}, {{"email", "is taken"}}};
}

Error NoSuchUser(const std::string& id) {
  return Error::NotFound("No user '" + id + "' exists in this tenant.");
}

// Every change to an account goes to the tenant's audit trail through the request kit's writer
// (platform/modules/audit.hpp), with who acted, on which account and what changed.
void AuditAccount(db::Transaction& tx, const modules::Actor& actor, const std::string& action, const std::string& id,
                  nlohmann::json before, nlohmann::json after) {
  modules::Audit(tx, actor, {action, "user", id, std::move(before), std::move(after), id});
}

modules::Actor AuditActor(const std::string& id, const std::string& role, const auth::Caller& caller) {
  return {id, role, caller.request_id, caller.ip};
}

// A unique violation raced past the existence check: same answer as the check.
template <typename T>
Result<T> EmailTakenOnRace(Result<T> result) {
  if (!result && result.error().code == ErrorCode::kAlreadyExists && result.error().fields.empty()) return EmailTaken();
  return result;
}

}  // namespace

nlohmann::json InvitationJson(const Invitation& invitation) {
  return {{"token", invitation.token}, {"expires_at", invitation.expires_at}, {"accept", "POST /v1/auth/password"}};
}

UsersService::UsersService(db::Database& database, std::shared_ptr<auth::AuthService> auth,
                           std::shared_ptr<auth::AccountCache> accounts, std::chrono::milliseconds invitation_ttl)
    : database_(database), auth_(std::move(auth)), accounts_(std::move(accounts)), invitation_ttl_(invitation_ttl) {}

void UsersService::RegisterStatements(db::Database& database) {
  database.RegisterStatement(kInsertToken,
                             "INSERT INTO password_tokens (token_hash, user_id, purpose, expires_at) "
                             "VALUES ($1, $2::uuid, 'invitation', now() + make_interval(secs => $3)) "
                             "RETURNING to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
  database.RegisterStatement(kUseToken,
                             "UPDATE password_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL "
                             "AND expires_at > now() RETURNING user_id::text");
}

Invitation UsersService::CreateInvitation(db::Transaction& tx, const std::string& user_id) {
  Invitation invitation;
  invitation.token = core::RandomToken(32);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(invitation_ttl_).count();
  invitation.expires_at =
      tx.Exec(kInsertToken, pqxx::binarystring(core::Sha256(invitation.token)), user_id, seconds)[0][0]
          .as<std::string>();
  return invitation;
}

core::Status UsersService::CheckAuthority(const Actor& actor, const std::string& target_role) const {
  if (actor.role == "admin") return core::Ok();
  if (actor.role == "clinic_owner" && target_role != "admin") return core::Ok();
  return Error{ErrorCode::kPermissionDenied,
               "Your role (" + actor.role + ") cannot manage " + target_role + " accounts.",
               {},
               {}};
}

Result<auth::Session> UsersService::Register(const auth::RealmContext& realm, const RegisterRequest& request,
                                             const auth::Caller& caller) {
  const auto& config = auth_->authenticator().config();
  if (auto limited =
          auth_->CheckRate(realm, "register", caller.ip, {config.register_per_ip_per_hour, std::chrono::hours(1)});
      !limited) {
    return std::move(limited).error();
  }
  auto hash = auth_->hasher().Hash(request.password);
  if (!hash) return std::move(hash).error();
  return EmailTakenOnRace(realm.Write(database_, [&](db::Transaction& tx) -> Result<auth::Session> {
    if (AccountStore::FindByEmail(tx, TenantRealm(), request.email)) return EmailTaken();
    Account account = AccountStore::Insert(
        tx, TenantRealm(),
        {request.email, request.full_name, request.phone, "client", *hash, request.locale, std::nullopt});
    auth::Session session = auth_->StartSession(tx, realm, account);
    AuditAccount(tx, AuditActor(account.id, account.role, caller), "user.registered", account.id, nullptr,
                 auth::AccountJson(account));
    tx.Commit();
    return session;
  }));
}

Result<auth::Session> UsersService::AcceptInvitation(const auth::RealmContext& realm, const std::string& token,
                                                     const std::string& password, const auth::Caller& caller) {
  // Guessing invitation tokens is hopeless (256 bits), but each try costs an Argon2id hash.
  const auto& config = auth_->authenticator().config();
  if (auto limited =
          auth_->CheckRate(realm, "password", caller.ip, {config.register_per_ip_per_hour, std::chrono::hours(1)});
      !limited) {
    return std::move(limited).error();
  }
  auto hash = auth_->hasher().Hash(password);
  if (!hash) return std::move(hash).error();
  std::string account_id;
  std::vector<std::string> ended;
  auto session = realm.Write(database_, [&](db::Transaction& tx) -> Result<auth::Session> {
    const auto used = tx.Exec(kUseToken, pqxx::binarystring(core::Sha256(token)));
    const Error invalid{ErrorCode::kUnauthenticated,
                        "The invitation is not valid (used, expired or unknown).",
                        {},
                        {{"token", "is not valid"}}};
    if (used.empty()) return invalid;
    auto account = AccountStore::LockLive(tx, TenantRealm(), used[0][0].as<std::string>());
    if (!account || !account->active) return invalid;
    if (auto policy = auth::CheckPasswordPolicy(password, account->email); !policy) return std::move(policy).error();
    // Setting a password voids every other invitation (AccountStore::SetPasswordHash), so one
    // arriving here for an account that has a password is a reset: it is audited as one, and
    // every session the old password opened ends.
    const bool had_password = account->password_hash.has_value();
    ended = auth_->RevokeSessions(tx, realm, account->id, "password_set_by_invitation");
    AccountStore::SetPasswordHash(tx, TenantRealm(), account->id, *hash);
    account->password_hash = *hash;
    auth::Session session = auth_->StartSession(tx, realm, *account);
    AuditAccount(tx, AuditActor(account->id, account->role, caller),
                 had_password ? "user.password_reset" : "user.password_set", account->id,
                 {{"sign_in", had_password ? "enabled" : "invited"}},
                 {{"sign_in", "enabled"}, {"via", "invitation"}, {"sessions_ended", ended.size()}});
    tx.Commit();
    account_id = account->id;
    return session;
  });
  if (session) {
    ForgetCached(realm, account_id);
    auth_->AfterCommitRevoke(realm, ended);
  }
  return session;
}

Result<Account> UsersService::Get(const auth::RealmContext& realm, const std::string& id) {
  if (!tenancy::IsUuid(id)) return NoSuchUser(id);
  auto found = accounts_->ReadThrough(auth::AccountCache::KeyOf(realm.scope->schema, id), [&] {
    return realm.ReadOnce(database_, [&](db::Transaction& tx) -> Result<std::optional<Account>> {
      return AccountStore::FindById(tx, TenantRealm(), id);
    });
  });
  if (!found) return std::move(found).error();
  if (!*found) return NoSuchUser(id);
  return **found;
}

Result<Account> UsersService::UpdateProfile(const auth::RealmContext& realm, const std::string& id,
                                            const auth::AccountPatch& patch, const auth::Caller& caller) {
  auto updated = realm.Write(database_, [&](db::Transaction& tx) -> Result<Account> {
    auto before = AccountStore::FindById(tx, TenantRealm(), id);
    if (!before) return NoSuchUser(id);
    auto updated = AccountStore::Update(tx, TenantRealm(), id, patch);
    if (!updated) return NoSuchUser(id);
    AuditAccount(tx, AuditActor(id, before->role, caller), "user.profile_updated", id, auth::AccountJson(*before),
                 auth::AccountJson(*updated));
    tx.Commit();
    return *updated;
  });
  if (updated) ForgetCached(realm, id);
  return updated;
}

Result<int> UsersService::ChangePassword(const auth::RealmContext& realm, const auth::Principal& principal,
                                         const std::string& current_password, const std::string& new_password,
                                         const auth::Caller& caller) {
  auto ended = auth_->ChangePassword(realm, principal, current_password, new_password, caller);
  if (ended) ForgetCached(realm, principal.subject);
  return ended;
}

Result<auth::AccountPage> UsersService::List(const auth::RealmContext& realm, const auth::AccountFilter& filter) {
  if (filter.role && !auth::IsTenantRole(*filter.role)) {
    return Error::InvalidArgument("role must be one of the tenant roles.", {{"role", "is not a role"}});
  }
  return realm.Read(database_, [&](db::Transaction& tx) { return AccountStore::List(tx, TenantRealm(), filter); });
}

Result<Invited> UsersService::Invite(const auth::RealmContext& realm, const Actor& actor, const InviteRequest& request,
                                     const auth::Caller& caller) {
  if (auto allowed = CheckAuthority(actor, request.role); !allowed) return std::move(allowed).error();
  return EmailTakenOnRace(realm.Write(database_, [&](db::Transaction& tx) -> Result<Invited> {
    if (AccountStore::FindByEmail(tx, TenantRealm(), request.email)) return EmailTaken();
    Account account = AccountStore::Insert(
        tx, TenantRealm(),
        {request.email, request.full_name, request.phone, request.role, std::nullopt, std::nullopt, actor.id});
    Invitation invitation = CreateInvitation(tx, account.id);
    AuditAccount(tx, AuditActor(actor.id, actor.role, caller), "user.invited", account.id, nullptr,
                 auth::AccountJson(account));
    tx.Commit();
    return Invited{account, invitation};
  }));
}

Result<Account> UsersService::UpdateStaff(const auth::RealmContext& realm, const Actor& actor, const std::string& id,
                                          const StaffPatch& patch, const auth::Caller& caller) {
  if (!tenancy::IsUuid(id)) return NoSuchUser(id);
  if (id == actor.id) {
    return Error{ErrorCode::kFailedPrecondition,
                 "You cannot change your own role or deactivate yourself.",
                 {},
                 {{patch.role ? "role" : "active", "cannot be changed on your own account"}}};
  }
  if (patch.role) {
    if (auto allowed = CheckAuthority(actor, *patch.role); !allowed) return std::move(allowed).error();
  }
  bool revoke = false;
  std::vector<std::string> ended;
  auto result = realm.Write(database_, [&](db::Transaction& tx) -> Result<Account> {
    auto current = AccountStore::FindById(tx, TenantRealm(), id);
    if (!current) return NoSuchUser(id);
    if (auto allowed = CheckAuthority(actor, current->role); !allowed) return std::move(allowed).error();
    auto updated = AccountStore::Update(tx, TenantRealm(), id,
                                        {std::nullopt, std::nullopt, std::nullopt, patch.role, patch.active});
    if (!updated) return NoSuchUser(id);
    revoke = false;
    std::string reason;
    if (patch.role && *patch.role != current->role) {
      reason = "role_changed";
      AuditAccount(tx, AuditActor(actor.id, actor.role, caller), "user.role_changed", id, {{"role", current->role}},
                   {{"role", *patch.role}});
      revoke = true;
    }
    if (patch.active && *patch.active != current->active) {
      AuditAccount(tx, AuditActor(actor.id, actor.role, caller), *patch.active ? "user.activated" : "user.deactivated",
                   id, {{"active", current->active}}, {{"active", *patch.active}});
      if (!*patch.active) {
        revoke = true;
        reason = "deactivated";
      }
    }
    // Tokens carry the role: a changed role or a deactivation ends every session.
    if (revoke) ended = auth_->RevokeSessions(tx, realm, id, reason);
    tx.Commit();
    return *updated;
  });
  if (result) ForgetCached(realm, id);
  if (result && revoke) auth_->AfterCommitRevoke(realm, ended);
  return result;
}

core::Status UsersService::Delete(const auth::RealmContext& realm, const Actor& actor, const std::string& id,
                                  const auth::Caller& caller) {
  if (!tenancy::IsUuid(id)) return NoSuchUser(id);
  if (id == actor.id) {
    return Error{ErrorCode::kFailedPrecondition, "You cannot delete your own account here.", {}, {}};
  }
  std::vector<std::string> ended;
  auto deleted = realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
    auto current = AccountStore::FindById(tx, TenantRealm(), id);
    if (!current) return NoSuchUser(id);
    if (auto allowed = CheckAuthority(actor, current->role); !allowed) return allowed;
    AccountStore::SoftDelete(tx, TenantRealm(), id);
    ended = auth_->RevokeSessions(tx, realm, id, "deleted");
    AuditAccount(tx, AuditActor(actor.id, actor.role, caller), "user.deleted", id, auth::AccountJson(*current),
                 nullptr);
    tx.Commit();
    return core::Ok();
  });
  if (deleted) ForgetCached(realm, id);
  if (deleted) auth_->AfterCommitRevoke(realm, ended);
  return deleted;
}

core::Status UsersService::ValidateOwner(const nlohmann::json& owner) const {
  if (!owner.is_object()) {
    return Error::InvalidArgument("owner must be an object with email and full_name (and optionally password).",
                                  {{"owner", "is required: {email, full_name, password?}"}});
  }
  std::vector<core::FieldError> problems;
  for (const auto& [key, value] : owner.items()) {
    if (key != "email" && key != "full_name" && key != "password")
      problems.push_back({"owner." + key, "is not a known field"});
    if (!value.is_string()) problems.push_back({"owner." + key, "must be a string"});
  }
  if (!problems.empty()) return Error::InvalidArgument("owner has invalid fields.", problems);
  const std::string email = owner.value("email", "");
  if (auto valid = auth::ValidateEmail(email, "owner.email"); !valid) return valid;
  if (auto valid = auth::ValidateFullName(owner.value("full_name", ""), "owner.full_name"); !valid) return valid;
  if (owner.contains("password")) {
    return auth::CheckPasswordPolicy(owner["password"].get<std::string>(), email, "owner.password");
  }
  return core::Ok();
}

Result<nlohmann::json> UsersService::ProvisionOwner(db::Transaction& tx, const tenancy::Tenant&,
                                                    const nlohmann::json& owner) {
  std::optional<std::string> hash;
  if (owner.contains("password")) {
    auto hashed = auth_->hasher().Hash(owner["password"].get<std::string>());
    if (!hashed) return std::move(hashed).error();
    hash = *hashed;
  }
  Account account = AccountStore::Insert(
      tx, TenantRealm(),
      {owner["email"], owner["full_name"], std::nullopt, "clinic_owner", hash, std::nullopt, std::nullopt});
  AuditAccount(tx, {}, "user.owner_created", account.id, nullptr, auth::AccountJson(account));
  nlohmann::json out = {{"user", auth::AccountJson(account)}};
  if (!hash) out["invitation"] = InvitationJson(CreateInvitation(tx, account.id));
  return out;
}

void UsersService::ForgetCached(const auth::RealmContext& realm, const std::string& id) {
  accounts_->Forget(auth::AccountCache::KeyOf(realm.scope->schema, id));
}

}  // namespace clinicore::users
