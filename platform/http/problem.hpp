#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "platform/core/error.hpp"

namespace clinicore::http {

// The one table from error codes to HTTP statuses.
int ProblemStatus(core::ErrorCode code);

// The reason phrase of a status line ("Content Too Large" for 413); the class's generic
// phrase for a status the table does not name.
const char* ReasonPhrase(int status);

// RFC 9457 body: type, title, status, detail, instance, code, request_id, errors[].
nlohmann::json ProblemBody(const core::Error& error, const std::string& instance, const std::string& request_id);

inline constexpr const char* kProblemContentType = "application/problem+json";

}  // namespace clinicore::http
