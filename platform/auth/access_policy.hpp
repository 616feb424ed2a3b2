#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
http::Middleware Authorization(std::shared_ptr<const AccessPolicy> policy,
                               std::shared_ptr<Authenticator> authenticator);

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
