#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "platform/core/result.hpp"

namespace clinicore::http {

inline constexpr int kMaxJsonDepth = 64;

// Parses a request body as JSON. Malformed input becomes an InvalidArgument naming the byte
// offset; nesting deeper than kMaxJsonDepth is refused before it can exhaust the stack.
core::Result<nlohmann::json> ParseJsonBody(std::string_view body);

// True for application/json and any application/*+json, parameters (charset) ignored.
bool IsJsonContentType(std::string_view content_type);

}  // namespace clinicore::http
