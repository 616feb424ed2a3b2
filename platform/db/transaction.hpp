#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

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
    work_->exec(std::string(mode == Mode::kReadOnly ? "BEGIN READ ONLY; " : "BEGIN; ") + enter_sql);
  }

  ~Transaction() {
    if (work_ && manual_ && !committed_) {  // a moved-from transaction owns nothing
      try {
        work_->exec("ROLLBACK");
      } catch (const std::exception&) {
        // The connection is gone; the pool discards it (is_open() is false).
      }
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  template <typename... Args>
  pqxx::result Exec(const std::string& statement, Args&&... args) {
    return work_->exec_prepared(statement, std::forward<Args>(args)...);
  }

  // Runs literal SQL (one or several statements) with no parameters. Only for trusted text
  // such as migration files; request input never goes here.
  pqxx::result ExecScript(const std::string& sql) { return work_->exec(sql); }

  std::string QuoteName(const std::string& identifier) { return work_->quote_name(identifier); }
  std::string Quote(const std::string& value) { return work_->quote(value); }

  // For code that builds on libpqxx directly (the migration runner); prefer Exec.
  pqxx::transaction_base& raw() { return *work_; }

  void Commit() {
    if (manual_) {
      work_->exec("COMMIT");
    } else {
      work_->commit();
    }
    committed_ = true;
  }
  bool committed() const { return committed_; }

 private:
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
  bool manual_ = false;
  bool committed_ = false;
};

}  // namespace clinicore::db
