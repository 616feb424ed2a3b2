#pragma once

#include <memory>
#include <string>
#include <vector>

#include "platform/cache/redis_client.hpp"
#include "platform/core/config.hpp"
#include "platform/core/metrics.hpp"
#include "platform/db/database.hpp"
#include "platform/http/router.hpp"
#include "platform/migrations/migrations.hpp"

namespace clinicore::ops {

struct OpsDependencies {
  db::Database& database;
  cache::RedisClient& redis;
  std::shared_ptr<core::Metrics> metrics;
  // Platform migrations as shipped with this binary; readiness checks the database has them.
  std::vector<migrations::MigrationFile> platform_migrations;
  std::string docs_dir;
  std::string swagger_ui_dir;
  std::string version;
};

// /healthz, /readyz, /metrics, /openapi.yaml, /api/docs (Swagger UI) and GET /v1/status.
void RegisterOpsRoutes(http::Router& router, std::shared_ptr<OpsDependencies> deps);

// Statements the ops routes run; registered with the pool at start-up.
void RegisterOpsStatements(db::Database& database);

}  // namespace clinicore::ops
