#include "platform/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace clinicore::http {
namespace {

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Scores how specific a match is: literal segments earlier in the path count more.
int Specificity(const Route& route) {
  int score = 0;
  for (const auto& segment : route.segments) score = score * 2 + (IsParam(segment) ? 0 : 1);
  return score;
}

bool MatchSegments(const Route& route, const std::vector<std::string>& parts,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& segment = route.segments[i];
    if (IsParam(segment)) {
      std::string decoded;
      if (parts[i].empty() || !PercentDecode(parts[i], decoded)) return false;
      params[segment.substr(1, segment.size() - 2)] = std::move(decoded);
    } else if (segment != parts[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = path.empty() || path.front() != '/' ? 0 : 1;
  if (start >= path.size()) return parts;
  while (true) {
    size_t slash = path.find('/', start);
    parts.emplace_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int high = HexValue(in[i + 1]);
    int low = HexValue(in[i + 2]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

bool ServedOn(const Route& route, Listener listener) {
  if (route.options.plane == Plane::kEvery) return true;
  if (route.options.scope == RouteScope::kConsole) return listener == Listener::kConsole;
  return listener == (route.options.plane == Plane::kOps ? Listener::kOps : Listener::kApi);
}

void Router::Add(Method method, std::string path_template, Handler handler, RouteOptions options) {
  if (path_template.empty() || path_template.front() != '/') {
    throw std::invalid_argument("route template must start with '/': " + path_template);
  }
  Route route{method, path_template, std::move(handler), options, SplitPath(path_template)};
  for (const auto& existing : routes_) {
    if (existing.method == method && existing.segments.size() == route.segments.size()) {
      bool same_shape = true;
      for (size_t i = 0; i < route.segments.size() && same_shape; ++i) {
        const bool both_params = IsParam(existing.segments[i]) && IsParam(route.segments[i]);
        same_shape = both_params || existing.segments[i] == route.segments[i];
      }
      if (same_shape) {
        throw std::invalid_argument("duplicate route " + std::string(MethodName(method)) + " " + path_template);
      }
    }
  }
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(Method method, std::string_view path) const {
  const std::vector<std::string> parts = SplitPath(path);
  RouteMatch result;
  int best_score = -1;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchSegments(route, parts, params)) continue;
    // HEAD is answered by the GET route (the adapter drops the body).
    const bool method_matches = route.method == method || (method == Method::kHead && route.method == Method::kGet);
    if (!method_matches) {
      if (std::find(result.allowed.begin(), result.allowed.end(), route.method) == result.allowed.end()) {
        result.allowed.push_back(route.method);
      }
      continue;
    }
    const int score = Specificity(route);
    if (score > best_score) {
      best_score = score;
      result.kind = RouteMatch::Kind::kFound;
      result.route = &route;
      result.params = std::move(params);
    }
  }
  if (result.kind != RouteMatch::Kind::kFound && !result.allowed.empty()) {
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
    std::sort(result.allowed.begin(), result.allowed.end());
  }
  return result;
}

}  // namespace clinicore::http
