#include "platform/auth/auth_routes.hpp"

#include "platform/auth/access_policy.hpp"
#include "platform/auth/account_validation.hpp"
#include "platform/http/json_fields.hpp"
#include "platform/kit/list_query.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::auth {
namespace {

using core::Error;
using core::Result;
using http::JsonFields;
using http::RequestContext;
using http::Response;

constexpr size_t kMaxRefreshTokenBytes = 128;

nlohmann::json PageJson(const AccountPage& page) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& account : page.items) items.push_back(AccountJson(account));
  return {{"items", items}, {"next_cursor", page.next_cursor ? nlohmann::json(*page.next_cursor) : nullptr}};
}

// `otp` (6 digits) or `recovery_code` ("xxxx-xxxx-xxxx"), not both.
SecondFactor SecondFactorFields(JsonFields& fields) {
  SecondFactor factor;
  factor.otp = fields.String("otp", {.max_length = 6});
  factor.recovery_code = fields.String("recovery_code", {.max_length = 20});
  if (factor.otp && (factor.otp->size() != 6 || factor.otp->find_first_not_of("0123456789") != std::string::npos)) {
    fields.Check(
        Error::InvalidArgument("otp must be the 6 digits the authenticator app shows.", {{"otp", "must be 6 digits"}}));
  }
  if (factor.otp && factor.recovery_code) {
    fields.Check(
        Error::InvalidArgument("Send otp or recovery_code, not both.", {{"recovery_code", "cannot be sent with otp"}}));
  }
  return factor;
}

}  // namespace

Caller CallerOf(const RequestContext& context) {
  return {context.raw.peer_address, context.request_id};
}

Result<Response> AuthRoutes::Login(RequestContext& context) {
  JsonFields fields(context.body);
  auto email = fields.String("email", {.required = true, .max_length = 254});
  auto password = fields.String("password", {.required = true, .max_length = 1024});
  const RealmContext realm = RealmOf(context);
  const SecondFactor factor = SecondFactorFields(fields);
  if (email) fields.Check(ValidateEmail(*email));
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto session, service_->Login(realm, *email, *password, CallerOf(context), factor));
  return Response::Json(200, SessionJson(session));
}

Result<Response> AuthRoutes::Refresh(RequestContext& context) {
  JsonFields fields(context.body);
  auto token = fields.String("refresh_token", {.required = true, .max_length = kMaxRefreshTokenBytes});
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto session, service_->Refresh(RealmOf(context), *token, CallerOf(context)));
  return Response::Json(200, SessionJson(session));
}

Result<Response> AuthRoutes::Logout(RequestContext& context) {
  JsonFields fields(context.body);
  auto token = fields.String("refresh_token", {.required = true, .max_length = kMaxRefreshTokenBytes});
  CLINICORE_TRY_STATUS(fields.Finish());
  const RealmContext realm = RealmOf(context);
  // The access token is optional here; when it checks out it is voided too.
  std::optional<Principal> principal;
  if (context.raw.Header("authorization")) {
    auto authenticated = service_->authenticator().Authenticate(context, realm);
    if (authenticated) principal = *authenticated;
  }
  CLINICORE_TRY_STATUS(service_->Logout(realm, *token, principal ? &*principal : nullptr, CallerOf(context)));
  return Response::NoContent();
}

Result<Response> AuthRoutes::Jwks(RequestContext&) {
  Response response = Response::Json(200, service_->authenticator().keys().Jwks());
  response.content_type = "application/jwk-set+json";
  response.headers.emplace_back("Cache-Control", "public, max-age=300");
  return response;
}

