// clinicore_bench_jobs — the client side of bench/jobs: enqueues jobs through the real
// jobs::Enqueue / JobClient path and reads back what `clinicore work` (the real binary) did.
//
//   clinicore_bench_jobs enqueue  <tenant slug> <count> [sleep_ms]   one transaction per 1 000
//   clinicore_bench_jobs backlog  <tenant slug> <count>              one INSERT … SELECT (fast setup)
//   clinicore_bench_jobs drain    <count> <timeout s>                waits for <count> completed no-op jobs
//   clinicore_bench_jobs latency  <tenant slug> <count> <per second> one job per transaction, paced
//
// Output: "name value" lines (bench/jobs reads them with awk). Latency is measured from the
// moment COMMIT returned in this process to the job's started_at (set by the claim with
// clock_timestamp()); both run on this machine, so they read the same clock.
// Configuration: CLINICORE_DATABASE_URL and CLINICORE_REDIS_URL, as for clinicore itself.
// CLINICORE_BENCH_PLUGIN=<name>: enqueue and drain `plugins.channel-send` jobs for that channel
// plugin instead of `platform.noop` (the tenants must have it enabled).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/config.hpp"
#include "platform/core/log.hpp"
#include "platform/db/database.hpp"
#include "platform/jobs/enqueue.hpp"

namespace {

using clinicore::core::Result;
using namespace clinicore;
using Clock = std::chrono::system_clock;

struct Tenant {
  std::string id;
  db::TenantScope scope;
};

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "clinicore_bench_jobs: " << message << std::endl;
  std::exit(1);
}

// The kind this run enqueues and drains, and its payload.
std::string Kind() {
  const char* plugin = std::getenv("CLINICORE_BENCH_PLUGIN");
  return plugin != nullptr && *plugin != '\0' ? "plugins.channel-send" : "platform.noop";
}
nlohmann::json Payload() {
  const char* plugin = std::getenv("CLINICORE_BENCH_PLUGIN");
  if (plugin == nullptr || *plugin == '\0') return nlohmann::json::object();
  return {{"plugin", plugin}, {"message", {{"body", "bench"}}}, {"recipient", {{"to", "bench"}}}};
}

Tenant FindTenant(db::Database& database, const std::string& slug) {
  auto row = database.Read([&](db::Transaction& tx) -> Result<Tenant> {
    auto rows =
        tx.ExecScript("SELECT id::text, role_name, schema_name FROM platform.tenants WHERE slug = " + tx.Quote(slug));
    if (rows.empty()) return core::Error::NotFound("no tenant " + slug);
    return Tenant{rows[0][0].as<std::string>(), {rows[0][1].as<std::string>(), rows[0][2].as<std::string>()}};
  });
  if (!row) Die(row.error().detail);
  return *row;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(values.size()))));
  return values[std::min(rank, values.size()) - 1];
}

long long Scalar(db::Database& database, const std::string& sql) {
  auto value = database.ReadOnce([&](db::Transaction& tx) -> Result<long long> {
    auto field = tx.ExecScript(sql)[0][0];
    return field.is_null() ? 0LL : field.as<long long>();
  });
  if (!value) Die(value.error().detail + " " + value.error().internal);
  return *value;
}

