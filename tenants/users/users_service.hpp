#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "platform/auth/account_cache.hpp"
#include "platform/auth/auth_service.hpp"
#include "platform/tenancy/tenant.hpp"

// The users module: the people of one tenant (staff with roles, and clients), sign-up,
// invitations, profiles and staff management. Sign-in, tokens and the policy table are the
// platform's (platform/auth); this module owns who the accounts are.
namespace clinicore::users {

struct RegisterRequest {
  std::string email;
  std::string password;
  std::string full_name;
  std::optional<std::string> phone;
  std::optional<std::string> locale;
};

struct InviteRequest {
  std::string email;
  std::string full_name;
  std::string role;
  std::optional<std::string> phone;
};

// A one-time token that lets the invitee choose a password (POST /v1/auth/password). Until
// the notifications module mails it, the inviter receives it and passes it on.
struct Invitation {
  std::string token;
  std::string expires_at;
};
nlohmann::json InvitationJson(const Invitation& invitation);

struct Invited {
  auth::Account account;
  Invitation invitation;
};

struct StaffPatch {
  std::optional<std::string> role;
  std::optional<bool> active;
};

// The acting user, for authority checks and the audit trail.
struct Actor {
  std::string id;
  std::string role;
};

class UsersService {
 public:
  // `accounts` answers Get without the database while it hears PostgreSQL's change notices.
  UsersService(db::Database& database, std::shared_ptr<auth::AuthService> auth,
               std::shared_ptr<auth::AccountCache> accounts, std::chrono::milliseconds invitation_ttl);
  static void RegisterStatements(db::Database& database);

  core::Result<auth::Session> Register(const auth::RealmContext& realm, const RegisterRequest& request,
                                       const auth::Caller& caller);
  core::Result<auth::Session> AcceptInvitation(const auth::RealmContext& realm, const std::string& token,
                                               const std::string& password, const auth::Caller& caller);
  core::Result<auth::Account> Get(const auth::RealmContext& realm, const std::string& id);
  core::Result<auth::Account> UpdateProfile(const auth::RealmContext& realm, const std::string& id,
                                            const auth::AccountPatch& patch, const auth::Caller& caller);
  // The caller's own password (see AuthService::ChangePassword); returns the sessions ended.
  core::Result<int> ChangePassword(const auth::RealmContext& realm, const auth::Principal& principal,
                                   const std::string& current_password, const std::string& new_password,
                                   const auth::Caller& caller);
  core::Result<auth::AccountPage> List(const auth::RealmContext& realm, const auth::AccountFilter& filter);
  core::Result<Invited> Invite(const auth::RealmContext& realm, const Actor& actor, const InviteRequest& request,
                               const auth::Caller& caller);
  core::Result<auth::Account> UpdateStaff(const auth::RealmContext& realm, const Actor& actor, const std::string& id,
                                          const StaffPatch& patch, const auth::Caller& caller);
  core::Status Delete(const auth::RealmContext& realm, const Actor& actor, const std::string& id,
                      const auth::Caller& caller);

  // Onboarding (the tenancy service calls these through its extension hooks): validates the
  // console's `owner` object, then creates the tenant's first clinic_owner account inside
  // the onboarding transaction, scoped to the new tenant. With a password the owner can
  // sign in at once; without one the answer carries an invitation.
  core::Status ValidateOwner(const nlohmann::json& owner) const;
  core::Result<nlohmann::json> ProvisionOwner(db::Transaction& tx, const tenancy::Tenant& tenant,
                                              const nlohmann::json& owner);

 private:
  Invitation CreateInvitation(db::Transaction& tx, const std::string& user_id);
  core::Status CheckAuthority(const Actor& actor, const std::string& target_role) const;
  // After a committed change to an account: this process's next read must see it, before
  // PostgreSQL's notice of the change reaches the cache (which it also will).
  void ForgetCached(const auth::RealmContext& realm, const std::string& id);

  db::Database& database_;
  std::shared_ptr<auth::AuthService> auth_;
  std::shared_ptr<auth::AccountCache> accounts_;
  std::chrono::milliseconds invitation_ttl_;
};

}  // namespace clinicore::users