Result<Account> CreatePlatformAdmin(db::Database& database, const PasswordHasher& hasher, const std::string& email,
                                    const std::string& full_name, const std::string& password,
                                    const std::optional<std::string>& created_by, const Caller& caller) {
  CLINICORE_TRY_STATUS(ValidateEmail(email));
  CLINICORE_TRY_STATUS(ValidateFullName(full_name));
  CLINICORE_TRY_STATUS(CheckPasswordPolicy(password, email));
  CLINICORE_TRY(auto hash, hasher.Hash(password));
  auto created = database.Write([&](db::Transaction& tx) -> Result<Account> {
    if (AccountStore::FindByEmail(tx, ConsoleRealm(), email)) {
      return Error{core::ErrorCode::kAlreadyExists,
                   "A platform admin with this email exists.",
                   {},
                   {{"email", "is already taken"}}};
    }
    Account account = AccountStore::Insert(
        tx, ConsoleRealm(), {email, full_name, std::nullopt, kPlatformAdminRole, hash, std::nullopt, created_by});
    AccountStore::Audit(tx, ConsoleRealm(), {"admin.created", created_by, account.id, {{"email", email}}}, caller);
    tx.Commit();
    return account;
  });
  if (!created && created.error().code == core::ErrorCode::kAlreadyExists && created.error().fields.empty()) {
    return Error{core::ErrorCode::kAlreadyExists,
                 "A platform admin with this email exists.",
                 {},
                 {{"email", "is already taken"}}};
  }
  return created;
}

Result<Response> AuthRoutes::ListAdmins(RequestContext& context) {
  static const std::vector<kit::FilterRule> filters = {{"q", kit::FilterRule::Kind::kText, {}, 100}};
  CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(context, "admins", filters));
  const AccountFilter filter{std::nullopt, query.Filter("q"), query.page};
  auto page =
      service_->database().Read([&](db::Transaction& tx) { return AccountStore::List(tx, ConsoleRealm(), filter); });
  if (!page) return std::move(page).error();
  return Response::Json(200, PageJson(*page));
}

Result<Response> AuthRoutes::CreateAdmin(RequestContext& context) {
  JsonFields fields(context.body);
  auto email = fields.String("email", {.required = true, .max_length = 254});
  auto full_name = fields.String("full_name", {.required = true, .max_length = 200});
  auto password = fields.String("password", {.required = true, .max_length = 1024});
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto account, CreatePlatformAdmin(service_->database(), service_->hasher(), *email, *full_name,
                                                  *password, context.actor_id, CallerOf(context)));
  Response response = Response::Json(201, AccountJson(account));
  response.headers.emplace_back("Location", "/v1/console/admins/" + account.id);
  return response;
}

Result<Response> AuthRoutes::UpdateAdmin(RequestContext& context) {
  JsonFields fields(context.body);
  AccountPatch patch;
  patch.full_name = fields.String("full_name", {.max_length = 200});
  patch.active = fields.Bool("active");
  if (patch.full_name) fields.Check(ValidateFullName(*patch.full_name));
  CLINICORE_TRY_STATUS(fields.Finish());
  if (!patch.full_name && !patch.active) {
    return Error::InvalidArgument("Send at least one of full_name, active.", {{"body", "no field to change"}});
  }
  const std::string id = context.PathParam("id");
  if (!tenancy::IsUuid(id)) return Error::NotFound("No platform admin '" + id + "' exists.");
  if (patch.active == false && context.actor_id == id) {
    return Error{core::ErrorCode::kFailedPrecondition, "You cannot deactivate yourself.", {}, {{"active", "is you"}}};
  }
  const RealmContext realm{&ConsoleRealm(), std::nullopt, ""};
  std::vector<std::string> ended;
  auto account = service_->database().Write([&](db::Transaction& tx) -> Result<Account> {
    auto updated = AccountStore::Update(tx, ConsoleRealm(), id, patch);
    if (!updated) return Error::NotFound("No platform admin '" + id + "' exists.");
    if (patch.active == false) {
      ended = service_->RevokeSessions(tx, realm, id, "deactivated");
      AccountStore::Audit(tx, ConsoleRealm(), {"admin.deactivated", context.actor_id, id, {}}, CallerOf(context));
    } else {
      AccountStore::Audit(tx, ConsoleRealm(), {"admin.updated", context.actor_id, id, {}}, CallerOf(context));
    }
    tx.Commit();
    return *updated;
  });
  if (!account) return std::move(account).error();
  service_->AfterCommitRevoke(realm, ended);
  return Response::Json(200, AccountJson(*account));
}

Result<Response> AuthRoutes::CurrentAdmin(RequestContext& context) {
  const std::string id = CurrentPrincipal(context).subject;
  auto account = service_->database().Read([&](db::Transaction& tx) -> Result<std::optional<Account>> {
    return AccountStore::FindById(tx, ConsoleRealm(), id);
  });
  if (!account) return std::move(account).error();
  if (!*account) return Error::NotFound("Your account no longer exists.");
  return Response::Json(200, AccountJson(**account));
}

