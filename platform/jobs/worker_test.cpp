// The worker's logic against an in-memory queue: outcomes, exceptions, deadlines, leases,
// shutdown, scope checks, fairness and per-tenant limits. No I/O.
#include "platform/jobs/worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "platform/core/log.hpp"
#include "platform/jobs/enqueue.hpp"
#include "tests/harness/wait.hpp"

namespace clinicore::jobs {
namespace {

using core::Millis;
using core::Result;

constexpr const char* kTenantA = "aaaaaaaa-0000-0000-0000-000000000000";
constexpr const char* kTenantB = "bbbbbbbb-0000-0000-0000-000000000000";
constexpr const char* kPurgedTenant = "cccccccc-0000-0000-0000-000000000000";

// A queue in memory with the same rules as the SQL: claims respect quota and limit, outcomes
// only land while the attempt is still held.
class FakeStore : public JobStore {
 public:
  struct Row {
    Job job;
    std::string state = "available";
    std::string locked_by;
  };

  long long Add(const std::string& tenant, const std::string& kind, nlohmann::json payload = nlohmann::json::object(),
                int max_attempts = 5) {
    std::lock_guard lock(mutex_);
    Row row;
    row.job.id = next_id_++;
    row.job.tenant_id = tenant;
    row.job.kind = kind;
    row.job.payload = std::move(payload);
    row.job.attempt = 0;
    row.job.max_attempts = max_attempts;
    row.job.idempotency_key = "key-" + std::to_string(row.job.id);
    row.job.run_at = row.job.created_at = Clock::now();
    rows_[row.job.id] = row;
    return row.job.id;
  }

  Result<std::vector<Job>> Claim(const std::vector<ClaimCandidate>& candidates, const std::vector<std::string>& kinds,
                                 const std::string& worker_id, Millis) override {
    std::lock_guard lock(mutex_);
    std::vector<Job> claimed;
    for (const auto& candidate : candidates) {
      int running = 0;
      for (const auto& [id, row] : rows_) running += row.state == "running" && row.job.tenant_id == candidate.tenant_id;
      int room = std::min(candidate.quota, candidate.limit - running);
      for (auto& [id, row] : rows_) {
        if (room <= 0) break;
        if (row.state != "available" || row.job.tenant_id != candidate.tenant_id || row.job.run_at > Clock::now() ||
            std::find(kinds.begin(), kinds.end(), row.job.kind) == kinds.end()) {
          continue;
        }
        row.state = "running";
        row.locked_by = worker_id;
        ++row.job.attempt;
        claimed.push_back(row.job);
        --room;
      }
    }
    ++claims_;
    return claimed;
  }

  Result<std::vector<long long>> Settle(const std::vector<Settlement>& outcomes, const std::string& worker) override {
    std::lock_guard lock(mutex_);
    std::vector<long long> written;
    for (const auto& outcome : outcomes) {
      auto it = rows_.find(outcome.id);
      if (it == rows_.end() || it->second.state != "running" || it->second.locked_by != worker ||
          it->second.job.attempt != outcome.attempt) {
        continue;
      }
      Row& row = it->second;
      switch (outcome.state) {
        case Settlement::State::kCompleted:
          row.state = "completed";
          break;
        case Settlement::State::kRetry:
          row.state = "available";
          row.job.run_at = Clock::now() + outcome.delay;
          break;
        case Settlement::State::kRelease:
          row.state = "available";
          row.job.run_at = Clock::now() + outcome.delay;
          --row.job.attempt;
          break;
        case Settlement::State::kDead:
          row.state = "dead";
          break;
        case Settlement::State::kDiscarded:
          row.state = "discarded";
          break;
      }
      row.locked_by.clear();
      settled_.push_back(outcome);
      written.push_back(outcome.id);
    }
    return written;
  }

