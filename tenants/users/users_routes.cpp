#include "tenants/users/users_routes.hpp"

#include "platform/auth/access_policy.hpp"
#include "platform/auth/account_validation.hpp"
#include "platform/auth/auth_routes.hpp"
#include "platform/http/json_fields.hpp"
#include "platform/kit/list_query.hpp"
#include "platform/kit/validators.hpp"
#include "platform/modules/route_table.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::users {
namespace {

using auth::AccountJson;
using core::Error;
using core::Result;
using http::JsonFields;
using http::Response;

Actor ActorOf(const modules::Call& call) {
  return {call.actor.id, call.actor.role};
}

// The {id} of the path, lower case when it is a UUID (an unknown or malformed id is a 404).
std::string AccountId(const modules::Call& call) {
  auto id = kit::ParseUuid(call.Param("id"));
  return id ? *id : call.Param("id");
}

auth::Caller CallerOf(const modules::Call& call) {
  return {call.actor.ip, call.actor.request_id};
}

void CheckOptionalPhone(JsonFields& fields, const std::optional<std::string>& phone) {
  if (phone) fields.Check(auth::ValidatePhone(*phone));
}

class UsersHandler {
 public:
  explicit UsersHandler(std::shared_ptr<UsersService> service) : service_(std::move(service)) {}

  Result<Response> Register(modules::Call& call) {
    JsonFields fields(call.body());
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
    CLINICORE_TRY_STATUS(fields.Finish());
    CLINICORE_TRY(auto session, service_->Register(call.realm, request, CallerOf(call)));
    return Response::Json(201, auth::SessionJson(session));
  }

  Result<Response> SetPassword(modules::Call& call) {
    JsonFields fields(call.body());
    auto token = fields.String("token", {.required = true, .max_length = 128});
    auto password = fields.String("password", {.required = true, .max_length = 1024});
    if (password) fields.Check(auth::CheckPasswordPolicy(*password, ""));
    CLINICORE_TRY_STATUS(fields.Finish());
    CLINICORE_TRY(auto session, service_->AcceptInvitation(call.realm, *token, *password, CallerOf(call)));
    return Response::Json(200, auth::SessionJson(session));
  }

  Result<Response> Me(modules::Call& call) {
    CLINICORE_TRY(auto account, service_->Get(call.realm, call.actor.id));
    return Response::Json(200, AccountJson(account));
  }

  Result<Response> UpdateProfile(modules::Call& call) {
    JsonFields fields(call.body());
    auth::AccountPatch patch;
    patch.full_name = fields.String("full_name", {.max_length = 200});
    patch.phone = fields.String("phone", {.max_length = 16});
    patch.locale = fields.String("locale", {.max_length = 16});
    if (patch.full_name) fields.Check(auth::ValidateFullName(*patch.full_name));
    CheckOptionalPhone(fields, patch.phone);
    if (patch.locale) fields.Check(tenancy::ValidateLocale(*patch.locale));
    CLINICORE_TRY_STATUS(fields.Finish());
    if (!patch.full_name && !patch.phone && !patch.locale) {
      return Error::InvalidArgument("Send at least one of full_name, phone, locale.", {{"body", "no field to change"}});
    }
    CLINICORE_TRY(auto account, service_->UpdateProfile(call.realm, call.actor.id, patch, CallerOf(call)));
    return Response::Json(200, AccountJson(account));
  }

  Result<Response> ChangePassword(modules::Call& call) {
    JsonFields fields(call.body());
    const auto current = fields.String("current_password", {.required = true, .max_length = 1024});
    const auto next = fields.String("new_password", {.required = true, .max_length = 1024});
    CLINICORE_TRY_STATUS(fields.Finish());
    CLINICORE_TRY(auto ended, service_->ChangePassword(call.realm, *call.principal, *current, *next, CallerOf(call)));
    return Response::Json(200, {{"sessions_ended", ended}});
  }

  Result<Response> Invite(modules::Call& call) {
    JsonFields fields(call.body());
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
    CLINICORE_TRY_STATUS(fields.Finish());
    CLINICORE_TRY(auto invited, service_->Invite(call.realm, ActorOf(call), request, CallerOf(call)));
    nlohmann::json body = AccountJson(invited.account);
    body["invitation"] = InvitationJson(invited.invitation);
    Response response = Response::Json(201, body);
    response.headers.emplace_back("Location", "/v1/users/" + invited.account.id);
    return response;
  }

