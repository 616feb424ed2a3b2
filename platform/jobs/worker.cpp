#include "platform/jobs/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "platform/core/log.hpp"
#include "platform/jobs/enqueue.hpp"
#include "platform/tenancy/tenant_directory.hpp"

namespace clinicore::jobs {
namespace {

using SteadyClock = std::chrono::steady_clock;
using core::Result;

constexpr int kReclaimBatch = 500;
constexpr int kPruneBatch = 5'000;
constexpr int kScheduleBatch = 200;
constexpr core::Millis kFlushTimeout{5'000};
constexpr core::Millis kCancelGrace{1'000};

double Seconds(Clock::duration duration) {
  return std::max(0.0, std::chrono::duration<double>(duration).count());
}

Settlement SettlementFor(const Job& job, Settlement::State state = Settlement::State::kCompleted) {
  Settlement settlement;
  settlement.id = job.id;
  settlement.attempt = job.attempt;
  settlement.tenant_id = job.tenant_id;
  settlement.state = state;
  return settlement;
}

std::string_view OutcomeName(Settlement::State state) {
  switch (state) {
    case Settlement::State::kCompleted:
      return "completed";
    case Settlement::State::kRetry:
      return "retry";
    case Settlement::State::kDead:
      return "dead";
    case Settlement::State::kDiscarded:
      return "discarded";
    case Settlement::State::kRelease:
      return "released";
  }
  return "dead";
}

// Logs a failure once when it starts and once when it ends, not on every retry.
class FailureStreak {
 public:
  void Failed(std::string_view event, const core::Error& error) {
    if (!failing_) core::log::Warn(event, {{"detail", error.detail}, {"what", error.internal}});
    failing_ = true;
  }
  void Succeeded(std::string_view event) {
    if (failing_) core::log::Info(event);
    failing_ = false;
  }

 private:
  bool failing_ = false;
};

int JobConcurrencyOf(const tenancy::Tenant& tenant, int fallback) {
  auto it = tenant.limits.find("job_concurrency");
  if (it != tenant.limits.end() && it->is_number_integer() && it->get<long long>() > 0) {
    return static_cast<int>(std::min<long long>(it->get<long long>(), 100'000));
  }
  return fallback;
}

}  // namespace

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::random_device device;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(device()));
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + suffix;
}

Result<std::optional<tenancy::Tenant>> DirectoryTenantLookup::Find(const std::string& tenant_id) {
  auto tenant = directory_->Resolve(tenant_id);
  if (tenant) return std::optional<tenancy::Tenant>(std::move(tenant).value());
  if (tenant.error().code == core::ErrorCode::kNotFound) return std::optional<tenancy::Tenant>();
  return std::move(tenant).error();
}

// ---- depth gauges ---------------------------------------------------------------------------

void DescribeDepthMetrics(core::Metrics& metrics) {
  metrics.DescribeGauge(kMetricDepth,
                        "Jobs in the queue by kind and state (due, scheduled, running, dead), sampled periodically.");
  metrics.DescribeGauge(kMetricOldestDue, "Age in seconds of the oldest due job that has not started, by kind.");
}

void PublishDepth(core::Metrics& metrics, const std::vector<DepthRow>& rows, std::set<std::string>& seen) {
  std::set<std::string> now;
  std::map<std::string, double> oldest;
  for (const auto& row : rows) {
    metrics.SetGauge(kMetricDepth, {{"kind", row.kind}, {"state", row.state}}, static_cast<double>(row.count));
    now.insert(row.kind + "|" + row.state);
    if (row.state == "due") oldest[row.kind] = std::max(oldest[row.kind], row.oldest_due_seconds);
  }
  for (const auto& key : seen) {
    if (now.count(key) != 0) continue;
    const auto bar = key.find('|');
    const std::string kind = key.substr(0, bar);
    const std::string state = key.substr(bar + 1);
    if (!state.empty()) metrics.SetGauge(kMetricDepth, {{"kind", kind}, {"state", state}}, 0);
  }
  for (const auto& key : seen) {
    const auto bar = key.find('|');
    const std::string kind = key.substr(0, bar);
    if (oldest.count(kind) == 0) metrics.SetGauge(kMetricOldestDue, {{"kind", kind}}, 0);
  }
  for (const auto& [kind, seconds] : oldest) metrics.SetGauge(kMetricOldestDue, {{"kind", kind}}, seconds);
  seen.insert(now.begin(), now.end());
}

DepthSampler::DepthSampler(std::shared_ptr<JobStore> store, std::shared_ptr<core::Metrics> metrics, Millis interval)
    : store_(std::move(store)), metrics_(std::move(metrics)), interval_(interval) {
  DescribeDepthMetrics(*metrics_);
}

DepthSampler::~DepthSampler() {
  Stop();
}

void DepthSampler::Start() {
  std::lock_guard lock(mutex_);
  if (!stop_) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      lock.unlock();
      SampleOnce();
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  });
}

void DepthSampler::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DepthSampler::SampleOnce() {
  auto rows = store_->Depth();
  if (!rows) {
    core::log::Debug("job_depth_unavailable", {{"detail", rows.error().detail}});
    return;
  }
  PublishDepth(*metrics_, *rows, seen_);
}

// ---- worker ---------------------------------------------------------------------------------

Worker::Worker(WorkerOptions options, std::shared_ptr<const JobRegistry> registry, std::shared_ptr<JobStore> store,
               std::shared_ptr<TenantLookup> tenants, std::shared_ptr<core::Metrics> metrics, db::Database* database,
               JobClient* client)
    : options_(std::move(options)),
      registry_(std::move(registry)),
      store_(std::move(store)),
      tenants_(std::move(tenants)),
      metrics_(std::move(metrics)),
      database_(database),
      client_(client),
      kinds_(registry_->Kinds()),
      random_(std::random_device{}()) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
  options_.concurrency = std::max(1, options_.concurrency);
  options_.tenant_concurrency = std::max(1, options_.tenant_concurrency);
  metrics_->DescribeHistogram(kMetricStartLatency,
                              "Seconds from a job becoming due (its enqueue, or its run_at when later) to the start "
                              "of an attempt, by kind.",
                              {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300});
  metrics_->DescribeHistogram(kMetricRunTime, "Seconds one attempt of a job ran, by kind.",
                              {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300});
  metrics_->DescribeCounter(kMetricFinished,
                            "Attempts finished, by kind and outcome (completed, retry, dead, discarded, released).");
  metrics_->DescribeCounter(kMetricFailures, "Attempts that failed (to be retried, or dead-lettered), by kind.");
  metrics_->DescribeCounter(kMetricReclaimed, "Jobs taken back from a worker that stopped renewing its lease.");
  DescribeDepthMetrics(*metrics_);
  metrics_->AddSampledGauge("clinicore_jobs_active", "Jobs this worker holds: claimed, outcome not yet written.",
                            [this] { return active(); });
  metrics_->AddSampledGauge("clinicore_job_wakeups_subscribed", "1 while this worker receives wakeups from Redis.",
                            [this] {
                              std::lock_guard lock(mutex_);
                              return wakeups_up_ ? 1.0 : 0.0;
                            });
}

