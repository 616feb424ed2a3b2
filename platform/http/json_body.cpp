#include "platform/http/json_body.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace clinicore::http {
namespace {

struct TooDeep {
  size_t depth;
};

std::string ShortReason(const std::string& what) {
  // nlohmann's text looks like "[json.exception.parse_error.101] parse error at line 1,
  // column 4: syntax error while parsing value - invalid literal; last read: 'tru,'".
  // Keep only the reason after " - " so no echo of the input is reflected back.
  auto dash = what.find(" - ");
  std::string reason = dash == std::string::npos ? "syntax error" : what.substr(dash + 3);
  auto last_read = reason.find("; last read");
  if (last_read != std::string::npos) reason.resize(last_read);
  return reason;
}

// The first string (a value or a member name) holding NUL, named like "consent.how" or
// "tags[2]"; PostgreSQL text cannot hold NUL, so such a body is refused at the edge.
std::optional<std::string> FieldWithNul(const nlohmann::json& value, const std::string& path) {
  auto has_nul = [](const std::string& text) { return text.find('\0') != std::string::npos; };
  if (value.is_string()) {
    if (has_nul(value.get_ref<const std::string&>())) return path.empty() ? "body" : path;
  } else if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      const std::string child = path.empty() ? key : path + "." + key;
      if (has_nul(key)) return path.empty() ? "body" : path;
      if (auto found = FieldWithNul(member, child)) return found;
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto found = FieldWithNul(value[i], (path.empty() ? "body" : path) + "[" + std::to_string(i) + "]")) {
        return found;
      }
    }
  }
  return std::nullopt;
}

core::Result<nlohmann::json> Parse(std::string_view body) {
  auto limit_depth = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{static_cast<size_t>(depth)};
    return true;
  };
  try {
    return nlohmann::json::parse(body.begin(), body.end(), limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    const std::string offset = std::to_string(e.byte);
    return core::Error::InvalidArgument("The request body is not valid JSON (error at byte " + offset + ").",
                                        {{"body", "byte " + offset + ": " + ShortReason(e.what())}});
  } catch (const nlohmann::json::exception&) {
    // Not a syntax error but a value nlohmann cannot hold (e.g. 1e9999: out_of_range 406).
    return core::Error::InvalidArgument("The request body holds a value out of range.",
                                        {{"body", "a number is out of range"}});
  } catch (const TooDeep&) {
    return core::Error::InvalidArgument(
        "The request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels.",
        {{"body", "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels"}});
  }
}

}  // namespace

core::Result<nlohmann::json> ParseJsonBody(std::string_view body) {
  auto parsed = Parse(body);
  if (!parsed) return parsed;
  if (auto field = FieldWithNul(*parsed, "")) {
    return core::Error::InvalidArgument("A string in the request body holds a NUL character (\\u0000).",
                                        {{*field, "must not contain NUL"}});
  }
  return parsed;
}

bool IsJsonContentType(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type == "application/json") return true;
  return type.rfind("application/", 0) == 0 && type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0;
}

}  // namespace clinicore::http
