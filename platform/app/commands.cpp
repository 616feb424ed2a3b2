#include "platform/app/commands.hpp"

#include <pthread.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "platform/cache/redis_client.hpp"
#include "platform/core/config.hpp"
#include "platform/core/log.hpp"
#include "platform/db/database.hpp"
#include "platform/http/server.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/ops/ops_routes.hpp"

#ifndef CLINICORE_VERSION
#define CLINICORE_VERSION "0.0.0"
#endif

namespace clinicore::app {
namespace {

constexpr const char* kUsage = R"(clinicore — multi-tenant backend for networks of medical-aesthetics clinics

usage: clinicore <command>

commands:
  serve     run the REST API (health, readiness, metrics, status, API docs)
  work      run the background worker process
  migrate   apply the platform schema's migrations
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

std::optional<core::Config> LoadConfigOrExplain() {
  auto config = core::LoadConfig(core::ProcessEnv());
  if (!config) {
    std::cerr << "clinicore: invalid configuration: " << config.error().detail << "\n";
    return std::nullopt;
  }
  core::log::Init(config->log_level);
  return std::move(config).value();
}

int Serve() {
  const sigset_t signals = BlockShutdownSignals();
  auto config = LoadConfigOrExplain();
  if (!config) return 2;

  auto platform_migrations = migrations::LoadMigrationDir(config->migrations_dir + "/platform");
  if (!platform_migrations) {
    std::cerr << "clinicore: " << platform_migrations.error().detail << "\n";
    return 2;
  }

  auto metrics = std::make_shared<core::Metrics>();
  db::Database database(config->database, metrics);
  cache::RedisClient redis(config->redis, metrics);

  auto router = std::make_shared<http::Router>();
  ops::RegisterOpsStatements(database);
  ops::RegisterOpsRoutes(*router, std::make_shared<ops::OpsDependencies>(ops::OpsDependencies{
                                      database, redis, metrics, std::move(platform_migrations).value(),
                                      config->docs_dir, config->swagger_ui_dir, CLINICORE_VERSION}));

  auto dispatcher = std::make_shared<http::Dispatcher>(router, metrics, config->http.max_body_bytes);
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
  core::log::Info("serve_stopped");
  return 0;
}

int Work() {
  const sigset_t signals = BlockShutdownSignals();
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  auto metrics = std::make_shared<core::Metrics>();
  db::Database database(config->database, metrics);
  if (auto ping = database.Ping(); !ping) {
    core::log::Warn("work_database_unavailable", {{"detail", ping.error().internal}});
  }
  // The durable job queue (its own issue) registers its claim loop here; until then the
  // worker holds its place in the process model and shuts down cleanly.
  core::log::Info("work_started", {{"version", CLINICORE_VERSION}});
  const int signal = WaitForShutdownSignal(signals);
  core::log::Info("work_stopped", {{"signal", signal}});
  return 0;
}

int Migrate() {
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  auto platform_files = migrations::LoadMigrationDir(config->migrations_dir + "/platform");
  if (!platform_files) {
    std::cerr << "clinicore migrate: " << platform_files.error().detail << "\n";
    return 2;
  }
  auto metrics = std::make_shared<core::Metrics>();
  db::Database database(config->database, metrics);
  migrations::MigrationRunner runner(database);
  auto report = runner.Apply({"platform", ""}, platform_files.value());
  if (!report) {
    std::cerr << "clinicore migrate: platform: " << report.error().detail << "\n";
    return 1;
  }
  std::cout << "platform: " << report->applied.size() << " applied, " << report->already_applied
            << " already applied\n";
  for (const auto& name : report->applied) std::cout << "  applied " << name << "\n";
  return 0;
}

}  // namespace

int RunCommand(const std::string& command, int argc, char** argv) {
  (void)argc;
  (void)argv;
  if (command == "serve") return Serve();
  if (command == "work") return Work();
  if (command == "migrate") return Migrate();
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