Worker::~Worker() {
  if (started_ && !stopped_) Stop(Millis(0));
  // The registry may outlive the worker: stop it from sampling a dead object.
  metrics_->AddSampledGauge("clinicore_jobs_active", "", [] { return 0.0; });
  metrics_->AddSampledGauge("clinicore_job_wakeups_subscribed", "", [] { return 0.0; });
}

int Worker::active() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(active_.size());
}

int Worker::FreeSlots() const {
  return options_.concurrency - busy_executors_ - static_cast<int>(pending_.size());
}

void Worker::Start() {
  if (started_) return;
  started_ = true;
  next_rescan_ = SteadyClock::now();
  claimer_ = std::thread([this] { ClaimLoop(); });
  for (int i = 0; i < options_.concurrency; ++i) executors_.emplace_back([this] { ExecutorLoop(); });
  settler_ = std::thread([this] { SettleLoop(); });
  lease_keeper_ = std::thread([this] { LeaseLoop(); });
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
  core::log::Info("job_worker_started", {{"worker", options_.worker_id},
                                         {"concurrency", options_.concurrency},
                                         {"tenant_concurrency", options_.tenant_concurrency},
                                         {"lease_ms", options_.lease.count()},
                                         {"kinds", kinds_},
                                         {"schedules", registry_->schedules().size()}});
}

void Worker::OnWake(const std::string& message) {
  auto wake = DecodeWake(message);
  if (!wake) return;
  const auto now = SteadyClock::now();
  const auto delay = wake->second - Clock::now();
  {
    std::lock_guard lock(mutex_);
    rotation_.MarkDueAt(wake->first, now + std::chrono::duration_cast<SteadyClock::duration>(delay), now);
    plan_blocked_ = false;
  }
  claim_cv_.notify_one();
}

void Worker::OnWakeupsState(bool subscribed) {
  {
    std::lock_guard lock(mutex_);
    // Wakeups published while we were not subscribed are lost: rescan on (re)subscription.
    if (subscribed && !wakeups_up_) rescan_now_ = true;
    wakeups_up_ = subscribed;
    if (!subscribed) next_rescan_ = std::min(next_rescan_, SteadyClock::now() + options_.poll_interval);
  }
  claim_cv_.notify_one();
}

