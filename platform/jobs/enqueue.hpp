#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/cache/redis_client.hpp"
#include "platform/core/result.hpp"
#include "platform/db/database.hpp"
#include "platform/jobs/job.hpp"

namespace clinicore::jobs {

// Registers every statement of the jobs component (enqueue, worker, console) with the pool.
// Call before the pool opens its first connection, in every process that enqueues or works.
void RegisterJobStatements(db::Database& database);

// Writes a job in the caller's transaction: it exists if and only if that transaction
// commits. Works in platform transactions (Database::Write) and inside a tenant's
// (Database::WriteInTenant), where the job always belongs to that tenant. A second enqueue
// with the same idempotency key (same tenant and kind) writes nothing and returns the job
// that has it (`inserted` false). Invalid arguments are InvalidArgument; database failures
// throw like any statement, so the transaction runner classifies and retries them.
//
// Workers find a job enqueued this way within their poll interval; JobClient also wakes them
// the moment the transaction commits.
core::Result<EnqueuedJob> Enqueue(db::Transaction& tx, std::string_view kind, const nlohmann::json& payload,
                                  const EnqueueOptions& options = {});

// Kinds are "<module>.<name>", lower case: [a-z][a-z0-9_-]* segments joined by dots, at most 100.
core::Status ValidateKind(std::string_view kind);

// The pub/sub channel that wakes workers after a commit. Messages are "<tenant id> <run_at ms>".
inline constexpr const char* kWakeChannel = "clinicore:jobs:wake";
std::string EncodeWake(const std::string& tenant_id, Clock::time_point run_at);
// nullopt for a malformed message (it is ignored).
std::optional<std::pair<std::string, Clock::time_point>> DecodeWake(std::string_view message);

// Enqueue bound to one transaction that remembers what it enqueued, so JobClient can wake the
// workers once the transaction has committed.
class JobTx {
 public:
  JobTx(db::Transaction& tx, std::map<std::string, Clock::time_point>& wakes) : tx_(tx), wakes_(wakes) {}
  core::Result<EnqueuedJob> Enqueue(std::string_view kind, const nlohmann::json& payload,
                                    const EnqueueOptions& options = {});

 private:
  db::Transaction& tx_;
  std::map<std::string, Clock::time_point>& wakes_;  // tenant → earliest run_at enqueued
};

// What services use to enqueue: runs their transaction like Database::Write/WriteInTenant,
// hands them a JobTx bound to it, and after a successful commit publishes one wake per tenant
// on Redis, so an idle worker starts the job at once. Redis being down delays nothing beyond
// the workers' poll interval and loses nothing: the job is already committed.
//
//   jobs.WriteInTenant(tenant.Scope(), [&](db::Transaction& tx, JobTx& jobs) -> Result<Id> {
//     auto id = repository.InsertAppointment(tx, …);
//     auto job = jobs.Enqueue("booking.send-reminder", {{"appointment_id", id}},
//                             {.run_at = starts_at - 24h, .idempotency_key = "reminder:" + id});
//     if (!job) return std::move(job).error();
//     tx.Commit();
//     return id;
//   });
class JobClient {
 public:
  JobClient(db::Database& database, std::shared_ptr<cache::RedisClient> redis)
      : database_(database), redis_(std::move(redis)) {}

  template <typename Fn>
  auto Write(Fn&& fn) {
    std::map<std::string, Clock::time_point> wakes;
    auto result = database_.Write([&](db::Transaction& tx) {
      wakes.clear();  // the runner may run fn again after a retryable failure
      JobTx jobs(tx, wakes);
      return fn(tx, jobs);
    });
    if (result.ok()) Wake(wakes);
    return result;
  }

  template <typename Fn>
  auto WriteInTenant(const db::TenantScope& scope, Fn&& fn) {
    std::map<std::string, Clock::time_point> wakes;
    auto result = database_.WriteInTenant(scope, [&](db::Transaction& tx) {
      wakes.clear();
      JobTx jobs(tx, wakes);
      return fn(tx, jobs);
    });
    if (result.ok()) Wake(wakes);
    return result;
  }

  // Enqueues one job in a transaction of its own (platform transaction).
  core::Result<EnqueuedJob> EnqueueNow(std::string_view kind, const nlohmann::json& payload,
                                       const EnqueueOptions& options = {});

  // Publishes wakes for jobs committed by other means (best effort, never fails).
  void Wake(const std::map<std::string, Clock::time_point>& wakes);

  db::Database& database() { return database_; }

 private:
  db::Database& database_;
  std::shared_ptr<cache::RedisClient> redis_;
};

}  // namespace clinicore::jobs
