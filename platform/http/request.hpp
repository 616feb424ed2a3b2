#pragma once

#include <any>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/core/result.hpp"

namespace clinicore::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view MethodName(Method method);
Method ParseMethod(std::string_view name);

// Header names are stored lower-case so lookups are case-insensitive.
using Headers = std::map<std::string, std::string>;

// The transport-neutral request the dispatcher works on. The Pistache adapter builds it;
// unit tests build it directly.
struct RawRequest {
  Method method = Method::kGet;
  std::string path;
  std::map<std::string, std::string> query;
  Headers headers;
  std::string body;
  std::string peer_address;

  std::optional<std::string> Header(std::string_view name) const;
};

struct RawResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const;
};

// What a handler returns on success.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, const nlohmann::json& body);
  static Response Text(int status, std::string content_type, std::string body);
  static Response NoContent();
};

struct Route;

// Everything a middleware or handler knows about the request in flight.
struct RequestContext {
  const RawRequest& raw;
  std::string request_id;
  std::string route_template = "unmatched";  // e.g. "/v1/console/tenants/{id}"
  std::map<std::string, std::string> path_params = {};
  nlohmann::json body = nullptr;                        // parsed JSON for routes that take a body; null otherwise
  std::optional<std::string> tenant_id = std::nullopt;  // set by tenant resolution; logged
  bool access_log = true;
  const Route* route = nullptr;  // the matched route (its options drive middleware)
  // The resolved tenant, set by the tenancy middleware (type-erased: http knows no tenants).
  std::any tenant = {};
  // The authenticated caller, set by the authorization middleware (type-erased likewise),
  // and its account id for logs and audit rows.
  std::any principal = {};
  std::optional<std::string> actor_id = std::nullopt;
  // The clinics (lower-case ids) the caller's per-clinic row scope covers, when the route's
  // access rule scopes the caller's role; nullopt means every clinic (see auth::AccessRule).
  std::optional<std::vector<std::string>> clinic_scope = std::nullopt;

  const std::string& PathParam(const std::string& name) const { return path_params.at(name); }
  std::optional<std::string> Query(const std::string& name) const;
  // The ?limit= of a paginated list: 1 to 100, 20 when absent; a 400 naming "limit" otherwise.
  core::Result<int> PageLimit() const;
};

}  // namespace clinicore::http
