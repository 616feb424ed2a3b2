// Durable jobs against real PostgreSQL and Redis, with workers in this process: the job
// exists iff its transaction commits, tenant isolation of the queue, idempotency keys, backoff
// and dead-lettering, delayed jobs, fairness under a 100 000-job backlog, per-tenant limits
// across workers, reclaimed leases, recurring schedules with two workers, wakeups and polling.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "platform/core/log.hpp"
#include "platform/jobs/enqueue.hpp"
#include "platform/jobs/wakeups.hpp"
#include "platform/jobs/worker.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/modules/events.hpp"
#include "platform/tenancy/cell_registry.hpp"
#include "platform/tenancy/tenant_repository.hpp"
#include "platform/tenancy/tenant_service.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::jobs {
namespace {

using core::ErrorCode;
using core::Millis;
using core::Result;
using SteadyClock = std::chrono::steady_clock;

// Long enough for a loaded CI machine; polled often, since some tests count elapsed time.
template <typename Predicate>
bool WaitFor(Predicate predicate, Millis timeout = Millis(20'000)) {
  return testing::WaitFor(predicate, timeout, Millis(5));
}

// The queue as a worker sees it, with its scans counted: a test waits for the worker to have
// looked at the queue instead of sleeping for "long enough".
class ScanCountingStore : public PgJobStore {
 public:
  using PgJobStore::PgJobStore;
  Result<std::vector<DueTenant>> DueTenants(const std::vector<std::string>& kinds) override {
    auto due = PgJobStore::DueTenants(kinds);
    ++scans_;
    return due;
  }
  int scans() const { return scans_.load(); }

 private:
  std::atomic<int> scans_{0};
};

// The tenant directory as a worker asks it, with the questions counted per tenant.
class CountingTenantLookup : public TenantLookup {
 public:
  explicit CountingTenantLookup(std::shared_ptr<tenancy::TenantDirectory> directory) : inner_(std::move(directory)) {}
  Result<std::optional<tenancy::Tenant>> Find(const std::string& tenant_id) override {
    {
      std::lock_guard lock(mutex_);
      ++lookups_[tenant_id];
    }
    return inner_.Find(tenant_id);
  }
  int lookups(const std::string& tenant_id) {
    std::lock_guard lock(mutex_);
    return lookups_[tenant_id];
  }

 private:
  DirectoryTenantLookup inner_;
  std::mutex mutex_;
  std::map<std::string, int> lookups_;
};

class JobsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    core::log::Init("off");
    database_ = new testing::TestDatabase();
    core::DatabaseConfig config;
    config.url = database_->url();
    config.pool_size = 48;
    db_ = new db::Database(config, std::shared_ptr<core::Metrics>(std::make_shared<core::Metrics>()));
    tenancy::TenantRepository::RegisterStatements(*db_);
    RegisterJobStatements(*db_);
    auto platform = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/platform");
    ASSERT_TRUE(platform.ok());
    auto applied = migrations::MigrationRunner(*db_).Apply({"platform", ""}, *platform);
    ASSERT_TRUE(tenancy::EnsureCells(*db_, database_->runtime_config()).ok());
    ASSERT_TRUE(applied.ok()) << applied.error().detail;
    redis_config_ = testing::TestRedisConfig();
    redis_ = new std::shared_ptr<cache::RedisClient>(
        std::make_shared<cache::RedisClient>(redis_config_, std::make_shared<core::Metrics>()));
    directory_ = new std::shared_ptr<tenancy::TenantDirectory>(
        std::make_shared<tenancy::TenantDirectory>(*db_, *redis_, std::chrono::seconds(30)));
    auto tenant_files = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/tenant");
    ASSERT_TRUE(tenant_files.ok());
    service_ = new tenancy::TenantService(*db_, *tenant_files, *directory_);
    for (const char* slug : {"jobs-a", "jobs-b"}) {
      auto onboarded = service_->Onboard({slug, slug, "Europe/Athens", "en", nlohmann::json::object()}, {"test", "req"},
                                         std::nullopt);
      ASSERT_TRUE(onboarded.ok()) << onboarded.error().detail << " " << onboarded.error().internal;
      tenants_.push_back(onboarded->tenant);
    }
    client_ = new JobClient(*db_, *redis_);
  }
  static void TearDownTestSuite() {
    delete client_;
    delete service_;
    delete directory_;
    delete redis_;
    delete db_;
    delete database_;
  }

