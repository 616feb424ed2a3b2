#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/auth/auth_service.hpp"
#include "platform/cache/redis_client.hpp"
#include "platform/core/config.hpp"
#include "platform/db/database.hpp"
#include "platform/jobs/enqueue.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/modules/module_set.hpp"
#include "platform/plugins/plugin_host.hpp"
#include "platform/plugins/plugin_service.hpp"
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
  std::shared_ptr<const auth::PasswordHasher> hasher;
  // Enqueues jobs in the caller's transaction and wakes the workers after it commits.
  std::shared_ptr<jobs::JobClient> job_client;
};

// Accounts and tokens: built once per process from the configuration.
struct Identity {
  std::shared_ptr<auth::Authenticator> authenticator;
  std::shared_ptr<auth::AuthService> auth;
  std::shared_ptr<auth::AccountCache> accounts;  // live only once `serve` starts its listener
};

// `serve` requires CLINICORE_AUTH_SIGNING_KEY. The CLI never issues a token, so without a
// configured key it gets a throwaway one (`for_cli`). Prints the problem and returns nullopt.
std::optional<Identity> MakeIdentityOrExplain(AppContext& context, const core::Config& config, bool for_cli);
// The clinic modules (tenants/modules.cpp), their statements registered: every process that
// serves, works or onboards builds the same list. Call before the pool's first connection.
std::unique_ptr<modules::ModuleSet> MakeModuleSet(AppContext& context, const core::Config& config,
                                                  const Identity& identity);

// Loads the configuration and sets up logging; prints the problem and returns nullopt.
std::optional<core::Config> LoadConfigOrExplain();
std::optional<std::vector<migrations::MigrationFile>> LoadMigrationsOrExplain(const core::Config& config,
                                                                              const std::string& part);
std::shared_ptr<tenancy::TenantService> MakeTenantService(AppContext& context, const core::Config& config,
                                                          std::vector<migrations::MigrationFile> tenant_files);

// `clinicore tenant …`; argv[0] is "tenant".
int TenantCommand(int argc, char** argv);
// `clinicore admin …` (platform admins) and `clinicore auth keygen`.
int AdminCommand(int argc, char** argv);
int AuthCommand(int argc, char** argv);
// `clinicore plugin …` (plugin_command.cpp).
int PluginCommand(int argc, char** argv);

// Per-tenant plugin enablement (no plugin code: safe in `serve`).
std::shared_ptr<plugins::PluginService> MakePluginService(AppContext& context, const core::Config& config);
// The plugin host: loads every plugin in CLINICORE_PLUGIN_DIR and records its descriptor for
// `serve`. Only `work` and the `clinicore plugin` CLI build one: plugin code never runs in `serve`.
std::shared_ptr<plugins::PluginHost> MakePluginHost(AppContext& context, const core::Config& config,
                                                    const std::string& actor);

}  // namespace clinicore::app
