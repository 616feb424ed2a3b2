// libFuzzer target: request paths against a realistic route table, and percent-decoding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/http/router.hpp"

namespace {

const clinicore::http::Router& Routes() {
  static const clinicore::http::Router router = [] {
    clinicore::http::Router r;
    auto ok = [](clinicore::http::RequestContext&) -> clinicore::core::Result<clinicore::http::Response> {
      return clinicore::http::Response::NoContent();
    };
    using clinicore::http::Method;
    r.Add(Method::kGet, "/healthz", ok);
    r.Add(Method::kGet, "/v1/console/tenants", ok);
    r.Add(Method::kPost, "/v1/console/tenants", ok);
    r.Add(Method::kGet, "/v1/console/tenants/{id}", ok);
    r.Add(Method::kPost, "/v1/console/tenants/{id}/suspend", ok);
    r.Add(Method::kGet, "/api/docs/{asset}", ok);
    return r;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto method = static_cast<clinicore::http::Method>(data[0] % 8);
  const std::string path(reinterpret_cast<const char*>(data + 1), size - 1);
  auto match = Routes().Match(method, path);
  if (match.kind == clinicore::http::RouteMatch::Kind::kFound && match.route == nullptr) __builtin_trap();
  std::string decoded;
  (void)clinicore::http::PercentDecode(path, decoded);
  return 0;
}