Result<Response> AuthRoutes::StartMfa(RequestContext& context) {
  CLINICORE_TRY(auto enrolment,
                service_->StartMfaEnrolment(RealmOf(context), CurrentPrincipal(context), CallerOf(context)));
  return Response::Json(201, {{"secret", enrolment.secret_base32},
                              {"otpauth_uri", enrolment.otpauth_uri},
                              {"algorithm", "SHA256"},
                              {"digits", 6},
                              {"period", 30}});
}

Result<Response> AuthRoutes::ConfirmMfa(RequestContext& context) {
  JsonFields fields(context.body);
  auto otp = fields.String("otp", {.required = true, .max_length = 6});
  if (otp && (otp->size() != 6 || otp->find_first_not_of("0123456789") != std::string::npos)) {
    fields.Check(Error::InvalidArgument("otp must be 6 digits.", {{"otp", "must be 6 digits"}}));
  }
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(auto codes, service_->ConfirmMfa(RealmOf(context), CurrentPrincipal(context), *otp, CallerOf(context)));
  return Response::Json(200, {{"recovery_codes", codes}});
}

Result<Response> AuthRoutes::DisableMfa(RequestContext& context) {
  JsonFields fields(context.body);
  SecondFactor factor = SecondFactorFields(fields);
  CLINICORE_TRY_STATUS(fields.Finish());
  if (!factor.otp && !factor.recovery_code) {
    return Error::InvalidArgument("Send a current code (otp) or a recovery code (recovery_code).",
                                  {{"otp", "is required"}});
  }
  CLINICORE_TRY_STATUS(service_->DisableMfa(RealmOf(context), CurrentPrincipal(context), factor, CallerOf(context)));
  return Response::NoContent();
}

void RegisterAuthRoutes(http::Router& router, std::shared_ptr<AuthRoutes> routes) {
  using http::Method;
  using http::RouteScope;
  const http::RouteOptions tenant_json{.scope = RouteScope::kTenant, .json_body = true};
  const http::RouteOptions console_json{.scope = RouteScope::kConsole, .json_body = true};
  const http::RouteOptions console{.scope = RouteScope::kConsole};
  router.Add(Method::kGet, "/.well-known/jwks.json", http::Bind(routes, &AuthRoutes::Jwks));
  for (const auto& [prefix, options] :
       {std::pair{"/v1/auth", tenant_json}, std::pair{"/v1/console/auth", console_json}}) {
    auto hashing = options;  // Argon2id: off the I/O threads
    hashing.cpu_heavy = true;
    auto anonymous_lookup = options;  // anyone may send one; each costs a database write
    anonymous_lookup.limit_per_address = true;
    router.Add(Method::kPost, std::string(prefix) + "/login", http::Bind(routes, &AuthRoutes::Login), hashing);
    router.Add(Method::kPost, std::string(prefix) + "/refresh", http::Bind(routes, &AuthRoutes::Refresh), options);
    router.Add(Method::kPost, std::string(prefix) + "/logout", http::Bind(routes, &AuthRoutes::Logout),
               anonymous_lookup);
    auto no_body = options;
    no_body.json_body = false;
    router.Add(Method::kPost, std::string(prefix) + "/mfa/totp", http::Bind(routes, &AuthRoutes::StartMfa), no_body);
    router.Add(Method::kPost, std::string(prefix) + "/mfa/totp/confirm", http::Bind(routes, &AuthRoutes::ConfirmMfa),
               options);
    router.Add(Method::kPost, std::string(prefix) + "/mfa/totp/disable", http::Bind(routes, &AuthRoutes::DisableMfa),
               options);
  }
  router.Add(Method::kGet, "/v1/console/me", http::Bind(routes, &AuthRoutes::CurrentAdmin), console);
  router.Add(Method::kGet, "/v1/console/admins", http::Bind(routes, &AuthRoutes::ListAdmins), console);
  const http::RouteOptions console_hashing{.scope = RouteScope::kConsole, .json_body = true, .cpu_heavy = true};
  router.Add(Method::kPost, "/v1/console/admins", http::Bind(routes, &AuthRoutes::CreateAdmin), console_hashing);
  router.Add(Method::kPatch, "/v1/console/admins/{id}", http::Bind(routes, &AuthRoutes::UpdateAdmin), console_json);
}

}  // namespace clinicore::auth