// ---- claiming -------------------------------------------------------------------------------

void Worker::ClaimLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = SteadyClock::now();
    const auto next_timer = rotation_.Advance(now);
    if (rescan_now_ || now >= next_rescan_) {
      rescan_now_ = false;
      next_rescan_ = now + (wakeups_up_ ? options_.idle_poll_interval : options_.poll_interval);
      lock.unlock();
      Discover();
      lock.lock();
      plan_blocked_ = false;
      continue;
    }
    if (FreeSlots() > 0 && rotation_.HasReady() && !plan_blocked_) {
      ClaimOnce(lock);
      continue;
    }
    auto until = next_rescan_;
    if (next_timer && *next_timer < until) until = *next_timer;
    claim_cv_.wait_until(lock, until);
  }
}

void Worker::Discover() {
  static thread_local FailureStreak streak;
  auto due = store_->DueTenants(kinds_);
  if (!due) {
    streak.Failed("job_scan_failed", due.error());
    return;
  }
  streak.Succeeded("job_scan_recovered");
  const auto now = SteadyClock::now();
  std::lock_guard lock(mutex_);
  for (const auto& tenant : *due) {
    const auto delay = std::chrono::duration_cast<SteadyClock::duration>(tenant.next_run_at - tenant.database_now);
    rotation_.MarkDueAt(tenant.tenant_id, now + delay, now);
  }
}

Worker::TenantInfo Worker::LookUp(const std::string& tenant_id) {
  using State = TenantInfo::State;
  if (tenant_id == kPlatformTenant) return {State::kRunnable, options_.tenant_concurrency};
  auto found = tenants_->Find(tenant_id);
  if (!found) return {State::kUnknown, 0};
  if (!*found) return {State::kGone, 0};
  const tenancy::Tenant& tenant = **found;
  if (tenant.status != "active") return {State::kInactive, 0};
  return {State::kRunnable, JobConcurrencyOf(tenant, options_.tenant_concurrency)};
}

void Worker::ClaimOnce(std::unique_lock<std::mutex>& lock) {
  static thread_local FailureStreak streak;
  const std::vector<std::string> front = rotation_.Front(static_cast<size_t>(FreeSlots()) * 2 + 8);
  lock.unlock();
  std::map<std::string, TenantInfo> infos;
  for (const auto& tenant : front) infos[tenant] = LookUp(tenant);
  lock.lock();
  if (stopping_) return;
  auto plan = rotation_.Plan(
      FreeSlots(),
      [&](const std::string& tenant) {
        auto it = infos.find(tenant);
        if (it == infos.end() || it->second.state != TenantInfo::State::kRunnable) return 0;
        auto running = active_per_tenant_.find(tenant);
        return it->second.limit - (running == active_per_tenant_.end() ? 0 : running->second);
      },
      static_cast<size_t>(std::max(0, FreeSlots())));
  // Suspended, offboarding and purged tenants leave the rotation (a later scan brings back the
  // ones active again); their jobs wait in the queue, and a purge deletes them. A tenant whose
  // registry row cannot be read now keeps its place.
  for (const auto& [tenant, info] : infos) {
    if (info.state == TenantInfo::State::kInactive || info.state == TenantInfo::State::kGone) {
      rotation_.Remove(tenant);
    }
  }
  if (plan.empty()) {
    plan_blocked_ = true;  // every ready tenant is at its limit; a settled job or a wake unblocks
    return;
  }
  std::vector<ClaimCandidate> candidates;
  for (const auto& entry : plan) candidates.push_back({entry.tenant_id, entry.quota, infos[entry.tenant_id].limit});
  lock.unlock();
  auto claimed = store_->Claim(candidates, kinds_, options_.worker_id, options_.lease);
  if (!claimed) {
    streak.Failed("job_claim_failed", claimed.error());
    lock.lock();
    // The database is unavailable: try again shortly (the tenants keep their place).
    claim_cv_.wait_for(lock, std::min(options_.poll_interval, Millis(500)), [this] { return stopping_; });
    return;
  }
  streak.Succeeded("job_claim_recovered");
  lock.lock();
  std::map<std::string, int> got;
  std::vector<std::shared_ptr<Active>> give_back;  // claimed while the worker began to stop
  for (Job& job : *claimed) {
    ++got[job.tenant_id];
    auto active = std::make_shared<Active>();
    const auto* entry = registry_->Find(job.kind);
    active->timeout = entry && entry->options.timeout ? *entry->options.timeout : options_.job_timeout;
    active->job = std::move(job);
    ++active_per_tenant_[active->job.tenant_id];
    active_[active->job.id] = active;
    if (stopping_) {
      give_back.push_back(active);
    } else {
      pending_.push_back(active);
    }
  }
  rotation_.Settle(plan, got);
  if (!claimed->empty()) exec_cv_.notify_all();
  if (!give_back.empty()) {
    lock.unlock();
    for (const auto& active : give_back) Settle(active, SettlementFor(active->job, Settlement::State::kRelease));
    lock.lock();
  }
}

