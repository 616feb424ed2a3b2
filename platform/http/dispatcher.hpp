#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "platform/core/metrics.hpp"
#include "platform/core/result.hpp"
#include "platform/http/request.hpp"
#include "platform/http/router.hpp"

namespace clinicore::http {

// Runs before the handler, in registration order; an error stops the request there.
using Middleware = std::function<core::Status(RequestContext&)>;

// Turns a RawRequest into a RawResponse: request id, routing, body limit, content type,
// JSON parsing, middleware, the handler behind one exception barrier, problem+json for
// every failure, metrics and one access-log line. Independent of the socket layer so it
// is unit-tested without a server. Never throws.
class Dispatcher {
 public:
  Dispatcher(std::shared_ptr<const Router> router, std::shared_ptr<core::Metrics> metrics, size_t max_body_bytes);

  void Use(Middleware middleware);
  RawResponse Handle(const RawRequest& request);

  // After this, new requests get 503 and Connection: close; in-flight ones finish.
  void BeginDrain() { draining_ = true; }
  bool draining() const { return draining_; }
  int in_flight() const { return in_flight_; }

 private:
  RawResponse ProblemResponse(const core::Error& error, const std::string& instance,
                              const std::string& request_id) const;
  RawResponse Dispatch(const RawRequest& request, RequestContext& context);
  // The exception barrier: anything thrown becomes a 500 that names the request id.
  template <typename Fn>
  auto Guard(const RequestContext& context, Fn&& fn) -> decltype(fn());

  std::shared_ptr<const Router> router_;
  std::shared_ptr<core::Metrics> metrics_;
  size_t max_body_bytes_;
  std::vector<Middleware> middleware_;
  std::atomic<bool> draining_{false};
  std::atomic<int> in_flight_{0};
};

// "X-Request-Id" from the client when it is sane (≤ 128 of [A-Za-z0-9._-]); else a new one.
std::string RequestIdFor(const RawRequest& request);

}  // namespace clinicore::http
