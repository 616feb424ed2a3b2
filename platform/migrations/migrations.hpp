#pragma once

#include <functional>
#include <string>
#include <vector>

#include "platform/core/result.hpp"
#include "platform/db/database.hpp"

namespace clinicore::migrations {

// One file NNNN_name.sql from migrations/platform or migrations/tenant.
struct MigrationFile {
  int version = 0;
  std::string file_name;  // "0001_platform_core.sql"
  std::string sql;
  std::string checksum;  // SHA-256 of the file's bytes, hex
};

// Reads and orders a migrations folder. Refuses names not shaped NNNN_name.sql and
// duplicate versions, naming the file.
core::Result<std::vector<MigrationFile>> LoadMigrationDir(const std::string& dir);

struct AppliedMigration {
  int version = 0;
  std::string file_name;
  std::string checksum;
};

struct MigrationPlan {
  std::vector<AppliedMigration> applied;
  std::vector<const MigrationFile*> pending;
};

// Where migrations go: a schema, and the role that should own what they create (empty for
// the platform schema, which the service's own role owns).
struct MigrationTarget {
  std::string schema;
  std::string owner_role;
  // Runs after each file, in the same transaction, as the service's own role (the tenancy
  // component records the tenant's schema version here).
  std::function<void(pqxx::transaction_base&, const MigrationFile&)> after_each = {};
};

// Creates the bookkeeping table and applies every file inside the caller's transaction:
// onboarding uses it so a new tenant's schema is complete or absent, never half-built.
void ApplyAllInTransaction(pqxx::transaction_base& tx, const MigrationTarget& target,
                           const std::vector<MigrationFile>& files);

struct MigrationReport {
  std::vector<std::string> applied;  // file names applied by this run
  int already_applied = 0;
};

// Applies pending migrations to one schema, each in its own transaction, recording version,
// name and checksum in <schema>.schema_migrations. Concurrent runners on the same schema
// serialize on a PostgreSQL advisory lock. An applied file whose checksum changed, or an
// applied version missing on disk, stops the run with a message naming the file.
class MigrationRunner {
 public:
  explicit MigrationRunner(db::Database& database) : database_(database) {}

  core::Result<MigrationReport> Apply(const MigrationTarget& target, const std::vector<MigrationFile>& files);
  core::Result<MigrationPlan> Plan(const MigrationTarget& target, const std::vector<MigrationFile>& files);

 private:
  db::Database& database_;
};

// Compares what a schema has applied against the files; empty when consistent.
std::optional<core::Error> CheckConsistency(const std::vector<AppliedMigration>& applied,
                                            const std::vector<MigrationFile>& files);

}  // namespace clinicore::migrations
