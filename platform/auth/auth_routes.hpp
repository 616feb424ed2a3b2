#pragma once

#include <memory>

#include "platform/auth/auth_service.hpp"
#include "platform/http/router.hpp"

namespace clinicore::auth {

// Caller of a request: its address (rate limits) and request id (audit rows).
Caller CallerOf(const http::RequestContext& context);

// Sign-in, refresh and sign-out for both realms (the tenant's /v1/auth/* and the console's
// /v1/console/auth/*, one handler each), the JWKS, and platform-admin management.
class AuthRoutes {
 public:
  explicit AuthRoutes(std::shared_ptr<AuthService> service) : service_(std::move(service)) {}

  core::Result<http::Response> Login(http::RequestContext& context);
  core::Result<http::Response> Refresh(http::RequestContext& context);
  core::Result<http::Response> Logout(http::RequestContext& context);
  core::Result<http::Response> Jwks(http::RequestContext& context);

  core::Result<http::Response> ListAdmins(http::RequestContext& context);
  core::Result<http::Response> CreateAdmin(http::RequestContext& context);
  core::Result<http::Response> UpdateAdmin(http::RequestContext& context);
  core::Result<http::Response> CurrentAdmin(http::RequestContext& context);
  // The TOTP second factor of the signed-in account (either realm): start, confirm, disable.
  core::Result<http::Response> StartMfa(http::RequestContext& context);
  core::Result<http::Response> ConfirmMfa(http::RequestContext& context);
  core::Result<http::Response> DisableMfa(http::RequestContext& context);

 private:
  std::shared_ptr<AuthService> service_;
};

void RegisterAuthRoutes(http::Router& router, std::shared_ptr<AuthRoutes> routes);

// Creates a platform admin (the CLI's `clinicore admin create` and the console share it).
core::Result<Account> CreatePlatformAdmin(db::Database& database, const PasswordHasher& hasher,
                                          const std::string& email, const std::string& full_name,
                                          const std::string& password, const std::optional<std::string>& created_by,
                                          const Caller& caller);

}  // namespace clinicore::auth