// ---- running --------------------------------------------------------------------------------

void Worker::ExecutorLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    exec_cv_.wait(lock, [this] { return executors_stop_ || !pending_.empty(); });
    if (pending_.empty()) return;  // executors_stop_
    auto active = pending_.front();
    pending_.pop_front();
    if (active->settled) continue;  // lease lost or released while it waited
    if (stopping_) {                // never start a job once the worker is stopping: give it back
      lock.unlock();
      Settle(active, SettlementFor(active->job, Settlement::State::kRelease));
      lock.lock();
      continue;
    }
    active->started = true;
    active->deadline = SteadyClock::now() + active->timeout;
    ++busy_executors_;
    lock.unlock();
    Run(active);
    lock.lock();
    --busy_executors_;
    plan_blocked_ = false;
    claim_cv_.notify_one();
    idle_cv_.notify_all();
  }
}

void Worker::Run(const std::shared_ptr<Active>& active) {
  const Job& job = active->job;
  const JobRegistry::Entry* entry = registry_->Find(job.kind);
  Settlement settlement = SettlementFor(job);
  if (entry == nullptr) {  // cannot happen: claims ask only for registered kinds
    settlement.state = Settlement::State::kRelease;
    settlement.delay = options_.idle_poll_interval;
    Settle(active, settlement);
    return;
  }
  std::optional<tenancy::Tenant> tenant;
  if (entry->options.scope == JobScope::kTenant) {
    if (job.IsPlatform()) {
      settlement.state = Settlement::State::kDead;
      settlement.error = "kind " + job.kind + " runs for a tenant but was enqueued as a platform job";
      Settle(active, settlement);
      return;
    }
    auto found = tenants_->Find(job.tenant_id);
    if (!found || !*found || (*found)->status != "active") {
      if (found && !*found) {
        settlement.state = Settlement::State::kDiscarded;
        settlement.error = "the tenant no longer exists";
      } else {
        // The registry cannot be read, or the tenant was suspended since the claim: give the
        // attempt back; the job waits in the queue.
        settlement.state = Settlement::State::kRelease;
        settlement.delay = found ? options_.idle_poll_interval : options_.poll_interval;
      }
      Settle(active, settlement);
      return;
    }
    tenant = std::move(**found);
  } else if (!job.IsPlatform()) {
    settlement.state = Settlement::State::kDead;
    settlement.error = "kind " + job.kind + " is a platform kind but was enqueued for a tenant";
    Settle(active, settlement);
    return;
  }

  const auto started = Clock::now();
  metrics_->ObserveHistogram(kMetricStartLatency, {{"kind", job.kind}},
                             Seconds(started - std::max(job.run_at, job.created_at)));
  JobContext context(job, tenant ? &*tenant : nullptr, database_, client_, active->cancel, active->deadline);
  std::optional<Outcome> outcome;
  try {
    outcome = entry->handler->Run(context);
  } catch (const std::exception& e) {
    outcome = Outcome::Retry(std::string("exception: ") + e.what());
  } catch (...) {
    outcome = Outcome::Retry("exception of unknown type");
  }
  metrics_->ObserveHistogram(kMetricRunTime, {{"kind", job.kind}}, Seconds(Clock::now() - started));
  Settle(active, Decide(*active, *outcome));
}

