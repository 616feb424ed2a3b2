#include "tenants/users/users_routes.hpp"

#include "platform/auth/access_policy.hpp"
#include "platform/auth/account_validation.hpp"
#include "platform/auth/auth_routes.hpp"
#include "platform/http/json_fields.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::users {
namespace {

using auth::AccountJson;
using core::Error;
using core::Result;
using http::JsonFields;
using http::RequestContext;
using http::Response;

Actor ActorOf(const RequestContext& context) {
  const auto& principal = auth::CurrentPrincipal(context);
  return {principal.subject, principal.role};
}

void CheckOptionalPhone(JsonFields& fields, const std::optional<std::string>& phone) {
  if (phone) fields.Check(auth::ValidatePhone(*phone));
}

class UsersHandler {
 public:
  explicit UsersHandler(std::shared_ptr<UsersService> service) : service_(std::move(service)) {}

  Result<Response> Register(RequestContext& context) {
    JsonFields fields(context.body);
    RegisterRequest request;
    request.email = fields.String("email", {.required = true, .max_length = 254}).value_or("");
    request.password = fields.String("password", {.required = true, .max_length = 1024}).value_or("");
    request.full_name = fields.String("full_name", {.required = true, .max_length = 200}).value_or("");
    request.phone = fields.String("phone", {.max_length = 16});
    request.locale = fields.String("locale", {.max_length = 16});
    if (!request.email.empty()) fields.Check(auth::ValidateEmail(request.email));
    if (!request.full_name.empty()) fields.Check(auth::ValidateFullName(request.full_name));
    if (!request.password.empty()) fields.Check(auth::CheckPasswordPolicy(request.password, request.email));
    CheckOptionalPhone(fields, request.phone);
    if (request.locale) fields.Check(tenancy::ValidateLocale(*request.locale));
    if (auto status = fields.Finish(); !status) return std::move(status).error();
    auto session = service_->Register(auth::RealmOf(context), request, auth::CallerOf(context));
    if (!session) return std::move(session).error();
    return Response::Json(201, auth::SessionJson(*session));
  }

  Result<Response> SetPassword(RequestContext& context) {
    JsonFields fields(context.body);
    auto token = fields.String("token", {.required = true, .max_length = 128});
    auto password = fields.String("password", {.required = true, .max_length = 1024});
    if (password) fields.Check(auth::CheckPasswordPolicy(*password, ""));
    if (auto status = fields.Finish(); !status) return std::move(status).error();
    auto session = service_->AcceptInvitation(auth::RealmOf(context), *token, *password, auth::CallerOf(context));
    if (!session) return std::move(session).error();
    return Response::Json(200, auth::SessionJson(*session));
  }

  Result<Response> Me(RequestContext& context) {
    auto account = service_->Get(auth::RealmOf(context), auth::CurrentPrincipal(context).subject);
    if (!account) return std::move(account).error();
    return Response::Json(200, AccountJson(*account));
  }

  Result<Response> UpdateProfile(RequestContext& context) {
    JsonFields fields(context.body);
    auth::AccountPatch patch;
    patch.full_name = fields.String("full_name", {.max_length = 200});
    patch.phone = fields.String("phone", {.max_length = 16});
    patch.locale = fields.String("locale", {.max_length = 16});
    if (patch.full_name) fields.Check(auth::ValidateFullName(*patch.full_name));
    CheckOptionalPhone(fields, patch.phone);
    if (patch.locale) fields.Check(tenancy::ValidateLocale(*patch.locale));
    if (auto status = fields.Finish(); !status) return std::move(status).error();
    if (!patch.full_name && !patch.phone && !patch.locale) {
      return Error::InvalidArgument("Send at least one of full_name, phone, locale.", {{"body", "no field to change"}});
    }
    auto account = service_->UpdateProfile(auth::RealmOf(context), auth::CurrentPrincipal(context).subject, patch,
                                           auth::CallerOf(context));
    if (!account) return std::move(account).error();
    return Response::Json(200, AccountJson(*account));
  }

  Result<Response> ChangePassword(RequestContext& context) {
    JsonFields fields(context.body);
    const auto current = fields.String("current_password", {.required = true, .max_length = 1024});
    const auto next = fields.String("new_password", {.required = true, .max_length = 1024});
    if (auto status = fields.Finish(); !status) return std::move(status).error();
    auto ended = service_->ChangePassword(auth::RealmOf(context), auth::CurrentPrincipal(context), *current, *next,
                                          auth::CallerOf(context));
    if (!ended) return std::move(ended).error();
    return Response::Json(200, {{"sessions_ended", *ended}});
  }

