#pragma once

#include <memory>
#include <optional>
#include <string>

#include "platform/http/dispatcher.hpp"
#include "platform/tenancy/tenant_directory.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::tenancy {

// For tenant-scoped routes: resolves the tenant from X-Tenant (slug or id) or the Host
// subdomain <slug>.<base_domain>; unknown → 404, suspended or offboarding → 403. Sets the
// request's tenant (and tenant_id, which the access log carries).
http::Middleware TenantResolution(std::shared_ptr<TenantDirectory> directory, std::string base_domain);

// The tenant the middleware resolved. Only valid in tenant-scoped handlers.
const Tenant& CurrentTenant(const http::RequestContext& context);
// The authenticated console caller (a platform admin, set by the authorization
// middleware), for the audit trail.
Actor ConsoleActor(const http::RequestContext& context);

// The slug named by a Host header under base_domain, if any ("demo.example.com:8080" → demo).
std::optional<std::string> SlugFromHost(const std::string& host, const std::string& base_domain);

}  // namespace clinicore::tenancy