  void TearDown() override { StopAll(); }
  void StopAll() {
    for (auto& listener : listeners_) listener->Stop();
    for (auto& worker : workers_) worker->Stop(Millis(0));
    listeners_.clear();
    workers_.clear();
  }
  // Handlers capture the test's locals: a test declares one of these after them, so its workers
  // stop before those go out of scope, whichever way the test ends.
  struct StopWorkersOnExit {
    JobsTest* test;
    ~StopWorkersOnExit() { test->StopAll(); }
  };

  static const tenancy::Tenant& A() { return tenants_[0]; }
  static const tenancy::Tenant& B() { return tenants_[1]; }

  WorkerOptions FastOptions() {
    WorkerOptions options;
    options.concurrency = 4;
    options.tenant_concurrency = 4;
    options.lease = Millis(2'000);
    options.poll_interval = Millis(50);
    options.idle_poll_interval = Millis(50);
    options.backoff = {Millis(100), Millis(400)};
    options.schedule_check_interval = Millis(50);
    options.schedule_sync_interval = Millis(200);
    return options;
  }

  Worker& StartWorker(std::shared_ptr<JobRegistry> registry, WorkerOptions options, bool wakeups = false,
                      std::shared_ptr<tenancy::TenantDirectory> directory = nullptr) {
    return StartWorker(registry, options, wakeups, std::make_shared<PgJobStore>(*db_),
                       std::make_shared<DirectoryTenantLookup>(directory ? directory : *directory_));
  }
  Worker& StartWorker(std::shared_ptr<JobRegistry> registry, WorkerOptions options, bool wakeups,
                      std::shared_ptr<JobStore> store, std::shared_ptr<TenantLookup> tenants) {
    auto worker =
        std::make_unique<Worker>(options, registry, std::move(store), std::move(tenants), metrics(), db_, client_);
    worker->Start();
    Worker& started = *worker;
    workers_.push_back(std::move(worker));
    if (wakeups) {
      auto listener = std::make_unique<WakeupListener>(
          redis_config_, [&started](const std::string& message) { started.OnWake(message); },
          [this, &started](bool up) {
            started.OnWakeupsState(up);
            if (up) subscribed_ = true;
          });
      listener->Start();
      listeners_.push_back(std::move(listener));
    }
    return started;
  }

  static std::shared_ptr<core::Metrics> metrics() { return std::make_shared<core::Metrics>(); }

  static long long Count(const std::string& sql) {
    auto count =
        db_->Read([&](db::Transaction& tx) -> Result<long long> { return tx.ExecScript(sql)[0][0].as<long long>(); });
    EXPECT_TRUE(count.ok()) << count.error().internal;
    return count.ok() ? *count : -1;
  }
  static std::string Text(const std::string& sql) {
    auto text = db_->Read(
        [&](db::Transaction& tx) -> Result<std::string> { return tx.ExecScript(sql)[0][0].as<std::string>(); });
    EXPECT_TRUE(text.ok()) << text.error().internal;
    return text.ok() ? *text : "";
  }
  static void Exec(const std::string& sql) {
    auto done = db_->Write([&](db::Transaction& tx) -> core::Status {
      tx.ExecScript(sql);
      tx.Commit();
      return core::Ok();
    });
    ASSERT_TRUE(done.ok()) << done.error().internal;
  }
  static long long CountKind(const std::string& kind, const std::string& state = "") {
    return Count("SELECT count(*) FROM queue.jobs WHERE kind = '" + kind + "'" +
                 (state.empty() ? "" : " AND state = '" + state + "'"));
  }

  static Result<EnqueuedJob> EnqueueIn(const tenancy::Tenant& tenant, const std::string& kind,
                                       const EnqueueOptions& options = {}, nlohmann::json payload = nullptr) {
    return client_->WriteInTenant(tenant.Scope(), [&](db::Transaction& tx, JobTx& jobs) -> Result<EnqueuedJob> {
      auto job = jobs.Enqueue(kind, payload.is_null() ? nlohmann::json::object() : payload, options);
      if (job) tx.Commit();
      return job;
    });
  }

  static testing::TestDatabase* database_;
  static db::Database* db_;
  static core::RedisConfig redis_config_;
  static std::shared_ptr<cache::RedisClient>* redis_;
  static std::shared_ptr<tenancy::TenantDirectory>* directory_;
  static tenancy::TenantService* service_;
  static JobClient* client_;
  static std::vector<tenancy::Tenant> tenants_;

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<WakeupListener>> listeners_;
  std::atomic<bool> subscribed_{false};
};
testing::TestDatabase* JobsTest::database_ = nullptr;
db::Database* JobsTest::db_ = nullptr;
core::RedisConfig JobsTest::redis_config_;
std::shared_ptr<cache::RedisClient>* JobsTest::redis_ = nullptr;
std::shared_ptr<tenancy::TenantDirectory>* JobsTest::directory_ = nullptr;
tenancy::TenantService* JobsTest::service_ = nullptr;
JobClient* JobsTest::client_ = nullptr;
std::vector<tenancy::Tenant> JobsTest::tenants_;

TEST_F(JobsTest, AJobExistsIfAndOnlyIfItsTransactionCommits) {
  // A platform transaction and a tenant transaction that enqueue, then fail: no job.
  auto platform = db_->Write([](db::Transaction& tx) -> core::Status {
    auto job = Enqueue(tx, "itest.rollback", {{"n", 1}});
    EXPECT_TRUE(job.ok());
    return core::Error::InvalidArgument("the change that caused the job failed");
  });
  EXPECT_FALSE(platform.ok());
  auto tenant = db_->WriteInTenant(A().Scope(), [](db::Transaction& tx) -> core::Status {
    auto job = Enqueue(tx, "itest.rollback", {{"n", 2}});
    EXPECT_TRUE(job.ok());
    throw std::runtime_error("the handler blew up mid-transaction");
  });
  EXPECT_FALSE(tenant.ok());
  EXPECT_EQ(CountKind("itest.rollback"), 0);
  // The same with a commit: the job is there, with the tenant's id.
  auto committed = EnqueueIn(A(), "itest.rollback");
  ASSERT_TRUE(committed.ok()) << committed.error().internal;
  EXPECT_EQ(committed->tenant_id, A().id);
  EXPECT_EQ(CountKind("itest.rollback"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE kind = 'itest.rollback' AND tenant_id = '" + A().id + "'"), 1);
}

// Domain events (platform/modules/events): written in the change's transaction, fanned out by
// the worker into one job per subscriber, each run with the event and its id.
TEST_F(JobsTest, AnEmittedEventReachesEverySubscriberOnceAndOnlyIfItsTransactionCommitted) {
  auto registry = std::make_shared<JobRegistry>();
  std::mutex mutex;
  std::vector<std::pair<std::string, modules::Event>> delivered;
  auto subscriber = [&](const std::string& name) {
    return modules::EventSubscription{name, "itest.thing-created", [&, name](JobContext&, const modules::Event& event) {
                                        std::lock_guard lock(mutex);
                                        delivered.emplace_back(name, event);
                                        return Outcome::Done();
                                      }};
  };
  modules::RegisterEventKinds(*registry, {subscriber("crm"), subscriber("notifications")});
  // Rolled back: no event. Committed: one.
  auto rolled_back = client_->WriteInTenant(A().Scope(), [](db::Transaction&, JobTx& jobs) -> core::Status {
    modules::Emit(jobs, "itest.thing-created", {{"n", 0}});
    return core::Error::InvalidArgument("the change failed");
  });
  ASSERT_FALSE(rolled_back.ok());
  std::string event_id;
  auto committed = client_->WriteInTenant(A().Scope(), [&](db::Transaction& tx, JobTx& jobs) -> core::Status {
    event_id = modules::Emit(jobs, "itest.thing-created", {{"n", 1}});
    tx.Commit();
    return core::Ok();
  });
  ASSERT_TRUE(committed.ok()) << committed.error().internal;
  StopWorkersOnExit stop_workers{this};
  StartWorker(registry, FastOptions());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mutex);
    return delivered.size() >= 2;
  }));
  ASSERT_TRUE(WaitFor([&] { return CountKind(modules::kFanOutKind) == 1; }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(delivered.size(), 2u);
  std::set<std::string> subscribers;
  for (const auto& [name, event] : delivered) {
    subscribers.insert(name);
    EXPECT_EQ(event.id, event_id);
    EXPECT_EQ(event.name, "itest.thing-created");
    EXPECT_EQ(event.payload["n"], 1);
    EXPECT_EQ(event.tenant_id, A().id);
  }
  EXPECT_EQ(subscribers, (std::set<std::string>{"crm", "notifications"}));
  // Each delivery is a job of its own, keyed by the event id: a second fan-out adds none.
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE kind = 'crm.on.itest.thing-created' AND "
                  "idempotency_key = '" +
                  event_id + "'"),
            1);
}

