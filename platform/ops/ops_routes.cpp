#include "platform/ops/ops_routes.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

#include "platform/http/problem.hpp"

namespace clinicore::ops {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;
using http::RequestContext;
using http::Response;

constexpr const char* kCountPlatformMigrations = "ops.count_platform_migrations";
constexpr const char* kPlatformStatus = "ops.platform_status";

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Files served read-only from disk, loaded once and kept in memory.
class StaticFiles {
 public:
  std::optional<std::string> Get(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(path);
    if (it != cache_.end()) return it->second;
    auto content = ReadFile(path);
    if (content) cache_[path] = *content;
    return content;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> cache_;
};

std::string ContentTypeFor(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".js")) return "application/javascript";
  if (ends_with(".css")) return "text/css";
  if (ends_with(".png")) return "image/png";
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".map")) return "application/json";
  return "application/octet-stream";
}

constexpr const char* kSwaggerPage = R"(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>clinicore API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.yaml", dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"});
  </script>
</body>
</html>
)";

struct CheckResult {
  std::string name;
  std::optional<std::string> problem;
};

CheckResult CheckPostgres(OpsDependencies& deps) {
  auto status = deps.database.Ping();
  if (!status) return {"postgres", status.error().detail};
  return {"postgres", std::nullopt};
}

CheckResult CheckMigrations(OpsDependencies& deps) {
  const int expected = static_cast<int>(deps.platform_migrations.size());
  const int expected_max = expected == 0 ? 0 : deps.platform_migrations.back().version;
  auto counted = deps.database.ReadOnce([&](db::Transaction& tx) -> Result<std::pair<int, int>> {
    auto row = tx.Exec(kCountPlatformMigrations)[0];
    return std::make_pair(row[0].as<int>(), row[1].as<int>());
  });
  if (!counted) {
    return {"migrations", counted.error().code == ErrorCode::kUnavailable
                              ? counted.error().detail
                              : "platform migrations have not been applied"};
  }
  auto [count, max_version] = counted.value();
  if (count < expected || max_version < expected_max) {
    return {"migrations", std::to_string(expected - count) + " platform migration(s) pending; run `clinicore migrate`"};
  }
  return {"migrations", std::nullopt};
}

CheckResult CheckRedis(OpsDependencies& deps) {
  auto status = deps.redis.Ping();
  if (!status) return {"redis", status.error().detail};
  return {"redis", std::nullopt};
}

Result<Response> Ready(OpsDependencies& deps, RequestContext& context) {
  nlohmann::json checks = nlohmann::json::object();
  std::vector<core::FieldError> failures;
  for (const auto& check : {CheckPostgres(deps), CheckMigrations(deps), CheckRedis(deps)}) {
    checks[check.name] = check.problem ? "fail" : "ok";
    if (check.problem) failures.push_back({check.name, *check.problem});
  }
  if (failures.empty()) return Response::Json(200, {{"status", "ready"}, {"checks", checks}});
  std::string names;
  for (const auto& failure : failures) names += (names.empty() ? "" : ", ") + failure.field;
  Error error{ErrorCode::kUnavailable, "Not ready: " + names + " failing.", {}, failures};
  nlohmann::json body = http::ProblemBody(error, context.raw.path, context.request_id);
  body["checks"] = checks;
  return Response::Text(503, http::kProblemContentType, body.dump());
}

}  // namespace

void RegisterOpsStatements(db::Database& database) {
  database.RegisterStatement(kCountPlatformMigrations,
                             "SELECT count(*)::int, coalesce(max(version), 0)::int FROM platform.schema_migrations");
  // The platform's twin of the tenant status query (tenancy/queries.hpp, kTenantStatus), so
  // the bench compares the same statement with and without a tenant scope.
  database.RegisterStatement(kPlatformStatus,
                             "SELECT coalesce(max(version), 0)::int, to_char(now() AT TIME ZONE 'UTC', "
                             "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM platform.schema_migrations");
}

void RegisterOpsRoutes(http::Router& router, std::shared_ptr<OpsDependencies> deps) {
  using http::Method;
  auto files = std::make_shared<StaticFiles>();

  // Liveness: every listener answers it, so a probe may use any port.
  router.Add(Method::kGet, "/healthz",
             [](RequestContext&) -> Result<Response> {
               return Response::Json(200, {{"status", "alive"}});
             },
             {.plane = http::Plane::kEvery});

  // Probes and scrapes: on the operations listener when CLINICORE_OPS_PORT is set. /readyz
  // and /v1/status read the database for anyone who asks, so they count per address.
  router.Add(Method::kGet, "/readyz", [deps](RequestContext& context) { return Ready(*deps, context); },
             {.limit_per_address = true, .plane = http::Plane::kOps});

  router.Add(Method::kGet, "/metrics",
             [deps](RequestContext&) -> Result<Response> {
               return Response::Text(200, "text/plain; version=0.0.4; charset=utf-8",
                                     deps->metrics->RenderPrometheus());
             },
             {.access_log = false, .plane = http::Plane::kOps});

  router.Add(Method::kGet, "/v1/status",
             [deps](RequestContext&) -> Result<Response> {
               auto status = deps->database.ReadOnce([](db::Transaction& tx) -> Result<std::pair<int, std::string>> {
                 auto row = tx.Exec(kPlatformStatus)[0];
                 return std::make_pair(row[0].as<int>(), row[1].as<std::string>());
               });
               if (!status) return std::move(status).error();
               return Response::Json(200, {{"service", "clinicore"},
                                           {"version", deps->version},
                                           {"schema_version", status->first},
                                           {"database_time", status->second}});
             },
             {.limit_per_address = true});

  router.Add(Method::kGet, "/openapi.yaml", [deps, files](RequestContext&) -> Result<Response> {
    auto spec = files->Get(deps->docs_dir + "/openapi.yaml");
    if (!spec) return Error::Unavailable("The API description is not installed on this server.");
    return Response::Text(200, "application/yaml", *spec);
  });

  router.Add(Method::kGet, "/api/docs", [deps](RequestContext&) -> Result<Response> {
    if (deps->swagger_ui_dir.empty()) {
      return Error::Unavailable("Swagger UI assets are not installed; set CLINICORE_SWAGGER_UI_DIR.");
    }
    return Response::Text(200, "text/html; charset=utf-8", kSwaggerPage);
  });

  router.Add(Method::kGet, "/api/docs/{asset}", [deps, files](RequestContext& context) -> Result<Response> {
    static const std::regex kAssetName(R"(^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$)");
    const std::string& asset = context.PathParam("asset");
    if (!std::regex_match(asset, kAssetName) || asset.find("..") != std::string::npos) {
      return Error::NotFound("No such documentation asset.");
    }
    if (deps->swagger_ui_dir.empty()) return Error::NotFound("No such documentation asset.");
    auto content = files->Get(deps->swagger_ui_dir + "/" + asset);
    if (!content) return Error::NotFound("No such documentation asset.");
    return Response::Text(200, ContentTypeFor(asset), *content);
  });
}

}  // namespace clinicore::ops
