#include "platform/db/errors.hpp"

#include <pqxx/pqxx>

namespace clinicore::db {

using core::Error;
using core::ErrorCode;

ClassifiedFailure Classify(const std::exception& failure) {
  const std::string what = failure.what();
  if (dynamic_cast<const pqxx::in_doubt_error*>(&failure)) {
    return {Error::Unavailable("The database connection dropped while committing; the outcome is unknown.", what)};
  }
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&failure)) {
    return {Error::Unavailable("The database connection dropped mid-statement; the outcome is unknown.", what)};
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&failure)) {
    // serialization_failure and deadlock_detected: the whole transaction may run again.
    return {Error{ErrorCode::kAborted, "A concurrent change conflicted with this one; retry the request.", what, {}},
            FailureKind::kRetryTransaction};
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&failure)) {
    return {Error::Unavailable("The database is unavailable; retry shortly.", what), FailureKind::kRetryConnection};
  }
  // libpqxx 6.4 throws its specific classes without filling sqlstate(), so the class decides
  // first and the state only where there is no class.
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&failure)) {
    return {Error{ErrorCode::kPermissionDenied, "Access denied.", what, {}}};
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&failure)) {
    return {Error{ErrorCode::kAlreadyExists, "The resource already exists.", what, {}}};
  }
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&failure) ||
      dynamic_cast<const pqxx::check_violation*>(&failure)) {
    return {Error{ErrorCode::kConflict, "The change conflicts with existing data.", what, {}}};
  }
  if (dynamic_cast<const pqxx::insufficient_resources*>(&failure)) {
    return {Error::Unavailable("The database is overloaded; retry shortly.", what)};
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&failure)) {
    const std::string state = sql->sqlstate();
    if (state == "40001" || state == "40P01") {
      return {Error{ErrorCode::kAborted, "A concurrent change conflicted with this one; retry the request.", what, {}},
              FailureKind::kRetryTransaction};
    }
    if (state == "23505") return {Error{ErrorCode::kAlreadyExists, "The resource already exists.", what, {}}};
    if (state == "23503" || state == "23514" || state == "23P01") {
      return {Error{ErrorCode::kConflict, "The change conflicts with existing data.", what, {}}};
    }
    if (state == "57014") {
      return {Error{ErrorCode::kDeadlineExceeded, "The database took too long to answer.", what, {}}};
    }
    if (state == "42501") return {Error{ErrorCode::kPermissionDenied, "Access denied.", what, {}}};
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
      return {Error::Unavailable("The database is unavailable; retry shortly.", what), FailureKind::kRetryConnection};
    }
    if (state.rfind("53", 0) == 0) return {Error::Unavailable("The database is overloaded; retry shortly.", what)};
    return {Error::Internal("sql error " + state + ": " + what)};
  }
  return {Error::Internal(what)};
}

}  // namespace clinicore::db
