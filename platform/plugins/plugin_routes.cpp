#include "platform/plugins/plugin_routes.hpp"

#include "platform/http/json_fields.hpp"
#include "platform/tenancy/tenancy_middleware.hpp"

namespace clinicore::plugins {
namespace {

using core::Result;
using http::RequestContext;
using http::Response;
using nlohmann::json;

json Items(const std::vector<TenantPlugin>& plugins, bool console) {
  json items = json::array();
  for (const auto& plugin : plugins) items.push_back(console ? plugin.ConsoleJson() : plugin.TenantJson());
  return items;
}

}  // namespace

Result<Response> PluginHandler::ListInstalled(RequestContext& /*context*/) {
  CLINICORE_TRY(auto installed, service_->ListInstalled());
  json items = json::array();
  for (const auto& plugin : installed) items.push_back(plugin.ConsoleJson());
  return Response::Json(200, {{"items", items}});
}

Result<Response> PluginHandler::ListForTenant(RequestContext& context) {
  CLINICORE_TRY(auto plugins, service_->ListForTenant(context.PathParam("id")));
  return Response::Json(200, {{"items", Items(plugins, true)}});
}

Result<Response> PluginHandler::Enable(RequestContext& context) {
  http::JsonFields fields(context.body);
  EnableRequest request;
  request.version = fields.String("version", {.max_length = 64});
  auto config = fields.Object("config", true);
  CLINICORE_TRY_STATUS(fields.Finish());
  request.config = config.value_or(json::object());
  auto enabled =
      service_->Enable(context.PathParam("id"), context.PathParam("name"), request, tenancy::ConsoleActor(context));
  if (!enabled) return std::move(enabled).error();
  return Response::Json(200, enabled->ConsoleJson());
}

Result<Response> PluginHandler::Disable(RequestContext& context) {
  CLINICORE_TRY_STATUS(
      service_->Disable(context.PathParam("id"), context.PathParam("name"), tenancy::ConsoleActor(context)));
  return Response::NoContent();
}

Result<Response> PluginHandler::Release(RequestContext& context) {
  http::JsonFields fields(context.body, false);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto released,
                service_->Release(context.PathParam("id"), context.PathParam("name"), tenancy::ConsoleActor(context)));
  return Response::Json(200, released.ConsoleJson());
}

Result<Response> PluginHandler::TenantList(RequestContext& context) {
  CLINICORE_TRY(auto plugins, service_->ListForTenant(tenancy::CurrentTenant(context).id));
  return Response::Json(200, {{"items", Items(plugins, false)}});
}

void RegisterPluginRoutes(http::Router& router, std::shared_ptr<PluginHandler> handler) {
  using http::Method;
  using http::RouteScope;
  const http::RouteOptions read{.scope = RouteScope::kConsole};
  const http::RouteOptions write{.scope = RouteScope::kConsole, .json_body = true};
  auto bind = [handler](auto method) {
    return [handler, method](RequestContext& context) { return ((*handler).*method)(context); };
  };
  router.Add(Method::kGet, "/v1/console/plugins", bind(&PluginHandler::ListInstalled), read);
  router.Add(Method::kGet, "/v1/console/tenants/{id}/plugins", bind(&PluginHandler::ListForTenant), read);
  router.Add(Method::kPut, "/v1/console/tenants/{id}/plugins/{name}", bind(&PluginHandler::Enable), write);
  router.Add(Method::kDelete, "/v1/console/tenants/{id}/plugins/{name}", bind(&PluginHandler::Disable), read);
  router.Add(Method::kPost, "/v1/console/tenants/{id}/plugins/{name}/release", bind(&PluginHandler::Release), write);
  router.Add(Method::kGet, "/v1/tenant/plugins", bind(&PluginHandler::TenantList),
             http::RouteOptions{.scope = RouteScope::kTenant});
}

}  // namespace clinicore::plugins
