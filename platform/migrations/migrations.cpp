#include "platform/migrations/migrations.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"

namespace clinicore::migrations {
namespace {

using core::Error;
using core::ErrorCode;

Error Precondition(std::string detail) {
  return {ErrorCode::kFailedPrecondition, std::move(detail), {}, {}};
}

// A session-level advisory lock held for the whole run on one connection; released when the
// guard ends (or by PostgreSQL when the connection dies).
class AdvisoryLock {
 public:
  AdvisoryLock(pqxx::connection& connection, const std::string& key) : connection_(connection), key_(key) {
    pqxx::nontransaction tx(connection_);
    tx.exec_params("SELECT pg_advisory_lock(hashtext($1))", key_);
  }
  ~AdvisoryLock() {
    try {
      pqxx::nontransaction tx(connection_);
      tx.exec_params("SELECT pg_advisory_unlock(hashtext($1))", key_);
    } catch (const std::exception&) {
      // A dead connection has released the lock already.
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  pqxx::connection& connection_;
  std::string key_;
};

// Runs `fn` as the target's owner (a tenant's role) with its schema on the search_path and no
// statement timeout (migrations may legitimately run long: index builds, backfills), then
// returns to the caller's role and search_path (the platform role inside an onboarding, none
// for `migrate`'s provisioner) before anything else runs in the transaction. SET LOCAL
// semantics: set_config(..., true).
template <typename Fn>
void AsOwner(pqxx::transaction_base& tx, const MigrationTarget& target, Fn&& fn) {
  const auto previous = tx.exec("SELECT current_setting('role'), current_setting('search_path')")[0];
  std::string enter = "SELECT set_config('statement_timeout', '0', true), set_config('search_path', " +
                      tx.quote(tx.quote_name(target.schema)) + ", true)";
  if (!target.owner_role.empty()) enter += ", set_config('role', " + tx.quote(target.owner_role) + ", true)";
  tx.exec(enter);
  fn();
  tx.exec_params("SELECT set_config('role', $1, true), set_config('search_path', $2, true)",
                 previous[0].as<std::string>(), previous[1].as<std::string>());
}

void CreateBookkeeping(pqxx::transaction_base& tx, const MigrationTarget& target) {
  // A tenant's schema exists from its onboarding on (provisioning.create_tenant): its role
  // could not create it, so only a missing schema (the platform's, first run) is created here.
  if (tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", target.schema).empty()) {
    std::string sql = "CREATE SCHEMA " + tx.quote_name(target.schema);
    if (!target.owner_role.empty()) sql += " AUTHORIZATION " + tx.quote_name(target.owner_role);
    tx.exec(sql);
  }
  AsOwner(tx, target, [&] {
    tx.exec("CREATE TABLE IF NOT EXISTS " + tx.quote_name(target.schema) +
            ".schema_migrations (version integer PRIMARY KEY, file_name text NOT NULL, checksum text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())");
  });
}

void EnsureBookkeeping(pqxx::connection& connection, const MigrationTarget& target) {
  pqxx::work tx(connection);
  CreateBookkeeping(tx, target);
  tx.commit();
}

std::vector<AppliedMigration> ReadApplied(pqxx::connection& connection, const std::string& schema) {
  pqxx::read_transaction tx(connection);
  std::vector<AppliedMigration> applied;
  const auto rows = tx.exec("SELECT version, file_name, checksum FROM " + tx.quote_name(schema) +
                            ".schema_migrations ORDER BY version");
  for (const auto& row : rows) {
    applied.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return applied;
}

// Runs one file and records it, inside the caller's transaction, as the target's owner.
void ApplyWithin(pqxx::transaction_base& tx, const MigrationTarget& target, const MigrationFile& file) {
  AsOwner(tx, target, [&] {
    tx.exec(file.sql);
    tx.exec_params("INSERT INTO " + tx.quote_name(target.schema) +
                       ".schema_migrations (version, file_name, checksum) VALUES ($1, $2, $3)",
                   file.version, file.file_name, file.checksum);
  });
  if (target.after_each) target.after_each(tx, file);
}

void ApplyOne(pqxx::connection& connection, const MigrationTarget& target, const MigrationFile& file) {
  pqxx::work tx(connection);
  ApplyWithin(tx, target, file);
  tx.commit();
}

template <typename Fn>
auto Guarded(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    auto failure = db::Classify(e);
    if (failure.error.internal.empty()) failure.error.internal = e.what();
    return std::move(failure.error);
  }
}

}  // namespace

void ApplyAllInTransaction(pqxx::transaction_base& tx, const MigrationTarget& target,
                           const std::vector<MigrationFile>& files) {
  CreateBookkeeping(tx, target);
  for (const auto& file : files) ApplyWithin(tx, target, file);
}

core::Result<std::vector<MigrationFile>> LoadMigrationDir(const std::string& dir) {
  namespace fs = std::filesystem;
  static const std::regex kName(R"(^([0-9]{4})_[a-z0-9_]+\.sql$)");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Precondition("migrations folder " + dir + " does not exist");
  std::vector<MigrationFile> files;
  std::map<int, std::string> seen;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    std::smatch match;
    if (!std::regex_match(name, match, kName)) {
      return Precondition("migration file " + name + " is not named NNNN_lowercase_name.sql");
    }
    const int version = std::stoi(match[1]);
    if (auto [it, inserted] = seen.emplace(version, name); !inserted) {
      return Precondition("migration files " + it->second + " and " + name + " share version " + match[1].str());
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    files.push_back({version, name, content.str(), core::Sha256Hex(content.str())});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return files;
}

std::optional<Error> CheckConsistency(const std::vector<AppliedMigration>& applied,
                                      const std::vector<MigrationFile>& files) {
  for (const auto& done : applied) {
    auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.version == done.version; });
    if (it == files.end()) {
      return Precondition("applied migration " + done.file_name + " is missing from the migrations folder");
    }
    if (it->checksum != done.checksum) {
      return Precondition("migration " + it->file_name + " was edited after it was applied (checksum " +
                          it->checksum.substr(0, 12) + " differs from recorded " + done.checksum.substr(0, 12) +
                          "); add a new migration instead");
    }
  }
  return std::nullopt;
}

core::Result<MigrationPlan> MigrationRunner::Plan(const MigrationTarget& target,
                                                  const std::vector<MigrationFile>& files) {
  auto connection = database_.Acquire();
  if (!connection) return std::move(connection).error();
  return Guarded([&]() -> core::Result<MigrationPlan> {
    EnsureBookkeeping(connection->get(), target);
    MigrationPlan plan;
    plan.applied = ReadApplied(connection->get(), target.schema);
    if (auto error = CheckConsistency(plan.applied, files)) return *error;
    for (const auto& file : files) {
      const bool done = std::any_of(plan.applied.begin(), plan.applied.end(),
                                    [&](const auto& a) { return a.version == file.version; });
      if (!done) plan.pending.push_back(&file);
    }
    return plan;
  });
}

core::Result<MigrationReport> MigrationRunner::Apply(const MigrationTarget& target,
                                                     const std::vector<MigrationFile>& files) {
  auto connection = database_.Acquire();
  if (!connection) return std::move(connection).error();
  auto result = Guarded([&]() -> core::Result<MigrationReport> {
    // Lock first: two first-time runners would otherwise race to create the bookkeeping.
    AdvisoryLock lock(connection->get(), "clinicore.migrate." + target.schema);
    EnsureBookkeeping(connection->get(), target);
    // Read after taking the lock: a concurrent runner may have applied some meanwhile.
    const auto applied = ReadApplied(connection->get(), target.schema);
    if (auto error = CheckConsistency(applied, files)) return *error;
    MigrationReport report;
    for (const auto& file : files) {
      const bool done =
          std::any_of(applied.begin(), applied.end(), [&](const auto& a) { return a.version == file.version; });
      if (done) {
        ++report.already_applied;
        continue;
      }
      try {
        ApplyOne(connection->get(), target, file);
      } catch (const std::exception& e) {
        return Error{ErrorCode::kFailedPrecondition,
                     "migration " + file.file_name + " failed in schema " + target.schema + ": " + e.what(),
                     e.what(),
                     {}};
      }
      core::log::Info("migration_applied", {{"schema", target.schema}, {"file", file.file_name}});
      report.applied.push_back(file.file_name);
    }
    return report;
  });
  if (!result) connection->MarkBroken();  // leave no half-known session state behind
  return result;
}

}  // namespace clinicore::migrations