  Result<std::vector<long long>> RenewLeases(const std::vector<long long>& ids, const std::string&, Millis) override {
    std::lock_guard lock(mutex_);
    ++renewals_;
    if (lose_leases_) return std::vector<long long>{};
    return ids;
  }
  Result<Reclaimed> ReclaimExpired(const BackoffPolicy&, int) override {
    std::lock_guard lock(mutex_);
    ++reclaim_rounds_;
    Reclaimed reclaimed;
    reclaimed.jobs.swap(to_reclaim_);
    reclaimed.available = static_cast<int>(reclaimed.jobs.size());
    return reclaimed;
  }
  // What the next ReclaimExpired reports (once): jobs of a dead worker whose lease expired.
  void ReclaimNext(std::vector<Job> jobs) {
    std::lock_guard lock(mutex_);
    to_reclaim_ = std::move(jobs);
  }
  Result<std::vector<DueTenant>> DueTenants(const std::vector<std::string>&) override {
    std::lock_guard lock(mutex_);
    std::map<std::string, Clock::time_point> next;
    for (const auto& [id, row] : rows_) {
      if (row.state != "available") continue;
      auto [it, fresh] = next.emplace(row.job.tenant_id, row.job.run_at);
      if (!fresh) it->second = std::min(it->second, row.job.run_at);
    }
    std::vector<DueTenant> due;
    for (const auto& [tenant, at] : next) due.push_back({tenant, at, Clock::now()});
    return due;
  }
  core::Status SyncSchedules(const std::vector<std::pair<const Schedule*, JobScope>>&) override { return core::Ok(); }
  Result<FiredSchedules> FireDueSchedules(const std::vector<std::string>&,
                                          const std::function<Result<SchedulePlan>(const DueSchedule&)>&,
                                          int) override {
    return FiredSchedules{};
  }
  Result<std::optional<Clock::time_point>> EarliestSchedule(const std::vector<std::string>&) override {
    return std::optional<Clock::time_point>();
  }
  Result<long long> Prune(Millis, int) override { return 0LL; }
  Result<long long> DeleteOrphans(int) override { return 0LL; }
  Result<std::vector<DepthRow>> Depth() override { return std::vector<DepthRow>{}; }

  std::string StateOf(long long id) {
    std::lock_guard lock(mutex_);
    return rows_.at(id).state;
  }
  Row RowOf(long long id) {
    std::lock_guard lock(mutex_);
    return rows_.at(id);
  }
  std::vector<Settlement> settled() {
    std::lock_guard lock(mutex_);
    return settled_;
  }
  std::optional<Settlement> SettlementOf(long long id) {
    std::lock_guard lock(mutex_);
    for (const auto& s : settled_) {
      if (s.id == id) return s;
    }
    return std::nullopt;
  }
  void LoseLeases() {
    std::lock_guard lock(mutex_);
    lose_leases_ = true;
  }
  int renewals() {
    std::lock_guard lock(mutex_);
    return renewals_;
  }
  // Rounds of the worker's reclaim of expired leases so far.
  int reclaim_rounds() {
    std::lock_guard lock(mutex_);
    return reclaim_rounds_;
  }