TEST_F(JobsTest, ATenantTransactionEnqueuesOnlyForItselfAndSeesOnlyItsOwnJobs) {
  ASSERT_TRUE(EnqueueIn(B(), "itest.isolation").ok());
  // Naming another tenant is refused by PostgreSQL itself (row-level security).
  auto forged = EnqueueIn(A(), "itest.isolation", {.tenant_id = B().id});
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, ErrorCode::kPermissionDenied);
  // Naming itself is fine.
  ASSERT_TRUE(EnqueueIn(A(), "itest.isolation", {.tenant_id = A().id}).ok());
  auto seen = db_->ReadInTenant(A().Scope(), [](db::Transaction& tx) -> Result<long long> {
    return tx.ExecScript("SELECT count(*) FROM queue.jobs WHERE kind = 'itest.isolation'")[0][0].as<long long>();
  });
  ASSERT_TRUE(seen.ok()) << seen.error().internal;
  EXPECT_EQ(*seen, 1) << "A sees its own job, not B's";
  // Nothing else of the queue is reachable from a tenant: no update, no payloads, no schedules.
  const std::vector<std::string> refused_sql = {
      "UPDATE queue.jobs SET priority = 0", "SELECT payload FROM queue.jobs", "SELECT count(*) FROM queue.schedules",
      "DELETE FROM queue.jobs", "SELECT * FROM queue.claim_due('" + std::string(kPlatformTenant) + "', 1, 1, '{x.y}')"};
  for (const std::string& sql : refused_sql) {
    auto refused = db_->WriteInTenant(A().Scope(), [&](db::Transaction& tx) -> core::Status {
      tx.ExecScript(sql);
      tx.Commit();
      return core::Ok();
    });
    ASSERT_FALSE(refused.ok()) << sql;
    EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied) << sql << ": " << refused.error().internal;
  }
}

