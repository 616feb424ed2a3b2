#pragma once

#include <memory>

#include "platform/db/database.hpp"
#include "platform/jobs/registry.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::jobs {

struct PlatformJobOptions {
  Millis purge_interval{3'600'000};
  int spares_per_cell = 2;
  Millis spares_interval{15'000};
};

// The platform's own recurring work, each fired once per interval whatever the number of
// workers: `platform.tenant-purge` (TenantService::PurgeDue) and `platform.tenant-spares`
// (TenantService::RefillSpares).
void RegisterPlatformJobs(JobRegistry& registry, std::shared_ptr<tenancy::TenantService> tenants,
                          const PlatformJobOptions& options);

// Kinds for tests and benchmarks, registered only when CLINICORE_WORK_TEST_KINDS=1; never in
// production. Both run for a tenant, in its scope.
//   platform.noop         does nothing; payload {"sleep_ms": n} sleeps first (cancellable).
//   platform.test-effect  payload {"sleep_ms": n, "fail_attempts": n, "throw": bool,
//                         "fail": "permanent"}: sleeps, then fails (retry, or an exception
//                         with "throw") while attempt <= fail_attempts, or for good with
//                         "fail"; otherwise writes its effect in the tenant's schema, keyed by
//                         the job's idempotency key: a row in job_test_effects (INSERT … ON
//                         CONFLICT DO NOTHING, so a second run has no second effect) and, on
//                         every run, a row in job_test_runs. Both tables are created on first
//                         use. Tests count them.
// Registers their statements: call before the pool opens a connection.
void RegisterTestKinds(JobRegistry& registry, db::Database& database);

}  // namespace clinicore::jobs
