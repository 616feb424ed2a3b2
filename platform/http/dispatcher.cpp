#include "platform/http/dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include "platform/core/log.hpp"
#include "platform/core/utf8.hpp"
#include "platform/http/json_body.hpp"
#include "platform/http/problem.hpp"
#include "platform/http/request_bytes.hpp"

namespace clinicore::http {
namespace {

using core::Error;
using core::ErrorCode;

constexpr const char* kRequestsTotal = "clinicore_http_requests_total";
constexpr const char* kRequestDuration = "clinicore_http_request_duration_seconds";

bool IsSaneRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t high = engine();
  uint64_t low = engine();
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(high >> (i * 4)) & 0xf];
    id[16 + i] = kHex[(low >> (i * 4)) & 0xf];
  }
  return id;
}

std::string AllowHeader(const std::vector<Method>& allowed) {
  std::string out;
  bool has_get = false;
  for (Method method : allowed) {
    if (!out.empty()) out += ", ";
    out += MethodName(method);
    has_get = has_get || method == Method::kGet;
  }
  if (has_get) out += ", HEAD";
  return out;
}

// The problem's `instance`: the path when it is printable UTF-8, else nothing of it (a
// problem never echoes bytes the edge refused).
std::string SafeInstance(const std::string& path) {
  return core::IsPrintableUtf8(path) ? path : std::string();
}

class InFlight {
 public:
  explicit InFlight(std::atomic<int>& counter) : counter_(counter) { ++counter_; }
  ~InFlight() { --counter_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<int>& counter_;
};

}  // namespace

std::string RequestIdFor(const RawRequest& request) {
  auto given = request.Header("x-request-id");
  if (given && IsSaneRequestId(*given)) return *given;
  return NewRequestId();
}