TEST_F(JobsTest, AnIdempotencyKeyEnqueuesOneJobPerTenantAndKind) {
  auto first = EnqueueIn(A(), "itest.idem", {.idempotency_key = "order-17"});
  auto again = EnqueueIn(A(), "itest.idem", {.idempotency_key = "order-17"});
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_TRUE(first->inserted);
  EXPECT_FALSE(again->inserted);
  EXPECT_EQ(again->id, first->id);
  auto other_tenant = EnqueueIn(B(), "itest.idem", {.idempotency_key = "order-17"});
  auto other_kind = EnqueueIn(A(), "itest.idem-other", {.idempotency_key = "order-17"});
  ASSERT_TRUE(other_tenant.ok() && other_kind.ok());
  EXPECT_TRUE(other_tenant->inserted);
  EXPECT_TRUE(other_kind->inserted);
  EXPECT_EQ(CountKind("itest.idem"), 2);
  // Bad arguments never reach the database.
  auto bad = EnqueueIn(A(), "itest.idem", {.priority = 9});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().fields.front().field, "priority");
  EXPECT_EQ(EnqueueIn(A(), "NotAKind").error().code, ErrorCode::kInvalidArgument);
}

TEST_F(JobsTest, FailuresBackOffExponentiallyThenTheJobIsDeadWithItsErrors) {
  auto registry = std::make_shared<JobRegistry>();
  std::mutex mutex;
  std::vector<SteadyClock::time_point> starts;
  registry->Register("itest.flaky", [&](JobContext& context) -> Outcome {
    {
      std::lock_guard lock(mutex);
      starts.push_back(SteadyClock::now());
    }
    if (context.job().attempt == 1) throw std::runtime_error("connection refused by provider");
    return Outcome::Retry("provider answered 503 on attempt " + std::to_string(context.job().attempt));
  });
  auto job = EnqueueIn(A(), "itest.flaky", {.max_attempts = 4});
  ASSERT_TRUE(job.ok());
  StopWorkersOnExit stop_workers{this};
  StartWorker(registry, FastOptions());
  const std::string id = std::to_string(job->id);
  ASSERT_TRUE(WaitFor([&] { return CountKind("itest.flaky", "dead") == 1; }));
  EXPECT_EQ(Count("SELECT attempt FROM queue.jobs WHERE id = " + id), 4);
  EXPECT_EQ(Text("SELECT last_error FROM queue.jobs WHERE id = " + id), "provider answered 503 on attempt 4");
  EXPECT_EQ(Count("SELECT jsonb_array_length(errors) FROM queue.jobs WHERE id = " + id), 4);
  EXPECT_EQ(Text("SELECT errors->3->>'error' FROM queue.jobs WHERE id = " + id),
            "exception: connection refused by provider");
  std::lock_guard lock(mutex);
  ASSERT_EQ(starts.size(), 4u);
  // Attempt n waits at least half of base × 2^(n-1) (jitter takes the upper half): 50, 100, 200 ms.
  for (size_t i = 1; i < starts.size(); ++i) {
    const Millis floor(100 * (1 << (i - 1)) / 2);
    EXPECT_GE(starts[i] - starts[i - 1], floor) << "retry " << i;
  }
}

