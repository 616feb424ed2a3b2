#pragma once

#include <memory>

#include "platform/http/router.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::tenancy {

// Thin handlers for /v1/console/tenants…: parse and validate, call the service, serialize.
class ConsoleHandler {
 public:
  explicit ConsoleHandler(std::shared_ptr<TenantService> service) : service_(std::move(service)) {}

  core::Result<http::Response> Onboard(http::RequestContext& context);
  core::Result<http::Response> List(http::RequestContext& context);
  core::Result<http::Response> Show(http::RequestContext& context);
  core::Result<http::Response> Update(http::RequestContext& context);
  core::Result<http::Response> Suspend(http::RequestContext& context);
  core::Result<http::Response> Resume(http::RequestContext& context);
  core::Result<http::Response> Offboard(http::RequestContext& context);
  core::Result<http::Response> Migrations(http::RequestContext& context);

 private:
  std::shared_ptr<TenantService> service_;
};

// Tenant-scoped: GET /v1/tenant (its public profile) and GET /v1/tenant/status.
class TenantSelfHandler {
 public:
  explicit TenantSelfHandler(db::Database& database) : database_(database) {}
  core::Result<http::Response> Profile(http::RequestContext& context);
  core::Result<http::Response> Status(http::RequestContext& context);

 private:
  db::Database& database_;
};

void RegisterTenancyRoutes(http::Router& router, std::shared_ptr<ConsoleHandler> console,
                           std::shared_ptr<TenantSelfHandler> self);

}  // namespace clinicore::tenancy
