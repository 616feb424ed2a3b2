#include "platform/app/commands.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "platform/app/access_rules.hpp"
#include "platform/app/app_context.hpp"
#include "platform/auth/auth_routes.hpp"
#include "platform/cache/rate_limiter.hpp"
#include "platform/cache/redis_client.hpp"
#include "platform/core/bounded_pool.hpp"
#include "platform/core/config.hpp"
#include "platform/core/log.hpp"
#include "platform/db/database.hpp"
#include "platform/http/server.hpp"
#include "platform/jobs/builtin_kinds.hpp"
#include "platform/jobs/console_handler.hpp"
#include "platform/jobs/wakeups.hpp"
#include "platform/jobs/worker.hpp"
#include "platform/kit/page.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/ops/ops_routes.hpp"
#include "platform/plugins/plugin_jobs.hpp"
#include "platform/plugins/plugin_routes.hpp"
#include "platform/tenancy/cell_registry.hpp"
#include "platform/tenancy/console_handler.hpp"
#include "platform/tenancy/tenancy_middleware.hpp"
#include "platform/tenancy/tenant_migrator.hpp"
#include "platform/tenancy/tenant_repository.hpp"
#include "platform/tenancy/tenant_service.hpp"

#ifndef CLINICORE_VERSION
#define CLINICORE_VERSION "0.0.0"
#endif

