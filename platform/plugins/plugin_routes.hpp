#pragma once

#include <memory>

#include "platform/http/router.hpp"
#include "platform/plugins/plugin_service.hpp"

namespace clinicore::plugins {

// Thin handlers over PluginService: parse and validate, call, serialize. None of them loads or
// runs plugin code (they run in `serve`).
class PluginHandler {
 public:
  explicit PluginHandler(std::shared_ptr<PluginService> service) : service_(std::move(service)) {}

  // Console (platform admins).
  core::Result<http::Response> ListInstalled(http::RequestContext& context);
  core::Result<http::Response> ListForTenant(http::RequestContext& context);
  core::Result<http::Response> Enable(http::RequestContext& context);
  core::Result<http::Response> Disable(http::RequestContext& context);
  core::Result<http::Response> Release(http::RequestContext& context);
  // Tenant (the tenant's own admins).
  core::Result<http::Response> TenantList(http::RequestContext& context);

 private:
  std::shared_ptr<PluginService> service_;
};

// GET  /v1/console/plugins
// GET  /v1/console/tenants/{id}/plugins
// PUT  /v1/console/tenants/{id}/plugins/{name}
// DELETE /v1/console/tenants/{id}/plugins/{name}
// POST /v1/console/tenants/{id}/plugins/{name}/release
// GET  /v1/tenant/plugins
void RegisterPluginRoutes(http::Router& router, std::shared_ptr<PluginHandler> handler);

}  // namespace clinicore::plugins