 private:
  std::vector<Job> to_reclaim_;
  std::mutex mutex_;
  std::map<long long, Row> rows_;
  std::vector<Settlement> settled_;
  long long next_id_ = 1;
  int claims_ = 0;
  int renewals_ = 0;
  int reclaim_rounds_ = 0;
  bool lose_leases_ = false;
};

class FakeTenants : public TenantLookup {
 public:
  void Add(const std::string& id, const std::string& status = "active", nlohmann::json limits = {}) {
    std::lock_guard lock(mutex_);
    tenancy::Tenant tenant;
    tenant.id = id;
    tenant.slug = "t-" + id.substr(0, 4);
    tenant.status = status;
    tenant.schema_name = "t_" + id.substr(0, 4);
    tenant.role_name = "tenant_" + id.substr(0, 4);
    tenant.limits = limits.is_null() ? nlohmann::json::object() : limits;
    tenants_[id] = tenant;
  }
  Result<std::optional<tenancy::Tenant>> Find(const std::string& id) override {
    std::lock_guard lock(mutex_);
    ++lookups_[id];
    auto it = tenants_.find(id);
    if (it == tenants_.end()) return std::optional<tenancy::Tenant>();
    return std::optional<tenancy::Tenant>(it->second);
  }
  // How often the worker asked about a tenant: a test that checks what the worker did NOT do
  // with a tenant's jobs first waits for the worker to have looked at that tenant.
  int lookups(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = lookups_.find(id);
    return it == lookups_.end() ? 0 : it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, tenancy::Tenant> tenants_;
  std::map<std::string, int> lookups_;
};

// Long enough for a loaded machine (sanitizers, CPU burners); polled often, as the fake queue
// is in memory.
template <typename Predicate>
bool WaitFor(Predicate predicate, Millis timeout = Millis(20'000)) {
  return testing::WaitFor(predicate, timeout, Millis(2));
}

class WorkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { core::log::Init("off"); }

  void SetUp() override {
    tenants_->Add(kTenantA);
    tenants_->Add(kTenantB);
    options_.concurrency = 4;
    options_.tenant_concurrency = 4;
    options_.lease = Millis(300);
    options_.poll_interval = Millis(20);
    options_.idle_poll_interval = Millis(20);
    options_.job_timeout = Millis(5'000);
    options_.backoff = {Millis(1'000), Millis(60'000)};
  }
  void TearDown() override {
    if (worker_) worker_->Stop(Millis(0));
  }

  // Handlers capture the test's locals: a test declares one of these after them, so the worker
  // stops before they go out of scope, whichever way the test ends.
  struct StopOnExit {
    WorkerTest* test;
    ~StopOnExit() {
      if (test->worker_) test->worker_->Stop(Millis(0));
    }
  };

  Worker& StartWorker() {
    worker_ = std::make_unique<Worker>(options_, registry_, store_, tenants_, metrics_, nullptr, nullptr);
    worker_->Start();
    return *worker_;
  }

  std::shared_ptr<JobRegistry> registry_ = std::make_shared<JobRegistry>();
  std::shared_ptr<FakeStore> store_ = std::make_shared<FakeStore>();
  std::shared_ptr<FakeTenants> tenants_ = std::make_shared<FakeTenants>();
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  WorkerOptions options_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, RunsAJobInItsTenantAndCompletesIt) {
  std::string seen_tenant;
  registry_->Register("test.ok", [&](JobContext& context) {
    seen_tenant = context.tenant() ? context.tenant()->id : "none";
    return Outcome::Done();
  });
  const long long id = store_->Add(kTenantA, "test.ok");
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(id) == "completed"; }));
  EXPECT_EQ(seen_tenant, kTenantA);
  EXPECT_NE(
      metrics_->RenderPrometheus().find("clinicore_jobs_finished_total{kind=\"test.ok\",outcome=\"completed\"} 1"),
      std::string::npos);
}

TEST_F(WorkerTest, AReclaimedJobCallsItsKindsHookOnceAndOtherKindsAreLeftAlone) {
  std::mutex mutex;
  std::vector<Job> hooked;
  KindOptions options;
  options.on_reclaimed = [&](const Job& job) {
    std::lock_guard lock(mutex);
    hooked.push_back(job);
  };
  registry_->Register(
      "test.hooked", [](JobContext&) { return Outcome::Done(); }, options);
  registry_->Register("test.plain", [](JobContext&) { return Outcome::Done(); });
  Job lost;
  lost.id = 41;
  lost.tenant_id = kTenantA;
  lost.kind = "test.hooked";
  lost.attempt = 3;
  lost.payload = {{"plugin", "p"}};
  Job plain = lost;
  plain.id = 42;
  plain.kind = "test.plain";
  Job unknown = lost;
  unknown.id = 43;
  unknown.kind = "other.kind";  // registered by another worker build: no hook here
  store_->ReclaimNext({lost, plain, unknown});
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mutex);
    return !hooked.empty();
  }));
  // Three more reclaim rounds (counted, not slept for): the hook is not called again.
  const int rounds = store_->reclaim_rounds();
  ASSERT_TRUE(WaitFor([&] { return store_->reclaim_rounds() >= rounds + 3; }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(hooked.size(), 1u);
  EXPECT_EQ(hooked[0].id, 41);
  EXPECT_EQ(hooked[0].tenant_id, kTenantA);
  EXPECT_EQ(hooked[0].attempt, 3);
  EXPECT_EQ(hooked[0].payload["plugin"], "p");
}

TEST_F(WorkerTest, AnExceptionIsARetryWithItsMessageAndABackoff) {
  registry_->Register("test.throws", [](JobContext&) -> Outcome { throw std::runtime_error("provider said no"); });
  const long long id = store_->Add(kTenantA, "test.throws");
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return store_->SettlementOf(id).has_value(); }));
  const Settlement settlement = *store_->SettlementOf(id);
  EXPECT_EQ(settlement.state, Settlement::State::kRetry);
  EXPECT_NE(settlement.error->find("provider said no"), std::string::npos);
  EXPECT_GE(settlement.delay, Millis(500));
  EXPECT_LE(settlement.delay, Millis(1'000));
  EXPECT_NE(metrics_->RenderPrometheus().find("clinicore_job_failures_total{kind=\"test.throws\"} 1"),
            std::string::npos);
}

TEST_F(WorkerTest, TheLastFailedAttemptIsDeadAndFailIsDeadAtOnce) {
  registry_->Register("test.retry", [](JobContext&) { return Outcome::Retry("still broken", Millis(0)); });
  registry_->Register("test.fail", [](JobContext&) { return Outcome::Fail("bad input"); });
  const long long retried = store_->Add(kTenantA, "test.retry", nlohmann::json::object(), 3);
  const long long failed = store_->Add(kTenantB, "test.fail");
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(retried) == "dead" && store_->StateOf(failed) == "dead"; }));
  EXPECT_EQ(store_->RowOf(retried).job.attempt, 3);
  EXPECT_EQ(store_->RowOf(failed).job.attempt, 1);
  EXPECT_EQ(store_->SettlementOf(failed)->error, "bad input");
}

