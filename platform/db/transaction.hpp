#pragma once

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>

#include "platform/db/pool.hpp"

namespace clinicore::db {

// One database transaction. Statements run by name (prepared once per connection);
// nothing is committed unless Commit() is called, and leaving scope without it rolls back.
class Transaction {
 public:
  enum class Mode {
    kReadOnly,    // BEGIN; SET TRANSACTION READ ONLY … ROLLBACK: one snapshot for several reads
    kReadWrite,   // BEGIN … COMMIT (explicit) or ROLLBACK
    kAutocommit,  // no BEGIN/COMMIT: for one statement, one round trip
  };

  Transaction(pqxx::connection& connection, Mode mode) : work_(Open(connection, mode)) {}

  // A transaction that starts by running `enter_sql` (tenant scope): BEGIN and the scope go to
  // the server in ONE round trip, which libpqxx's own transactions cannot do, so the
  // transaction block is driven by hand on a nontransaction.
  Transaction(pqxx::connection& connection, Mode mode, const std::string& enter_sql)
      : work_(std::make_unique<pqxx::nontransaction>(connection)), manual_(true) {
    try {
      work_->exec(std::string(mode == Mode::kReadOnly ? "BEGIN READ ONLY; " : "BEGIN; ") + enter_sql);
    } catch (...) {
      // The destructor does not run for a constructor that throws: end the block here, or the
      // pooled connection goes back inside an aborted transaction.
      EndBlock(*work_);
      throw;
    }
  }

  // One statement inside a tenant scope (Database::ReadOnceInTenant). Once this session has
  // prepared the statement, the scope and an EXECUTE of it travel as ONE simple-query message,
  // which PostgreSQL runs as one implicit transaction, so set_config(..., true) ends with the
  // statement: one round trip. The first time on a session, the statement is prepared inside
  // an explicit scoped transaction, so it is parsed under the tenant's search_path.
  static Transaction ScopedSingleStatement(Session& session, std::string enter_sql) {
    Transaction tx(session.connection, Mode::kAutocommit);
    tx.session_ = &session;
    tx.enter_sql_ = std::move(enter_sql);
    return tx;
  }

  ~Transaction() {
    if (work_ && manual_ && !committed_) EndBlock(*work_);  // a moved-from transaction owns nothing
  }
  Transaction(Transaction&&) = default;  // the moved-from object owns nothing (work_ is null)
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  template <typename... Args>
  pqxx::result Exec(const std::string& statement, Args&&... args) {
    if (session_ == nullptr) return work_->exec_prepared(statement, std::forward<Args>(args)...);
    ClaimSingleStatement();
    if (session_->prepared_in_scope.count(statement) != 0) {
      std::string call = enter_sql_ + "; EXECUTE " + work_->quote_name(statement);
      if constexpr (sizeof...(Args) > 0) {
        std::string list;
        ((list += (list.empty() ? "" : ", ") + Literal(args)), ...);
        call += "(" + list + ")";
      }
      return work_->exec(call);
    }
    work_->exec("BEGIN READ ONLY; " + enter_sql_);
    try {
      pqxx::result result = work_->exec_prepared(statement, std::forward<Args>(args)...);
      work_->exec("ROLLBACK");
      session_->prepared_in_scope.insert(statement);
      return result;
    } catch (...) {
      try {
        work_->exec("ROLLBACK");
      } catch (const std::exception&) {
        // The connection is gone; the pool discards it.
      }
      throw;
    }
  }

  // Runs literal SQL (one or several statements) with no parameters. Only for trusted text
  // such as migration files; request input never goes here.
  pqxx::result ExecScript(const std::string& sql) {
    if (session_ == nullptr) return work_->exec(sql);
    ClaimSingleStatement();
    return work_->exec(enter_sql_ + "; " + sql);
  }

  std::string QuoteName(const std::string& identifier) { return work_->quote_name(identifier); }
  std::string Quote(const std::string& value) { return work_->quote(value); }

  // For code that builds on libpqxx directly (the migration runner); prefer Exec.
  pqxx::transaction_base& raw() { return *work_; }

  void Commit() {
    if (manual_) {
      try {
        work_->exec("COMMIT");
      } catch (const pqxx::broken_connection& lost) {
        // The COMMIT may have reached the server before the connection went: the outcome is
        // unknown, so it must not be retried as a transaction that failed (libpqxx's own
        // transactions report this as in_doubt_error; this block is driven by hand).
        committed_ = true;  // nothing left to roll back on this connection
        throw pqxx::in_doubt_error(std::string("connection lost during COMMIT: ") + lost.what());
      }
    } else {
      work_->commit();
    }
    committed_ = true;
  }
  bool committed() const { return committed_; }

 private:
  void ClaimSingleStatement() {
    if (single_statement_used_) throw std::logic_error("a single-statement tenant read ran a second statement");
    single_statement_used_ = true;
  }
  template <typename T>
  std::string Literal(const std::optional<T>& value) {
    return value ? Literal(*value) : std::string("NULL");
  }
  template <typename T>
  std::string Literal(const T& value) {
    return work_->quote(value);
  }

  // Rolls back a transaction block driven by hand. When even that fails, the connection's
  // state is unknown: it is closed, so the pool discards it instead of lending it again.
  static void EndBlock(pqxx::transaction_base& work) noexcept {
    try {
      work.exec("ROLLBACK");
    } catch (const std::exception&) {
      work.conn().disconnect();
    }
  }

  static std::unique_ptr<pqxx::transaction_base> Open(pqxx::connection& connection, Mode mode) {
    switch (mode) {
      case Mode::kReadOnly:
        return std::make_unique<pqxx::read_transaction>(connection);
      case Mode::kReadWrite:
        return std::make_unique<pqxx::work>(connection);
      case Mode::kAutocommit:
        return std::make_unique<pqxx::nontransaction>(connection);
    }
    return std::make_unique<pqxx::work>(connection);
  }

  std::unique_ptr<pqxx::transaction_base> work_;
  Session* session_ = nullptr;  // set for a single statement in a tenant scope
  std::string enter_sql_;
  bool single_statement_used_ = false;
  bool manual_ = false;
  bool committed_ = false;
};

}  // namespace clinicore::db