TEST_F(JobsTest, ADelayedJobStartsNoEarlierThanItsRunAt) {
  auto registry = std::make_shared<JobRegistry>();
  std::atomic<bool> ran{false};
  Clock::time_point started;
  registry->Register("itest.delayed", [&](JobContext&) {
    started = Clock::now();
    ran = true;
    return Outcome::Done();
  });
  const auto run_at = Clock::now() + Millis(1'200);
  ASSERT_TRUE(EnqueueIn(A(), "itest.delayed", {.run_at = run_at}).ok());
  StopWorkersOnExit stop_workers{this};
  StartWorker(registry, FastOptions());
  ASSERT_TRUE(WaitFor([&] { return ran.load(); }));
  EXPECT_GE(started, run_at - Millis(50)) << "the database clock decides; allow for rounding";
}

TEST_F(JobsTest, OneTenantsHundredThousandDueJobsDoNotDelayAnothersJob) {
  // The hard case: tenant A may fill the whole worker (its limit equals the concurrency), so
  // only the round-robin claim stands between its backlog and B's job.
  Exec("INSERT INTO queue.jobs (tenant_id, kind, idempotency_key) SELECT '" + A().id +
       "', 'itest.fair', 'backlog-' || g FROM generate_series(1, 100000) g");
  auto registry = std::make_shared<JobRegistry>();
  std::mutex mutex;
  std::map<std::string, Clock::time_point> b_started;
  registry->Register("itest.fair", [&](JobContext& context) {
    if (context.tenant()->id == B().id) {
      std::lock_guard lock(mutex);
      b_started[context.job().idempotency_key] = Clock::now();
    } else {
      context.SleepFor(Millis(2));
    }
    return Outcome::Done();
  });
  WorkerOptions options = FastOptions();
  options.concurrency = 4;
  options.tenant_concurrency = 4;
  options.poll_interval = options.idle_poll_interval = Millis(5'000);  // only wakeups start B promptly
  StopWorkersOnExit stop_workers{this};
  StartWorker(registry, options, true);
  ASSERT_TRUE(WaitFor([&] { return subscribed_.load() && CountKind("itest.fair", "completed") >= 100; }));
  std::vector<double> latencies;
  for (int i = 0; i < 5; ++i) {
    const std::string key = "b-" + std::to_string(i);
    ASSERT_TRUE(EnqueueIn(B(), "itest.fair", {.idempotency_key = key}).ok());
    const auto committed = Clock::now();
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard lock(mutex);
      return b_started.count(key) != 0;
    }));
    std::lock_guard lock(mutex);
    latencies.push_back(std::chrono::duration<double>(b_started[key] - committed).count());
  }
  const long long backlog = CountKind("itest.fair", "available");
  workers_.front()->Stop(Millis(0));
  Exec("DELETE FROM queue.jobs WHERE kind = 'itest.fair'");
  EXPECT_GT(backlog, 90'000) << "A's backlog was still there while B's jobs ran";
  for (double seconds : latencies) EXPECT_LT(seconds, 2.0) << "B waited behind A's backlog";
  std::cout << "[ info ] B's start latency under A's 100k backlog (s):";
  for (double seconds : latencies) std::cout << " " << seconds;
  std::cout << std::endl;
}

