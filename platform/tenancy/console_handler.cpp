#include "platform/tenancy/console_handler.hpp"

#include "platform/http/json_fields.hpp"
#include "platform/kit/list_query.hpp"
#include "platform/tenancy/queries.hpp"
#include "platform/tenancy/tenancy_middleware.hpp"

namespace clinicore::tenancy {
namespace {

using core::Error;
using core::Result;
using http::JsonFields;
using http::RequestContext;
using http::Response;

Result<std::optional<std::string>> IdempotencyKey(const RequestContext& context) {
  auto key = context.raw.Header("idempotency-key");
  if (!key) return std::optional<std::string>();
  if (key->empty() || key->size() > 255) {
    return Error::InvalidArgument("Idempotency-Key must be 1 to 255 characters.",
                                  {{"Idempotency-Key", "must be 1 to 255 characters"}});
  }
  return std::optional<std::string>(*key);
}

Response TenantResponse(int status, const Tenant& tenant) {
  return Response::Json(status, ConsoleJson(tenant));
}

}  // namespace

Result<Response> ConsoleHandler::Onboard(RequestContext& context) {
  JsonFields fields(context.body);
  OnboardRequest request;
  request.slug = fields.String("slug", {.required = true, .max_length = 40}).value_or("");
  request.display_name = fields.String("display_name", {.required = true, .max_length = 200}).value_or("");
  if (auto tz = fields.String("time_zone", {.max_length = 64})) request.time_zone = *tz;
  if (auto locale = fields.String("locale", {.max_length = 16})) request.locale = *locale;
  if (auto limits = fields.Object("limits")) request.limits = *limits;
  if (auto owner = fields.Object("owner")) request.owner = *owner;
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto key, IdempotencyKey(context));

  CLINICORE_TRY(auto result, service_->Onboard(request, ConsoleActor(context), key));
  nlohmann::json body = ConsoleJson(result.tenant);
  if (!result.owner.is_null()) body["owner"] = result.owner;
  Response response = Response::Json(201, body);
  response.headers.emplace_back("Location", "/v1/console/tenants/" + result.tenant.id);
  if (result.replayed) response.headers.emplace_back("Idempotent-Replayed", "true");
  return response;
}

Result<Response> ConsoleHandler::List(RequestContext& context) {
  using Rule = kit::FilterRule;
  CLINICORE_TRY(const kit::ListQuery list,
                kit::ParseListQuery(context, kTenantList,
                                    {{"status", Rule::Kind::kOneOf, {"active", "suspended", "offboarding"}},
                                     {"q", Rule::Kind::kText, {}, 100}}));
  CLINICORE_TRY(const TenantPage page, service_->List({list.Filter("status"), list.Filter("q"), list.page}));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& tenant : page.items) items.push_back(ConsoleJson(tenant));
  return Response::Json(200, kit::PageJson(std::move(items), page.next_cursor));
}

Result<Response> ConsoleHandler::Show(RequestContext& context) {
  CLINICORE_TRY(auto detail, service_->Get(context.PathParam("id")));
  nlohmann::json body = ConsoleJson(detail.tenant);
  body["pending_migrations"] = detail.pending_migrations;
  body["row_counts"] = detail.row_counts;
  return Response::Json(200, body);
}

Result<Response> ConsoleHandler::Update(RequestContext& context) {
  JsonFields fields(context.body);
  ProfilePatch patch;
  patch.display_name = fields.String("display_name", {.max_length = 200});
  patch.time_zone = fields.String("time_zone", {.max_length = 64});
  patch.locale = fields.String("locale", {.max_length = 16});
  patch.limits = fields.Object("limits");
  CLINICORE_TRY_STATUS(fields.Finish());
  if (!patch.display_name && !patch.time_zone && !patch.locale && !patch.limits) {
    return Error::InvalidArgument("Send at least one of display_name, time_zone, locale, limits.",
                                  {{"body", "no field to change"}});
  }
  CLINICORE_TRY(auto tenant, service_->UpdateProfile(context.PathParam("id"), patch, ConsoleActor(context)));
  return TenantResponse(200, tenant);
}

