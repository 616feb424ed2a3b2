#include "platform/modules/route_table.hpp"

#include <algorithm>

#include "platform/auth/auth_routes.hpp"
#include "platform/modules/idempotency.hpp"
#include "platform/tenancy/tenancy_middleware.hpp"

namespace clinicore::modules {

bool Call::SeesClinic(const std::string& clinic_id) const {
  const auto& scope = http.clinic_scope;
  return !scope || std::find(scope->begin(), scope->end(), clinic_id) != scope->end();
}

void RouteTable::Add(auth::AccessRule rule, CallHandler handler, http::RouteOptions options) {
  options.scope = http::RouteScope::kTenant;
  router_.Add(
      rule.method, rule.path_template,
      [handler = std::move(handler)](http::RequestContext& context) -> core::Result<http::Response> {
        const auth::Principal* principal = auth::FindPrincipal(context);
        const auto caller = auth::CallerOf(context);
        Call call{
            context,
            tenancy::CurrentTenant(context),
            principal,
            auth::RealmOf(context),
            {principal ? principal->subject : "", principal ? principal->role : "", caller.request_id, caller.ip}};
        return handler(call);
      },
      options);
  rules_.push_back(std::move(rule));
}

void RouteTable::AddIdempotent(auth::AccessRule rule, CallHandler handler, http::RouteOptions options) {
  Add(std::move(rule), keys_.Wrap(std::move(handler)), options);
}

}  // namespace clinicore::modules
