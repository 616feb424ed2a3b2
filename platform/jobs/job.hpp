#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "platform/core/config.hpp"
#include "platform/core/error.hpp"

namespace clinicore::db {
class Database;
}
namespace clinicore::tenancy {
struct Tenant;
}

namespace clinicore::jobs {

using Clock = std::chrono::system_clock;
using core::Millis;

// The queue's tenant id for platform jobs (work that belongs to no tenant, such as the tenant
// purge). Every other job carries the id of the tenant it runs for.
inline constexpr std::string_view kPlatformTenant = "00000000-0000-0000-0000-000000000000";

// Priorities, lowest number first. Priority orders jobs within one tenant only: fairness
// between tenants always comes first.
inline constexpr int kPriorityUrgent = 0;
inline constexpr int kPriorityNormal = 1;
inline constexpr int kPriorityLow = 2;
inline constexpr int kPriorityBulk = 3;

inline constexpr int kDefaultMaxAttempts = 20;

// One job as a handler sees it.
struct Job {
  long long id = 0;
  std::string tenant_id;  // kPlatformTenant for a platform job
  std::string kind;       // "module.verb", e.g. "booking.send-reminder"
  nlohmann::json payload = nlohmann::json::object();
  int attempt = 1;  // 1 on the first run; counts every run that started, crashed ones included
  int max_attempts = kDefaultMaxAttempts;
  // Stable across every attempt of this job: the key a handler uses so that running twice has
  // no second effect (an idempotency key for a provider API, a unique key for an insert).
  std::string idempotency_key;
  Clock::time_point run_at;      // when the job became due
  Clock::time_point created_at;  // when it was enqueued (insert time, close to its commit)

  bool IsPlatform() const { return tenant_id == kPlatformTenant; }
};

// What a handler returns. An exception thrown by a handler counts as Retry with its message.
class Outcome {
 public:
  enum class Kind { kDone, kRetry, kFail, kSnooze };

  // The job is finished; it never runs again.
  static Outcome Done() { return Outcome(Kind::kDone, {}, std::nullopt); }
  // Run again later: after `after`, or after the exponential backoff for this attempt. Once
  // the job has used max_attempts it is dead-lettered with `reason` as its last error.
  static Outcome Retry(std::string reason, std::optional<Millis> after = std::nullopt) {
    return Outcome(Kind::kRetry, std::move(reason), after);
  }
  // Run again after `after` WITHOUT using an attempt: for waits that are nobody's failure, such
  // as a provider's declared rate limit. The attempt is given back, so a job can snooze any
  // number of times; `reason` goes to the log line.
  static Outcome Snooze(std::string reason, Millis after) { return Outcome(Kind::kSnooze, std::move(reason), after); }
  // Never run again: dead-lettered with `reason` (for failures a retry cannot fix).
  static Outcome Fail(std::string reason) { return Outcome(Kind::kFail, std::move(reason), std::nullopt); }
  // Retry for errors a later attempt may not meet (unavailable, aborted, deadline exceeded,
  // resource exhausted, internal), Fail for the others (bad input, not found, refused); a
  // resource-exhausted error that says when to come back (a rate limit) is a Snooze.
  static Outcome FromError(const core::Error& error);

  Kind kind() const { return kind_; }
  const std::string& reason() const { return reason_; }
  const std::optional<Millis>& after() const { return after_; }

 private:
  Outcome(Kind kind, std::string reason, std::optional<Millis> after)
      : kind_(kind), reason_(std::move(reason)), after_(after) {}
  Kind kind_;
  std::string reason_;
  std::optional<Millis> after_;
};

// Why a running job was asked to stop.
enum class CancelReason { kNone, kShutdown, kDeadline, kLeaseLost };
std::string_view CancelReasonName(CancelReason reason);

// Shared between the worker and one running job: set once, observed by the handler.
class CancelToken {
 public:
  void Cancel(CancelReason reason);
  bool cancelled() const { return reason_.load() != CancelReason::kNone; }
  CancelReason reason() const { return reason_.load(); }
  // Sleeps up to `duration`; returns false as soon as the job is cancelled.
  bool SleepFor(Millis duration);

