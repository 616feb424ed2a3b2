// `clinicore work` as a real process: killed with -9 twenty times while 5 000 jobs run (no job
// lost, no effect twice), SIGTERM (finish within the grace, give the rest back), PostgreSQL
// restarted under it, Redis stopped and started under it, and the console's view of the queue.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <thread>

#include "platform/core/log.hpp"
#include "platform/db/database.hpp"
#include "platform/jobs/enqueue.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using core::Millis;
using core::Result;
using nlohmann::json;
using testing::FirstErrorField;
using testing::Http;
using testing::HttpReply;
using testing::ServerProcess;

constexpr const char* kEffect = "platform.test-effect";

// The console's Authorization header value. The one place that knows how the console signs in.
std::string ConsoleAuth(const ServerProcess& server, const std::string& database_url) {
  return testing::ConsoleAuthorization(server.BaseUrl(), database_url);
}

using testing::WaitFor;

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A Redis of this test's own, so that it can be stopped and started under a worker.
class PrivateRedis {
 public:
  explicit PrivateRedis(int port) : port_(port) { Start(); }
  ~PrivateRedis() { Stop(); }
  void Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const std::string port = std::to_string(port_);
      ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ASSERT_TRUE(
        WaitFor([&] { return testing::RawExchange(port_, "PING\r\n", Millis(200)).find("PONG") != std::string::npos; },
                Millis(10'000)));
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string Url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  int port_;
  pid_t pid_ = -1;
};

struct TenantRow {
  std::string id;
  db::TenantScope scope;
};

class JobsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    core::log::Init("off");
    database_ = new testing::TestDatabase();
    std::string output;
    ASSERT_EQ(testing::MigrateDatabase(database_->url(), &output), 0) << output;
    auto env = testing::ServerEnv(database_->url());
    env["CLINICORE_JOBS_DEPTH_SAMPLE_MS"] = "200";
    server_ = new ServerProcess({"serve"}, env);
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->Output();
    console_auth_ = ConsoleAuth(*server_, database_->url());
    for (const char* slug : {"work-a", "work-b", "work-c"}) {
      const json body = {{"slug", slug},
                         {"display_name", slug},
                         {"owner", {{"email", std::string("owner@") + slug + ".test"}, {"full_name", "Owner"}}}};
      auto reply = Console("POST", "/v1/console/tenants", body);
      ASSERT_EQ(reply.status, 201) << reply.body;
    }
    core::DatabaseConfig config;
    config.url = database_->url();
    config.pool_size = 4;
    db_ = new db::Database(config, std::make_shared<core::Metrics>());
    jobs::RegisterJobStatements(*db_);
    core::RedisConfig redis = testing::TestRedisConfig();
    client_ = new jobs::JobClient(*db_, std::make_shared<cache::RedisClient>(redis, std::make_shared<core::Metrics>()));
  }
  static void TearDownTestSuite() {
    delete client_;
    delete db_;
    delete server_;
    delete database_;
  }

  // Every test leaves the queue empty for the next one, passed or failed.
  void TearDown() override { Exec("DELETE FROM queue.jobs WHERE kind = 'platform.test-effect'"); }

  static HttpReply Console(const std::string& method, const std::string& path, const json& body = nullptr) {
    std::vector<std::string> headers = {"Authorization: " + console_auth_};
    if (!body.is_null()) headers.push_back("Content-Type: application/json");
    return Http(method, server_->BaseUrl() + path, body.is_null() ? "" : body.dump(), headers);
  }

  static std::map<std::string, std::string> WorkerEnv(std::map<std::string, std::string> extra = {}) {
    auto env = testing::ServerEnv(database_->url());
    env["CLINICORE_WORK_TEST_KINDS"] = "1";
    env["CLINICORE_WORK_METRICS_ADDRESS"] = "127.0.0.1";
    env["CLINICORE_WORK_METRICS_PORT"] = "0";
    env["CLINICORE_WORK_CONCURRENCY"] = "8";
    env["CLINICORE_WORK_TENANT_CONCURRENCY"] = "8";
    env["CLINICORE_WORK_LEASE_MS"] = "1000";
    env["CLINICORE_WORK_POLL_INTERVAL_MS"] = "100";
    env["CLINICORE_WORK_IDLE_POLL_INTERVAL_MS"] = "500";
    env["CLINICORE_JOBS_BACKOFF_BASE_MS"] = "50";
    env["CLINICORE_JOBS_BACKOFF_MAX_MS"] = "500";
    env["CLINICORE_DB_CONNECT_TIMEOUT_MS"] = "1000";
    for (auto& [key, value] : extra) env[key] = value;
    return env;
  }

  // Starts `clinicore work`; its metrics port and its worker id (the jobs' locked_by) come from
  // the work_started line.
  static std::unique_ptr<ServerProcess> StartWorker(std::map<std::string, std::string> extra = {},
                                                    int* metrics_port = nullptr, std::string* worker_id = nullptr) {
    auto worker = std::make_unique<ServerProcess>(std::vector<std::string>{"work"}, WorkerEnv(std::move(extra)));
    static const std::regex kStarted(R"("event":"work_started"[^\n]*)");
    static const std::regex kMetricsPort(R"("metrics_port":([0-9]+))");
    static const std::regex kWorkerId(R"re("worker":"([^"']+)")re");
    std::smatch match;
    std::string output;  // outlives `match`, which points into it
    const bool started = WaitFor(
        [&] {
          output = worker->Output();
          return std::regex_search(output, match, kStarted) || !worker->Running();
        },
        Millis(20'000));
    EXPECT_TRUE(started && worker->Running()) << worker->Output();
    const std::string line = started ? match.str(0) : "";
    std::smatch field;
    if (metrics_port && std::regex_search(line, field, kMetricsPort)) *metrics_port = std::stoi(field[1]);
    if (worker_id) {
      EXPECT_TRUE(std::regex_search(line, field, kWorkerId)) << line;
      *worker_id = field.empty() ? "" : field[1].str();
    }
    return worker;
  }

  static TenantRow Tenant(const std::string& slug) {
    auto row = db_->Read([&](db::Transaction& tx) -> Result<TenantRow> {
      auto r = tx.ExecScript("SELECT id::text, role_name, schema_name FROM platform.tenants WHERE slug = " +
                             tx.Quote(slug))[0];
      return TenantRow{r[0].as<std::string>(), {r[1].as<std::string>(), r[2].as<std::string>()}};
    });
    EXPECT_TRUE(row.ok());
    return row.ok() ? *row : TenantRow{};
  }

  // Enqueues `count` jobs in one transaction of the tenant, keys <prefix><n>.
  static std::vector<long long> EnqueueMany(const TenantRow& tenant, int count, const std::string& prefix,
                                            const json& payload, jobs::EnqueueOptions options = {}) {
    auto ids = client_->WriteInTenant(tenant.scope,
                                      [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<std::vector<long long>> {
                                        std::vector<long long> ids;
                                        for (int i = 0; i < count; ++i) {
                                          options.idempotency_key = prefix + std::to_string(i);
                                          auto job = jobs.Enqueue(kEffect, payload, options);
                                          if (!job) return std::move(job).error();
                                          ids.push_back(job->id);
                                        }
                                        tx.Commit();
                                        return ids;
                                      });
    EXPECT_TRUE(ids.ok()) << (ids.ok() ? "" : ids.error().internal);
    return ids.ok() ? *ids : std::vector<long long>{};
  }

  // As the provisioner: the counts span the queue and tenants' tables, which no single role of
  // the service's transactions reads together.
  static long long Count(const std::string& sql) {
    try {
      pqxx::connection connection(database_->url());
      pqxx::nontransaction tx(connection);
      return tx.exec(sql)[0][0].as<long long>();
    } catch (const std::exception&) {
      return -1;  // PostgreSQL restarting (the restart test polls through it)
    }
  }
  static long long Jobs(const std::string& where) { return Count("SELECT count(*) FROM queue.jobs WHERE " + where); }
  // The rows of jobs matching `where`, for failure messages.
  static std::string Describe(const std::string& where) {
    auto text = db_->ReadOnce([&](db::Transaction& tx) -> Result<std::string> {
      return tx
          .ExecScript(
              "SELECT coalesce(string_agg(format('%s %s attempt %s/%s locked_by %s lease %s run_at %s: %s', "
              "id, state, attempt, max_attempts, locked_by, lease_expires_at, run_at, last_error), E'\\n'), "
              "'') FROM (SELECT * FROM queue.jobs WHERE " +
              where + " ORDER BY id LIMIT 20) j")[0][0]
          .as<std::string>();
    });
    return text.ok() ? *text : text.error().internal;
  }
  static void Exec(const std::string& sql) {
    auto done = db_->Write([&](db::Transaction& tx) -> core::Status {
      tx.ExecScript(sql);
      tx.Commit();
      return core::Ok();
    });
    ASSERT_TRUE(done.ok()) << done.error().internal;
  }

  static testing::TestDatabase* database_;
  static ServerProcess* server_;
  static std::string console_auth_;
  static db::Database* db_;
  static jobs::JobClient* client_;
};
testing::TestDatabase* JobsE2eTest::database_ = nullptr;
ServerProcess* JobsE2eTest::server_ = nullptr;
std::string JobsE2eTest::console_auth_;
db::Database* JobsE2eTest::db_ = nullptr;
jobs::JobClient* JobsE2eTest::client_ = nullptr;

TEST_F(JobsE2eTest, KilledNineTwentyTimesWhileFiveThousandJobsRunNothingIsLostAndNoEffectHappensTwice) {
  const std::vector<TenantRow> tenants = {Tenant("work-a"), Tenant("work-b"), Tenant("work-c")};
  std::vector<int> per_tenant = {2'500, 1'500, 1'000};
  for (size_t t = 0; t < tenants.size(); ++t) {
    ASSERT_EQ(EnqueueMany(tenants[t], per_tenant[t], "kill-", {{"sleep_ms", 12}}).size(),
              static_cast<size_t>(per_tenant[t]));
  }
  const std::string completed = "kind = 'platform.test-effect' AND state = 'completed'";
  std::mt19937 random(20'260'525);
  int kills = 0;
  long long done_before = 0;
  long long caught = 0;  // jobs a kill left running (reclaimed later): the kills hit work in flight
  for (; kills < 20; ++kills) {
    std::string worker_id;
    auto worker = StartWorker({}, nullptr, &worker_id);
    ASSERT_TRUE(worker->Running());
    ASSERT_FALSE(worker_id.empty()) << worker->Output();
    // Kill it only once it has made progress, so every kill lands in the middle of work.
    ASSERT_TRUE(WaitFor([&] { return Jobs(completed) > done_before; }, Millis(30'000))) << worker->Output();
    // At a random moment after that, and once this worker holds jobs (waited for, however slow
    // the machine: the rows other kills left running do not count).
    std::this_thread::sleep_for(Millis(std::uniform_int_distribution<int>(50, 250)(random)));
    const std::string held = "kind = 'platform.test-effect' AND state = 'running' AND locked_by = '" + worker_id + "'";
    ASSERT_TRUE(WaitFor([&] { return Jobs(held) > 0 || Jobs(completed) == 5'000; }, Millis(30'000)))
        << "the worker never held a job\n"
        << worker->Output();
    if (Jobs(completed) == 5'000) break;  // nothing left to interrupt (reported below)
    worker->Signal(SIGKILL);
    EXPECT_EQ(worker->WaitForExit(Millis(5'000)), 128 + SIGKILL);
    caught += Jobs(held);  // the dead worker's rows: still running until a lease reclaim
    done_before = Jobs(completed);
    if (done_before == 5'000) break;
  }
  EXPECT_EQ(kills, 20) << "the jobs ran out before the twentieth kill: make them longer";
  EXPECT_GT(caught, 0) << "no kill caught a job running";
  auto last = StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Jobs(completed) == 5'000; }, Millis(120'000)))
      << Describe("kind = 'platform.test-effect' AND state <> 'completed'") << "\n"
      << last->Output();
  EXPECT_EQ(Jobs("kind = 'platform.test-effect' AND state = 'dead'"), 0);
  EXPECT_GT(Jobs("kind = 'platform.test-effect' AND attempt > 1"), 0)
      << "some jobs were reclaimed from a killed worker";
  long long runs = 0;
  for (size_t t = 0; t < tenants.size(); ++t) {
    const std::string schema = tenants[t].scope.schema;
    // Exactly one effect per job, keyed by its idempotency key, in its own tenant's schema.
    EXPECT_EQ(Count("SELECT count(*) FROM " + schema + ".job_test_effects"), per_tenant[t]) << schema;
    EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs j JOIN " + schema +
                    ".job_test_effects e ON e.idempotency_key = j.idempotency_key AND e.job_id = j.id "
                    "WHERE j.tenant_id = '" +
                    tenants[t].id + "' AND j.kind = 'platform.test-effect'"),
              per_tenant[t])
        << schema;
    runs += Count("SELECT count(*) FROM " + schema + ".job_test_runs");
  }
  EXPECT_GE(runs, 5'000);
  std::cout << "[ info ] 5000 jobs, " << kills << " kills catching " << caught << " jobs running: " << runs
            << " handler runs (" << runs - 5'000 << " repeated by reclaim, absorbed by the idempotency key), "
            << Jobs("kind = 'platform.test-effect' AND attempt > 1") << " jobs reclaimed" << std::endl;
  last->Signal(SIGTERM);
  EXPECT_EQ(last->WaitForExit(Millis(10'000)), 0);
  Exec("DELETE FROM queue.jobs WHERE kind = 'platform.test-effect'");
}

TEST_F(JobsE2eTest, SigtermFinishesRunningJobsWithinTheGraceAndGivesBackTheRest) {
  const TenantRow tenant = Tenant("work-a");
  // The four jobs run two seconds each, so that the moment when all four run at once lasts long
  // enough to be seen on a loaded machine; the grace outlasts them by far.
  auto worker = StartWorker({{"CLINICORE_WORK_SHUTDOWN_GRACE_MS", "15000"}, {"CLINICORE_WORK_CONCURRENCY", "4"}});
  auto short_jobs = EnqueueMany(tenant, 4, "short-", {{"sleep_ms", 2'000}});
  ASSERT_TRUE(
      WaitFor([&] { return Jobs("idempotency_key LIKE 'short-%' AND state = 'running'") == 4; }, Millis(10'000)));
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(30'000)), 0) << worker->Output();
  EXPECT_EQ(Jobs("idempotency_key LIKE 'short-%' AND state = 'completed' AND attempt = 1"), 4) << worker->Output();

  worker = StartWorker({{"CLINICORE_WORK_SHUTDOWN_GRACE_MS", "300"}, {"CLINICORE_WORK_CONCURRENCY", "4"}});
  EnqueueMany(tenant, 2, "long-", {{"sleep_ms", 60'000}});
  ASSERT_TRUE(
      WaitFor([&] { return Jobs("idempotency_key LIKE 'long-%' AND state = 'running'") == 2; }, Millis(10'000)));
  const auto stopping = std::chrono::steady_clock::now();
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0) << worker->Output();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, Millis(8'000)) << "it did not wait for the 60 s jobs";
  // Given back at once, the attempt not counted, for the next worker to run.
  EXPECT_EQ(Jobs("idempotency_key LIKE 'long-%' AND state = 'available' AND attempt = 0 AND run_at <= now()"), 2);
  EXPECT_NE(worker->Output().find("job_released"), std::string::npos);
  Exec("DELETE FROM queue.jobs WHERE idempotency_key LIKE 'long-%' OR idempotency_key LIKE 'short-%'");
}

TEST_F(JobsE2eTest, PostgresRestartedMidRunTheWorkerRecoversByItself) {
  const TenantRow tenant = Tenant("work-b");
  EnqueueMany(tenant, 600, "pg-", {{"sleep_ms", 5}});
  auto worker = StartWorker();
  ASSERT_TRUE(
      WaitFor([&] { return Jobs("idempotency_key LIKE 'pg-%' AND state = 'completed'") >= 50; }, Millis(20'000)));
  ASSERT_EQ(testing::StopSharedPostgres(), 0);
  // The worker has met the outage (a scan, claim, outcome or renewal failed and said so) and
  // rides it out.
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string output = worker->Output();
        for (const char* event :
             {"job_scan_failed", "job_claim_failed", "job_outcomes_not_written", "job_lease_renewal_failed"}) {
          if (output.find(event) != std::string::npos) return true;
        }
        return !worker->Running();
      },
      Millis(20'000)))
      << worker->Output();
  EXPECT_TRUE(worker->Running()) << "the worker rides out the outage\n" << worker->Output();
  ASSERT_EQ(testing::StartSharedPostgres(), 0);
  EXPECT_TRUE(
      WaitFor([&] { return Jobs("idempotency_key LIKE 'pg-%' AND state = 'completed'") == 600; }, Millis(60'000)))
      << worker->Output();
  EXPECT_TRUE(worker->Running());
  EXPECT_EQ(Jobs("idempotency_key LIKE 'pg-%' AND state = 'dead'"), 0);
  EXPECT_EQ(
      Count("SELECT count(*) FROM " + tenant.scope.schema + ".job_test_effects WHERE idempotency_key LIKE 'pg-%'"),
      600);
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
}

TEST_F(JobsE2eTest, WithRedisStoppedJobsRunByPollingAndWakeupsResumeWhenItIsBack) {
  const TenantRow tenant = Tenant("work-c");
  PrivateRedis redis(FreePort());
  core::RedisConfig redis_config;
  ASSERT_TRUE(core::ParseRedisUrl(redis.Url(), redis_config).ok());
  redis_config.reconnect_backoff = Millis(0);
  jobs::JobClient client(*db_, std::make_shared<cache::RedisClient>(redis_config, std::make_shared<core::Metrics>()));
  auto enqueue = [&](const std::string& key) {
    auto job = client.WriteInTenant(tenant.scope, [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<long long> {
      auto job = jobs.Enqueue(kEffect, json::object(), {.idempotency_key = key});
      if (!job) return std::move(job).error();
      tx.Commit();
      return job->id;
    });
    EXPECT_TRUE(job.ok()) << "Redis never decides whether an enqueue succeeds";
  };
  auto subscriptions = [](ServerProcess& worker) {
    const std::string output = worker.Output();
    size_t count = 0;
    for (size_t at = output.find("job_wakeups_subscribed"); at != std::string::npos;
         at = output.find("job_wakeups_subscribed", at + 1)) {
      ++count;
    }
    return count;
  };
  // A slow safety poll with Redis up, so only a wakeup explains a prompt start; a fast poll
  // while Redis is down.
  auto worker = StartWorker({{"CLINICORE_REDIS_URL", redis.Url()},
                             {"CLINICORE_REDIS_RECONNECT_BACKOFF_MS", "0"},
                             {"CLINICORE_WORK_IDLE_POLL_INTERVAL_MS", "120000"},
                             {"CLINICORE_WORK_POLL_INTERVAL_MS", "200"}});
  ASSERT_TRUE(WaitFor([&] { return subscriptions(*worker) == 1; }, Millis(10'000))) << worker->Output();
  // Lets the scan that follows the subscription finish, so that only the wakeup explains a prompt
  // start. Nothing outside the process shows that scan; and no outcome depends on this sleep (a
  // job enqueued before the scan is found by it, and the test passes for a weaker reason).
  std::this_thread::sleep_for(Millis(200));
  enqueue("redis-up-1");
  EXPECT_TRUE(
      WaitFor([&] { return Jobs("idempotency_key = 'redis-up-1' AND state = 'completed'") == 1; }, Millis(10'000)))
      << "woken through Redis (the safety poll is 2 minutes away)";

  redis.Stop();
  ASSERT_TRUE(
      WaitFor([&] { return worker->Output().find("job_wakeups_unavailable") != std::string::npos; }, Millis(10'000)));
  for (int i = 0; i < 20; ++i) enqueue("redis-down-" + std::to_string(i));
  EXPECT_TRUE(WaitFor([&] { return Jobs("idempotency_key LIKE 'redis-down-%' AND state = 'completed'") == 20; },
                      Millis(15'000)))
      << "polling took over";

  redis.Start();
  ASSERT_TRUE(WaitFor([&] { return subscriptions(*worker) == 2; }, Millis(15'000))) << worker->Output();
  // The poll interval is the slow one again once the rescan after the subscription is over. As
  // above: not observable from outside, and not needed for the test to pass.
  std::this_thread::sleep_for(Millis(300));
  enqueue("redis-back-1");
  EXPECT_TRUE(
      WaitFor([&] { return Jobs("idempotency_key = 'redis-back-1' AND state = 'completed'") == 1; }, Millis(10'000)));
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
  Exec("DELETE FROM queue.jobs WHERE idempotency_key LIKE 'redis-%'");
}

TEST_F(JobsE2eTest, TheConsoleShowsTheQueueAndRetriesOrDiscardsDeadJobsAudited) {
  const TenantRow tenant = Tenant("work-b");
  int metrics_port = 0;
  auto worker = StartWorker({}, &metrics_port);
  const long long hopeless = EnqueueMany(tenant, 1, "console-fail-", {{"fail", "permanent"}}).at(0);
  const long long flaky = EnqueueMany(tenant, 1, "console-flaky-", {{"fail_attempts", 2}}, {.max_attempts = 2}).at(0);
  ASSERT_TRUE(
      WaitFor([&] { return Jobs("idempotency_key LIKE 'console-%' AND state = 'dead'") == 2; }, Millis(20'000)));

  EXPECT_EQ(Http("GET", server_->BaseUrl() + "/v1/console/jobs").status, 401);
  auto queues = Console("GET", "/v1/console/jobs/queues?tenant=work-b");
  ASSERT_EQ(queues.status, 200) << queues.body;
  const json queue = json::parse(queues.body);
  ASSERT_EQ(queue["items"].size(), 1u) << queue.dump();
  EXPECT_EQ(queue["items"][0]["tenant_slug"], "work-b");
  EXPECT_EQ(queue["items"][0]["kind"], kEffect);
  EXPECT_EQ(queue["items"][0]["dead"], 2);
  EXPECT_EQ(queue["totals"]["dead"], 2);
  // The API's /metrics samples the depth every 200 ms; asked while both jobs are dead, so that no
  // sampling window can be missed.
  EXPECT_TRUE(WaitFor(
      [&] {
        return Http("GET", server_->BaseUrl() + "/metrics")
                   .body.find("clinicore_jobs_depth{kind=\"platform.test-effect\",state=\"dead\"} 2") !=
               std::string::npos;
      },
      Millis(20'000)))
      << Http("GET", server_->BaseUrl() + "/metrics").body;

  auto dead = Console("GET", "/v1/console/jobs?state=dead&tenant=work-b&kind=platform.test-effect");
  ASSERT_EQ(dead.status, 200) << dead.body;
  const json page = json::parse(dead.body);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["items"][0]["id"], flaky) << "newest first";
  EXPECT_EQ(page["items"][0]["last_error"], "test-effect: failing attempt 2");
  EXPECT_EQ(page["items"][0]["errors"].size(), 2u);
  EXPECT_EQ(page["items"][1]["last_error"], "test-effect: told to fail for good");
  EXPECT_FALSE(page["items"][0].contains("payload")) << "payloads hold tenant data";
  EXPECT_TRUE(page["next_cursor"].is_null()) << "a full last page has no next one";
  auto first = Console("GET", "/v1/console/jobs?state=dead&tenant=work-b&limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  const json first_page = json::parse(first.body);
  ASSERT_EQ(first_page["items"].size(), 1u);
  EXPECT_EQ(first_page["items"][0]["id"], flaky);
  const std::string cursor = first_page["next_cursor"];
  auto second = Console("GET", "/v1/console/jobs?state=dead&tenant=work-b&limit=1&cursor=" + cursor);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(json::parse(second.body)["items"][0]["id"], hopeless);
  EXPECT_TRUE(json::parse(second.body)["next_cursor"].is_null());
  EXPECT_EQ(FirstErrorField(Console("GET", "/v1/console/jobs?state=dead&cursor=" + std::to_string(flaky))), "cursor");
  EXPECT_EQ(FirstErrorField(Console("GET", "/v1/console/jobs?state=running&tenant=work-b&cursor=" + cursor)), "cursor")
      << "a cursor is bound to its filters";
  EXPECT_EQ(FirstErrorField(Console("GET", "/v1/console/jobs?kind=NotAKind")), "kind");
  EXPECT_EQ(Console("GET", "/v1/console/jobs?state=bogus").status, 400);
  EXPECT_EQ(Console("GET", "/v1/console/jobs?tenant=no-such-tenant").status, 404);

  auto retried = Console("POST", "/v1/console/jobs/" + std::to_string(flaky) + "/retry");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(json::parse(retried.body)["state"], "available");
  EXPECT_EQ(json::parse(retried.body)["max_attempts"], 3) << "one more attempt";
  ASSERT_TRUE(
      WaitFor([&] { return Jobs("id = " + std::to_string(flaky) + " AND state = 'completed'") == 1; }, Millis(20'000)));
  auto discarded = Console("POST", "/v1/console/jobs/" + std::to_string(hopeless) + "/discard", json::object());
  ASSERT_EQ(discarded.status, 200) << discarded.body;
  EXPECT_EQ(json::parse(discarded.body)["state"], "discarded");
  auto again = Console("POST", "/v1/console/jobs/" + std::to_string(hopeless) + "/retry");
  EXPECT_EQ(again.status, 412);
  EXPECT_EQ(json::parse(again.body)["errors"][0]["field"], "state");
  EXPECT_EQ(Console("POST", "/v1/console/jobs/999999999/retry").status, 404);
  EXPECT_EQ(Console("GET", "/v1/console/jobs/not-a-number").status, 404);
  auto shown = Console("GET", "/v1/console/jobs/" + std::to_string(flaky));
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(json::parse(shown.body)["attempt"], 3);
  EXPECT_EQ(Count("SELECT count(*) FROM platform.console_audit WHERE action = 'job.retry' AND tenant_id = '" +
                  tenant.id + "' AND details->>'job_id' = '" + std::to_string(flaky) + "'"),
            1);
  EXPECT_EQ(
      Count("SELECT count(*) FROM platform.console_audit WHERE action = 'job.discard' AND details->>'job_id' = '" +
            std::to_string(hopeless) + "'"),
      1);

  // The tenant purge runs as a platform schedule.
  auto schedules = Console("GET", "/v1/console/jobs/schedules?tenant=platform");
  ASSERT_EQ(schedules.status, 200) << schedules.body;
  EXPECT_NE(schedules.body.find("platform.tenant-purge"), std::string::npos);
  // Page by page, one at a time, the same schedules as in one page, each once.
  const json all = json::parse(Console("GET", "/v1/console/jobs/schedules?limit=100").body)["items"];
  ASSERT_GE(all.size(), 2u);
  json paged = json::array();
  std::string next = "/v1/console/jobs/schedules?limit=1";
  for (size_t pages = 0; !next.empty() && pages <= all.size(); ++pages) {
    auto reply = Console("GET", next);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const json body = json::parse(reply.body);
    for (const auto& item : body["items"]) paged.push_back(item);
    next = body["next_cursor"].is_null()
               ? ""
               : "/v1/console/jobs/schedules?limit=1&cursor=" + body["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(paged, all);
  EXPECT_EQ(FirstErrorField(Console("GET", "/v1/console/jobs/schedules?cursor=platform.tenant-purge|x")), "cursor");

  // Metrics: latency, run time and failures on the worker's /metrics.
  const std::string worker_metrics = Http("GET", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics").body;
  for (const char* family : {"clinicore_job_start_latency_seconds_bucket{kind=\"platform.test-effect\"",
                             "clinicore_job_run_seconds_count{kind=\"platform.test-effect\"}",
                             "clinicore_job_failures_total{kind=\"platform.test-effect\"}", "clinicore_jobs_active"}) {
    EXPECT_NE(worker_metrics.find(family), std::string::npos) << family;
  }
  EXPECT_EQ(Http("GET", "http://127.0.0.1:" + std::to_string(metrics_port) + "/healthz").status, 200);
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
}

}  // namespace
}  // namespace clinicore
