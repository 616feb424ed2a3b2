#include "platform/tenancy/tenancy_middleware.hpp"

#include <algorithm>

namespace clinicore::tenancy {
namespace {

using core::Error;
using core::ErrorCode;

bool IsScope(const http::RequestContext& context, http::RouteScope scope) {
  return context.route != nullptr && context.route->options.scope == scope;
}

}  // namespace

std::optional<std::string> SlugFromHost(const std::string& host, const std::string& base_domain) {
  std::string name = host.substr(0, host.find(':'));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string suffix = "." + base_domain;
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  std::string label = name.substr(0, name.size() - suffix.size());
  if (label.find('.') != std::string::npos) return std::nullopt;  // only one level below the base
  return label;
}

http::Middleware TenantResolution(std::shared_ptr<TenantDirectory> directory, std::string base_domain) {
  return [directory, base_domain](http::RequestContext& context) -> core::Status {
    if (!IsScope(context, http::RouteScope::kTenant)) return core::Ok();
    const auto header = context.raw.Header("x-tenant");
    const auto host = context.raw.Header("host");
    const auto from_host = host ? SlugFromHost(*host, base_domain) : std::nullopt;
    if (!header && !from_host) {
      return Error::InvalidArgument("Name the tenant with the X-Tenant header or a <tenant>." + base_domain + " host.",
                                    {{"X-Tenant", "is required"}});
    }
    const std::string key = header ? *header : *from_host;
    if (key.empty() || key.size() > 64) {
      return Error::InvalidArgument("X-Tenant must be a tenant slug or id.", {{"X-Tenant", "must be a slug or id"}});
    }
    auto tenant = directory->Resolve(key);
    if (!tenant) return std::move(tenant).error();
    if (header && from_host && *from_host != tenant->slug) {
      return Error::InvalidArgument("X-Tenant and the Host name different tenants.",
                                    {{"X-Tenant", "does not match the host's tenant"}});
    }
    if (tenant->status == "suspended") {
      return Error{ErrorCode::kPermissionDenied, "The tenant '" + tenant->slug + "' is suspended.", {}, {}};
    }
    if (tenant->status == "offboarding") {
      return Error{ErrorCode::kPermissionDenied, "The tenant '" + tenant->slug + "' is being offboarded.", {}, {}};
    }
    context.tenant_id = tenant->id;
    context.tenant = std::move(tenant).value();
    return core::Ok();
  };
}

const Tenant& CurrentTenant(const http::RequestContext& context) {
  return std::any_cast<const Tenant&>(context.tenant);
}

Actor ConsoleActor(const http::RequestContext& context) {
  return {"admin:" + context.actor_id.value_or("unknown"), context.request_id};
}

}  // namespace clinicore::tenancy
