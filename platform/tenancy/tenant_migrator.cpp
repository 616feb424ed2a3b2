#include "platform/tenancy/tenant_migrator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "platform/core/log.hpp"
#include "platform/tenancy/queries.hpp"
#include "platform/tenancy/tenant_repository.hpp"

namespace clinicore::tenancy {

core::Result<MigrateAllReport> MigrateAllTenants(db::Database& database,
                                                 const std::vector<migrations::MigrationFile>& files, int parallelism,
                                                 const std::function<void(const MigrationProgress&)>& on_progress) {
  const int latest = files.empty() ? 0 : files.back().version;
  auto behind = database.Read([&](db::Transaction& tx) -> core::Result<std::vector<Tenant>> {
    return TenantRepository::BehindVersion(tx, latest);
  });
  if (!behind) return std::move(behind).error();

  const auto started = std::chrono::steady_clock::now();
  MigrateAllReport report;
  report.total_tenants = static_cast<int>(behind->size());
  std::atomic<size_t> next{0};
  std::mutex mutex;
  int done = 0;

  auto worker = [&] {
    migrations::MigrationRunner runner(database);
    for (size_t i = next++; i < behind->size(); i = next++) {
      const Tenant& tenant = (*behind)[i];
      migrations::MigrationTarget target{tenant.schema_name, tenant.role_name,
                                         [&tenant](pqxx::transaction_base& tx, const migrations::MigrationFile& file) {
                                           tx.exec_prepared(queries::kSetSchemaVersion, tenant.schema_name,
                                                            file.version);
                                         }};
      auto result = runner.Apply(target, files);
      std::lock_guard lock(mutex);
      ++done;
      if (result) {
        ++report.migrated;
      } else {
        report.failures.emplace_back(tenant.slug, result.error().detail);
        core::log::Error("tenant_migration_failed", {{"tenant_id", tenant.id}, {"detail", result.error().detail}});
      }
      if (on_progress) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const double rate = elapsed > 0 ? done / elapsed : 0;
        const int total = report.total_tenants;
        on_progress(
            {done, total, static_cast<int>(report.failures.size()), rate, rate > 0 ? (total - done) / rate : 0});
      }
    }
  };
  std::vector<std::thread> threads;
  // Each worker holds one pooled connection for a whole tenant: never more workers than
  // connections, or the extra ones would time out waiting for the pool.
  const int count = std::max(1, std::min({parallelism, report.total_tenants, database.pool_size()}));
  for (int i = 0; i < count; ++i) threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace clinicore::tenancy
