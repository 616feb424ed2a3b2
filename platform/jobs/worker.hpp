#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/metrics.hpp"
#include "platform/jobs/backoff.hpp"
#include "platform/jobs/job_store.hpp"
#include "platform/jobs/registry.hpp"
#include "platform/jobs/rotation.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::tenancy {
class TenantDirectory;
}

namespace clinicore::jobs {

class JobClient;

// Where the worker learns a tenant's status, time zone, scope and job concurrency limit.
class TenantLookup {
 public:
  virtual ~TenantLookup() = default;
  // nullopt when no such tenant exists (purged); Unavailable when the registry cannot be read.
  virtual core::Result<std::optional<tenancy::Tenant>> Find(const std::string& tenant_id) = 0;
};

// The tenant directory's cache (pub/sub invalidated, TTL bounded) as a TenantLookup.
class DirectoryTenantLookup : public TenantLookup {
 public:
  explicit DirectoryTenantLookup(std::shared_ptr<tenancy::TenantDirectory> directory)
      : directory_(std::move(directory)) {}
  core::Result<std::optional<tenancy::Tenant>> Find(const std::string& tenant_id) override;

 private:
  std::shared_ptr<tenancy::TenantDirectory> directory_;
};

struct WorkerOptions {
  std::string worker_id;                 // unique per process; default: <host>:<pid>:<random>
  int concurrency = 8;                   // handlers running at once in this worker
  int tenant_concurrency = 4;            // per tenant, over all workers (limits.job_concurrency overrides)
  Millis lease{30'000};                  // renewed every lease/3 while the job runs
  Millis poll_interval{1'000};           // rescan of the queue while wakeups are unavailable
  Millis idle_poll_interval{5'000};      // rescan while wakeups work (a safety net)
  Millis job_timeout{60'000};            // per attempt, unless the kind sets its own
  BackoffPolicy backoff;                 // retries (and reclaimed leases)
  Millis retention{24LL * 3'600'000};    // completed and discarded jobs are kept this long
  Millis depth_sample_interval{15'000};  // queue depth gauges
  Millis schedule_sync_interval{60'000};
  Millis schedule_check_interval{1'000};
  Millis prune_interval{300'000};
};

// Runs jobs: claims due jobs fairly across tenants, runs their handlers on a pool of threads
// under renewed leases, writes outcomes back in batches, reclaims the expired leases of dead
// workers, fires recurring schedules, prunes finished jobs. See docs/jobs.md.
//
// Threads: one claimer, `concurrency` executors, one settler (outcomes), one lease keeper
// (renewals and deadlines), one for maintenance. The database pool must hold concurrency + 4
// connections for the worker not to wait on itself.
class Worker {
 public:
  Worker(WorkerOptions options, std::shared_ptr<const JobRegistry> registry, std::shared_ptr<JobStore> store,
         std::shared_ptr<TenantLookup> tenants, std::shared_ptr<core::Metrics> metrics, db::Database* database,
         JobClient* client);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();

  // A commit enqueued work (a message from the wake channel, see EncodeWake).
  void OnWake(const std::string& message);
  // Wakeups became (un)available: the rescan interval follows, and a resubscription rescans.
  void OnWakeupsState(bool subscribed);

  struct StopReport {
    int released = 0;  // attempts given back without counting (shutdown)
    int stuck = 0;     // handlers still running after the grace (their threads are left behind)
  };
  // Graceful shutdown: stops claiming, lets running jobs finish for up to `grace`, then asks
  // the rest to stop (CancelReason::kShutdown) and gives their attempts back to the queue
  // (they run again elsewhere, at once), and writes every outcome. When `stuck` is not zero
  // the process must exit without destroying the worker.
  StopReport Stop(Millis grace);

  const std::string& id() const { return options_.worker_id; }
  int active() const;  // claimed and not yet settled

 private:
  struct Active {
    Job job;
    std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
    std::chrono::steady_clock::time_point deadline;
    Millis timeout{0};
    bool started = false;
    bool settled = false;
  };
  struct TenantInfo {
    enum class State { kUnknown, kRunnable, kInactive, kGone };  // unknown: registry unreadable
    State state = State::kUnknown;
    int limit = 0;
  };

  void ClaimLoop();
  void ExecutorLoop();
  void SettleLoop();
  void LeaseLoop();
  void MaintenanceLoop();

  void ClaimOnce(std::unique_lock<std::mutex>& lock);
  void Discover();
  TenantInfo LookUp(const std::string& tenant_id);
  void Run(const std::shared_ptr<Active>& active);
  Settlement Decide(const Active& active, const Outcome& outcome);
  // Queues the outcome of an attempt exactly once; false when it was settled already.
  bool Settle(const std::shared_ptr<Active>& active, Settlement settlement);
  void RenewLeases();
  void EnforceDeadlines();
  void ReclaimExpired();
  void SyncSchedules();
  void FireSchedules();
  void Prune();
  void SampleDepth();
  int FreeSlots() const;  // under mutex_
  void Observe(const Active& active, const Settlement& settlement);

  WorkerOptions options_;
  std::shared_ptr<const JobRegistry> registry_;
  std::shared_ptr<JobStore> store_;
  std::shared_ptr<TenantLookup> tenants_;
  std::shared_ptr<core::Metrics> metrics_;
  db::Database* database_;
  JobClient* client_;
  std::vector<std::string> kinds_;

  mutable std::mutex mutex_;
  std::condition_variable claim_cv_;  // claimer: work or capacity
  std::condition_variable exec_cv_;   // executors: pending jobs
  std::condition_variable idle_cv_;   // Stop: executors went idle
  TenantRotation rotation_;
  std::map<long long, std::shared_ptr<Active>> active_;  // claimed, outcome not yet written
  std::deque<std::shared_ptr<Active>> pending_;          // claimed, not yet started
  std::map<std::string, int> active_per_tenant_;
  int busy_executors_ = 0;
  int released_at_stop_ = 0;
  bool plan_blocked_ = false;  // every ready tenant is at its limit: wait for a change
  bool rescan_now_ = true;
  bool wakeups_up_ = false;
  bool stopping_ = false;
  bool executors_stop_ = false;
  std::chrono::steady_clock::time_point next_rescan_{};

  std::mutex settle_mutex_;
  std::condition_variable settle_cv_;
  std::vector<std::pair<std::shared_ptr<Active>, Settlement>> to_settle_;
  int settling_ = 0;  // outcomes taken by the settler, not yet written
  bool settler_stop_ = false;

  std::mutex service_mutex_;
  std::condition_variable service_cv_;
  bool services_stop_ = false;

  std::mt19937_64 random_;
  std::mutex random_mutex_;
  std::set<std::string> depth_labels_;  // label sets of the depth gauge seen so far

  std::thread claimer_;
  std::vector<std::thread> executors_;
  std::thread settler_;
  std::thread lease_keeper_;
  std::thread maintenance_;
  bool started_ = false;
  bool stopped_ = false;
};

// "<host>:<pid>:<8 hex>".
std::string DefaultWorkerId();

// Names of the worker's metrics (rendered on the worker's /metrics; the depth gauge also on
// the API's, see DepthSampler).
inline constexpr const char* kMetricStartLatency = "clinicore_job_start_latency_seconds";
inline constexpr const char* kMetricRunTime = "clinicore_job_run_seconds";
inline constexpr const char* kMetricFinished = "clinicore_jobs_finished_total";
inline constexpr const char* kMetricFailures = "clinicore_job_failures_total";
inline constexpr const char* kMetricReclaimed = "clinicore_jobs_reclaimed_total";
inline constexpr const char* kMetricDepth = "clinicore_jobs_depth";
inline constexpr const char* kMetricOldestDue = "clinicore_jobs_oldest_due_seconds";

// Samples the queue depth into the depth gauges every `interval` on a thread of its own (the
// API process runs one, so its /metrics shows the queue too).
class DepthSampler {
 public:
  DepthSampler(std::shared_ptr<JobStore> store, std::shared_ptr<core::Metrics> metrics, Millis interval);
  ~DepthSampler();
  void Start();
  void Stop();
  void SampleOnce();

 private:
  std::shared_ptr<JobStore> store_;
  std::shared_ptr<core::Metrics> metrics_;
  Millis interval_;
  std::set<std::string> seen_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = true;
  std::thread thread_;
};

void DescribeDepthMetrics(core::Metrics& metrics);
// Writes rows into the depth gauges; label sets seen before and absent now are set to 0.
void PublishDepth(core::Metrics& metrics, const std::vector<DepthRow>& rows, std::set<std::string>& seen);

}  // namespace clinicore::jobs