TEST_F(WorkerTest, ASnoozeWaitsWithoutUsingAnAttemptOrCountingAsAFailure) {
  std::atomic<int> runs{0};
  registry_->Register("test.throttled", [&](JobContext&) {
    return ++runs <= 3 ? Outcome::Snooze("provider allows 5/s", Millis(20)) : Outcome::Done();
  });
  // Two attempts allowed, three snoozes taken: a snooze is not an attempt.
  const long long id = store_->Add(kTenantA, "test.throttled", nlohmann::json::object(), 2);
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(id) == "completed"; }));
  EXPECT_EQ(runs.load(), 4);
  EXPECT_EQ(store_->RowOf(id).job.attempt, 1);
  const auto& settled = store_->settled();
  ASSERT_EQ(settled.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(settled[i].state, Settlement::State::kRelease);
    EXPECT_EQ(settled[i].delay, Millis(20));
    EXPECT_EQ(settled[i].snooze_reason, "provider allows 5/s");
    EXPECT_FALSE(settled[i].error.has_value()) << "a snooze leaves no error: the job is not failing";
  }
  const std::string metrics = metrics_->RenderPrometheus();
  EXPECT_NE(metrics.find("clinicore_jobs_finished_total{kind=\"test.throttled\",outcome=\"snoozed\"} 3"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("clinicore_job_failures_total{kind=\"test.throttled\"}"), std::string::npos);
}

