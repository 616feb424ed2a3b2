#include "platform/app/app_context.hpp"

#include <iostream>

#include "platform/core/log.hpp"
#include "platform/ops/ops_routes.hpp"
#include "platform/tenancy/tenant_repository.hpp"

namespace clinicore::app {

AppContext::AppContext(const core::Config& config)
    : metrics(std::make_shared<core::Metrics>()),
      database(config.database, metrics),
      redis(std::make_shared<cache::RedisClient>(config.redis, metrics)),
      directory(std::make_shared<tenancy::TenantDirectory>(database, redis, config.tenancy.cache_ttl)) {
  ops::RegisterOpsStatements(database);
  tenancy::TenantRepository::RegisterStatements(database);
}

std::optional<core::Config> LoadConfigOrExplain() {
  auto config = core::LoadConfig(core::ProcessEnv());
  if (!config) {
    std::cerr << "clinicore: invalid configuration: " << config.error().detail << "\n";
    return std::nullopt;
  }
  core::log::Init(config->log_level);
  return std::move(config).value();
}

std::optional<std::vector<migrations::MigrationFile>> LoadMigrationsOrExplain(const core::Config& config,
                                                                              const std::string& part) {
  auto files = migrations::LoadMigrationDir(config.migrations_dir + "/" + part);
  if (!files) {
    std::cerr << "clinicore: " << files.error().detail << "\n";
    return std::nullopt;
  }
  return std::move(files).value();
}

std::shared_ptr<tenancy::TenantService> MakeTenantService(AppContext& context, const core::Config& config,
                                                          std::vector<migrations::MigrationFile> tenant_files) {
  return std::make_shared<tenancy::TenantService>(context.database, std::move(tenant_files), context.directory,
                                                  tenancy::TenancyOptions{config.tenancy.retention_hours});
}

}  // namespace clinicore::app
