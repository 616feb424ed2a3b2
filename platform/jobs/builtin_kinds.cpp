#include "platform/jobs/builtin_kinds.hpp"

#include <mutex>
#include <set>
#include <stdexcept>

#include "platform/core/log.hpp"

namespace clinicore::jobs {
namespace {

constexpr const char* kTestRecordRun = "jobs.test_record_run";
constexpr const char* kTestRecordRunSql =
    "INSERT INTO job_test_runs (idempotency_key, job_id, attempt) VALUES ($1, $2, $3)";
constexpr const char* kTestRecordEffect = "jobs.test_record_effect";
constexpr const char* kTestRecordEffectSql =
    "INSERT INTO job_test_effects (idempotency_key, job_id, attempt) VALUES ($1, $2, $3) "
    "ON CONFLICT (idempotency_key) DO NOTHING";
constexpr const char* kTestTablesSql =
    "CREATE TABLE IF NOT EXISTS job_test_effects (idempotency_key text PRIMARY KEY, job_id bigint NOT NULL, "
    "attempt integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp()); "
    "CREATE TABLE IF NOT EXISTS job_test_runs (id bigserial PRIMARY KEY, idempotency_key text NOT NULL, "
    "job_id bigint NOT NULL, attempt integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())";

Outcome Cancelled(const JobContext& context) {
  return Outcome::Retry("cancelled (" + std::string(CancelReasonName(context.cancel_reason())) + ")");
}

class TestEffect : public JobHandler {
 public:
  Outcome Run(JobContext& context) override {
    const Job& job = context.job();
    const auto& payload = job.payload;
    if (const long long sleep_ms = payload.value("sleep_ms", 0LL); sleep_ms > 0) {
      if (!context.SleepFor(Millis(sleep_ms))) return Cancelled(context);
    }
    if (payload.value("fail", std::string()) == "permanent") return Outcome::Fail("test-effect: told to fail for good");
    if (job.attempt <= payload.value("fail_attempts", 0)) {
      const std::string why = "test-effect: failing attempt " + std::to_string(job.attempt);
      if (payload.value("throw", false)) throw std::runtime_error(why);
      return Outcome::Retry(why);
    }
    const db::TenantScope scope = context.tenant()->Scope();
    if (auto ready = EnsureTables(context, scope); !ready) {
      // Another worker creating the same tables at the same moment: the retry finds them.
      return Outcome::Retry("test-effect: cannot create its tables: " + ready.error().internal);
    }
    auto written = context.database().WriteInTenant(scope, [&](db::Transaction& tx) -> core::Status {
      tx.Exec(kTestRecordRun, job.idempotency_key, job.id, job.attempt);
      tx.Exec(kTestRecordEffect, job.idempotency_key, job.id, job.attempt);
      tx.Commit();
      return core::Ok();
    });
    if (!written) return Outcome::FromError(written.error());
    return Outcome::Done();
  }

 private:
  core::Status EnsureTables(JobContext& context, const db::TenantScope& scope) {
    std::lock_guard lock(mutex_);  // one creation per schema in this process
    if (ready_.count(scope.schema) != 0) return core::Ok();
    auto created = context.database().WriteInTenant(scope, [](db::Transaction& tx) -> core::Status {
      tx.ExecScript(kTestTablesSql);
      tx.Commit();
      return core::Ok();
    });
    if (created) ready_.insert(scope.schema);
    return created;
  }

  std::mutex mutex_;
  std::set<std::string> ready_;
};

}  // namespace

void RegisterPlatformJobs(JobRegistry& registry, std::shared_ptr<tenancy::TenantService> tenants,
                          const PlatformJobOptions& options) {
  registry.Register("platform.tenant-purge",
                    [tenants](JobContext&) {
                      auto outcome = tenants->PurgeDue({"work:purge", ""});
                      if (!outcome) return Outcome::FromError(outcome.error());
                      for (const auto& [slug, result] : *outcome) {
                        core::log::Info("tenant_purge", {{"slug", slug}, {"result", result}});
                      }
                      return Outcome::Done();
                    },
                    {.scope = JobScope::kPlatform, .timeout = Millis(30 * 60'000)});
  registry.AddSchedule({.name = "platform.tenant-purge",
                        .kind = "platform.tenant-purge",
                        .spec = ScheduleSpec::Every(options.purge_interval),
                        .max_attempts = 3});
  registry.Register("platform.tenant-spares",
                    [tenants, per_cell = options.spares_per_cell](JobContext&) {
                      auto report = tenants->RefillSpares(per_cell);
                      if (!report) return Outcome::FromError(report.error());
                      if (report->created > 0 || report->dropped > 0) {
                        core::log::Info(
                            "tenant_spares",
                            {{"created", report->created}, {"dropped", report->dropped}, {"per_cell", per_cell}});
                      }
                      return Outcome::Done();
                    },
                    {.scope = JobScope::kPlatform, .timeout = Millis(30 * 60'000)});
  registry.AddSchedule({.name = "platform.tenant-spares",
                        .kind = "platform.tenant-spares",
                        .spec = ScheduleSpec::Every(options.spares_interval),
                        .max_attempts = 3});
}

void RegisterTestKinds(JobRegistry& registry, db::Database& database) {
  database.RegisterStatement(kTestRecordRun, kTestRecordRunSql);
  database.RegisterStatement(kTestRecordEffect, kTestRecordEffectSql);
  registry.Register("platform.noop", [](JobContext& context) {
    if (const long long sleep_ms = context.job().payload.value("sleep_ms", 0LL); sleep_ms > 0) {
      if (!context.SleepFor(Millis(sleep_ms))) return Cancelled(context);
    }
    return Outcome::Done();
  });
  registry.Register("platform.test-effect", std::make_shared<TestEffect>());
}

}  // namespace clinicore::jobs