TEST_F(JobsTest, ATenantsConcurrencyLimitHoldsAcrossWorkers) {
  Exec("UPDATE platform.tenants SET limits = '{\"job_concurrency\": 2}' WHERE id = '" + A().id + "'");
  auto directory = std::make_shared<tenancy::TenantDirectory>(*db_, *redis_, std::chrono::seconds(30));
  auto registry = std::make_shared<JobRegistry>();
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> b_done{0};
  registry->Register("itest.limited", [&](JobContext& context) {
    if (context.tenant()->id == B().id) {
      ++b_done;
      return Outcome::Done();
    }
    const int now = ++running;
    for (int seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
    }
    // Held until two run at once (the limit allows it), so the peak is reached however slow the
    // machine; then a little work, so workers breaking the limit would show a third.
    WaitFor([&] { return peak.load() >= 2; }, Millis(10'000));
    context.SleepFor(Millis(30));
    --running;
    return Outcome::Done();
  });
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(EnqueueIn(A(), "itest.limited").ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(EnqueueIn(B(), "itest.limited").ok());
  StopWorkersOnExit stop_workers{this};
  StartWorker(registry, FastOptions(), false, directory);
  StartWorker(registry, FastOptions(), false, directory);
  ASSERT_TRUE(WaitFor([&] { return CountKind("itest.limited", "completed") == 20; }));
  Exec("UPDATE platform.tenants SET limits = '{}' WHERE id = '" + A().id + "'");
  EXPECT_EQ(peak.load(), 2) << "A never ran more than its limit at once, over both workers";
  EXPECT_EQ(b_done.load(), 4);
}

TEST_F(JobsTest, AnExpiredLeaseIsReclaimedAndTheJobRunsAgain) {
  auto job = EnqueueIn(A(), "itest.orphan");
  ASSERT_TRUE(job.ok());
  const std::string id = std::to_string(job->id);
  // A worker that claimed the job and was then killed: its lease ran out a second ago.
  Exec(
      "UPDATE queue.jobs SET state = 'running', attempt = 1, locked_by = 'ghost:1:dead', started_at = now(), "
      "lease_expires_at = now() - interval '1 second' WHERE id = " +
      id);
  auto registry = std::make_shared<JobRegistry>();
  std::atomic<int> attempt{0};
  registry->Register("itest.orphan", [&](JobContext& context) {
    attempt = context.job().attempt;
    return Outcome::Done();
  });
  WorkerOptions options = FastOptions();
  options.lease = Millis(600);
  StopWorkersOnExit stop_workers{this};
  StartWorker(registry, options);
  ASSERT_TRUE(WaitFor([&] { return CountKind("itest.orphan", "completed") == 1; }));
  EXPECT_EQ(attempt.load(), 2);
  EXPECT_NE(Text("SELECT last_error FROM queue.jobs WHERE id = " + id).find("ghost:1:dead"), std::string::npos);
}

TEST_F(JobsTest, ARecurringScheduleFiresOncePerPeriodWithTwoWorkers) {
  auto registry = std::make_shared<JobRegistry>();
  std::mutex mutex;
  std::map<std::string, int> runs;  // idempotency key → runs
  auto record = [&](JobContext& context) {
    std::lock_guard lock(mutex);
    ++runs[context.job().tenant_id + " " + context.job().idempotency_key];
    return Outcome::Done();
  };
  registry->Register("itest.tick", record);
  registry->Register("itest.platform-tick", record, {JobScope::kPlatform, std::nullopt});
  registry->AddSchedule({.name = "itest.every-second", .kind = "itest.tick", .spec = ScheduleSpec::Every(Millis(700))});
  registry->AddSchedule(
      {.name = "itest.platform-every-second", .kind = "itest.platform-tick", .spec = ScheduleSpec::Every(Millis(700))});
  StopWorkersOnExit stop_workers{this};
  StartWorker(registry, FastOptions());
  StartWorker(registry, FastOptions());
  // Every tenant (and the platform) gets one row per schedule; wait for a few periods, and for
  // every tenant's job to have run in two of them (what the checks below count).
  ASSERT_TRUE(WaitFor(
      [&] {
        return Count("SELECT count(*) FROM queue.jobs WHERE kind = 'itest.platform-tick' AND state = 'completed'") >=
                   4 &&
               Count(
                   "SELECT count(*) FROM platform.tenants t WHERE (SELECT count(*) FROM queue.jobs j WHERE j.kind "
                   "= 'itest.tick' AND j.tenant_id = t.id AND j.state = 'completed') < 2") == 0;
      },
      Millis(30'000)));
  for (auto& worker : workers_) worker->Stop(Millis(1'000));
  const long long tenants = Count("SELECT count(*) FROM platform.tenants");
  EXPECT_EQ(Count("SELECT count(*) FROM queue.schedules WHERE name = 'itest.every-second'"), tenants);
  // One job per period and tenant, each run once, and the periods follow each other.
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT tenant_id, idempotency_key FROM queue.jobs WHERE kind = "
                  "'itest.tick' GROUP BY 1, 2 HAVING count(*) > 1) d"),
            0);
  std::lock_guard lock(mutex);
  std::map<std::string, std::set<std::string>> periods;
  for (const auto& [key, count] : runs) {
    EXPECT_EQ(count, 1) << key << " ran more than once";
    periods[key.substr(0, key.find(' '))].insert(key.substr(key.find(' ') + 1));
  }
  EXPECT_EQ(periods.size(), static_cast<size_t>(tenants) + 1) << "every tenant and the platform";
  for (const auto& [tenant, keys] : periods) {
    EXPECT_GE(keys.size(), 2u) << tenant;
  }
  // The periods follow each other. A job's idempotency key names its period (a point of the
  // 700 ms grid) and its run_at says when it fired: the next period is the one after, unless that
  // firing came a whole period late (a stalled machine), when one job stands for the periods that
  // passed. Judged from what was recorded, not from how fast this machine was.
  const std::string fired =
      "SELECT run_at, regexp_replace(idempotency_key, '^schedule:[^:]+:', '')::timestamptz AS period "
      "FROM queue.jobs WHERE kind = 'itest.platform-tick'";
  const std::string listing = Text(
      "SELECT coalesce(string_agg(period::text || ' fired at ' || run_at::text, E'\\n' ORDER BY period), '') FROM (" +
      fired + ") f");
  EXPECT_GE(Count("SELECT count(*) FROM (" + fired + ") f"), 4) << listing;
  EXPECT_EQ(
      Count("SELECT count(*) FROM (" + fired + ") f WHERE (extract(epoch FROM period) * 1000)::bigint % 700 <> 0"), 0)
      << "every period is a point of the grid\n"
      << listing;
  EXPECT_EQ(
      Count("SELECT count(*) FROM (SELECT run_at, period, lead(period) OVER (ORDER BY period) AS next FROM (" + fired +
            ") f) p WHERE next IS NOT NULL AND next <> period + interval '700 milliseconds' "
            "AND run_at < period + interval '699 milliseconds'"),
      0)
      << "a period was skipped although the one before it fired in time\n"
      << listing;
}

TEST_F(JobsTest, AWakeupStartsAJobLongBeforeThePoll) {
  auto registry = std::make_shared<JobRegistry>();
  std::atomic<bool> ran{false};
  registry->Register("itest.woken", [&](JobContext&) {
    ran = true;
    return Outcome::Done();
  });
  WorkerOptions options = FastOptions();
  options.poll_interval = options.idle_poll_interval = Millis(120'000);
  StopWorkersOnExit stop_workers{this};
  // Subscribed before the worker starts, so its first scan is the only one for two minutes;
  // once that scan is over, only a wakeup can start the job soon.
  auto store = std::make_shared<ScanCountingStore>(*db_);
  auto worker = std::make_unique<Worker>(options, registry, store, std::make_shared<DirectoryTenantLookup>(*directory_),
                                         metrics(), db_, client_);
  Worker& started = *worker;
  workers_.push_back(std::move(worker));
  listeners_.push_back(std::make_unique<WakeupListener>(
      redis_config_, [&started](const std::string& message) { started.OnWake(message); },
      [this, &started](bool up) {
        started.OnWakeupsState(up);
        if (up) subscribed_ = true;
      }));
  listeners_.back()->Start();
  ASSERT_TRUE(WaitFor([&] { return subscribed_.load(); }));
  started.Start();
  ASSERT_TRUE(WaitFor([&] { return store->scans() >= 1; }));
  ASSERT_TRUE(EnqueueIn(B(), "itest.woken").ok());
  EXPECT_TRUE(WaitFor([&] { return ran.load(); }, Millis(10'000))) << "only the wakeup can start it this soon";
}

TEST_F(JobsTest, WithRedisDownJobsStillRunByPolling) {
  core::RedisConfig dead = redis_config_;
  dead.port = 1;  // nothing listens there
  auto registry = std::make_shared<JobRegistry>();
  std::atomic<int> ran{0};
  registry->Register("itest.polled", [&](JobContext&) {
    ++ran;
    return Outcome::Done();
  });
  auto worker = std::make_unique<Worker>(FastOptions(), registry, std::make_shared<PgJobStore>(*db_),
                                         std::make_shared<DirectoryTenantLookup>(*directory_), metrics(), db_, client_);
  WakeupListener listener(
      dead, [&](const std::string& message) { worker->OnWake(message); }, [&](bool up) { worker->OnWakeupsState(up); });
  worker->Start();
  listener.Start();
  JobClient no_redis(*db_, std::make_shared<cache::RedisClient>(dead, std::make_shared<core::Metrics>()));
  for (int i = 0; i < 3; ++i) {
    auto job = no_redis.WriteInTenant(A().Scope(), [](db::Transaction& tx, JobTx& jobs) -> Result<EnqueuedJob> {
      auto job = jobs.Enqueue("itest.polled", nlohmann::json::object());
      tx.Commit();
      return job;
    });
    ASSERT_TRUE(job.ok()) << "a dead Redis never fails an enqueue";
  }
  EXPECT_TRUE(WaitFor([&] { return ran.load() == 3; }));
  listener.Stop();
  worker->Stop(Millis(0));
}

TEST_F(JobsTest, JobsOfASuspendedTenantWaitAndRunOnceItIsResumed) {
  auto registry = std::make_shared<JobRegistry>();
  std::atomic<int> ran{0};
  registry->Register("itest.suspended", [&](JobContext&) {
    ++ran;
    return Outcome::Done();
  });
  ASSERT_TRUE(service_->Suspend(B().id, std::nullopt, {"test", "req"}).ok());
  ASSERT_TRUE(EnqueueIn(A(), "itest.suspended").ok());
  auto waiting = db_->Write([](db::Transaction& tx) -> Result<EnqueuedJob> {
    auto job = Enqueue(tx, "itest.suspended", nlohmann::json::object(), {.tenant_id = tenants_[1].id});
    tx.Commit();
    return job;
  });
  ASSERT_TRUE(waiting.ok());
  StopWorkersOnExit stop_workers{this};
  auto tenants = std::make_shared<CountingTenantLookup>(*directory_);
  StartWorker(registry, FastOptions(), false, std::make_shared<PgJobStore>(*db_), tenants);
  ASSERT_TRUE(WaitFor([&] { return ran.load() == 1; }));
  // The worker found B suspended in three claim rounds (counted, not slept for) and left its job.
  const int asked = tenants->lookups(B().id);
  ASSERT_TRUE(WaitFor([&] { return tenants->lookups(B().id) >= asked + 3; }));
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE id = " + std::to_string(waiting->id) +
                  " AND state = 'available' AND attempt = 0"),
            1);
  ASSERT_TRUE(service_->Resume(B().id, {"test", "req"}).ok());
  EXPECT_TRUE(WaitFor([&] { return ran.load() == 2; }));
}

}  // namespace
}  // namespace clinicore::jobs