int Enqueue(db::Database& database, jobs::JobClient& client, const std::string& slug, int count, int sleep_ms) {
  const Tenant tenant = FindTenant(database, slug);
  nlohmann::json payload = Payload();
  if (sleep_ms > 0) payload["sleep_ms"] = sleep_ms;
  const auto start = std::chrono::steady_clock::now();
  for (int done = 0; done < count;) {
    const int batch = std::min(1'000, count - done);
    auto written = client.WriteInTenant(tenant.scope, [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
      for (int i = 0; i < batch; ++i) {
        auto job = jobs.Enqueue(Kind(), payload);
        if (!job) return std::move(job).error();
      }
      tx.Commit();
      return core::Ok();
    });
    if (!written) Die(written.error().detail + " " + written.error().internal);
    done += batch;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "enqueued " << count << "\nenqueue_seconds " << seconds << "\nenqueue_per_second " << count / seconds
            << std::endl;
  return 0;
}

int Backlog(db::Database& database, const std::string& slug, int count) {
  const Tenant tenant = FindTenant(database, slug);
  auto written = database.Write([&](db::Transaction& tx) -> core::Status {
    tx.ExecScript("INSERT INTO queue.jobs (tenant_id, kind, payload, idempotency_key) SELECT " + tx.Quote(tenant.id) +
                  ", 'platform.noop', '{}', 'backlog-' || g FROM generate_series(1, " + std::to_string(count) + ") g");
    tx.Commit();
    return core::Ok();
  });
  if (!written) Die(written.error().detail + " " + written.error().internal);
  std::cout << "backlog " << count << std::endl;
  return 0;
}

int Drain(db::Database& database, long long count, int timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  long long completed = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    completed =
        Scalar(database, "SELECT count(*) FROM queue.jobs WHERE kind = '" + Kind() + "' AND state = 'completed'");
    if (completed >= count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (completed < count) Die("only " + std::to_string(completed) + " of " + std::to_string(count) + " jobs completed");
  // From the first start to the last finish, by the database's clock.
  const long long span_us =
      Scalar(database,
             "SELECT (extract(epoch FROM max(finished_at) - min(started_at)) * 1e6)::bigint FROM queue.jobs "
             "WHERE kind = '" +
                 Kind() + "' AND state = 'completed'");
  const double seconds = static_cast<double>(span_us) / 1e6;
  std::cout << "completed " << completed << "\ndrain_seconds " << seconds << "\njobs_per_second "
            << static_cast<double>(completed) / seconds << std::endl;
  return 0;
}

int Latency(db::Database& database, jobs::JobClient& client, const std::string& slug, int count, double per_second) {
  const Tenant tenant = FindTenant(database, slug);
  std::map<long long, long long> committed_us;  // job id → when COMMIT returned (Unix µs)
  const auto period = std::chrono::duration<double>(1.0 / per_second);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period * i));
    auto job = client.WriteInTenant(tenant.scope, [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<long long> {
      auto enqueued = jobs.Enqueue("platform.noop", nlohmann::json::object());
      if (!enqueued) return std::move(enqueued).error();
      tx.Commit();
      return enqueued->id;
    });
    // The wake is published once WriteInTenant returns; the commit returned just before it.
    const long long now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
    if (!job) Die(job.error().detail + " " + job.error().internal);
    committed_us[*job] = now_us;
  }
  std::string ids;
  for (const auto& [id, at] : committed_us) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::map<long long, long long> started_us;
  while (std::chrono::steady_clock::now() < deadline) {
    auto rows = database.ReadOnce([&](db::Transaction& tx) -> Result<std::map<long long, long long>> {
      std::map<long long, long long> started;
      for (const auto& row : tx.ExecScript("SELECT id, (extract(epoch FROM started_at) * 1e6)::bigint FROM queue.jobs "
                                           "WHERE started_at IS NOT NULL AND id IN (" +
                                           ids + ")")) {
        started[row[0].as<long long>()] = row[1].as<long long>();
      }
      return started;
    });
    if (!rows) Die(rows.error().detail);
    started_us = *rows;
    if (started_us.size() == committed_us.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (started_us.size() != committed_us.size()) Die("not every job started within 60 s");
  std::vector<double> ms;
  for (const auto& [id, at] : committed_us) ms.push_back(static_cast<double>(started_us[id] - at) / 1000.0);
  std::cout << "latency_count " << ms.size() << "\nlatency_p50_ms " << Percentile(ms, 50) << "\nlatency_p90_ms "
            << Percentile(ms, 90) << "\nlatency_p99_ms " << Percentile(ms, 99) << "\nlatency_max_ms "
            << Percentile(ms, 100) << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) Die("usage: enqueue|backlog|drain|latency … (see the top of bench/jobs_bench/jobs_bench.cpp)");
  auto config = core::LoadConfig(core::ProcessEnv());
  if (!config) Die(config.error().detail);
  core::log::Init("warn");
  config->database.pool_size = 2;
  db::Database database(config->database, std::make_shared<core::Metrics>());
  jobs::RegisterJobStatements(database);
  jobs::JobClient client(database,
                         std::make_shared<cache::RedisClient>(config->redis, std::make_shared<core::Metrics>()));
  const std::string& command = args[0];
  try {
    if (command == "enqueue" && args.size() >= 3) {
      return Enqueue(database, client, args[1], std::stoi(args[2]), args.size() > 3 ? std::stoi(args[3]) : 0);
    }
    if (command == "backlog" && args.size() == 3) return Backlog(database, args[1], std::stoi(args[2]));
    if (command == "drain" && args.size() == 3) return Drain(database, std::stoll(args[1]), std::stoi(args[2]));
    if (command == "latency" && args.size() == 4) {
      return Latency(database, client, args[1], std::stoi(args[2]), std::stod(args[3]));
    }
  } catch (const std::exception& e) {
    Die(e.what());
  }
  Die("bad arguments (see the top of bench/jobs_bench/jobs_bench.cpp)");
}
