#include "platform/app/access_rules.hpp"

namespace clinicore::app {
namespace {

using auth::AccessRule;
using auth::ManagerRoles;
using http::Method;

AccessRule Anyone(Method method, std::string path, std::string note = {}) {
  return auth::OpenTo(method, std::move(path), std::move(note));
}

AccessRule Admins(Method method, std::string path) {
  return auth::PlatformAdminsOnly(method, std::move(path));
}

}  // namespace

std::shared_ptr<const auth::AccessPolicy> BuildAccessPolicy(std::vector<AccessRule> module_rules) {
  std::vector<AccessRule> rules{
      // Operations and documentation.
      Anyone(Method::kGet, "/healthz"),
      Anyone(Method::kGet, "/readyz"),
      Anyone(Method::kGet, "/metrics", "scraped on the private network"),
      Anyone(Method::kGet, "/v1/status"),
      Anyone(Method::kGet, "/openapi.yaml"),
      Anyone(Method::kGet, "/api/docs"),
      Anyone(Method::kGet, "/api/docs/{asset}"),
      Anyone(Method::kGet, "/.well-known/jwks.json"),

      // Console: platform admins only, except signing in.
      Anyone(Method::kPost, "/v1/console/auth/login", "rate-limited per IP and account"),
      Anyone(Method::kPost, "/v1/console/auth/refresh", "needs a console refresh token"),
      Anyone(Method::kPost, "/v1/console/auth/logout", "needs a console refresh token"),
      Admins(Method::kGet, "/v1/console/me"),
      Admins(Method::kPost, "/v1/console/auth/mfa/totp"),
      Admins(Method::kPost, "/v1/console/auth/mfa/totp/confirm"),
      Admins(Method::kPost, "/v1/console/auth/mfa/totp/disable"),
      Admins(Method::kGet, "/v1/console/admins"),
      Admins(Method::kPost, "/v1/console/admins"),
      Admins(Method::kPatch, "/v1/console/admins/{id}"),
      Admins(Method::kPost, "/v1/console/tenants"),
      Admins(Method::kGet, "/v1/console/tenants"),
      Admins(Method::kGet, "/v1/console/tenants/{id}"),
      Admins(Method::kPatch, "/v1/console/tenants/{id}"),
      Admins(Method::kPost, "/v1/console/tenants/{id}/suspend"),
      Admins(Method::kPost, "/v1/console/tenants/{id}/resume"),
      Admins(Method::kPost, "/v1/console/tenants/{id}/offboard"),
      Admins(Method::kGet, "/v1/console/tenants/{id}/migrations"),
      Admins(Method::kGet, "/v1/console/plugins"),
      Admins(Method::kGet, "/v1/console/tenants/{id}/plugins"),
      Admins(Method::kPut, "/v1/console/tenants/{id}/plugins/{name}"),
      Admins(Method::kDelete, "/v1/console/tenants/{id}/plugins/{name}"),
      Admins(Method::kPost, "/v1/console/tenants/{id}/plugins/{name}/release"),
      Admins(Method::kGet, "/v1/console/jobs/queues"),
      Admins(Method::kGet, "/v1/console/jobs"),
      Admins(Method::kGet, "/v1/console/jobs/schedules"),
      Admins(Method::kGet, "/v1/console/jobs/{id}"),
      Admins(Method::kPost, "/v1/console/jobs/{id}/retry"),
      Admins(Method::kPost, "/v1/console/jobs/{id}/discard"),

      // Tenant: public pieces of a tenant.
      Anyone(Method::kGet, "/v1/tenant", "the tenant's public profile (sign-in pages)"),
      Anyone(Method::kGet, "/v1/tenant/status"),
      Anyone(Method::kPost, "/v1/auth/login", "rate-limited per IP and account; progressive lockout"),
      Anyone(Method::kPost, "/v1/auth/refresh", "needs a refresh token of this tenant"),
      Anyone(Method::kPost, "/v1/auth/logout", "needs a refresh token of this tenant"),

      // Tenant: an optional TOTP second factor for the tenant's managers.
      auth::RolesMay(Method::kPost, "/v1/auth/mfa/totp", ManagerRoles(), {}, "tenant admins and clinic owners"),
      auth::RolesMay(Method::kPost, "/v1/auth/mfa/totp/confirm", ManagerRoles(), {}, "tenant admins and clinic owners"),
      auth::RolesMay(Method::kPost, "/v1/auth/mfa/totp/disable", ManagerRoles(), {}, "tenant admins and clinic owners"),

      // Tenant: plugins enabled for the tenant (no secrets in the answer).
      auth::RolesMay(Method::kGet, "/v1/tenant/plugins", ManagerRoles(), {}, "tenant admins and clinic owners"),

  };
  for (auto& rule : module_rules) rules.push_back(std::move(rule));
  return std::make_shared<const auth::AccessPolicy>(std::move(rules));
}

}  // namespace clinicore::app