Result<Response> ConsoleHandler::Suspend(RequestContext& context) {
  JsonFields fields(context.body, false);
  auto reason = fields.String("reason", {.max_length = 500});
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto tenant, service_->Suspend(context.PathParam("id"), reason, ConsoleActor(context)));
  return TenantResponse(200, tenant);
}

Result<Response> ConsoleHandler::Resume(RequestContext& context) {
  JsonFields fields(context.body, false);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto tenant, service_->Resume(context.PathParam("id"), ConsoleActor(context)));
  return TenantResponse(200, tenant);
}

Result<Response> ConsoleHandler::Offboard(RequestContext& context) {
  JsonFields fields(context.body, false);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto tenant, service_->Offboard(context.PathParam("id"), ConsoleActor(context)));
  return TenantResponse(200, tenant);
}

Result<Response> ConsoleHandler::Migrations(RequestContext& context) {
  CLINICORE_TRY(auto migrations, service_->Migrations(context.PathParam("id")));
  nlohmann::json applied = nlohmann::json::array();
  for (const auto& done : migrations.applied) {
    applied.push_back({{"version", done.version}, {"file_name", done.file_name}, {"checksum", done.checksum}});
  }
  return Response::Json(200, {{"applied", applied}, {"pending", migrations.pending}});
}

Result<Response> TenantSelfHandler::Profile(RequestContext& context) {
  return Response::Json(200, PublicJson(CurrentTenant(context)));
}

Result<Response> TenantSelfHandler::Status(RequestContext& context) {
  const Tenant& tenant = CurrentTenant(context);
  auto status =
      database_.ReadOnceInTenant(tenant.Scope(), [](db::Transaction& tx) -> Result<std::pair<int, std::string>> {
        auto row = tx.Exec(queries::kTenantStatus)[0];
        return std::make_pair(row[0].as<int>(), row[1].as<std::string>());
      });
  if (!status) return std::move(status).error();
  return Response::Json(
      200, {{"tenant", tenant.slug}, {"schema_version", status->first}, {"database_time", status->second}});
}

void RegisterTenancyRoutes(http::Router& router, std::shared_ptr<ConsoleHandler> console,
                           std::shared_ptr<TenantSelfHandler> self) {
  using http::Method;
  using http::RouteScope;
  const http::RouteOptions read{.scope = RouteScope::kConsole};
  const http::RouteOptions write{.scope = RouteScope::kConsole, .json_body = true};
  // Onboarding may hash the owner's password (Argon2id): off the I/O threads.
  const http::RouteOptions onboard{.scope = RouteScope::kConsole, .json_body = true, .cpu_heavy = true};
  router.Add(Method::kPost, "/v1/console/tenants", http::Bind(console, &ConsoleHandler::Onboard), onboard);
  router.Add(Method::kGet, "/v1/console/tenants", http::Bind(console, &ConsoleHandler::List), read);
  router.Add(Method::kGet, "/v1/console/tenants/{id}", http::Bind(console, &ConsoleHandler::Show), read);
  router.Add(Method::kPatch, "/v1/console/tenants/{id}", http::Bind(console, &ConsoleHandler::Update), write);
  router.Add(Method::kPost, "/v1/console/tenants/{id}/suspend", http::Bind(console, &ConsoleHandler::Suspend), write);
  router.Add(Method::kPost, "/v1/console/tenants/{id}/resume", http::Bind(console, &ConsoleHandler::Resume), write);
  router.Add(Method::kPost, "/v1/console/tenants/{id}/offboard", http::Bind(console, &ConsoleHandler::Offboard), write);
  router.Add(Method::kGet, "/v1/console/tenants/{id}/migrations", http::Bind(console, &ConsoleHandler::Migrations),
             read);

  const http::RouteOptions tenant{.scope = RouteScope::kTenant};
  router.Add(Method::kGet, "/v1/tenant", http::Bind(self, &TenantSelfHandler::Profile), tenant);
  // Anonymous and a database read each: counted per client address.
  const http::RouteOptions tenant_lookup{.scope = RouteScope::kTenant, .limit_per_address = true};
  router.Add(Method::kGet, "/v1/tenant/status", http::Bind(self, &TenantSelfHandler::Status), tenant_lookup);
}

}  // namespace clinicore::tenancy
