#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace clinicore::core {

// Every failure is classified once, near its source, into one of these codes; one table
// (ProblemStatus) maps them to HTTP. The meanings follow Abseil's guidance.
enum class ErrorCode {
  kInvalidArgument,       // the caller sent something wrong; fix the request
  kUnauthenticated,       // no or bad credentials
  kPermissionDenied,      // authenticated but not allowed
  kNotFound,              // no such thing (or not visible to the caller)
  kMethodNotAllowed,      // the route exists, the method does not
  kAlreadyExists,         // a unique thing already exists
  kConflict,              // state conflict; re-read and retry with new state
  kFailedPrecondition,    // the system is not in a state for this; fix state first
  kPayloadTooLarge,       // request body above the configured limit
  kLengthRequired,        // a body without Content-Length (chunked transfer coding is not read)
  kHeadersTooLarge,       // the request line and headers above the limit
  kUnsupportedMediaType,  // body sent with a content type we do not read
  kResourceExhausted,     // rate limit or quota; retry later
  kAborted,               // concurrency conflict; retry the whole transaction
  kDeadlineExceeded,      // took too long
  kUnavailable,           // a dependency is down; retry the call
  kInternal,              // a bug or broken invariant
};

std::string_view ErrorCodeName(ErrorCode code);

struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

// An expected failure. `detail` is safe to show a client; `internal` goes to logs only
// (SQL text, schema names, library messages never reach a client).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail;
  std::string internal;
  std::vector<FieldError> fields;
  int retry_after_seconds = 0;  // > 0: the client may retry after this long (Retry-After)

  static Error InvalidArgument(std::string detail, std::vector<FieldError> fields = {});
  static Error NotFound(std::string detail);
  static Error PermissionDenied(std::string detail);
  static Error AlreadyExists(std::string detail);
  // A change the record's current state refuses (409), naming the field that conflicts.
  static Error Conflict(std::string detail, std::vector<FieldError> fields = {});
  static Error Unavailable(std::string detail, std::string internal = {});
  static Error Internal(std::string internal);
};

}  // namespace clinicore::core