  Result<Response> List(modules::Call& call) {
    static const std::vector<kit::FilterRule> filters = {{"role", kit::FilterRule::Kind::kOneOf, auth::TenantRoles()},
                                                         {"q", kit::FilterRule::Kind::kText, {}, 100}};
    CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(call.http, "users", filters));
    CLINICORE_TRY(const auto page, service_->List(call.realm, {query.Filter("role"), query.Filter("q"), query.page}));
    nlohmann::json items = nlohmann::json::array();
    for (const auto& account : page.items) items.push_back(AccountJson(account));
    return Response::Json(200, kit::PageJson(std::move(items), page.next_cursor));
  }

  Result<Response> Show(modules::Call& call) {
    CLINICORE_TRY(auto account, service_->Get(call.realm, AccountId(call)));
    return Response::Json(200, AccountJson(account));
  }

  Result<Response> Update(modules::Call& call) {
    JsonFields fields(call.body());
    StaffPatch patch;
    patch.role = fields.String("role", {.max_length = 32});
    patch.active = fields.Bool("active");
    if (patch.role && !auth::IsTenantRole(*patch.role)) {
      fields.Check(Error::InvalidArgument("", {{"role",
                                                "must be one of admin, clinic_owner, doctor, secretariat, "
                                                "salesperson, client"}}));
    }
    CLINICORE_TRY_STATUS(fields.Finish());
    if (!patch.role && !patch.active) {
      return Error::InvalidArgument("Send at least one of role, active.", {{"body", "no field to change"}});
    }
    CLINICORE_TRY(auto account,
                  service_->UpdateStaff(call.realm, ActorOf(call), AccountId(call), patch, CallerOf(call)));
    return Response::Json(200, AccountJson(account));
  }

  Result<Response> Delete(modules::Call& call) {
    CLINICORE_TRY_STATUS(service_->Delete(call.realm, ActorOf(call), AccountId(call), CallerOf(call)));
    return Response::NoContent();
  }

 private:
  std::shared_ptr<UsersService> service_;
};

}  // namespace

void RegisterUsersRoutes(modules::RouteTable& routes, std::shared_ptr<UsersService> service) {
  using auth::EveryRole;
  using auth::ManagerRoles;
  using auth::RolesMay;
  using http::Method;
  using modules::Bind;
  auto handler = std::make_shared<UsersHandler>(std::move(service));
  const http::RouteOptions json{.json_body = true};
  // Routes that hash a password (Argon2id) run off the I/O threads.
  const http::RouteOptions hashing{.json_body = true, .cpu_heavy = true};
  routes.Add(auth::OpenTo(Method::kPost, "/v1/auth/register", "client self sign-up; rate-limited per IP"),
             Bind(handler, &UsersHandler::Register), hashing);
  routes.Add(auth::OpenTo(Method::kPost, "/v1/auth/password", "needs a one-time invitation token"),
             Bind(handler, &UsersHandler::SetPassword), hashing);
  routes.Add(RolesMay(Method::kGet, "/v1/users/me", EveryRole(), {}, "the caller's own account"),
             Bind(handler, &UsersHandler::Me));
  routes.Add(RolesMay(Method::kPatch, "/v1/users/me/profile", EveryRole(), {}, "the caller's own account"),
             Bind(handler, &UsersHandler::UpdateProfile), json);
  routes.Add(RolesMay(Method::kPost, "/v1/users/me/password", EveryRole(), {}, "the caller's own account"),
             Bind(handler, &UsersHandler::ChangePassword), hashing);
  routes.Add(RolesMay(Method::kPost, "/v1/users", ManagerRoles(), {}, "clinic owners cannot invite admins"),
             Bind(handler, &UsersHandler::Invite), json);
  routes.Add(RolesMay(Method::kGet, "/v1/users", {"admin", "clinic_owner", "secretariat"}),
             Bind(handler, &UsersHandler::List));
  routes.Add(RolesMay(Method::kGet, "/v1/users/{id}", EveryRole(), {"doctor", "salesperson", "client"}),
             Bind(handler, &UsersHandler::Show));
  routes.Add(RolesMay(Method::kPatch, "/v1/users/{id}", ManagerRoles(), {},
                      "clinic owners cannot manage admins; not yourself"),
             Bind(handler, &UsersHandler::Update), json);
  routes.Add(RolesMay(Method::kDelete, "/v1/users/{id}", ManagerRoles(), {},
                      "soft delete; clinic owners cannot delete admins"),
             Bind(handler, &UsersHandler::Delete));
}

}  // namespace clinicore::users
