#include "platform/app/app_context.hpp"

#include <iostream>

#include "platform/auth/mfa_store.hpp"
#include "platform/core/log.hpp"
#include "platform/ops/ops_routes.hpp"
#include "platform/tenancy/tenant_repository.hpp"

namespace clinicore::app {

AppContext::AppContext(const core::Config& config)
    : metrics(std::make_shared<core::Metrics>()),
      database(config.database, metrics),
      redis(std::make_shared<cache::RedisClient>(config.redis, metrics)),
      directory(std::make_shared<tenancy::TenantDirectory>(database, redis, config.tenancy.cache_ttl)),
      hasher(std::make_shared<auth::PasswordHasher>(config.auth.password_ops_limit, config.auth.password_mem_limit)),
      job_client(std::make_shared<jobs::JobClient>(database, redis)) {
  ops::RegisterOpsStatements(database);
  jobs::RegisterJobStatements(database);
  tenancy::TenantRepository::RegisterStatements(database);
  plugins::PluginService::RegisterStatements(database);
  auth::AccountStore::RegisterStatements(database);
  auth::MfaStore::RegisterStatements(database);
}

std::optional<Identity> MakeIdentityOrExplain(AppContext& context, const core::Config& config, bool for_cli) {
  std::string signing_key = config.auth.signing_key;
  if (signing_key.empty() && for_cli) signing_key = auth::KeyRing::GenerateSigningKeyText();
  auto keys = auth::KeyRing::Parse(signing_key, config.auth.verifying_keys);
  if (!keys) {
    std::cerr << "clinicore: invalid configuration: " << keys.error().detail << "\n";
    return std::nullopt;
  }
  Identity identity;
  identity.authenticator =
      std::make_shared<auth::Authenticator>(std::move(*keys), config.auth, context.redis, context.metrics);
  auto limiter = std::make_shared<cache::RateLimiter>(context.redis, context.metrics);
  identity.auth =
      std::make_shared<auth::AuthService>(context.database, identity.authenticator, limiter, context.hasher);
  identity.accounts = std::make_shared<auth::AccountCache>(config.auth.account_cache_ttl,
                                                           config.auth.account_cache_entries, context.metrics);
  return identity;
}

std::unique_ptr<modules::ModuleSet> MakeModuleSet(AppContext& context, const core::Config& config,
                                                  const Identity& identity) {
  const modules::ModuleServices services{
      config, context.database, context.redis, context.metrics, context.job_client, identity.auth, identity.accounts};
  auto set = std::make_unique<modules::ModuleSet>(modules::MakeModules(services));
  set->RegisterStatements(context.database);
  return set;
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