 private:
  std::atomic<CancelReason> reason_{CancelReason::kNone};
  std::mutex mutex_;
  std::condition_variable changed_;
};

class JobClient;

// Everything a handler gets: the job, its tenant (nullptr for platform jobs), the database, a
// client to enqueue follow-up jobs, and a deadline with a cancellation flag. A tenant job must
// run its SQL in its tenant's scope: database().WriteInTenant(tenant()->Scope(), …).
class JobContext {
 public:
  JobContext(const Job& job, const tenancy::Tenant* tenant, db::Database* database, JobClient* client,
             std::shared_ptr<CancelToken> cancel, std::chrono::steady_clock::time_point deadline)
      : job_(job),
        tenant_(tenant),
        database_(database),
        client_(client),
        cancel_(std::move(cancel)),
        deadline_(deadline) {}

  const Job& job() const { return job_; }
  const tenancy::Tenant* tenant() const { return tenant_; }
  db::Database& database() { return *database_; }
  JobClient& jobs() { return *client_; }

  // True once the worker wants the handler to stop: shutdown grace over, deadline passed, or
  // the lease lost (the job may already be running elsewhere). Long handlers check it.
  bool cancelled() const { return cancel_->cancelled(); }
  CancelReason cancel_reason() const { return cancel_->reason(); }
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  // Waits up to `duration`; false when the job was cancelled meanwhile.
  bool SleepFor(Millis duration) { return cancel_->SleepFor(duration); }

 private:
  const Job& job_;
  const tenancy::Tenant* tenant_;
  db::Database* database_;
  JobClient* client_;
  std::shared_ptr<CancelToken> cancel_;
  std::chrono::steady_clock::time_point deadline_;
};

// Code that runs a job kind. Implementations must be safe to run twice for the same job (see
// docs/jobs.md): delivery is at least once.
class JobHandler {
 public:
  virtual ~JobHandler() = default;
  virtual Outcome Run(JobContext& context) = 0;
};

// Whose job a kind runs: a tenant's (in that tenant's scope) or the platform's.
enum class JobScope { kTenant, kPlatform };

struct KindOptions {
  JobScope scope = JobScope::kTenant;
  // How long one attempt may run. Unset: CLINICORE_WORK_JOB_TIMEOUT_MS.
  std::optional<Millis> timeout = std::nullopt;
  // Called by the worker that reclaimed a job of this kind from a worker that stopped renewing
  // its lease (killed, crashed, frozen): the attempt was lost without an outcome, so a kind can
  // blame what it ran (plugin kinds count a failure toward the plugin's quarantine). Runs on
  // the maintenance thread, at most once per lost attempt: keep it short; exceptions are logged.
  std::function<void(const Job& job)> on_reclaimed = nullptr;
};

// Options of one enqueue.
struct EnqueueOptions {
  // When the job becomes due. Unset: now (the transaction's start).
  std::optional<Clock::time_point> run_at = std::nullopt;
  // Per tenant and kind, a key enqueues at most one job while that job is kept (until the
  // retention after it finished): a second Enqueue with the same key returns the first job.
  // Unset: a random key. Handlers receive it on every attempt.
  std::optional<std::string> idempotency_key = std::nullopt;
  int priority = kPriorityNormal;          // 0 (first) … 3 (last), within the tenant
  int max_attempts = kDefaultMaxAttempts;  // 1 … 100
  // Only for platform transactions: the tenant the job runs for. A transaction inside a
  // tenant scope always enqueues for its own tenant (PostgreSQL refuses anything else).
  std::optional<std::string> tenant_id = std::nullopt;
};

struct EnqueuedJob {
  long long id = 0;
  std::string tenant_id;
  std::string kind;
  Clock::time_point run_at;
  bool inserted = true;  // false: a job with this idempotency key existed and is returned instead
};

}  // namespace clinicore::jobs
