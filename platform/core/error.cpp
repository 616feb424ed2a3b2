#include "platform/core/error.hpp"

namespace clinicore::core {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kLengthRequired:
      return "length_required";
    case ErrorCode::kHeadersTooLarge:
      return "headers_too_large";
    case ErrorCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kAborted:
      return "aborted";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

Error Error::InvalidArgument(std::string detail, std::vector<FieldError> fields) {
  return {ErrorCode::kInvalidArgument, std::move(detail), {}, std::move(fields)};
}
Error Error::NotFound(std::string detail) {
  return {ErrorCode::kNotFound, std::move(detail), {}, {}};
}
Error Error::PermissionDenied(std::string detail) {
  return {ErrorCode::kPermissionDenied, std::move(detail), {}, {}};
}
Error Error::AlreadyExists(std::string detail) {
  return {ErrorCode::kAlreadyExists, std::move(detail), {}, {}};
}
Error Error::Conflict(std::string detail, std::vector<FieldError> fields) {
  return {ErrorCode::kConflict, std::move(detail), {}, std::move(fields)};
}
Error Error::Unavailable(std::string detail, std::string internal) {
  return {ErrorCode::kUnavailable, std::move(detail), std::move(internal), {}};
}
Error Error::Internal(std::string internal) {
  return {ErrorCode::kInternal, "An internal error occurred.", std::move(internal), {}};
}

}  // namespace clinicore::core
