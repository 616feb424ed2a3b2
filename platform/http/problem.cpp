#include "platform/http/problem.hpp"

namespace clinicore::http {

using core::ErrorCode;

int ProblemStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kAborted:
      return 409;
    case ErrorCode::kFailedPrecondition:
      return 412;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kLengthRequired:
      return 411;
    case ErrorCode::kHeadersTooLarge:
      return 431;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kDeadlineExceeded:
      return 504;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 100:
      return "Continue";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return status >= 500 ? "Internal Server Error" : status >= 400 ? "Bad Request" : "OK";
  }
}

nlohmann::json ProblemBody(const core::Error& error, const std::string& instance, const std::string& request_id) {
  const int status = ProblemStatus(error.code);
  const std::string code(core::ErrorCodeName(error.code));
  nlohmann::json body = {
      {"type", "https://clinicore.dev/problems/" + code},
      {"title", ReasonPhrase(status)},
      {"status", status},
      {"detail", error.detail.empty() ? ReasonPhrase(status) : error.detail},
      {"instance", instance},
      {"code", code},
      {"request_id", request_id},
  };
  if (!error.fields.empty()) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& field : error.fields) errors.push_back({{"field", field.field}, {"message", field.message}});
    body["errors"] = std::move(errors);
  }
  return body;
}

}  // namespace clinicore::http
