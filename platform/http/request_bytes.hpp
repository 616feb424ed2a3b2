#pragma once

#include <string>

#include "platform/core/result.hpp"
#include "platform/http/request.hpp"

namespace clinicore::http {

// The edge's one check on the bytes of a request, before anything routes, logs, echoes or
// stores them: the path (as sent and percent-decoded), every query name and value, and every
// header value must be valid UTF-8 without NUL or control characters (a header may hold a
// tab). The 400 names the part ("path", "query.<name>", or the header as "X-Tenant") and
// never repeats the offending bytes.
core::Status CheckRequestBytes(const RawRequest& request);

// "x-tenant" -> "X-Tenant": how a header is named in a problem's errors.
std::string DisplayHeaderName(const std::string& lower_name);

}  // namespace clinicore::http