Dispatcher::Dispatcher(std::shared_ptr<const Router> router, std::shared_ptr<core::Metrics> metrics,
                       size_t max_body_bytes)
    : router_(std::move(router)), metrics_(std::move(metrics)), max_body_bytes_(max_body_bytes) {
  metrics_->DescribeCounter(kRequestsTotal, "HTTP requests by method, route template and status.");
  metrics_->DescribeHistogram(kRequestDuration, "HTTP request latency in seconds by route template and status.",
                              {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

void Dispatcher::Use(Middleware middleware) {
  middleware_.push_back(std::move(middleware));
}

RawResponse Dispatcher::ProblemResponse(const Error& error, const std::string& instance,
                                        const std::string& request_id) const {
  RawResponse response;
  response.status = ProblemStatus(error.code);
  response.headers.emplace_back("Content-Type", kProblemContentType);
  if (error.retry_after_seconds > 0)
    response.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
  if (error.code == core::ErrorCode::kUnauthenticated) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  // `replace`: a detail can never make the answer itself fail.
  response.body = ProblemBody(error, SafeInstance(instance), request_id)
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

RawResponse Dispatcher::Handle(const RawRequest& request) {
  return Answer(request, [&](RequestContext& context) {
    // The outer barrier: whatever escapes the steps still becomes a problem response.
    auto guarded = Guard(context, [&]() -> core::Result<RawResponse> { return Dispatch(request, context); });
    return guarded.ok() ? std::move(guarded).value()
                        : ProblemResponse(guarded.error(), request.path, context.request_id);
  });
}

std::shared_ptr<void> Dispatcher::HoldUntilWritten() {
  ++*in_flight_;
  return {nullptr, [counter = in_flight_](void*) { --*counter; }};
}

bool Dispatcher::RunsOffIoThreads(const RawRequest& request) const {
  const RouteMatch match = router_->Match(request.method, request.path);
  return match.route != nullptr && match.route->options.cpu_heavy;
}

RawResponse Dispatcher::Reject(const core::Error& error, const RawRequest& request) {
  return Answer(request, [&](RequestContext& context) { return ProblemResponse(error, "", context.request_id); });
}

template <typename Step>
RawResponse Dispatcher::Answer(const RawRequest& request, Step&& step) {
  const auto started = std::chrono::steady_clock::now();
  InFlight in_flight(*in_flight_);
  RequestContext context{request, RequestIdFor(request)};
  RawResponse response = step(context);
  response.headers.emplace_back("X-Request-Id", context.request_id);
  if (request.method == Method::kHead) response.body.clear();

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string status = std::to_string(response.status);
  metrics_->AddCounter(
      kRequestsTotal,
      {{"method", std::string(MethodName(request.method))}, {"route", context.route_template}, {"status", status}});
  metrics_->ObserveHistogram(kRequestDuration, {{"route", context.route_template}, {"status", status}}, seconds);

  if (context.access_log && core::log::Enabled(core::log::Level::kInfo)) {
    nlohmann::json fields = {{"method", MethodName(request.method)},
                             {"route", context.route_template},
                             {"status", response.status},
                             {"duration_ms", seconds * 1000.0},
                             {"request_id", context.request_id}};
    if (context.tenant_id) fields["tenant_id"] = *context.tenant_id;
    if (context.actor_id) fields["actor_id"] = *context.actor_id;
    core::log::Info("http_request", fields);
  }
  return response;
}

RawResponse Dispatcher::Dispatch(const RawRequest& request, RequestContext& context) {
  auto fail = [&](const Error& error) { return ProblemResponse(error, request.path, context.request_id); };

  if (draining_) {
    RawResponse response = fail(Error::Unavailable("The server is shutting down; retry on another instance."));
    response.headers.emplace_back("Connection", "close");
    return response;
  }

  // Before routing, so no step below ever sees, logs or echoes bytes that are not text.
  if (auto bytes = CheckRequestBytes(request); !bytes) return fail(bytes.error());

  const RouteMatch match = router_->Match(request.method, request.path);
  if (match.kind == RouteMatch::Kind::kNotFound || (match.route != nullptr && !Serves(*match.route))) {
    return fail(
        Error::NotFound("No route matches " + std::string(MethodName(request.method)) + " " + request.path + "."));
  }
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    const std::string allow = AllowHeader(match.allowed);
    RawResponse response =
        fail({ErrorCode::kMethodNotAllowed,
              std::string(MethodName(request.method)) + " is not allowed here; allowed: " + allow + ".",
              {},
              {}});
    response.headers.emplace_back("Allow", allow);
    return response;
  }

  const Route& route = *match.route;
  context.route_template = route.path_template;
  context.path_params = match.params;
  context.access_log = route.options.access_log;
  context.route = &route;

  if (request.body.size() > max_body_bytes_) {
    return fail({ErrorCode::kPayloadTooLarge,
                 "The request body has " + std::to_string(request.body.size()) + " bytes; the limit is " +
                     std::to_string(max_body_bytes_) + ".",
                 {},
                 {{"body", "larger than " + std::to_string(max_body_bytes_) + " bytes"}}});
  }
  // Middleware (tenant, auth, rate limits) decides before any body is parsed.
  for (const auto& middleware : middleware_) {
    auto status = Guard(context, [&] { return middleware(context); });
    if (!status) return fail(status.error());
  }
  if (route.options.json_body && !request.body.empty()) {
    auto content_type = request.Header("content-type");
    if (!content_type || !IsJsonContentType(*content_type)) {
      return fail(
          {ErrorCode::kUnsupportedMediaType,
           "Send the body as application/json (got " + (content_type ? "'" + *content_type + "'" : "none") + ").",
           {},
           {{"Content-Type", "must be application/json"}}});
    }
    auto parsed = ParseJsonBody(request.body);
    if (!parsed) return fail(parsed.error());
    context.body = std::move(parsed).value();
  }

  auto result = Guard(context, [&] { return route.handler(context); });
  if (!result) return fail(result.error());

  Response& ok = result.value();
  RawResponse response;
  response.status = ok.status;
  if (!ok.content_type.empty()) response.headers.emplace_back("Content-Type", ok.content_type);
  for (auto& header : ok.headers) response.headers.push_back(std::move(header));
  response.body = std::move(ok.body);
  return response;
}

bool Dispatcher::Serves(const Route& route) const {
  return std::any_of(listeners_.begin(), listeners_.end(),
                     [&](Listener listener) { return ServedOn(route, listener); });
}

template <typename Fn>
auto Dispatcher::Guard(const RequestContext& context, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    core::log::Error("unhandled_exception",
                     {{"request_id", context.request_id}, {"route", context.route_template}, {"what", e.what()}});
  } catch (...) {
    core::log::Error(
        "unhandled_exception",
        {{"request_id", context.request_id}, {"route", context.route_template}, {"what", "non-standard exception"}});
  }
  return Error{ErrorCode::kInternal,
               "An internal error occurred; quote request id " + context.request_id + " when reporting it.",
               {},
               {}};
}

}  // namespace clinicore::http
