#include "platform/db/database.hpp"
#include "platform/jobs/enqueue.hpp"
#include "platform/jobs/job_store.hpp"
#include "platform/jobs/queries.hpp"

namespace clinicore::jobs {
namespace {

using core::Result;

// The worker's statements each run alone, in autocommit: one round trip, and the statement is
// its own transaction (an UPDATE … RETURNING commits by itself).
template <typename Fn>
auto SingleStatement(db::Database& database, Fn&& fn) {
  return database.WriteOnce(std::forward<Fn>(fn));
}

Clock::time_point FromMillis(long long ms) {
  return Clock::time_point(std::chrono::milliseconds(ms));
}

std::string_view StateName(Settlement::State state) {
  switch (state) {
    case Settlement::State::kCompleted:
      return "completed";
    case Settlement::State::kRetry:
    case Settlement::State::kRelease:
      return "available";
    case Settlement::State::kDead:
      return "dead";
    case Settlement::State::kDiscarded:
      return "discarded";
  }
  return "dead";
}

Job JobFromRow(const pqxx::row& row) {
  Job job;
  job.id = row[0].as<long long>();
  job.tenant_id = row[1].as<std::string>();
  job.kind = row[2].as<std::string>();
  job.payload = nlohmann::json::parse(row[3].as<std::string>());
  job.attempt = row[4].as<int>();
  job.max_attempts = row[5].as<int>();
  job.idempotency_key = row[6].as<std::string>();
  job.run_at = FromMillis(row[7].as<long long>());
  job.created_at = FromMillis(row[8].as<long long>());
  return job;
}

}  // namespace

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string BigintArray(const std::vector<long long>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

Result<std::vector<Job>> PgJobStore::Claim(const std::vector<ClaimCandidate>& candidates,
                                           const std::vector<std::string>& kinds, const std::string& worker_id,
                                           Millis lease) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& candidate : candidates) {
    rows.push_back({{"tenant_id", candidate.tenant_id}, {"quota", candidate.quota}, {"lim", candidate.limit}});
  }
  const std::string rows_text = rows.dump();
  const std::string kinds_text = TextArray(kinds);
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<std::vector<Job>> {
    std::vector<Job> jobs;
    for (const auto& row : tx.Exec(queries::kClaim, rows_text, kinds_text, worker_id, lease.count())) {
      jobs.push_back(JobFromRow(row));
    }
    return jobs;
  });
}

Result<std::vector<long long>> PgJobStore::Settle(const std::vector<Settlement>& outcomes,
                                                  const std::string& worker_id) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& outcome : outcomes) {
    rows.push_back({{"id", outcome.id},
                    {"attempt", outcome.attempt},
                    {"state", StateName(outcome.state)},
                    {"delay_ms", outcome.delay.count()},
                    {"error", outcome.error ? nlohmann::json(*outcome.error) : nlohmann::json(nullptr)},
                    {"release", outcome.state == Settlement::State::kRelease}});
  }
  const std::string text = rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<std::vector<long long>> {
    std::vector<long long> ids;
    for (const auto& row : tx.Exec(queries::kSettle, text, worker_id)) ids.push_back(row[0].as<long long>());
    return ids;
  });
}

Result<std::vector<long long>> PgJobStore::RenewLeases(const std::vector<long long>& ids, const std::string& worker_id,
                                                       Millis lease) {
  const std::string array = BigintArray(ids);
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<std::vector<long long>> {
    std::vector<long long> held;
    for (const auto& row : tx.Exec(queries::kRenewLeases, worker_id, array, lease.count())) {
      held.push_back(row[0].as<long long>());
    }
    return held;
  });
}

Result<Reclaimed> PgJobStore::ReclaimExpired(const BackoffPolicy& backoff, int limit) {
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<Reclaimed> {
    Reclaimed reclaimed;
    for (const auto& row : tx.Exec(queries::kReclaimExpired, backoff.base.count(), backoff.max.count(), limit)) {
      if (row[1].as<std::string>() == "dead") {
        ++reclaimed.dead;
      } else {
        ++reclaimed.available;
        reclaimed.tenants.push_back(row[0].as<std::string>());
      }
      Job job;
      job.tenant_id = row[0].as<std::string>();
      job.id = row[2].as<long long>();
      job.kind = row[3].as<std::string>();
      job.attempt = row[4].as<int>();
      job.payload = nlohmann::json::parse(row[5].as<std::string>(), nullptr, false);
      reclaimed.jobs.push_back(std::move(job));
    }
    return reclaimed;
  });
}

