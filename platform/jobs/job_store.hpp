#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "platform/core/result.hpp"
#include "platform/jobs/backoff.hpp"
#include "platform/jobs/job.hpp"
#include "platform/jobs/schedule.hpp"

namespace clinicore::db {
class Database;
}

namespace clinicore::jobs {

// One tenant in one claim: how many jobs this worker asks for (its fair share of the free
// slots) and the tenant's concurrency limit over all workers.
struct ClaimCandidate {
  std::string tenant_id;
  int quota = 0;
  int limit = 0;
};

// The outcome of one attempt, as written back.
struct Settlement {
  enum class State { kCompleted, kRetry, kDead, kDiscarded, kRelease };
  long long id = 0;
  int attempt = 0;
  std::string tenant_id;
  State state = State::kCompleted;
  Millis delay{0};                   // kRetry: due again after this
  std::optional<std::string> error;  // kept as last_error
  std::string snooze_reason;         // kRelease asked for by the handler (Outcome::Snooze): logged, never stored
};

struct DueTenant {
  std::string tenant_id;
  Clock::time_point next_run_at;  // database clock
  Clock::time_point database_now;
};

struct Reclaimed {
  std::vector<std::string> tenants;  // tenants with a job due again
  int available = 0;
  int dead = 0;
  // The reclaimed jobs (id, tenant, kind, payload, the attempt that was lost), for the kinds'
  // on_reclaimed hooks.
  std::vector<Job> jobs;
};

struct DueSchedule {
  std::string name;
  std::string tenant_id;
  std::optional<Clock::time_point> next_fire_at;  // nullopt: never computed
  Clock::time_point database_now;
};

// What to do with one due schedule row: move it to `next`, and enqueue `job` when set.
struct SchedulePlan {
  Clock::time_point next;
  struct Fire {
    std::string kind;
    nlohmann::json payload;
    EnqueueOptions options;
  };
  std::optional<Fire> fire;
};

struct FiredSchedules {
  int rows = 0;                   // due rows seen (locked)
  int advanced = 0;               // rows moved on
  std::vector<EnqueuedJob> jobs;  // jobs enqueued (new ones only)
};

struct DepthRow {
  std::string kind;
  std::string state;  // due | scheduled | running | dead
  long long count = 0;
  double oldest_due_seconds = 0;
};

// Everything the worker needs from the queue's storage. PgJobStore is the implementation;
// tests of the worker's logic use a fake.
class JobStore {
 public:
  virtual ~JobStore() = default;

  virtual core::Result<std::vector<Job>> Claim(const std::vector<ClaimCandidate>& candidates,
                                               const std::vector<std::string>& kinds, const std::string& worker_id,
                                               Millis lease) = 0;
  // Returns the ids written; an attempt this worker no longer holds is left alone.
  virtual core::Result<std::vector<long long>> Settle(const std::vector<Settlement>& outcomes,
                                                      const std::string& worker_id) = 0;
  // Returns the ids whose lease this worker still holds.
  virtual core::Result<std::vector<long long>> RenewLeases(const std::vector<long long>& ids,
                                                           const std::string& worker_id, Millis lease) = 0;
  virtual core::Result<Reclaimed> ReclaimExpired(const BackoffPolicy& backoff, int limit) = 0;
  virtual core::Result<std::vector<DueTenant>> DueTenants(const std::vector<std::string>& kinds) = 0;

  // Makes sure every schedule has its rows (one per tenant for tenant schedules).
  virtual core::Status SyncSchedules(const std::vector<std::pair<const Schedule*, JobScope>>& schedules) = 0;
  // Locks due schedule rows (SKIP LOCKED), asks `plan` what to do with each, enqueues and
  // advances them in one transaction. A row `plan` fails for stays due.
  virtual core::Result<FiredSchedules> FireDueSchedules(
      const std::vector<std::string>& names, const std::function<core::Result<SchedulePlan>(const DueSchedule&)>& plan,
      int limit) = 0;
  // The earliest next fire time of these schedules (nullopt when none is computed yet).
  virtual core::Result<std::optional<Clock::time_point>> EarliestSchedule(const std::vector<std::string>& names) = 0;

  virtual core::Result<long long> Prune(Millis retention, int limit) = 0;
  virtual core::Result<long long> DeleteOrphans(int limit) = 0;
  virtual core::Result<std::vector<DepthRow>> Depth() = 0;
};

class PgJobStore : public JobStore {
 public:
  explicit PgJobStore(db::Database& database) : database_(database) {}

  core::Result<std::vector<Job>> Claim(const std::vector<ClaimCandidate>& candidates,
                                       const std::vector<std::string>& kinds, const std::string& worker_id,
                                       Millis lease) override;
  core::Result<std::vector<long long>> Settle(const std::vector<Settlement>& outcomes,
                                              const std::string& worker_id) override;
  core::Result<std::vector<long long>> RenewLeases(const std::vector<long long>& ids, const std::string& worker_id,
                                                   Millis lease) override;
  core::Result<Reclaimed> ReclaimExpired(const BackoffPolicy& backoff, int limit) override;
  core::Result<std::vector<DueTenant>> DueTenants(const std::vector<std::string>& kinds) override;
  core::Status SyncSchedules(const std::vector<std::pair<const Schedule*, JobScope>>& schedules) override;
  core::Result<FiredSchedules> FireDueSchedules(
      const std::vector<std::string>& names, const std::function<core::Result<SchedulePlan>(const DueSchedule&)>& plan,
      int limit) override;
  core::Result<std::optional<Clock::time_point>> EarliestSchedule(const std::vector<std::string>& names) override;
  core::Result<long long> Prune(Millis retention, int limit) override;
  core::Result<long long> DeleteOrphans(int limit) override;
  core::Result<std::vector<DepthRow>> Depth() override;

 private:
  db::Database& database_;
};

// PostgreSQL array literals for parameters: {"a","b"} (quoted, escaped) and {1,2}.
std::string TextArray(const std::vector<std::string>& values);
std::string BigintArray(const std::vector<long long>& values);

}  // namespace clinicore::jobs
