#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "platform/core/log.hpp"
#include "platform/core/result.hpp"
#include "platform/db/errors.hpp"
#include "platform/db/pool.hpp"
#include "platform/db/transaction.hpp"

namespace clinicore::db {

// The role every platform statement runs as (migrations/platform/0009): it holds the rows of
// the platform's tables and nothing else. The service logs in as a NOINHERIT role that reaches
// it, and the tenants' roles, only by SET ROLE. A pooled session takes it once, at session
// level, before its first transaction (per transaction it would cost a parsed statement on
// every single-statement read: 55% of the one-query row); tenant scopes switch away from it
// for one transaction and fall back to it. RESET ROLE, or a session the pool did not set up,
// holds what PUBLIC holds.
inline constexpr const char* kEnterPlatformRoleSql = "SET ROLE clinicore_platform";

// The PostgreSQL identity a tenant's transactions run as. Both names come only from the
// tenant registry, never from request input.
struct TenantScope {
  std::string role;
  std::string schema;
  int cell = 0;  // whose login reaches the role (db/cells.hpp)
};

enum class Access { kReadOnly, kReadWrite, kSingleRead, kSingleWrite };

// `serve` and `work` refuse to start as a role that could do more than enter the platform's
// and the tenants' roles (docs/tenancy.md, "Database roles"): a superuser, a role with
// CREATEROLE (on PostgreSQL 15 nearly a superuser: it can grant itself
// pg_execute_server_program), CREATEDB, REPLICATION or BYPASSRLS, a role that inherits what it
// is a member of, a member of the server-file roles, or the owner of the database or of
// anything in it. FailedPrecondition naming what is wrong; Unavailable when it cannot connect.
core::Status CheckRuntimeLogin(const core::DatabaseConfig& config);

// Entry point for all SQL: borrows a connection, runs a function inside one transaction,
// classifies failures once and retries what is safe to retry.
//
//   db.Write([&](Transaction& tx) -> Result<Id> { ...; tx.Commit(); return id; });
//
// Write() requires an explicit Commit(): a function that returns success without it is
// reported as an internal error (and rolled back), so a forgotten commit fails loudly.
// Read() runs READ ONLY and never commits. The function may run more than once (after a
// serialization failure, deadlock or a connection lost before commit): keep side effects
// other than SQL out of it.
class Database {
 public:
  // One pool per cell (config.cells): cell 0 logs in as config.url's user, with pool_size
  // connections, and also carries every platform transaction; cell k > 0 as that user plus
  // "_c<k>", with cell_pool_size. Throws std::invalid_argument when cells > 1 and the URL
  // names no user (config validation reports it first).
  Database(core::DatabaseConfig config, std::shared_ptr<core::Metrics> metrics);
  ~Database();

  void RegisterStatement(const std::string& name, const std::string& sql) {
    for (auto& pool : pools_) pool->RegisterStatement(name, sql);
  }

  template <typename Fn>
  auto Read(Fn&& fn) {
    return Run(Access::kReadOnly, std::nullopt, std::forward<Fn>(fn));
  }
  // One read statement, no transaction around it: one round trip instead of three (BEGIN,
  // the statement, ROLLBACK). Only for a function that runs exactly one SELECT; several
  // statements here would each see their own snapshot.
  template <typename Fn>
  auto ReadOnce(Fn&& fn) {
    return Run(Access::kSingleRead, std::nullopt, std::forward<Fn>(fn));
  }
  // One statement that may change rows and commits by itself (the job queue's claims and
  // settlements): like ReadOnce, one round trip.
  template <typename Fn>
  auto WriteOnce(Fn&& fn) {
    return Run(Access::kSingleWrite, std::nullopt, std::forward<Fn>(fn));
  }
  template <typename Fn>
  auto Write(Fn&& fn) {
    return Run(Access::kReadWrite, std::nullopt, std::forward<Fn>(fn));
  }
  // A platform write on cell `cell`'s login, on a connection that is closed afterwards
  // instead of returned: onboarding, which creates a tenant's role in that cell and migrates
  // its schema as that role, and leaves ~1.3 MiB of catalog entries in the backend that ran
  // it, which no later transaction needs.
  template <typename Fn>
  auto WriteInCellAndRetire(int cell, Fn&& fn) {
    return Run(Access::kReadWrite, std::nullopt, std::forward<Fn>(fn), cell, /*retire=*/true);
  }
  // Inside one tenant: SET LOCAL ROLE and search_path (set_config(..., true)) first, so
  // PostgreSQL itself refuses anything outside that tenant's schema.
  template <typename Fn>
  auto ReadInTenant(const TenantScope& scope, Fn&& fn) {
    return Run(Access::kReadOnly, scope, std::forward<Fn>(fn));
  }
  // ReadOnce inside a tenant: the function runs exactly one statement, which reaches
  // PostgreSQL together with the scope (one round trip once the session has prepared it).
  template <typename Fn>
  auto ReadOnceInTenant(const TenantScope& scope, Fn&& fn) {
    return Run(Access::kSingleRead, scope, std::forward<Fn>(fn));
  }
  template <typename Fn>
  auto WriteInTenant(const TenantScope& scope, Fn&& fn) {
    return Run(Access::kReadWrite, scope, std::forward<Fn>(fn));
  }

