#include "platform/http/request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace clinicore::http {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Method ParseMethod(std::string_view name) {
  for (Method method :
       {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch, Method::kDelete, Method::kOptions}) {
    if (MethodName(method) == name) return method;
  }
  return Method::kOther;
}

namespace {
std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}
}  // namespace

std::optional<std::string> RawRequest::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> RawResponse::Header(std::string_view name) const {
  std::string wanted = Lower(name);
  for (const auto& [key, value] : headers) {
    if (Lower(key) == wanted) return value;
  }
  return std::nullopt;
}

Response Response::Json(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

Response Response::Text(int status, std::string content_type, std::string body) {
  return {status, std::move(content_type), std::move(body), {}};
}

Response Response::NoContent() {
  return {204, "", "", {}};
}

std::optional<std::string> RequestContext::Query(const std::string& name) const {
  auto it = raw.query.find(name);
  if (it == raw.query.end()) return std::nullopt;
  return it->second;
}

core::Result<int> RequestContext::PageLimit() const {
  const auto text = Query("limit");
  if (!text) return 20;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 1 || value > 100) {
    return core::Error::InvalidArgument("limit must be a whole number from 1 to 100.", {{"limit", "must be 1 to 100"}});
  }
  return value;
}

}  // namespace clinicore::http
