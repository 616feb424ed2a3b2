#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "platform/auth/auth_service.hpp"
#include "platform/auth/authenticator.hpp"
#include "platform/cache/rate_limiter.hpp"
#include "platform/http/dispatcher.hpp"
#include "platform/http/router.hpp"

namespace clinicore::auth {

// The tenant roles, most privileged first, and the platform-admin role of the console.
inline const std::vector<std::string>& TenantRoles() {
  static const std::vector<std::string> roles = {"admin",       "clinic_owner", "doctor",
                                                 "secretariat", "salesperson",  "client"};
  return roles;
}
inline constexpr const char* kPlatformAdminRole = "platform_admin";
bool IsTenantRole(const std::string& role);

// Who may call a route.
enum class Audience {
  kAnyone,          // no token (health, docs, sign-in, sign-up, JWKS)
  kTenantUsers,     // a tenant user's token for the resolved tenant, with one of `roles`
  kPlatformAdmins,  // a platform admin's console token
};

// One row of the policy table.
struct AccessRule {
  http::Method method;
  std::string path_template;
  Audience audience = Audience::kAnyone;
  std::vector<std::string> roles;  // kTenantUsers: the roles allowed
  // Ownership: these roles may only address their own account: the path parameter
  // `own_param` must be their id (a client sees only their own profile).
  std::vector<std::string> own_record_only = {};
  std::string own_param = "id";
  // Row scoping the handler applies for these roles (e.g. a salesperson sees only the leads
  // assigned to them unless the tenant allows all); shown in the matrix.
  std::string note = {};
  // Per-clinic row scope: these roles see only the records of their own clinics (a clinic
  // owner the clinics they own, staff the clinics they belong to; everyone else all). The
  // middleware resolves the caller's clinics once (ClinicScopeSource) into the request
  // context; when `clinic_param` names a path parameter, a clinic outside them is a 404
  // before the handler runs, otherwise the handler filters by the scope.
  std::vector<std::string> clinic_scoped = {};
  std::string clinic_param = {};
};

// Builders for the rows of the table, used by the platform's own rows and by every module.
AccessRule OpenTo(http::Method method, std::string path, std::string note = {});
AccessRule PlatformAdminsOnly(http::Method method, std::string path);
AccessRule RolesMay(http::Method method, std::string path, std::vector<std::string> roles,
                    std::vector<std::string> own_only = {}, std::string note = {});
// The same row with a per-clinic scope for `roles` (see AccessRule::clinic_scoped).
AccessRule ScopedToClinics(AccessRule rule, std::vector<std::string> roles, std::string clinic_param = {});

// Role sets the rows use.
const std::vector<std::string>& EveryRole();     // all six tenant roles
const std::vector<std::string>& ManagerRoles();  // admin, clinic_owner
const std::vector<std::string>& StaffRoles();    // every role but client
const std::vector<std::string>& ScopedRoles();   // clinic_owner, doctor, secretariat, salesperson

// Which clinics a caller's per-clinic scope covers. The platform declares the scope; the
// module that owns clinics answers it (ids in lower case).
class ClinicScopeSource {
 public:
  virtual ~ClinicScopeSource() = default;
  virtual core::Result<std::vector<std::string>> ClinicsOf(const RealmContext& realm, const std::string& user_id,
                                                           const std::string& role) = 0;
};

// THE declarative table of who may call what, enforced by one middleware before any
// handler runs. A registered route without a rule stops start-up (fail closed).
class AccessPolicy {
 public:
  // Mistakes in the table itself (an unknown role, two rules for one route) are reported by
  // RequireEveryRoute, so start-up refuses them with the same message.
  explicit AccessPolicy(std::vector<AccessRule> rules);

  const AccessRule* Find(http::Method method, const std::string& path_template) const;
  // Throws std::logic_error naming every route without a rule, every rule without a route,
  // and every rule whose audience does not fit its route's scope.
  void RequireEveryRoute(const http::Router& router) const;
  const std::vector<AccessRule>& rules() const { return rules_; }
  bool DeclaresClinicScope() const;
  // The matrix as a Markdown table (docs/security.md is generated from it).
  std::string MarkdownMatrix() const;

 private:
  std::vector<AccessRule> rules_;
  std::map<std::pair<http::Method, std::string>, size_t> index_;
  std::vector<std::string> table_problems_;
};

// Authentication and authorization for every request: finds the route's rule, checks the
// bearer token for the rule's realm (tenant tokens must name the resolved tenant), the
// role and the ownership rule, and records the principal. Runs after tenant resolution.
//
// A privileged change (any method but GET or HEAD on a console route, or by a token that
// claims a manager role) trusts the database, not the token: the actor's role and active flag
// and its session are re-read (AuthService::ConfirmActor) and the rule is checked against the
// role read. A change on a route only managers or platform admins may call also fails closed
// (503) when the deny-list cannot be read.
//
// `clinics` answers the per-clinic row scope; it may be null only when no rule declares one
// (RequireClinicScopeSource).
http::Middleware Authorization(std::shared_ptr<const AccessPolicy> policy, std::shared_ptr<AuthService> auth,
                               std::shared_ptr<ClinicScopeSource> clinics = nullptr);

// The whole tenant API's request budget per tenant and minute (CLINICORE_RATE_TENANT_
// REQUESTS_PER_MINUTE; 0 turns it off). While Redis is down requests go on.
http::Middleware TenantRateLimit(std::shared_ptr<cache::BatchedBudget> budget, int per_minute);

// Anonymous routes that do database work (RouteOptions::limit_per_address: /readyz,
// /v1/status, /v1/tenant/status, logout) count against a budget per client address (IPv6 by
// /64) and minute (CLINICORE_RATE_ANONYMOUS_PER_IP_PER_MINUTE; 0 turns it off).
http::Middleware AddressRateLimit(std::shared_ptr<cache::BatchedBudget> budget, int per_minute);

// The realm of a request: the resolved tenant for tenant routes, the console otherwise.
RealmContext RealmOf(const http::RequestContext& context);

}  // namespace clinicore::auth