  // Borrows a connection for work that manages its own transactions (migrations), as the
  // login role itself (the platform role is reset; the next transaction takes it again).
  core::Result<PooledConnection> Acquire();
  ConnectionPool& pool() { return *pools_.front(); }
  int pool_size() const { return config_.pool_size; }
  int cells() const { return static_cast<int>(pools_.size()); }
  // Every pool's figures added up.
  PoolStats Stats() const;
  core::Status Ping();

  // SQL that confines the rest of the transaction to one tenant (role and search_path,
  // transaction-local).
  static std::string EnterScopeSql(pqxx::connection_base& connection, const TenantScope& scope);

 private:
  template <typename Fn>
  auto Run(Access access, const std::optional<TenantScope>& scope, Fn&& fn, int cell = 0, bool retire = false)
      -> std::invoke_result_t<Fn&, Transaction&>;
  // The pool of `cell`, or Unavailable naming the cell this process has no login for (a
  // tenant placed by a node configured with more cells).
  core::Result<ConnectionPool*> PoolOf(int cell);
  // SET ROLE clinicore_platform on a session that has not taken it yet (one round trip per
  // connection). Throws like a statement.
  static void EnterPlatformRole(Session& session);

  core::DatabaseConfig config_;
  std::shared_ptr<core::Metrics> metrics_;
  std::vector<std::unique_ptr<ConnectionPool>> pools_;
};

template <typename Fn>
auto Database::Run(Access access, const std::optional<TenantScope>& scope, Fn&& fn, int cell, bool retire)
    -> std::invoke_result_t<Fn&, Transaction&> {
  using ResultT = std::invoke_result_t<Fn&, Transaction&>;
  auto pool = PoolOf(scope ? scope->cell : cell);
  if (!pool) return ResultT(std::move(pool).error());
  const int max_attempts = 1 + config_.max_transaction_retries;
  core::Error last_error;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    auto connection = (*pool)->Acquire();
    if (!connection) return ResultT(std::move(connection).error());
    if (scope) connection->session().tenants_entered.insert(scope->schema);
    if (retire) connection->session().retire = true;
    FailureKind kind = FailureKind::kFinal;
    try {
      const auto mode = access == Access::kReadWrite  ? Transaction::Mode::kReadWrite
                        : access == Access::kReadOnly ? Transaction::Mode::kReadOnly
                                                      : Transaction::Mode::kAutocommit;
      EnterPlatformRole(connection->session());
      Transaction tx =
          !scope ? Transaction(connection->get(), mode)
          : access == Access::kSingleRead
              ? Transaction::ScopedSingleStatement(connection->session(), EnterScopeSql(connection->get(), *scope))
              : Transaction(connection->get(), mode, EnterScopeSql(connection->get(), *scope));
      ResultT result = fn(tx);
      if (result.ok() && access == Access::kReadWrite && !tx.committed()) {
        core::log::Error("db_error", {{"what", "write transaction returned success without Commit()"}});
        return ResultT(core::Error::Internal("write transaction returned success without Commit()"));
      }
      return result;
    } catch (const std::exception& e) {
      ClassifiedFailure failure = Classify(e);
      if (failure.kind == FailureKind::kRetryConnection || !connection->get().is_open()) connection->MarkBroken();
      kind = failure.kind;
      last_error = std::move(failure.error);
    }
    if (kind == FailureKind::kFinal || attempt == max_attempts) break;
    core::log::Debug("db_transaction_retry", {{"attempt", attempt}, {"code", core::ErrorCodeName(last_error.code)}});
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
  }
  if (last_error.code == core::ErrorCode::kInternal) {
    core::log::Error("db_error", {{"what", last_error.internal}});
  } else if (last_error.code == core::ErrorCode::kPermissionDenied) {
    // The roles and policies refused a statement the service made: a bug or an attack, never
    // the caller's mistake, so the operator sees which statement (it names objects, not data).
    core::log::Warn("db_permission_denied", {{"what", last_error.internal}});
  }
  return ResultT(std::move(last_error));
}

}  // namespace clinicore::db
