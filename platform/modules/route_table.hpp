#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/auth/access_policy.hpp"
#include "platform/auth/realm.hpp"
#include "platform/http/router.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::modules {

// Who acts, for authority checks and the audit trail.
struct Actor {
  std::string id;  // empty for anonymous callers
  std::string role;
  std::string request_id;
  std::string ip;
};

// The typed request a module handler gets: the tenant, the caller and the caller's clinic
// scope, resolved once by the middleware and handed over here without std::any lookups.
struct Call {
  http::RequestContext& http;
  const tenancy::Tenant& tenant;
  const auth::Principal* principal;  // null on routes open to anyone
  auth::RealmContext realm;
  Actor actor;

  const nlohmann::json& body() const { return http.body; }
  const std::string& Param(const std::string& name) const { return http.PathParam(name); }
  std::optional<std::string> Query(const std::string& name) const { return http.Query(name); }
  const std::string& role() const { return actor.role; }
  bool HasRole(std::string_view role) const { return actor.role == role; }
  // nullopt: every clinic; otherwise the clinics this caller's rows are limited to.
  const std::optional<std::vector<std::string>>& clinic_scope() const { return http.clinic_scope; }
  bool SeesClinic(const std::string& clinic_id) const;
};

using CallHandler = std::function<core::Result<http::Response>(Call&)>;

// Where a module registers its routes: each route with its access row, so the policy table
// is assembled from the modules and a route cannot exist without a rule. Tenant routes only.
class IdempotencyKeys;

class RouteTable {
 public:
  RouteTable(http::Router& router, const IdempotencyKeys& keys) : router_(router), keys_(keys) {}

  // The rule gives method and path; `options.scope` is forced to kTenant.
  void Add(auth::AccessRule rule, CallHandler handler, http::RouteOptions options = {});
  // A POST that honours Idempotency-Key (see idempotency.hpp).
  void AddIdempotent(auth::AccessRule rule, CallHandler handler, http::RouteOptions options = {});
  const std::vector<auth::AccessRule>& rules() const { return rules_; }

 private:
  http::Router& router_;
  const IdempotencyKeys& keys_;
  std::vector<auth::AccessRule> rules_;
};

// A CallHandler bound to a member function of a handler object the route keeps alive.
template <typename Object>
CallHandler Bind(std::shared_ptr<Object> object, core::Result<http::Response> (Object::*method)(Call&)) {
  return [object = std::move(object), method](Call& call) { return ((*object).*method)(call); };
}

}  // namespace clinicore::modules