  Result<Response> Invite(RequestContext& context) {
    JsonFields fields(context.body);
    InviteRequest request;
    request.email = fields.String("email", {.required = true, .max_length = 254}).value_or("");
    request.full_name = fields.String("full_name", {.required = true, .max_length = 200}).value_or("");
    request.role = fields.String("role", {.required = true, .max_length = 32}).value_or("");
    request.phone = fields.String("phone", {.max_length = 16});
    if (!request.email.empty()) fields.Check(auth::ValidateEmail(request.email));
    if (!request.full_name.empty()) fields.Check(auth::ValidateFullName(request.full_name));
    if (!request.role.empty() && !auth::IsTenantRole(request.role)) {
      fields.Check(Error::InvalidArgument("", {{"role",
                                                "must be one of admin, clinic_owner, doctor, secretariat, "
                                                "salesperson, client"}}));
    }
    CheckOptionalPhone(fields, request.phone);
    if (auto status = fields.Finish(); !status) return std::move(status).error();
    auto invited = service_->Invite(auth::RealmOf(context), ActorOf(context), request, auth::CallerOf(context));
    if (!invited) return std::move(invited).error();
    nlohmann::json body = AccountJson(invited->account);
    body["invitation"] = InvitationJson(invited->invitation);
    Response response = Response::Json(201, body);
    response.headers.emplace_back("Location", "/v1/users/" + invited->account.id);
    return response;
  }

  Result<Response> List(RequestContext& context) {
    auto limit = context.PageLimit();
    if (!limit) return std::move(limit).error();
    auto q = context.Query("q");
    if (q && q->size() > 100) return Error::InvalidArgument("q is too long.", {{"q", "must be at most 100 bytes"}});
    auto page = service_->List(auth::RealmOf(context), {context.Query("role"), q, context.Query("cursor"), *limit});
    if (!page) return std::move(page).error();
    nlohmann::json items = nlohmann::json::array();
    for (const auto& account : page->items) items.push_back(AccountJson(account));
    return Response::Json(
        200, {{"items", items}, {"next_cursor", page->next_cursor ? nlohmann::json(*page->next_cursor) : nullptr}});
  }

  Result<Response> Show(RequestContext& context) {
    auto account = service_->Get(auth::RealmOf(context), context.PathParam("id"));
    if (!account) return std::move(account).error();
    return Response::Json(200, AccountJson(*account));
  }

  Result<Response> Update(RequestContext& context) {
    JsonFields fields(context.body);
    StaffPatch patch;
    patch.role = fields.String("role", {.max_length = 32});
    patch.active = fields.Bool("active");
    if (patch.role && !auth::IsTenantRole(*patch.role)) {
      fields.Check(Error::InvalidArgument("", {{"role",
                                                "must be one of admin, clinic_owner, doctor, secretariat, "
                                                "salesperson, client"}}));
    }
    if (auto status = fields.Finish(); !status) return std::move(status).error();
    if (!patch.role && !patch.active) {
      return Error::InvalidArgument("Send at least one of role, active.", {{"body", "no field to change"}});
    }
    auto account = service_->UpdateStaff(auth::RealmOf(context), ActorOf(context), context.PathParam("id"), patch,
                                         auth::CallerOf(context));
    if (!account) return std::move(account).error();
    return Response::Json(200, AccountJson(*account));
  }

  Result<Response> Delete(RequestContext& context) {
    auto deleted =
        service_->Delete(auth::RealmOf(context), ActorOf(context), context.PathParam("id"), auth::CallerOf(context));
    if (!deleted) return std::move(deleted).error();
    return Response::NoContent();
  }

 private:
  std::shared_ptr<UsersService> service_;
};

}  // namespace

void RegisterUsersRoutes(http::Router& router, std::shared_ptr<UsersService> service) {
  using http::Method;
  auto handler = std::make_shared<UsersHandler>(std::move(service));
  const http::RouteOptions tenant{.scope = http::RouteScope::kTenant};
  const http::RouteOptions tenant_json{.scope = http::RouteScope::kTenant, .json_body = true};
  // Routes that hash a password (Argon2id) run off the I/O threads.
  const http::RouteOptions hashing{.scope = http::RouteScope::kTenant, .json_body = true, .cpu_heavy = true};
  router.Add(Method::kPost, "/v1/auth/register", http::Bind(handler, &UsersHandler::Register), hashing);
  router.Add(Method::kPost, "/v1/auth/password", http::Bind(handler, &UsersHandler::SetPassword), hashing);
  router.Add(Method::kGet, "/v1/users/me", http::Bind(handler, &UsersHandler::Me), tenant);
  router.Add(Method::kPatch, "/v1/users/me/profile", http::Bind(handler, &UsersHandler::UpdateProfile), tenant_json);
  router.Add(Method::kPost, "/v1/users/me/password", http::Bind(handler, &UsersHandler::ChangePassword), hashing);
  router.Add(Method::kPost, "/v1/users", http::Bind(handler, &UsersHandler::Invite), tenant_json);
  router.Add(Method::kGet, "/v1/users", http::Bind(handler, &UsersHandler::List), tenant);
  router.Add(Method::kGet, "/v1/users/{id}", http::Bind(handler, &UsersHandler::Show), tenant);
  router.Add(Method::kPatch, "/v1/users/{id}", http::Bind(handler, &UsersHandler::Update), tenant_json);
  router.Add(Method::kDelete, "/v1/users/{id}", http::Bind(handler, &UsersHandler::Delete), tenant);
}

}  // namespace clinicore::users
