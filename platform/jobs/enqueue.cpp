#include "platform/jobs/enqueue.hpp"

#include <charconv>
#include <initializer_list>

#include "platform/core/log.hpp"
#include "platform/jobs/queries.hpp"

namespace clinicore::jobs {
namespace {

using core::Error;
using core::Result;

long long ToMillis(Clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

Clock::time_point FromMillis(long long ms) {
  return Clock::time_point(std::chrono::milliseconds(ms));
}

bool IsLowerUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

EnqueuedJob FromRow(const pqxx::row& row, std::string_view kind, bool inserted) {
  return {row[0].as<long long>(), row[1].as<std::string>(), std::string(kind), FromMillis(row[2].as<long long>()),
          inserted};
}

}  // namespace

void RegisterJobStatements(db::Database& database) {
  using namespace queries;
  for (const auto& [name, sql] :
       std::initializer_list<std::pair<const char*, const char*>>{{kEnqueue, kEnqueueSql},
                                                                  {kSelectByKey, kSelectByKeySql},
                                                                  {kClaim, kClaimSql},
                                                                  {kSettle, kSettleSql},
                                                                  {kRenewLeases, kRenewLeasesSql},
                                                                  {kReclaimExpired, kReclaimExpiredSql},
                                                                  {kDueTenants, kDueTenantsSql},
                                                                  {kSyncPlatformSchedule, kSyncPlatformScheduleSql},
                                                                  {kSyncTenantSchedule, kSyncTenantScheduleSql},
                                                                  {kDeleteOrphanSchedules, kDeleteOrphanSchedulesSql},
                                                                  {kLockDueSchedules, kLockDueSchedulesSql},
                                                                  {kAdvanceSchedule, kAdvanceScheduleSql},
                                                                  {kEarliestSchedule, kEarliestScheduleSql},
                                                                  {kPrune, kPruneSql},
                                                                  {kDeleteOrphanJobs, kDeleteOrphanJobsSql},
                                                                  {kDepthByKind, kDepthByKindSql},
                                                                  {kConsoleQueues, kConsoleQueuesSql},
                                                                  {kConsoleGetJob, kConsoleGetJobSql},
                                                                  {kConsoleRetry, kConsoleRetrySql},
                                                                  {kConsoleDiscard, kConsoleDiscardSql},
                                                                  {kConsoleSchedules, kConsoleSchedulesSql},
                                                                  {kInsertAudit, kInsertAuditSql}}) {
    database.RegisterStatement(name, sql);
  }
  for (const auto& list : kConsoleListJobs) database.RegisterStatement(list.name, list.sql);
}

core::Status ValidateKind(std::string_view kind) {
  auto bad = [&] {
    return Error::InvalidArgument("Job kind '" + std::string(kind.substr(0, 100)) +
                                      "' is not <module>.<name> in lower case (at most 100 characters).",
                                  {{"kind", "must look like module.name"}});
  };
  if (kind.empty() || kind.size() > 100) return bad();
  bool segment_start = true;
  int dots = 0;
  for (char c : kind) {
    if (segment_start) {
      if (c < 'a' || c > 'z') return bad();
      segment_start = false;
    } else if (c == '.') {
      ++dots;
      segment_start = true;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return bad();
    }
  }
  if (segment_start || dots == 0) return bad();
  return core::Ok();
}

Result<EnqueuedJob> Enqueue(db::Transaction& tx, std::string_view kind, const nlohmann::json& payload,
                            const EnqueueOptions& options) {
  if (auto valid = ValidateKind(kind); !valid) return std::move(valid).error();
  std::vector<core::FieldError> problems;
  if (!payload.is_object()) problems.push_back({"payload", "must be a JSON object"});
  if (options.priority < kPriorityUrgent || options.priority > kPriorityBulk) {
    problems.push_back({"priority", "must be 0 to 3"});
  }
  if (options.max_attempts < 1 || options.max_attempts > 1000) {
    problems.push_back({"max_attempts", "must be 1 to 1000"});
  }
  if (options.idempotency_key && (options.idempotency_key->empty() || options.idempotency_key->size() > 255)) {
    problems.push_back({"idempotency_key", "must be 1 to 255 characters"});
  }
  if (options.tenant_id && !IsLowerUuid(*options.tenant_id)) {
    problems.push_back({"tenant_id", "must be a lower-case UUID"});
  }
  if (!problems.empty()) {
    std::string detail =
        "Cannot enqueue " + std::string(kind) + ": " + problems.front().field + " " + problems.front().message + ".";
    return Error::InvalidArgument(std::move(detail), std::move(problems));
  }
  std::string payload_text;
  try {
    payload_text = payload.dump();
  } catch (const nlohmann::json::exception&) {
    return Error::InvalidArgument("Cannot enqueue " + std::string(kind) + ": the payload holds invalid UTF-8.",
                                  {{"payload", "must be valid UTF-8"}});
  }
  std::optional<long long> run_at;
  if (options.run_at) run_at = ToMillis(*options.run_at);
  const std::string kind_text(kind);
  auto inserted = tx.Exec(queries::kEnqueue, options.tenant_id, kind_text, payload_text, options.idempotency_key,
                          options.priority, run_at, options.max_attempts);
  if (!inserted.empty()) return FromRow(inserted[0], kind, true);
  // The key exists: return that job. A fresh statement sees a row a concurrent transaction
  // committed after ours started (the insert waited for it).
  auto existing = tx.Exec(queries::kSelectByKey, options.tenant_id, kind_text, options.idempotency_key);
  if (existing.empty()) {
    return Error{core::ErrorCode::kAborted,
                 "A concurrent change conflicted with this one; retry the request.",
                 "job with idempotency key vanished between insert and select",
                 {}};
  }
  return FromRow(existing[0], kind, false);
}

std::string EncodeWake(const std::string& tenant_id, Clock::time_point run_at) {
  return tenant_id + " " + std::to_string(ToMillis(run_at));
}

std::optional<std::pair<std::string, Clock::time_point>> DecodeWake(std::string_view message) {
  const auto space = message.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view tenant = message.substr(0, space);
  const std::string_view at = message.substr(space + 1);
  if (!IsLowerUuid(tenant)) return std::nullopt;
  long long ms = 0;
  auto [ptr, ec] = std::from_chars(at.data(), at.data() + at.size(), ms);
  if (ec != std::errc() || ptr != at.data() + at.size()) return std::nullopt;
  return std::make_pair(std::string(tenant), FromMillis(ms));
}

Result<EnqueuedJob> JobTx::Enqueue(std::string_view kind, const nlohmann::json& payload,
                                   const EnqueueOptions& options) {
  auto job = jobs::Enqueue(tx_, kind, payload, options);
  if (job && job->inserted) {
    auto [it, fresh] = wakes_.emplace(job->tenant_id, job->run_at);
    if (!fresh && job->run_at < it->second) it->second = job->run_at;
  }
  return job;
}

Result<EnqueuedJob> JobClient::EnqueueNow(std::string_view kind, const nlohmann::json& payload,
                                          const EnqueueOptions& options) {
  return Write([&](db::Transaction& tx, JobTx& jobs) -> Result<EnqueuedJob> {
    auto job = jobs.Enqueue(kind, payload, options);
    if (!job) return job;
    tx.Commit();
    return job;
  });
}

void JobClient::Wake(const std::map<std::string, Clock::time_point>& wakes) {
  if (!redis_) return;
  for (const auto& [tenant, run_at] : wakes) {
    auto published = redis_->Command({"PUBLISH", kWakeChannel, EncodeWake(tenant, run_at)});
    if (!published) {
      // Workers find the job at their next poll; nothing is lost.
      core::log::Debug("job_wake_not_published", {{"tenant_id", tenant}, {"detail", published.error().internal}});
      return;
    }
  }
}

}  // namespace clinicore::jobs
