#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/result.hpp"
#include "platform/http/request.hpp"

namespace clinicore::http {

using Handler = std::function<core::Result<Response>(RequestContext&)>;

// Who a route serves; middleware acts on it (tenant resolution, console authentication).
enum class RouteScope {
  kPublic,   // health, docs: no tenant, no credentials
  kTenant,   // tenant APIs: the tenant is resolved before the handler runs
  kConsole,  // platform console: platform-admin credentials
};

// The listeners a server may have once operators split them (CLINICORE_OPS_PORT,
// CLINICORE_CONSOLE_PORT); with one listener it serves all three.
enum class Listener { kApi, kOps, kConsole };

// Where a route is served: the API listener, the operations one (/metrics, /readyz), or
// every listener (/healthz). Console-scope routes always go with the console listener.
enum class Plane { kApi, kOps, kEvery };

struct RouteOptions {
  RouteScope scope = RouteScope::kPublic;
  // The route reads a JSON body: the dispatcher checks Content-Type and parses it first.
  bool json_body = false;
  // Left out of the access log (e.g. /metrics scrapes) when false.
  bool access_log = true;
  // Runs on the hashing pool, off the I/O threads (routes that run Argon2id).
  bool cpu_heavy = false;
  // Anonymous and does database work: counted against the per-address budget.
  bool limit_per_address = false;
  Plane plane = Plane::kApi;
};

struct Route {
  Method method;
  std::string path_template;  // "/v1/console/tenants/{id}"
  Handler handler;
  RouteOptions options;
  std::vector<std::string> segments;  // "{id}" marks a parameter
};

// True when a server listening as `listener` answers `route`.
bool ServedOn(const Route& route, Listener listener);

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<Method> allowed;  // for kMethodNotAllowed
};

// Matches paths against templates made of literal and {param} segments. A literal segment
// beats a parameter at the same position, so /tenants/search wins over /tenants/{id}.
class Router {
 public:
  // Throws std::invalid_argument for a malformed template or a duplicate route: routes are
  // registered at start-up, so a mistake there must stop the process.
  void Add(Method method, std::string path_template, Handler handler, RouteOptions options = {});
  RouteMatch Match(Method method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// A Handler that calls a member function of a handler object the route keeps alive:
//   router.Add(Method::kGet, "/v1/things", http::Bind(handler, &ThingHandler::List));
template <typename Object>
Handler Bind(std::shared_ptr<Object> object, core::Result<Response> (Object::*method)(RequestContext&)) {
  return [object = std::move(object), method](RequestContext& context) { return ((*object).*method)(context); };
}

std::vector<std::string> SplitPath(std::string_view path);
// Decodes %XX escapes; returns false for a malformed escape.
bool PercentDecode(std::string_view in, std::string& out);

}  // namespace clinicore::http