TEST_F(WorkerTest, ScopeMismatchesAndPurgedTenantsNeverRunTheHandler) {
  std::atomic<int> runs{0};
  registry_->Register("test.tenant", [&](JobContext&) {
    ++runs;
    return Outcome::Done();
  });
  registry_->Register(
      "test.platform",
      [&](JobContext&) {
        ++runs;
        return Outcome::Done();
      },
      KindOptions{JobScope::kPlatform, std::nullopt});
  const long long tenant_kind_as_platform = store_->Add(std::string(kPlatformTenant), "test.tenant");
  const long long platform_kind_for_tenant = store_->Add(kTenantA, "test.platform");
  const long long purged = store_->Add(kPurgedTenant, "test.tenant");
  const long long platform_ok = store_->Add(std::string(kPlatformTenant), "test.platform");
  StopOnExit stop_on_exit{this};
  StartWorker();
  // Each job is waited for on its own: the worker settles them in no particular order.
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(platform_ok) == "completed"; }));
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(tenant_kind_as_platform) == "dead"; }))
      << store_->StateOf(tenant_kind_as_platform);
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(platform_kind_for_tenant) == "dead"; }))
      << store_->StateOf(platform_kind_for_tenant);
  EXPECT_EQ(runs.load(), 1);
  // The purged tenant's job is not even claimed: the tenant leaves the rotation. Asked about
  // twice, so the claim round that first found it gone is over.
  ASSERT_TRUE(WaitFor([&] { return tenants_->lookups(kPurgedTenant) >= 2; }));
  EXPECT_EQ(store_->StateOf(purged), "available");
}

TEST_F(WorkerTest, ADeadlineCancelsTheAttemptAndRetriesIt) {
  // The retry comes back long after the test ends, so the one attempt is all there is to count.
  options_.backoff = {Millis(120'000), Millis(120'000)};
  std::atomic<bool> saw_cancel{false};
  registry_->Register(
      "test.slow",
      [&](JobContext& context) {
        if (!context.SleepFor(Millis(10'000))) saw_cancel = context.cancel_reason() == CancelReason::kDeadline;
        return Outcome::Done();
      },
      KindOptions{JobScope::kTenant, Millis(50)});
  const long long id = store_->Add(kTenantA, "test.slow");
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return store_->SettlementOf(id).has_value(); }));
  EXPECT_EQ(store_->SettlementOf(id)->state, Settlement::State::kRetry);
  EXPECT_NE(store_->SettlementOf(id)->error->find("deadline exceeded"), std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return saw_cancel.load(); }));
  // Stopped, so the handler has returned and every outcome is written before counting them.
  worker_->Stop(Millis(5'000));
  EXPECT_EQ(store_->settled().size(), 1u) << "the handler's late Done is ignored";
}

TEST_F(WorkerTest, ALostLeaseCancelsTheHandlerAndWritesNothing) {
  std::atomic<bool> saw_cancel{false};
  registry_->Register("test.long", [&](JobContext& context) {
    if (!context.SleepFor(Millis(10'000))) saw_cancel = context.cancel_reason() == CancelReason::kLeaseLost;
    return Outcome::Done();
  });
  const long long id = store_->Add(kTenantA, "test.long");
  store_->LoseLeases();
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return saw_cancel.load(); }));
  EXPECT_EQ(worker_->active(), 0);  // given up under the lock that cancelled it
  // Stopped, so the handler has returned and its Done went wherever it goes before looking.
  worker_->Stop(Millis(5'000));
  EXPECT_FALSE(store_->SettlementOf(id).has_value());
}

TEST_F(WorkerTest, ShutdownLetsJobsFinishWithinTheGrace) {
  std::atomic<bool> started{false};
  registry_->Register("test.short", [&](JobContext& context) {
    started = true;
    context.SleepFor(Millis(150));
    return Outcome::Done();
  });
  const long long id = store_->Add(kTenantA, "test.short");
  StopOnExit stop_on_exit{this};
  StartWorker();
  // Wait for the handler itself: a claimed job still waiting for an executor is given back at
  // stop (its row already says "running"), which is the other test's subject, not this one's.
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));
  auto report = worker_->Stop(Millis(5'000));
  EXPECT_EQ(store_->StateOf(id), "completed");
  EXPECT_EQ(report.released, 0);
  EXPECT_EQ(report.stuck, 0);
}

TEST_F(WorkerTest, ShutdownGivesBackWhatOutlivesTheGraceWithoutUsingAnAttempt) {
  std::atomic<int> started{0};
  registry_->Register("test.endless", [&](JobContext& context) {
    ++started;
    context.SleepFor(Millis(60'000));  // returns early when cancelled
    return Outcome::Retry("interrupted");
  });
  std::vector<long long> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(store_->Add(kTenantA, "test.endless"));
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return started.load() == 4; }));
  auto report = worker_->Stop(Millis(100));
  EXPECT_EQ(report.stuck, 0);
  for (long long id : ids) {
    EXPECT_EQ(store_->StateOf(id), "available") << id;
    EXPECT_EQ(store_->RowOf(id).job.attempt, 0) << "a shutdown does not use an attempt";
  }
}

TEST_F(WorkerTest, OneTenantsBacklogDoesNotHoldBackAnothersJob) {
  options_.concurrency = 2;
  options_.tenant_concurrency = 2;
  std::mutex mutex;
  std::vector<std::string> order;
  registry_->Register("test.record", [&](JobContext& context) {
    context.SleepFor(Millis(2));
    std::lock_guard lock(mutex);
    order.push_back(context.job().tenant_id);
    return Outcome::Done();
  });
  for (int i = 0; i < 300; ++i) store_->Add(kTenantA, "test.record");
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mutex);
    return order.size() >= 20;
  }));
  const long long b = store_->Add(kTenantB, "test.record");
  worker_->OnWake(EncodeWake(kTenantB, Clock::now()));
  size_t a_before_b = 0;
  {
    std::lock_guard lock(mutex);
    a_before_b = order.size();
  }
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(b) == "completed"; }));
  std::lock_guard lock(mutex);
  const size_t b_at = std::find(order.begin(), order.end(), kTenantB) - order.begin();
  EXPECT_LE(b_at, a_before_b + 4) << "B ran within a couple of claims of its wakeup";
  EXPECT_LT(order.size(), 300u) << "A still had a backlog when B ran";
}

