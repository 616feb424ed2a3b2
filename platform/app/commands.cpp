#include "platform/app/commands.hpp"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "platform/app/access_rules.hpp"
#include "platform/app/app_context.hpp"
#include "platform/auth/auth_routes.hpp"
#include "platform/cache/redis_client.hpp"
#include "platform/core/config.hpp"
#include "platform/core/log.hpp"
#include "platform/db/database.hpp"
#include "platform/http/server.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/ops/ops_routes.hpp"
#include "platform/tenancy/console_handler.hpp"
#include "platform/tenancy/tenancy_middleware.hpp"
#include "platform/tenancy/tenant_migrator.hpp"
#include "platform/tenancy/tenant_repository.hpp"
#include "platform/tenancy/tenant_service.hpp"
#include "tenants/users/users_routes.hpp"

#ifndef CLINICORE_VERSION
#define CLINICORE_VERSION "0.0.0"
#endif

namespace clinicore::app {
namespace {

constexpr const char* kUsage = R"(clinicore — multi-tenant backend for networks of medical-aesthetics clinics

usage: clinicore <command>

commands:
  serve     run the REST API (console, tenant APIs, health, metrics, API docs)
  work      run the background worker (purges offboarded tenants that are due)
  migrate   apply platform migrations, then tenant migrations to every tenant schema
  tenant    manage tenants without HTTP:
              tenant create <slug> <display name> --owner-email E --owner-name N
                            [--time-zone Z] [--locale L]   (owner password: one line on stdin,
                                                            or an invitation is printed)
              tenant list [--status S]
              tenant show|suspend|resume|offboard|purge <slug or id> [--reason R]
              tenant export <slug or id> --to <folder>
              tenant purge-due
              tenant ensure-demo [--password P]   (the demo tenant and one user per role)
              tenant ensure-user <slug> <email> <role> [--name N]   (password on stdin)
  admin     platform admins: admin create|ensure <email> <full name> (password on stdin)
  auth      auth keygen (a new signing key) | auth policy [--json] (the access-policy table)
  version   print the version
  help      print this text

Configuration comes from CLINICORE_* environment variables; see docs/configuration.md.
)";

// Blocks SIGINT/SIGTERM in this thread (and so in every thread started later) and returns
// the set, so that one thread can wait for them with sigwait.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForShutdownSignal(const sigset_t& signals) {
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

int Serve() {
  const sigset_t signals = BlockShutdownSignals();
  auto config = LoadConfigOrExplain();
  if (!config) return 2;

  auto platform_files = LoadMigrationsOrExplain(*config, "platform");
  auto tenant_files = LoadMigrationsOrExplain(*config, "tenant");
  if (!platform_files || !tenant_files) return 2;

  AppContext platform(*config);
  auto identity = MakeIdentityOrExplain(platform, *config, false);
  if (!identity) return 2;
  auto tenants = MakeTenantService(platform, *config, std::move(*tenant_files));
  JoinOnboarding(*tenants, identity->users);

  auto router = std::make_shared<http::Router>();
  ops::RegisterOpsRoutes(*router, std::make_shared<ops::OpsDependencies>(ops::OpsDependencies{
                                      platform.database, *platform.redis, platform.metrics, std::move(*platform_files),
                                      config->docs_dir, config->swagger_ui_dir, CLINICORE_VERSION}));
  tenancy::RegisterTenancyRoutes(*router, std::make_shared<tenancy::ConsoleHandler>(tenants),
                                 std::make_shared<tenancy::TenantSelfHandler>(platform.database));
  auth::RegisterAuthRoutes(*router, std::make_shared<auth::AuthRoutes>(identity->auth));
  users::RegisterUsersRoutes(*router, identity->users);

  auto policy = BuildAccessPolicy();
  try {
    policy->RequireEveryRoute(*router);  // fail closed: a route nobody wrote a rule for never serves
  } catch (const std::logic_error& e) {
    core::log::Error("serve_failed", {{"detail", e.what()}});
    std::cerr << "clinicore serve: " << e.what() << std::endl;
    return 2;
  }
  platform.directory->StartListening(config->redis);
  auto metrics = platform.metrics;
  auto dispatcher = std::make_shared<http::Dispatcher>(router, metrics, config->http.max_body_bytes);
  dispatcher->Use(tenancy::TenantResolution(platform.directory, config->tenancy.base_domain));
  dispatcher->Use(auth::TenantRateLimit(std::make_shared<auth::BatchedBudget>(platform.redis, metrics),
                                        config->auth.tenant_requests_per_minute));
  dispatcher->Use(auth::Authorization(policy, identity->authenticator));
  http::HttpServer server(config->http, dispatcher);
  if (auto started = server.Start(); !started) {
    core::log::Error("serve_failed", {{"detail", started.error().detail}, {"what", started.error().internal}});
    return 1;
  }
  core::log::Info("serve_started", {{"port", server.port()},
                                    {"threads", config->http.threads},
                                    {"db_pool_size", config->database.pool_size},
                                    {"version", CLINICORE_VERSION}});

  const int signal = WaitForShutdownSignal(signals);
  core::log::Info("serve_stopping", {{"signal", signal}, {"grace_ms", config->http.shutdown_grace.count()}});
  server.Stop();
  platform.directory->StopListening();
  core::log::Info("serve_stopped");
  return 0;
}

// Purges offboarded tenants that are due (retention passed, export taken) and logs what it
// did. Safe on several workers at once: each purge is a compare-and-delete in one transaction.
void PurgeDueTenants(tenancy::TenantService& tenants) {
  auto outcome = tenants.PurgeDue({"work:purge", ""});
  if (!outcome) {
    core::log::Warn("tenant_purge_failed", {{"detail", outcome.error().detail}});
    return;
  }
  for (const auto& [slug, result] : *outcome) core::log::Info("tenant_purge", {{"slug", slug}, {"result", result}});
}

// The worker: today it runs the platform's periodic maintenance (the tenant purge) every
// CLINICORE_WORK_PURGE_INTERVAL_MS until SIGTERM/SIGINT. The durable job queue (its own
// issue) adds its claim loop here and takes the purge over as a recurring job.
int Work() {
  const sigset_t signals = BlockShutdownSignals();
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  auto tenant_files = LoadMigrationsOrExplain(*config, "tenant");
  if (!tenant_files) return 2;
  AppContext context(*config);
  auto tenants = MakeTenantService(context, *config, std::move(*tenant_files));
  core::log::Info("work_started",
                  {{"version", CLINICORE_VERSION}, {"purge_interval_ms", config->tenancy.purge_interval.count()}});
  const timespec interval{static_cast<time_t>(config->tenancy.purge_interval.count() / 1000),
                          static_cast<long>((config->tenancy.purge_interval.count() % 1000) * 1'000'000)};
  while (true) {
    PurgeDueTenants(*tenants);
    const int signal = sigtimedwait(&signals, nullptr, &interval);
    if (signal > 0) {
      core::log::Info("work_stopped", {{"signal", signal}});
      return 0;
    }
  }
}

int Migrate() {
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  auto platform_files = LoadMigrationsOrExplain(*config, "platform");
  auto tenant_files = LoadMigrationsOrExplain(*config, "tenant");
  if (!platform_files || !tenant_files) return 2;
  AppContext platform(*config);
  migrations::MigrationRunner runner(platform.database);
  auto report = runner.Apply({"platform", ""}, *platform_files);
  if (!report) {
    std::cerr << "clinicore migrate: platform: " << report.error().detail << "\n";
    return 1;
  }
  std::cout << "platform: " << report->applied.size() << " applied, " << report->already_applied << " already applied"
            << std::endl;
  for (const auto& name : report->applied) std::cout << "  applied " << name << std::endl;

  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  auto progress = [tty](const tenancy::MigrationProgress& p) {
    char line[160];
    std::snprintf(line, sizeof line, "tenants: %d/%d done, %d failed, %.1f/s, ETA %.0fs", p.done, p.total, p.failed,
                  p.per_second, p.eta_seconds);
    if (tty) {
      std::cout << "\r" << line << std::flush;
    } else if (p.done == p.total || p.done % 50 == 0) {
      std::cout << line << std::endl;
    }
  };
  auto tenants =
      tenancy::MigrateAllTenants(platform.database, *tenant_files, config->tenancy.migrate_parallelism, progress);
  if (!tenants) {
    std::cerr << "clinicore migrate: tenants: " << tenants.error().detail << "\n";
    return 1;
  }
  if (tty && tenants->total_tenants > 0) std::cout << "\n";
  std::cout << "tenants: " << tenants->migrated << " migrated, " << tenants->failures.size() << " failed, "
            << "all others up to date (" << tenants->seconds << " s)" << std::endl;
  for (const auto& [slug, reason] : tenants->failures) std::cout << "  FAILED " << slug << ": " << reason << std::endl;
  if (tenants->migrated > 0) platform.directory->PublishChange();  // cached schema versions are stale now
  return tenants->failures.empty() ? 0 : 1;
}

}  // namespace

int RunCommand(const std::string& command, int argc, char** argv) {
  if (command == "serve") return Serve();
  if (command == "work") return Work();
  if (command == "migrate") return Migrate();
  if (command == "tenant") return TenantCommand(argc, argv);
  if (command == "admin") return AdminCommand(argc, argv);
  if (command == "auth") return AuthCommand(argc, argv);
  if (command == "version" || command == "--version") {
    std::cout << "clinicore " << CLINICORE_VERSION << "\n";
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "clinicore: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}

}  // namespace clinicore::app