Settlement Worker::Decide(const Active& active, const Outcome& outcome) {
  const Job& job = active.job;
  Settlement settlement = SettlementFor(job);
  // A job interrupted by a shutdown does not use up an attempt.
  if (active.cancel->reason() == CancelReason::kShutdown && outcome.kind() == Outcome::Kind::kRetry) {
    settlement.state = Settlement::State::kRelease;
    return settlement;
  }
  switch (outcome.kind()) {
    case Outcome::Kind::kDone:
      settlement.state = Settlement::State::kCompleted;
      break;
    case Outcome::Kind::kRetry:
      settlement.error = outcome.reason().empty() ? "retry requested" : outcome.reason();
      if (job.attempt >= job.max_attempts) {
        settlement.state = Settlement::State::kDead;
      } else {
        settlement.state = Settlement::State::kRetry;
        if (outcome.after()) {
          settlement.delay = std::max(Millis(0), *outcome.after());
        } else {
          std::lock_guard lock(random_mutex_);
          settlement.delay = options_.backoff.Delay(job.attempt, random_);
        }
      }
      break;
    case Outcome::Kind::kFail:
      settlement.state = Settlement::State::kDead;
      settlement.error = outcome.reason().empty() ? "failed" : outcome.reason();
      break;
    case Outcome::Kind::kSnooze:
      settlement.state = Settlement::State::kRelease;
      settlement.delay = std::max(Millis(0), outcome.after().value_or(Millis(0)));
      // Not an error: the console would list the job as failing.
      settlement.snooze_reason = outcome.reason().empty() ? "snoozed" : outcome.reason();
      break;
  }
  return settlement;
}

bool Worker::Settle(const std::shared_ptr<Active>& active, Settlement settlement) {
  {
    std::lock_guard lock(mutex_);
    if (active->settled) return false;
    active->settled = true;
    if (stopping_ && settlement.state == Settlement::State::kRelease) ++released_at_stop_;
  }
  Observe(*active, settlement);
  {
    std::lock_guard lock(settle_mutex_);
    to_settle_.emplace_back(active, std::move(settlement));
  }
  settle_cv_.notify_all();
  return true;
}

void Worker::Observe(const Active& active, const Settlement& settlement) {
  const Job& job = active.job;
  const bool snoozed = !settlement.snooze_reason.empty();
  const std::string outcome(snoozed ? "snoozed" : OutcomeName(settlement.state));
  metrics_->AddCounter(kMetricFinished, {{"kind", job.kind}, {"outcome", outcome}});
  nlohmann::json fields = {{"tenant_id", job.tenant_id},
                           {"job_id", job.id},
                           {"kind", job.kind},
                           {"attempt", job.attempt},
                           {"max_attempts", job.max_attempts}};
  if (settlement.error) fields["error"] = *settlement.error;
  switch (settlement.state) {
    case Settlement::State::kCompleted:
      core::log::Debug("job_completed", fields);
      break;
    case Settlement::State::kRetry:
      metrics_->AddCounter(kMetricFailures, {{"kind", job.kind}});
      fields["retry_in_ms"] = settlement.delay.count();
      core::log::Warn("job_failed", fields);
      break;
    case Settlement::State::kDead:
      metrics_->AddCounter(kMetricFailures, {{"kind", job.kind}});
      core::log::Error("job_dead", fields);
      break;
    case Settlement::State::kDiscarded:
      core::log::Warn("job_discarded", fields);
      break;
    case Settlement::State::kRelease:
      if (snoozed) {  // can be many per second under a rate limit: not at info level
        fields["reason"] = settlement.snooze_reason;
        fields["retry_in_ms"] = settlement.delay.count();
        core::log::Debug("job_snoozed", fields);
      } else {
        core::log::Info("job_released", fields);
      }
      break;
  }
}

// ---- writing outcomes -----------------------------------------------------------------------

