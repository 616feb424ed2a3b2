// The real `clinicore` binary over HTTP: endpoints, errors, faults and shutdown.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using testing::Http;
using testing::ServerProcess;

std::map<std::string, std::string> ServerEnv(const std::string& database_url,
                                             const std::string& redis_url = testing::TestRedisUrl()) {
  auto env = testing::ServerEnv(database_url);
  env["CLINICORE_REDIS_URL"] = redis_url;
  env["CLINICORE_DB_POOL_WAIT_MS"] = "500";
  env["CLINICORE_SHUTDOWN_GRACE_MS"] = "3000";
  return env;
}

class ServerE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_ = new testing::TestDatabase();
    std::string output;
    ASSERT_EQ(testing::MigrateDatabase(database_->url(), &output), 0) << output;
    server_ = new ServerProcess({"serve"}, ServerEnv(database_->url()));
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->Output();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete database_;
  }
  static std::string Url(const std::string& path) { return server_->BaseUrl() + path; }

  static testing::TestDatabase* database_;
  static ServerProcess* server_;
};
testing::TestDatabase* ServerE2eTest::database_ = nullptr;
ServerProcess* ServerE2eTest::server_ = nullptr;

TEST_F(ServerE2eTest, HealthReadinessAndStatus) {
  auto health = Http("GET", Url("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(nlohmann::json::parse(health.body)["status"], "alive");

  auto ready = Http("GET", Url("/readyz"));
  ASSERT_EQ(ready.status, 200) << ready.body;
  auto checks = nlohmann::json::parse(ready.body)["checks"];
  EXPECT_EQ(checks["postgres"], "ok");
  EXPECT_EQ(checks["redis"], "ok");
  EXPECT_EQ(checks["migrations"], "ok");

  auto status = Http("GET", Url("/v1/status"));
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(nlohmann::json::parse(status.body)["service"], "clinicore");
}

TEST_F(ServerE2eTest, MetricsCountRequestsByRouteTemplate) {
  ASSERT_EQ(Http("GET", Url("/api/docs/no-such-asset.js")).status, 404);
  auto metrics = Http("GET", Url("/metrics"));
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.Header("content-type")->find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find(R"(route="/api/docs/{asset}",status="404")"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("clinicore_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("clinicore_db_pool_in_use"), std::string::npos);
  EXPECT_NE(metrics.body.find("clinicore_redis_errors_total"), std::string::npos);
}

TEST_F(ServerE2eTest, ErrorsAreProblemJson) {
  auto missing = Http("GET", Url("/v1/nothing-here"), "", {"X-Request-Id: e2e-404"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("content-type"), "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(missing.body)["request_id"], "e2e-404");
  auto wrong_method = Http("POST", Url("/healthz"));
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("allow"), "GET, HEAD");
  auto huge =
      Http("GET", Url("/healthz"), std::string(20 * 1024 * 1024, 'x'), {"Content-Type: application/json"}, 30'000);
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(huge.Header("content-type"), "application/problem+json");
  EXPECT_EQ(Http("GET", Url("/healthz")).status, 200);
}

TEST_F(ServerE2eTest, ServesTheApiDescriptionAndSwaggerUi) {
  auto spec = Http("GET", Url("/openapi.yaml"));
  ASSERT_EQ(spec.status, 200);
  EXPECT_NE(spec.body.find("openapi:"), std::string::npos);
  auto page = Http("GET", Url("/api/docs"));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("swagger-ui-bundle.js"), std::string::npos);
  auto bundle = Http("GET", Url("/api/docs/swagger-ui-bundle.js"));
  EXPECT_EQ(bundle.status, 200) << "set CLINICORE_SWAGGER_UI_DIR (scripts/test installs swagger-ui-dist)";
  EXPECT_EQ(Http("GET", Url("/api/docs/..%2F..%2Fetc%2Fpasswd")).status, 404);
}

TEST_F(ServerE2eTest, SurvivesAPostgresRestartUnderTraffic) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, unavailable{0}, other{0};
  std::thread traffic([&] {
    while (!stop) {
      const long status = Http("GET", Url("/v1/status"), "", {}, 5'000).status;
      (status == 200 ? ok : status == 503 ? unavailable : other)++;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // Traffic is being served before the outage (waited for, not slept for).
  EXPECT_TRUE(testing::WaitFor([&] { return ok.load() > 0; }, std::chrono::seconds(20)));  // no ASSERT: `traffic` runs
  ASSERT_EQ(testing::StopSharedPostgres(), 0);
  // While PostgreSQL is down the traffic meets 503s (waited for: one is enough).
  const bool unavailable_while_down =
      testing::WaitFor([&] { return unavailable.load() > 0; }, std::chrono::seconds(20));
  // The account cache noticed that its listening connection is gone, and stopped serving.
  const bool cache_stood_down = testing::WaitFor(
      [&] { return testing::MetricValue(Http("GET", Url("/metrics")).body, "clinicore_auth_account_cache_live") == 0; },
      std::chrono::seconds(20));
  auto ready_while_down = Http("GET", Url("/readyz"));
  ASSERT_EQ(testing::StartSharedPostgres(), 0);

  long status = 0;
  testing::WaitFor(
      [&] {
        status = Http("GET", Url("/v1/status")).status;
        return status == 200;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100));
  stop = true;
  traffic.join();
  EXPECT_TRUE(unavailable_while_down) << "no 503 while PostgreSQL was down";
  EXPECT_EQ(ready_while_down.status, 503);
  EXPECT_NE(ready_while_down.body.find("postgres"), std::string::npos);
  EXPECT_EQ(other.load(), 0) << "only 200 or 503 while PostgreSQL restarts";
  EXPECT_EQ(status, 200) << "service restored without restarting the server";
  EXPECT_TRUE(server_->Running());
  EXPECT_TRUE(cache_stood_down) << "a cache that missed notices must not serve";
  // The account cache's own PostgreSQL connection (for change notices) came back too.
  EXPECT_TRUE(testing::WaitFor(
      [&] { return testing::MetricValue(Http("GET", Url("/metrics")).body, "clinicore_auth_account_cache_live") == 1; },
      std::chrono::seconds(20)));
}

TEST(ServerFaultsE2eTest, RedisDownMakesReadinessFailFastButServesHealth) {
  testing::TestDatabase database;
  ASSERT_EQ(testing::MigrateDatabase(database.url()), 0);
  ServerProcess server({"serve"}, ServerEnv(database.url(), "redis://127.0.0.1:1/0"));
  ASSERT_TRUE(server.WaitUntilServing()) << server.Output();
  const auto started = std::chrono::steady_clock::now();
  auto ready = Http("GET", server.BaseUrl() + "/readyz");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(ready.status, 503);
  auto body = nlohmann::json::parse(ready.body);
  EXPECT_EQ(body["checks"]["redis"], "fail");
  EXPECT_EQ(body["checks"]["postgres"], "ok");
  EXPECT_EQ(body["errors"][0]["field"], "redis");
  EXPECT_EQ(Http("GET", server.BaseUrl() + "/healthz").status, 200);
  EXPECT_EQ(Http("GET", server.BaseUrl() + "/v1/status").status, 200);
}

TEST(ServerFaultsE2eTest, UnmigratedDatabaseIsNotReady) {
  testing::TestDatabase database;
  ServerProcess server({"serve"}, ServerEnv(database.url()));
  ASSERT_TRUE(server.WaitUntilServing()) << server.Output();
  auto ready = Http("GET", server.BaseUrl() + "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(nlohmann::json::parse(ready.body)["checks"]["migrations"], "fail");
}

TEST(ServerLifecycleE2eTest, SigtermStopsCleanly) {
  testing::TestDatabase database;
  ServerProcess server({"serve"}, ServerEnv(database.url()));
  ASSERT_TRUE(server.WaitUntilServing()) << server.Output();
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(10)), 0);
  EXPECT_NE(server.Output().find("serve_stopped"), std::string::npos);
}

TEST(ServerLifecycleE2eTest, InvalidConfigurationNamesTheVariable) {
  ServerProcess server({"serve"}, {{"CLINICORE_HTTP_PORT", "not-a-port"}});
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(10)), 2);
  EXPECT_NE(server.Output().find("CLINICORE_HTTP_PORT"), std::string::npos) << server.Output();
}

TEST(ServerLifecycleE2eTest, HelpVersionAndUnknownCommand) {
  ServerProcess help({"help"}, {});
  EXPECT_EQ(help.WaitForExit(std::chrono::seconds(10)), 0);
  EXPECT_NE(help.Output().find("migrate"), std::string::npos);
  ServerProcess version({"version"}, {});
  EXPECT_EQ(version.WaitForExit(std::chrono::seconds(10)), 0);
  EXPECT_NE(version.Output().find("clinicore "), std::string::npos);
  ServerProcess unknown({"frobnicate"}, {});
  EXPECT_EQ(unknown.WaitForExit(std::chrono::seconds(10)), 2);
}

TEST(MigrateE2eTest, ServeAndWorkRefuseTheProvisionersLogin) {
  testing::TestDatabase database;
  ASSERT_EQ(testing::MigrateDatabase(database.url()), 0);
  auto env = testing::ServerEnv(database.url());
  env["CLINICORE_DATABASE_URL"] = database.url();  // the provisioner, as a careless deployment might
  for (const char* command : {"serve", "work"}) {
    ServerProcess process({command}, env);
    EXPECT_EQ(process.WaitForExit(std::chrono::seconds(30)), 2) << command;
    EXPECT_NE(process.Output().find("has CREATEROLE"), std::string::npos) << process.Output();
    EXPECT_NE(process.Output().find("owns the database"), std::string::npos) << process.Output();
  }
}

TEST(MigrateE2eTest, RefusesAnEditedMigrationNamingIt) {
  namespace fs = std::filesystem;
  testing::TestDatabase database;
  const fs::path dir = fs::temp_directory_path() / ("clinicore-migrate-e2e-" + database.name());
  fs::create_directories(dir);
  fs::copy(testing::SourceRoot() + "/migrations", dir, fs::copy_options::recursive);
  std::map<std::string, std::string> env = {{"CLINICORE_DATABASE_URL", database.url()},
                                            {"CLINICORE_MIGRATIONS_DIR", dir.string()}};
  ServerProcess first({"migrate"}, env);
  ASSERT_EQ(first.WaitForExit(std::chrono::seconds(30)), 0) << first.Output();
  ServerProcess again({"migrate"}, env);
  ASSERT_EQ(again.WaitForExit(std::chrono::seconds(30)), 0);
  EXPECT_NE(again.Output().find("0 applied"), std::string::npos) << again.Output();

  std::ofstream(dir / "platform" / "0001_platform_core.sql", std::ios::app) << "\n-- edited\n";
  ServerProcess edited({"migrate"}, env);
  EXPECT_EQ(edited.WaitForExit(std::chrono::seconds(30)), 1);
  EXPECT_NE(edited.Output().find("0001_platform_core.sql was edited"), std::string::npos) << edited.Output();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace clinicore
