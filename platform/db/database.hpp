#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "platform/core/log.hpp"
#include "platform/core/result.hpp"
#include "platform/db/errors.hpp"
#include "platform/db/pool.hpp"
#include "platform/db/transaction.hpp"

namespace clinicore::db {

// The role every platform transaction runs as (migrations/platform/0009): it holds the rows of
// the platform's tables and nothing else. The service logs in as a NOINHERIT role that reaches
// it, and the tenants' roles, only by SET ROLE, so a session outside a transaction's scope, or
// after RESET ROLE, holds what PUBLIC holds.
inline constexpr const char* kPlatformRole = "clinicore_platform";
inline constexpr const char* kEnterPlatformSql = "SELECT set_config('role', 'clinicore_platform', true)";

// The PostgreSQL identity a tenant's transactions run as. Both names come only from the
// tenant registry, never from request input.
struct TenantScope {
  std::string role;
  std::string schema;
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
  Database(core::DatabaseConfig config, std::shared_ptr<core::Metrics> metrics)
      : config_(config), pool_(std::move(config), std::move(metrics)) {}

  void RegisterStatement(const std::string& name, const std::string& sql) { pool_.RegisterStatement(name, sql); }

  template <typename Fn>
  auto Read(Fn&& fn) {
    return Run(Access::kReadOnly, std::nullopt, std::forward<Fn>(fn));
  }
  // One read statement, no transaction around it: one round trip instead of three (BEGIN,
  // the statement, ROLLBACK), the platform role entered in the same message. Only for a
  // function that runs exactly one SELECT (a second statement throws).
  template <typename Fn>
  auto ReadOnce(Fn&& fn) {
    return Run(Access::kSingleRead, std::nullopt, std::forward<Fn>(fn));
  }
  // One statement that may change rows and commits by itself (the job queue's claims and
  // settlements): like ReadOnce, one round trip, the platform role entered in the same message.
  template <typename Fn>
  auto WriteOnce(Fn&& fn) {
    return Run(Access::kSingleWrite, std::nullopt, std::forward<Fn>(fn));
  }
  template <typename Fn>
  auto Write(Fn&& fn) {
    return Run(Access::kReadWrite, std::nullopt, std::forward<Fn>(fn));
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

  // Borrows a connection for work that manages its own transactions (migrations).
  core::Result<PooledConnection> Acquire() { return pool_.Acquire(); }
  ConnectionPool& pool() { return pool_; }
  int pool_size() const { return config_.pool_size; }
  core::Status Ping();

  // SQL that confines the rest of the transaction to one tenant (role and search_path,
  // transaction-local).
  static std::string EnterScopeSql(pqxx::connection_base& connection, const TenantScope& scope);

 private:
  template <typename Fn>
  auto Run(Access access, const std::optional<TenantScope>& scope, Fn&& fn) -> std::invoke_result_t<Fn&, Transaction&>;

  core::DatabaseConfig config_;
  ConnectionPool pool_;
};

template <typename Fn>
auto Database::Run(Access access, const std::optional<TenantScope>& scope, Fn&& fn)
    -> std::invoke_result_t<Fn&, Transaction&> {
  using ResultT = std::invoke_result_t<Fn&, Transaction&>;
  const int max_attempts = 1 + config_.max_transaction_retries;
  core::Error last_error;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    auto connection = pool_.Acquire();
    if (!connection) return ResultT(std::move(connection).error());
    FailureKind kind = FailureKind::kFinal;
    try {
      const auto mode = access == Access::kReadWrite  ? Transaction::Mode::kReadWrite
                        : access == Access::kReadOnly ? Transaction::Mode::kReadOnly
                                                      : Transaction::Mode::kAutocommit;
      std::string enter = scope ? EnterScopeSql(connection->get(), *scope) : std::string(kEnterPlatformSql);
      const bool single = access == Access::kSingleRead || access == Access::kSingleWrite;
      Transaction tx = single ? Transaction::ScopedSingleStatement(connection->session(), std::move(enter),
                                                                   access == Access::kSingleWrite)
                              : Transaction(connection->get(), mode, enter);
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
  }
  return ResultT(std::move(last_error));
}

}  // namespace clinicore::db