void Worker::SettleLoop() {
  FailureStreak streak;
  std::vector<std::pair<std::shared_ptr<Active>, Settlement>> batch;
  Millis backoff(50);
  while (true) {
    {
      std::unique_lock lock(settle_mutex_);
      if (batch.empty()) settle_cv_.wait(lock, [this] { return settler_stop_ || !to_settle_.empty(); });
      if (batch.empty() && to_settle_.empty()) return;  // settler_stop_
      for (auto& item : to_settle_) batch.push_back(std::move(item));
      to_settle_.clear();
      settling_ = static_cast<int>(batch.size());
    }
    std::vector<Settlement> outcomes;
    outcomes.reserve(batch.size());
    for (const auto& [active, settlement] : batch) outcomes.push_back(settlement);
    auto written = store_->Settle(outcomes, options_.worker_id);
    if (!written) {
      streak.Failed("job_outcomes_not_written", written.error());
      std::unique_lock lock(settle_mutex_);
      if (settler_stop_) {
        // Shutting down with the database away: these jobs come back when their leases expire.
        core::log::Error("job_outcomes_lost_at_shutdown", {{"count", batch.size()}});
        settling_ = 0;
        to_settle_.clear();
        settle_cv_.notify_all();
        return;
      }
      settle_cv_.wait_for(lock, backoff, [this] { return settler_stop_; });
      backoff = std::min(backoff * 2, Millis(2'000));
      continue;
    }
    streak.Succeeded("job_outcomes_written");
    backoff = Millis(50);
    const auto now = SteadyClock::now();
    {
      std::lock_guard lock(mutex_);
      for (const auto& [active, settlement] : batch) {
        // Written, or left alone because the lease was lost meanwhile: either way no longer ours.
        active_.erase(active->job.id);
        auto it = active_per_tenant_.find(settlement.tenant_id);
        if (it != active_per_tenant_.end() && --it->second <= 0) active_per_tenant_.erase(it);
        if (stopping_) continue;
        if (settlement.state == Settlement::State::kRetry || settlement.state == Settlement::State::kRelease) {
          rotation_.MarkDueAt(settlement.tenant_id, now + settlement.delay, now);
        } else {
          rotation_.MarkReady(settlement.tenant_id);  // it may have more: the next claim finds out
        }
      }
      plan_blocked_ = false;
    }
    claim_cv_.notify_one();
    idle_cv_.notify_all();
    {
      std::lock_guard lock(settle_mutex_);
      settling_ = 0;
    }
    settle_cv_.notify_all();
    batch.clear();
  }
}

// ---- leases and deadlines -------------------------------------------------------------------

void Worker::LeaseLoop() {
  const Millis renew_every = std::clamp(options_.lease / 3, Millis(50), Millis(10'000));
  auto next_renewal = SteadyClock::now() + renew_every;
  std::unique_lock lock(service_mutex_);
  while (!services_stop_) {
    const auto wake = std::min(next_renewal, SteadyClock::now() + Millis(100));
    service_cv_.wait_until(lock, wake, [this] { return services_stop_; });
    if (services_stop_) break;
    lock.unlock();
    EnforceDeadlines();
    if (SteadyClock::now() >= next_renewal) {
      RenewLeases();
      next_renewal = SteadyClock::now() + renew_every;
    }
    lock.lock();
  }
}

void Worker::RenewLeases() {
  static thread_local FailureStreak streak;
  std::vector<long long> ids;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, active] : active_) ids.push_back(id);
  }
  if (ids.empty()) return;
  auto held = store_->RenewLeases(ids, options_.worker_id, options_.lease);
  if (!held) {
    streak.Failed("job_lease_renewal_failed", held.error());
    return;
  }
  streak.Succeeded("job_lease_renewal_recovered");
  const std::set<long long> still(held->begin(), held->end());
  std::lock_guard lock(mutex_);
  for (long long id : ids) {
    if (still.count(id) != 0) continue;
    auto it = active_.find(id);
    // Gone or settled meanwhile: the settler owns it (its write no longer needs the lease).
    if (it == active_.end() || it->second->settled) continue;
    auto active = it->second;
    active->settled = true;
    active->cancel->Cancel(CancelReason::kLeaseLost);
    core::log::Warn("job_lease_lost", {{"tenant_id", active->job.tenant_id},
                                       {"job_id", id},
                                       {"kind", active->job.kind},
                                       {"attempt", active->job.attempt}});
    active_.erase(it);
    auto count = active_per_tenant_.find(active->job.tenant_id);
    if (count != active_per_tenant_.end() && --count->second <= 0) active_per_tenant_.erase(count);
    if (!active->started) pending_.erase(std::remove(pending_.begin(), pending_.end(), active), pending_.end());
  }
}

void Worker::EnforceDeadlines() {
  const auto now = SteadyClock::now();
  std::vector<std::shared_ptr<Active>> late;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, active] : active_) {
      if (active->started && !active->settled && now > active->deadline) late.push_back(active);
    }
  }
  for (const auto& active : late) {
    // Settled first, so that what the handler returns once cancelled is ignored. Its thread
    // runs on until the handler returns.
    Settle(active, Decide(*active, Outcome::Retry("deadline exceeded: the attempt ran longer than " +
                                                  std::to_string(active->timeout.count()) + " ms")));
    active->cancel->Cancel(CancelReason::kDeadline);
  }
}

// ---- maintenance ----------------------------------------------------------------------------

