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
  // The listeners this dispatcher answers for (all three by default); a route served on
  // none of them is a 404, as if it did not exist.
  void ServeListeners(std::vector<Listener> listeners) { listeners_ = std::move(listeners); }
  RawResponse Handle(const RawRequest& request);
  // True when the request's route is marked cpu_heavy (it hashes passwords): the server
  // runs it on its hashing pool.
  bool RunsOffIoThreads(const RawRequest& request) const;
  // A problem answer for a request that never reached routing (a framing refusal, a full
  // hashing pool): request id, metrics and access log like any other answer.
  RawResponse Reject(const core::Error& error, const RawRequest& request);

  // After this, new requests get 503 and Connection: close; in-flight ones finish.
  void BeginDrain() { draining_ = true; }
  bool draining() const { return draining_; }
  // Requests being handled plus answers still being written.
  int in_flight() const { return *in_flight_; }
  // An answer's write belongs to its request: Stop() waits until every token this returns is
  // released. Pistache settles (or drops) a write on its I/O thread after the handler has
  // returned; the caller keeps the token alive until then.
  std::shared_ptr<void> HoldUntilWritten();

 private:
  RawResponse ProblemResponse(const core::Error& error, const std::string& instance,
                              const std::string& request_id) const;
  RawResponse Dispatch(const RawRequest& request, RequestContext& context);
  // Request id, metrics and the access-log line around one step that makes the answer.
  template <typename Step>
  RawResponse Answer(const RawRequest& request, Step&& step);
  bool Serves(const Route& route) const;
  // The exception barrier: anything thrown becomes a 500 that names the request id.
  template <typename Fn>
  auto Guard(const RequestContext& context, Fn&& fn) -> decltype(fn());

  std::shared_ptr<const Router> router_;
  std::shared_ptr<core::Metrics> metrics_;
  size_t max_body_bytes_;
  std::vector<Middleware> middleware_;
  std::vector<Listener> listeners_ = {Listener::kApi, Listener::kOps, Listener::kConsole};
  std::atomic<bool> draining_{false};
  // Shared, so a write token stays valid whichever of it and the dispatcher goes first.
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
};

// "X-Request-Id" from the client when it is sane (≤ 128 of [A-Za-z0-9._-]); else a new one.
std::string RequestIdFor(const RawRequest& request);

}  // namespace clinicore::http
