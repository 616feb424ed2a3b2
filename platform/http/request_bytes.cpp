#include "platform/http/request_bytes.hpp"

#include <cctype>

#include "platform/core/utf8.hpp"
#include "platform/http/router.hpp"

namespace clinicore::http {
namespace {

using core::Error;

Error BadBytes(const std::string& field, const std::string& where) {
  return Error::InvalidArgument("The request's " + where +
                                    " holds bytes that are not printable UTF-8 (invalid UTF-8, NUL or a control "
                                    "character).",
                                {{field, "must be printable UTF-8"}});
}

bool IsHeaderToken(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos)
      return false;
  }
  return true;
}

core::Status CheckPath(const std::string& path) {
  std::string decoded;
  // An escape that does not decode is refused here too: nothing downstream could use it.
  if (!core::IsPrintableUtf8(path) || !PercentDecode(path, decoded) || !core::IsPrintableUtf8(decoded)) {
    return BadBytes("path", "path");
  }
  return core::Ok();
}

core::Status CheckQuery(const std::map<std::string, std::string>& query) {
  for (const auto& [name, value] : query) {
    if (!core::IsPrintableUtf8(name)) return BadBytes("query", "query string");
    if (!core::IsPrintableUtf8(value)) return BadBytes("query." + name, "query parameter '" + name + "'");
  }
  return core::Ok();
}

core::Status CheckHeaders(const Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (!IsHeaderToken(name)) return BadBytes("headers", "header names");
    if (!core::IsPrintableUtf8(value, /*allow_tab=*/true)) {
      const std::string display = DisplayHeaderName(name);
      return BadBytes(display, display + " header");
    }
  }
  return core::Ok();
}

}  // namespace

std::string DisplayHeaderName(const std::string& lower_name) {
  std::string out = lower_name;
  bool word_start = true;
  for (char& c : out) {
    if (word_start) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    word_start = c == '-';
  }
  return out;
}

core::Status CheckRequestBytes(const RawRequest& request) {
  if (auto path = CheckPath(request.path); !path) return path;
  if (auto query = CheckQuery(request.query); !query) return query;
  return CheckHeaders(request.headers);
}

}  // namespace clinicore::http