void Worker::MaintenanceLoop() {
  const Millis reclaim_every = std::clamp(options_.lease / 3, Millis(100), Millis(5'000));
  auto now = SteadyClock::now();
  auto next_reclaim = now;
  auto next_sync = now;
  auto next_fire = now;
  auto next_prune = now + Millis(10'000);
  auto next_depth = now;
  std::unique_lock lock(service_mutex_);
  while (!services_stop_) {
    const auto until = std::min({next_reclaim, next_sync, next_fire, next_prune, next_depth});
    service_cv_.wait_until(lock, until, [this] { return services_stop_; });
    if (services_stop_) break;
    lock.unlock();
    now = SteadyClock::now();
    if (now >= next_reclaim) {
      ReclaimExpired();
      next_reclaim = SteadyClock::now() + reclaim_every;
    }
    if (now >= next_sync) {
      SyncSchedules();
      next_sync = SteadyClock::now() + options_.schedule_sync_interval;
      next_fire = now;
    }
    if (now >= next_fire) {
      FireSchedules();
      next_fire = SteadyClock::now() + options_.schedule_check_interval;
    }
    if (now >= next_prune) {
      Prune();
      next_prune = SteadyClock::now() + options_.prune_interval;
    }
    if (now >= next_depth) {
      SampleDepth();
      next_depth = SteadyClock::now() + options_.depth_sample_interval;
    }
    lock.lock();
  }
}

void Worker::ReclaimExpired() {
  static thread_local FailureStreak streak;
  auto reclaimed = store_->ReclaimExpired(options_.backoff, kReclaimBatch);
  if (!reclaimed) {
    streak.Failed("job_reclaim_failed", reclaimed.error());
    return;
  }
  streak.Succeeded("job_reclaim_recovered");
  const int total = reclaimed->available + reclaimed->dead;
  if (total == 0) return;
  metrics_->AddCounter(kMetricReclaimed, {}, total);
  core::log::Warn("jobs_reclaimed", {{"available", reclaimed->available}, {"dead", reclaimed->dead}});
  for (const auto& job : reclaimed->jobs) {
    const JobRegistry::Entry* entry = registry_->Find(job.kind);
    if (entry == nullptr || !entry->options.on_reclaimed) continue;
    try {
      entry->options.on_reclaimed(job);
    } catch (const std::exception& error) {
      core::log::Error("job_reclaim_hook_failed",
                       {{"tenant_id", job.tenant_id}, {"job_id", job.id}, {"kind", job.kind}, {"what", error.what()}});
    }
  }
  {
    std::lock_guard lock(mutex_);
    rescan_now_ = true;  // the scan learns when each reclaimed job is due again
  }
  claim_cv_.notify_one();
}

void Worker::SyncSchedules() {
  static thread_local FailureStreak streak;
  if (registry_->schedules().empty()) return;
  std::vector<std::pair<const Schedule*, JobScope>> schedules;
  for (const auto& schedule : registry_->schedules()) {
    schedules.emplace_back(&schedule, registry_->Find(schedule.kind)->options.scope);
  }
  if (auto synced = store_->SyncSchedules(schedules); !synced) {
    streak.Failed("job_schedule_sync_failed", synced.error());
    return;
  }
  streak.Succeeded("job_schedule_sync_recovered");
}

void Worker::FireSchedules() {
  static thread_local FailureStreak streak;
  if (registry_->schedules().empty()) return;
  std::vector<std::string> names;
  for (const auto& schedule : registry_->schedules()) names.push_back(schedule.name);
  auto plan = [this](const DueSchedule& due) -> Result<SchedulePlan> {
    const Schedule* schedule = registry_->FindSchedule(due.name);
    const JobScope scope = registry_->Find(schedule->kind)->options.scope;
    std::string time_zone = "UTC";
    if (scope == JobScope::kTenant) {
      auto tenant = tenants_->Find(due.tenant_id);
      if (!tenant) return std::move(tenant).error();
      if (!*tenant) return core::Error::NotFound("tenant " + due.tenant_id + " no longer exists");
      time_zone = (*tenant)->time_zone;
    }
    SchedulePlan decided;
    const Clock::time_point after = due.next_fire_at ? std::max(*due.next_fire_at, due.database_now) : due.database_now;
    auto next = schedule->spec.NextAfter(after, time_zone);
    if (!next) return std::move(next).error();
    decided.next = *next;
    if (due.next_fire_at) {
      // One job for the period that came due, however many periods passed meanwhile.
      EnqueueOptions options;
      options.idempotency_key = ScheduleKey(schedule->name, *due.next_fire_at);
      options.priority = schedule->priority;
      options.max_attempts = schedule->max_attempts;
      if (scope == JobScope::kTenant) options.tenant_id = due.tenant_id;
      decided.fire = SchedulePlan::Fire{schedule->kind, schedule->payload, options};
    }
    return decided;
  };
  for (int round = 0; round < 50; ++round) {
    auto fired = store_->FireDueSchedules(names, plan, kScheduleBatch);
    if (!fired) {
      streak.Failed("job_schedule_fire_failed", fired.error());
      return;
    }
    streak.Succeeded("job_schedule_fire_recovered");
    if (!fired->jobs.empty()) {
      std::lock_guard lock(mutex_);
      for (const auto& job : fired->jobs) {
        core::log::Info("job_schedule_fired", {{"tenant_id", job.tenant_id}, {"job_id", job.id}, {"kind", job.kind}});
        rotation_.MarkReady(job.tenant_id);
      }
      plan_blocked_ = false;
    }
    if (!fired->jobs.empty()) claim_cv_.notify_one();
    if (fired->rows < kScheduleBatch || fired->advanced == 0) return;
  }
}

void Worker::Prune() {
  static thread_local FailureStreak streak;
  long long pruned = 0;
  long long orphans = 0;
  for (int round = 0; round < 20; ++round) {
    auto deleted = store_->Prune(options_.retention, kPruneBatch);
    if (!deleted) {
      streak.Failed("job_prune_failed", deleted.error());
      return;
    }
    pruned += *deleted;
    if (*deleted < kPruneBatch) break;
  }
  for (int round = 0; round < 20; ++round) {
    auto deleted = store_->DeleteOrphans(kPruneBatch);
    if (!deleted) {
      streak.Failed("job_prune_failed", deleted.error());
      return;
    }
    orphans += *deleted;
    if (*deleted < kPruneBatch) break;
  }
  streak.Succeeded("job_prune_recovered");
  if (pruned + orphans > 0) core::log::Info("jobs_pruned", {{"finished", pruned}, {"of_purged_tenants", orphans}});
}

void Worker::SampleDepth() {
  auto rows = store_->Depth();
  if (!rows) return;  // the claim and scan report the database being away
  PublishDepth(*metrics_, *rows, depth_labels_);
}

// ---- shutdown -------------------------------------------------------------------------------

Worker::StopReport Worker::Stop(Millis grace) {
  StopReport report;
  if (!started_ || stopped_) return report;
  stopped_ = true;
  std::vector<std::shared_ptr<Active>> waiting;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& active : pending_) waiting.push_back(active);
    pending_.clear();
  }
  claim_cv_.notify_all();
  // Claimed but not started: back to the queue at once, the attempt not counted.
  for (const auto& active : waiting) Settle(active, SettlementFor(active->job, Settlement::State::kRelease));
  core::log::Debug("job_worker_stopping", {{"phase", "claimer"}});
  if (claimer_.joinable()) claimer_.join();
  core::log::Debug("job_worker_stopping", {{"phase", "grace"}});

  std::unique_lock lock(mutex_);
  idle_cv_.wait_for(lock, grace, [this] { return busy_executors_ == 0; });
  if (busy_executors_ > 0) {
    std::vector<std::shared_ptr<Active>> running;
    for (const auto& [id, active] : active_) {
      if (active->started && !active->settled) running.push_back(active);
    }
    for (const auto& active : running) active->cancel->Cancel(CancelReason::kShutdown);
    idle_cv_.wait_for(lock, kCancelGrace, [this] { return busy_executors_ == 0; });
    lock.unlock();
    for (const auto& active : running) {
      // Still running after the grace: give the attempt back so another worker runs the job
      // now; if this handler still finishes, its outcome is ignored (idempotency covers it).
      Settle(active, SettlementFor(active->job, Settlement::State::kRelease));
    }
    lock.lock();
  }
  executors_stop_ = true;
  report.stuck = busy_executors_;
  lock.unlock();
  core::log::Debug("job_worker_stopping", {{"phase", "executors"}, {"stuck", report.stuck}});
  exec_cv_.notify_all();
  for (auto& executor : executors_) {
    if (report.stuck == 0) {
      executor.join();
    } else {
      executor.detach();  // a handler ignores its cancellation; the process exits around it
    }
  }

  core::log::Debug("job_worker_stopping", {{"phase", "outcomes"}});
  {
    std::unique_lock settle_lock(settle_mutex_);
    settle_cv_.wait_for(settle_lock, kFlushTimeout, [this] { return to_settle_.empty() && settling_ == 0; });
    settler_stop_ = true;
  }
  settle_cv_.notify_all();
  if (settler_.joinable()) settler_.join();
  {
    std::lock_guard service_lock(service_mutex_);
    services_stop_ = true;
  }
  service_cv_.notify_all();
  core::log::Debug("job_worker_stopping", {{"phase", "services"}});
  if (lease_keeper_.joinable()) lease_keeper_.join();
  if (maintenance_.joinable()) maintenance_.join();
  {
    std::lock_guard released_lock(mutex_);
    report.released = released_at_stop_;
  }
  core::log::Info("job_worker_stopped",
                  {{"worker", options_.worker_id}, {"released", report.released}, {"stuck", report.stuck}});
  return report;
}

}  // namespace clinicore::jobs
