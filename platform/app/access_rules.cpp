#include "platform/app/access_rules.hpp"

namespace clinicore::app {
namespace {

using auth::AccessRule;
using auth::Audience;
using http::Method;

AccessRule Anyone(Method method, std::string path, std::string note = {}) {
  return {method, std::move(path), Audience::kAnyone, {}, {}, "id", std::move(note)};
}

AccessRule Admins(Method method, std::string path) {
  return {method, std::move(path), Audience::kPlatformAdmins, {}, {}, "id", {}};
}

AccessRule Roles(Method method, std::string path, std::vector<std::string> roles,
                 std::vector<std::string> own_only = {}, std::string note = {}) {
  return {method, std::move(path), Audience::kTenantUsers, std::move(roles), std::move(own_only),
          "id",   std::move(note)};
}

const std::vector<std::string> kEveryone = {"admin", "clinic_owner", "doctor", "secretariat", "salesperson", "client"};
const std::vector<std::string> kManagers = {"admin", "clinic_owner"};

}  // namespace

std::shared_ptr<const auth::AccessPolicy> BuildAccessPolicy() {
  return std::make_shared<const auth::AccessPolicy>(std::vector<AccessRule>{
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
      Anyone(Method::kPost, "/v1/auth/register", "client self sign-up; rate-limited per IP"),
      Anyone(Method::kPost, "/v1/auth/login", "rate-limited per IP and account; progressive lockout"),
      Anyone(Method::kPost, "/v1/auth/refresh", "needs a refresh token of this tenant"),
      Anyone(Method::kPost, "/v1/auth/logout", "needs a refresh token of this tenant"),
      Anyone(Method::kPost, "/v1/auth/password", "needs a one-time invitation token"),

      // Tenant: plugins enabled for the tenant (no secrets in the answer).
      Roles(Method::kGet, "/v1/tenant/plugins", kManagers, {}, "tenant admins and clinic owners"),

      // Tenant: users.
      Roles(Method::kGet, "/v1/users/me", kEveryone, {}, "the caller's own account"),
      Roles(Method::kPatch, "/v1/users/me/profile", kEveryone, {}, "the caller's own account"),
      Roles(Method::kPost, "/v1/users/me/password", kEveryone, {}, "the caller's own account"),
      Roles(Method::kPost, "/v1/users", kManagers, {}, "clinic owners cannot invite admins"),
      Roles(Method::kGet, "/v1/users", {"admin", "clinic_owner", "secretariat"}),
      Roles(Method::kGet, "/v1/users/{id}", kEveryone, {"doctor", "salesperson", "client"}),
      Roles(Method::kPatch, "/v1/users/{id}", kManagers, {}, "clinic owners cannot manage admins; not yourself"),
      Roles(Method::kDelete, "/v1/users/{id}", kManagers, {}, "soft delete; clinic owners cannot delete admins"),
  });
}

}  // namespace clinicore::app