TEST_F(WorkerTest, ATenantNeverRunsMoreThanItsLimit) {
  options_.concurrency = 6;
  tenants_->Add(kTenantA, "active", {{"job_concurrency", 2}});
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> b_ran{0};
  registry_->Register("test.count", [&](JobContext& context) {
    if (context.job().tenant_id == kTenantB) {
      ++b_ran;
      return Outcome::Done();
    }
    const int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    // Held until two run at once (the limit allows it), so the peak is reached whatever the
    // machine's speed; then a little work, so a worker breaking the limit would show a third.
    WaitFor([&] { return peak.load() >= 2; }, Millis(5'000));
    context.SleepFor(Millis(20));
    --running;
    return Outcome::Done();
  });
  std::vector<long long> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(store_->Add(kTenantA, "test.count"));
  store_->Add(kTenantB, "test.count");
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    for (long long id : ids) {
      if (store_->StateOf(id) != "completed") return false;
    }
    return true;
  }));
  EXPECT_EQ(peak.load(), 2);
  EXPECT_EQ(b_ran.load(), 1);
}

TEST_F(WorkerTest, SuspendedTenantsJobsWait) {
  tenants_->Add(kTenantA, "suspended");
  std::atomic<int> runs{0};
  registry_->Register("test.any", [&](JobContext&) {
    ++runs;
    return Outcome::Done();
  });
  const long long waiting = store_->Add(kTenantA, "test.any");
  const long long other = store_->Add(kTenantB, "test.any");
  StopOnExit stop_on_exit{this};
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(other) == "completed"; }));
  // Looked up twice (found suspended), so a claim round that saw it suspended is over.
  ASSERT_TRUE(WaitFor([&] { return tenants_->lookups(kTenantA) >= 2; }));
  EXPECT_EQ(store_->StateOf(waiting), "available");
  tenants_->Add(kTenantA, "active");  // resumed: the next scan brings it back
  ASSERT_TRUE(WaitFor([&] { return store_->StateOf(waiting) == "completed"; }));
  EXPECT_EQ(runs.load(), 2);
}

}  // namespace
}  // namespace clinicore::jobs