Result<std::vector<DueTenant>> PgJobStore::DueTenants(const std::vector<std::string>& kinds) {
  const std::string kinds_text = TextArray(kinds);
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<std::vector<DueTenant>> {
    std::vector<DueTenant> due;
    for (const auto& row : tx.Exec(queries::kDueTenants, kinds_text)) {
      due.push_back({row[0].as<std::string>(), FromMillis(row[1].as<long long>()), FromMillis(row[2].as<long long>())});
    }
    return due;
  });
}

core::Status PgJobStore::SyncSchedules(const std::vector<std::pair<const Schedule*, JobScope>>& schedules) {
  return database_.Write([&](db::Transaction& tx) -> core::Status {
    for (const auto& [schedule, scope] : schedules) {
      tx.Exec(scope == JobScope::kPlatform ? queries::kSyncPlatformSchedule : queries::kSyncTenantSchedule,
              schedule->name, schedule->spec.text());
    }
    tx.Exec(queries::kDeleteOrphanSchedules);
    tx.Commit();
    return core::Ok();
  });
}

Result<FiredSchedules> PgJobStore::FireDueSchedules(const std::vector<std::string>& names,
                                                    const std::function<Result<SchedulePlan>(const DueSchedule&)>& plan,
                                                    int limit) {
  const std::string names_text = TextArray(names);
  return database_.Write([&](db::Transaction& tx) -> Result<FiredSchedules> {
    FiredSchedules fired;
    for (const auto& row : tx.Exec(queries::kLockDueSchedules, names_text, limit)) {
      ++fired.rows;
      DueSchedule due{row[0].as<std::string>(), row[1].as<std::string>(), std::nullopt,
                      FromMillis(row[3].as<long long>())};
      if (!row[2].is_null()) due.next_fire_at = FromMillis(row[2].as<long long>());
      auto decided = plan(due);
      if (!decided) continue;  // e.g. the tenant cannot be read now: the row stays due
      std::optional<long long> job_id;
      if (decided->fire) {
        auto job = Enqueue(tx, decided->fire->kind, decided->fire->payload, decided->fire->options);
        if (!job) return std::move(job).error();
        job_id = job->id;
        if (job->inserted) fired.jobs.push_back(*job);
      }
      const long long next_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(decided->next.time_since_epoch()).count();
      tx.Exec(queries::kAdvanceSchedule, due.name, due.tenant_id, next_ms, decided->fire.has_value(), job_id);
      ++fired.advanced;
    }
    tx.Commit();
    return fired;
  });
}

Result<std::optional<Clock::time_point>> PgJobStore::EarliestSchedule(const std::vector<std::string>& names) {
  const std::string names_text = TextArray(names);
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<std::optional<Clock::time_point>> {
    auto row = tx.Exec(queries::kEarliestSchedule, names_text)[0];
    if (row[0].is_null()) return std::optional<Clock::time_point>();
    return std::optional<Clock::time_point>(FromMillis(row[0].as<long long>()));
  });
}

Result<long long> PgJobStore::Prune(Millis retention, int limit) {
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<long long> {
    return static_cast<long long>(tx.Exec(queries::kPrune, retention.count(), limit).affected_rows());
  });
}

Result<long long> PgJobStore::DeleteOrphans(int limit) {
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<long long> {
    return static_cast<long long>(tx.Exec(queries::kDeleteOrphanJobs, limit).affected_rows());
  });
}

Result<std::vector<DepthRow>> PgJobStore::Depth() {
  return SingleStatement(database_, [&](db::Transaction& tx) -> Result<std::vector<DepthRow>> {
    std::vector<DepthRow> rows;
    for (const auto& row : tx.Exec(queries::kDepthByKind)) {
      rows.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<long long>(), row[3].as<double>()});
    }
    return rows;
  });
}

}  // namespace clinicore::jobs
