#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/cache/redis_client.hpp"
#include "platform/core/config.hpp"
#include "platform/db/database.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/tenancy/tenant_directory.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::app {

// The long-lived objects every subcommand shares, built once from the configuration.
struct AppContext {
  explicit AppContext(const core::Config& config);

  std::shared_ptr<core::Metrics> metrics;
  db::Database database;
  std::shared_ptr<cache::RedisClient> redis;
  std::shared_ptr<tenancy::TenantDirectory> directory;
};

// Loads the configuration and sets up logging; prints the problem and returns nullopt.
std::optional<core::Config> LoadConfigOrExplain();
std::optional<std::vector<migrations::MigrationFile>> LoadMigrationsOrExplain(const core::Config& config,
                                                                              const std::string& part);
std::shared_ptr<tenancy::TenantService> MakeTenantService(AppContext& context, const core::Config& config,
                                                          std::vector<migrations::MigrationFile> tenant_files);

// `clinicore tenant …`; argv[0] is "tenant".
int TenantCommand(int argc, char** argv);

}  // namespace clinicore::app