namespace clinicore::app {
namespace {

constexpr const char* kUsage = R"(clinicore — multi-tenant backend for networks of medical-aesthetics clinics

usage: clinicore <command>

commands:
  serve     run the REST API (console, tenant APIs, health, metrics, API docs)
  work      run the job worker (durable jobs of every module, recurring schedules such as the
            purge of offboarded tenants; /healthz and /metrics on CLINICORE_WORK_METRICS_PORT)
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
            | admin mfa-enroll|mfa-reset <email>   (an admin's TOTP second factor)
  auth      auth keygen (a new signing key) | auth policy [--json] (the access-policy table)
            | auth unlock <email> [--tenant <slug>]   (end an account's sign-in lockouts)
  plugin    plugin list [--dir D] | verify <file.so> | install [<file.so>...] | installed
            | check <tenant> <plugin> | rekey   (see docs/plugin-guide.md)
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

// The API listener, and the operations and console listeners when operators split them off
// (CLINICORE_OPS_PORT, CLINICORE_CONSOLE_PORT, bound on CLINICORE_INTERNAL_ADDRESS). All
// share one router, one middleware chain and one hashing pool.
struct ApiServers {
  std::unique_ptr<http::HttpServer> api;
  std::unique_ptr<http::HttpServer> ops;
  std::unique_ptr<http::HttpServer> console;
  void Stop() {
    for (auto* server : {api.get(), ops.get(), console.get()}) {
      if (server) server->Stop();
    }
  }
};

std::optional<ApiServers> StartApiServers(const core::Config& config, std::shared_ptr<http::Router> router,
                                          std::shared_ptr<const auth::AccessPolicy> policy,
                                          std::shared_ptr<auth::AuthService> auth,
                                          std::shared_ptr<auth::ClinicScopeSource> clinic_scope, AppContext& platform) {
  auto metrics = platform.metrics;
  auto budget = std::make_shared<cache::BatchedBudget>(platform.redis, metrics);
  // Niced: under a flood of sign-ins the I/O threads still get the cores first.
  constexpr int kHashNiceness = 10;
  auto hash_pool = std::make_shared<core::BoundedPool>(config.http.hash_threads, config.http.hash_queue, kHashNiceness);
  auto make = [&](std::vector<http::Listener> listeners, std::optional<uint16_t> port) {
    auto dispatcher = std::make_shared<http::Dispatcher>(router, metrics, config.http.max_body_bytes);
    dispatcher->ServeListeners(std::move(listeners));
    // Per-address limits first: an unknown tenant or a bad token must not cost a lookup each.
    dispatcher->Use(auth::AddressRateLimit(budget, config.http.anonymous_per_ip_per_minute));
    dispatcher->Use(tenancy::TenantResolution(platform.directory, config.tenancy.base_domain));
    dispatcher->Use(auth::TenantRateLimit(budget, config.auth.tenant_requests_per_minute));
    dispatcher->Use(auth::Authorization(policy, auth, clinic_scope));
    core::HttpConfig http_config = config.http;
    if (port) {
      http_config.port = *port;
      http_config.address = config.http.internal_address;
    }
    return std::make_unique<http::HttpServer>(http_config, dispatcher, hash_pool);
  };
  std::vector<http::Listener> api_listeners = {http::Listener::kApi};
  if (!config.http.ops_port) api_listeners.push_back(http::Listener::kOps);
  if (!config.http.console_port) api_listeners.push_back(http::Listener::kConsole);
  ApiServers servers;
  servers.api = make(api_listeners, std::nullopt);
  if (config.http.ops_port) servers.ops = make({http::Listener::kOps}, config.http.ops_port);
  if (config.http.console_port) servers.console = make({http::Listener::kConsole}, config.http.console_port);
  for (auto* server : {servers.api.get(), servers.ops.get(), servers.console.get()}) {
    if (!server) continue;
    if (auto started = server->Start(); !started) {
      core::log::Error("serve_failed", {{"detail", started.error().detail}, {"what", started.error().internal}});
      servers.Stop();
      return std::nullopt;
    }
  }
  return servers;
}

// serve and work: the login role must be the runtime's (db::CheckRuntimeLogin). Prints why
// not and returns false.
bool RuntimeLoginOrExplain(const core::Config& config, const char* command) {
  const auto checked = db::CheckRuntimeLogin(config.database);
  if (checked) return true;
  std::cerr << "clinicore " << command << ": " << checked.error().detail << "\n";
  return false;
}

int Serve() {
  const sigset_t signals = BlockShutdownSignals();
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  if (!RuntimeLoginOrExplain(*config, "serve")) return 2;

  auto platform_files = LoadMigrationsOrExplain(*config, "platform");
  auto tenant_files = LoadMigrationsOrExplain(*config, "tenant");
  if (!platform_files || !tenant_files) return 2;

  AppContext platform(*config);
  auto identity = MakeIdentityOrExplain(platform, *config, false);
  if (!identity) return 2;
  auto modules = MakeModuleSet(platform, *config, *identity);
  auto tenants = MakeTenantService(platform, *config, std::move(*tenant_files));
  modules->JoinOnboarding(*tenants);

  auto router = std::make_shared<http::Router>();
  ops::RegisterOpsRoutes(*router, std::make_shared<ops::OpsDependencies>(ops::OpsDependencies{
                                      platform.database, *platform.redis, platform.metrics, std::move(*platform_files),
                                      config->docs_dir, config->swagger_ui_dir, CLINICORE_VERSION}));
  tenancy::RegisterTenancyRoutes(*router, std::make_shared<tenancy::ConsoleHandler>(tenants),
                                 std::make_shared<tenancy::TenantSelfHandler>(platform.database));
  jobs::RegisterJobConsoleRoutes(*router, std::make_shared<jobs::JobConsoleHandler>(std::make_shared<jobs::JobConsole>(
                                              platform.database, platform.directory, platform.job_client)));
  auth::RegisterAuthRoutes(*router, std::make_shared<auth::AuthRoutes>(identity->auth));
  // Plugin enablement validates configs against recorded descriptors: no plugin code runs here.
  plugins::RegisterPluginRoutes(*router,
                                std::make_shared<plugins::PluginHandler>(MakePluginService(platform, *config)));

  const modules::IdempotencyKeys idempotency(platform.database);
  auto policy = BuildAccessPolicy(modules->RegisterRoutes(*router, idempotency));
  try {
    policy->RequireEveryRoute(*router);  // fail closed: a route nobody wrote a rule for never serves
    if (policy->DeclaresClinicScope() && !modules->ClinicScope()) {
      throw std::logic_error("refusing to start: routes declare a per-clinic scope and no module answers it");
    }
  } catch (const std::logic_error& e) {
    core::log::Error("serve_failed", {{"detail", e.what()}});
    std::cerr << "clinicore serve: " << e.what() << std::endl;
    return 2;
  }
  // Every replica signs list cursors with a key derived from the shared signing key.
  kit::SetCursorSecret(config->auth.signing_key);
  platform.directory->StartListening(config->redis);
  identity->accounts->StartListening(config->database);
  identity->authenticator->revocations().StartReplica(config->redis);
  modules->StartServing();
  auto servers = StartApiServers(*config, router, policy, identity->auth, modules->ClinicScope(), platform);
  if (!servers) return 1;
  // Queue depth on /metrics (the workers' own /metrics add latency, run time and failures).
  jobs::DepthSampler queue_depth(std::make_shared<jobs::PgJobStore>(platform.database), platform.metrics,
                                 config->jobs.depth_sample_interval);
  queue_depth.Start();
  core::log::Info("serve_started",
                  {{"port", servers->api->port()},
                   {"ops_port", servers->ops ? servers->ops->port() : servers->api->port()},
                   {"console_port", servers->console ? servers->console->port() : servers->api->port()},
                   {"threads", config->http.threads},
                   {"db_pool_size", config->database.pool_size},
                   {"version", CLINICORE_VERSION}});

  const int signal = WaitForShutdownSignal(signals);
  core::log::Info("serve_stopping", {{"signal", signal}, {"grace_ms", config->http.shutdown_grace.count()}});
  servers->Stop();
  queue_depth.Stop();
  platform.directory->StopListening();
  identity->accounts->StopListening();
  identity->authenticator->revocations().StopReplica();
  modules->StopServing();
  core::log::Info("serve_stopped");
  return 0;
}

// The worker's own HTTP listener: /healthz for probes and /metrics for Prometheus (job
// latency, run time, failures, queue depth). Nothing else: the worker serves no API.
std::shared_ptr<http::Dispatcher> WorkerOpsDispatcher(std::shared_ptr<core::Metrics> metrics) {
  auto router = std::make_shared<http::Router>();
  const http::RouteOptions quiet{.access_log = false};
  router->Add(
      http::Method::kGet, "/healthz",
      [](http::RequestContext&) -> core::Result<http::Response> {
        return http::Response::Json(200, {{"status", "alive"}});
      },
      quiet);
  router->Add(
      http::Method::kGet, "/metrics",
      [metrics](http::RequestContext&) -> core::Result<http::Response> {
        return http::Response::Text(200, "text/plain; version=0.0.4; charset=utf-8", metrics->RenderPrometheus());
      },
      quiet);
  return std::make_shared<http::Dispatcher>(router, metrics, 1024);
}

// The job worker: claims due jobs fairly across tenants and runs them until SIGTERM/SIGINT,
// then stops claiming, lets running jobs finish within CLINICORE_WORK_SHUTDOWN_GRACE_MS and
// gives the rest back to the queue. Modules register their kinds and schedules here.
int Work() {
  const sigset_t signals = BlockShutdownSignals();
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  if (!RuntimeLoginOrExplain(*config, "work")) return 2;
  auto tenant_files = LoadMigrationsOrExplain(*config, "tenant");
  if (!tenant_files) return 2;
  // Every handler may hold a connection, and so may the claimer, the settler, the lease
  // keeper and the maintenance thread: the worker never waits on its own pool.
  config->database.pool_size = std::max(config->database.pool_size, config->jobs.concurrency + 4);
  AppContext context(*config);
  auto identity = MakeIdentityOrExplain(context, *config, true);  // the worker issues no token
  if (!identity) return 2;
  auto modules = MakeModuleSet(context, *config, *identity);
  auto tenants = MakeTenantService(context, *config, std::move(*tenant_files));
  modules->JoinOnboarding(*tenants);

  auto registry = std::make_shared<jobs::JobRegistry>();
  jobs::RegisterPlatformJobs(*registry, tenants,
                             {.purge_interval = config->tenancy.purge_interval,
                              .spares_per_cell = config->tenancy.spares_per_cell,
                              .spares_interval = config->tenancy.spares_interval});
  if (config->jobs.test_kinds) {
    jobs::RegisterTestKinds(*registry, context.database);
    core::log::Warn("work_test_kinds_enabled", {{"detail", "CLINICORE_WORK_TEST_KINDS=1: for tests only"}});
  }
  // Plugins load here, never in `serve`; their descriptors are recorded for the API. Job kinds
  // that call plugins get plugin_host (see docs/decisions/0006-plugin-boundary.md).
  auto plugin_host = MakePluginHost(context, *config, "work");
  plugins::RegisterPluginJobs(*registry, plugin_host);
  modules->RegisterJobs(*registry);  // their kinds, schedules and event subscriptions

  jobs::WorkerOptions options;
  options.concurrency = config->jobs.concurrency;
  options.tenant_concurrency = config->jobs.tenant_concurrency;
  options.lease = config->jobs.lease;
  options.poll_interval = config->jobs.poll_interval;
  options.idle_poll_interval = config->jobs.idle_poll_interval;
  options.job_timeout = config->jobs.job_timeout;
  options.backoff = {config->jobs.backoff_base, config->jobs.backoff_max};
  options.retention = core::Millis(static_cast<long long>(config->jobs.retention_hours) * 3'600'000);
  options.depth_sample_interval = config->jobs.depth_sample_interval;
  jobs::Worker worker(options, registry, std::make_shared<jobs::PgJobStore>(context.database),
                      std::make_shared<jobs::DirectoryTenantLookup>(context.directory), context.metrics,
                      &context.database, context.job_client.get());
  jobs::WakeupListener wakeups(
      config->redis, [&worker](const std::string& message) { worker.OnWake(message); },
      [&worker](bool subscribed) { worker.OnWakeupsState(subscribed); });

  core::HttpConfig http_config;
  http_config.address = config->jobs.metrics_address;
  http_config.port = config->jobs.metrics_port;
  http_config.threads = 1;
  http_config.shutdown_grace = core::Millis(0);
  http::HttpServer ops(http_config, WorkerOpsDispatcher(context.metrics));
  if (auto started = ops.Start(); !started) {
    core::log::Error("work_failed", {{"detail", started.error().detail}, {"what", started.error().internal}});
    return 1;
  }
  context.directory->StartListening(config->redis);  // tenant suspensions reach the worker at once
  worker.Start();
  wakeups.Start();
  core::log::Info("work_started", {{"version", CLINICORE_VERSION},
                                   {"worker", worker.id()},
                                   {"metrics_port", ops.port()},
                                   {"concurrency", config->jobs.concurrency},
                                   {"db_pool_size", config->database.pool_size}});

  const int signal = WaitForShutdownSignal(signals);
  core::log::Info("work_stopping", {{"signal", signal}, {"grace_ms", config->jobs.shutdown_grace.count()}});
  // A second SIGTERM/SIGINT while stopping means "now": the leases of the jobs still running
  // bring them back to the queue.
  std::thread([signals] {
    const int again = WaitForShutdownSignal(signals);
    core::log::Warn("work_stopped_at_once", {{"signal", again}});
    std::fflush(stdout);
    std::_Exit(1);
  }).detach();
  wakeups.Stop();
  core::log::Debug("work_wakeups_stopped");
  const auto report = worker.Stop(config->jobs.shutdown_grace);
  ops.Stop();
  context.directory->StopListening();
  core::log::Info("work_stopped", {{"signal", signal}, {"released", report.released}, {"stuck", report.stuck}});
  if (report.stuck > 0) {
    // A handler ignored its cancellation: its thread still uses the worker, which therefore
    // must not be destroyed. Its job was given back to the queue already.
    std::fflush(stdout);
    std::_Exit(0);
  }
  return 0;
}

int Migrate() {
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  // Migrations create and alter the platform's objects: the provisioner's work, on one login
  // (cells are the runtime's; the runtime's URL names their logins).
  const core::DatabaseConfig runtime = config->database;
  if (!config->database.migrate_url.empty()) config->database.url = config->database.migrate_url;
  config->database.cells = 1;
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
  if (auto cells = tenancy::EnsureCells(platform.database, runtime); !cells) {
    std::cerr << "clinicore migrate: cells: " << cells.error().detail
              << (cells.error().internal.empty() ? "" : " (" + cells.error().internal + ")") << "\n";
    return 1;
  }
  std::cout << "cells: " << std::max(1, runtime.cells) << " registered" << std::endl;

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
  if (command == "plugin") return PluginCommand(argc, argv);
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
