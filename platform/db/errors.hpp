#pragma once

#include <exception>

#include "platform/core/error.hpp"

namespace clinicore::db {

// How the transaction runner should react to a failure.
enum class FailureKind {
  kFinal,             // report the classified error
  kRetryTransaction,  // serialization failure or deadlock: run the whole transaction again
  kRetryConnection,   // connection broke before commit: safe to retry on a new connection
};

struct ClassifiedFailure {
  core::Error error;
  FailureKind kind = FailureKind::kFinal;
};

// The one place libpqxx exceptions become error codes (by SQLSTATE where there is one).
ClassifiedFailure Classify(const std::exception& failure);

}  // namespace clinicore::db
