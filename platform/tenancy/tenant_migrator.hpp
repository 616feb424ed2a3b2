#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "platform/core/result.hpp"
#include "platform/db/database.hpp"
#include "platform/migrations/migrations.hpp"

namespace clinicore::tenancy {

struct MigrationProgress {
  int done = 0;
  int total = 0;
  int failed = 0;
  double per_second = 0;
  double eta_seconds = 0;
};

struct MigrateAllReport {
  int total_tenants = 0;  // tenants in the registry that were behind
  int migrated = 0;
  std::vector<std::pair<std::string, std::string>> failures;  // slug → reason
  double seconds = 0;
};

// Brings every tenant schema up to the latest tenant migration, `parallelism` at a time.
// Up-to-date tenants cost nothing: one registry query selects those behind (their
// schema_version is kept in platform.tenants in the same transaction as each migration).
// A tenant that fails is reported and the others go on; a rerun picks up the rest.
core::Result<MigrateAllReport> MigrateAllTenants(db::Database& database,
                                                 const std::vector<migrations::MigrationFile>& files, int parallelism,
                                                 const std::function<void(const MigrationProgress&)>& on_progress);

}  // namespace clinicore::tenancy
