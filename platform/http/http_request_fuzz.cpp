// libFuzzer target: the whole request path from raw bytes to an answer, as one connection
// delivers them. Bytes -> RequestFramer -> Pistache's own parser on the canonical request ->
// ToRawRequest -> Dispatcher (byte checks, routing, body limit, JSON parsing, handlers that
// echo what they were given into details and bodies) -> the response. Every answer must be
// well-formed with a status below 500: a problem body that parses as JSON with its status and
// request id, and Pistache's parser must never refuse what the framer handed it (its refusals
// would be plain text the client never gets as problem+json).
#include <pistache/http.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "platform/http/dispatcher.hpp"
#include "platform/http/pistache_handler.hpp"
#include "platform/http/request_framer.hpp"

namespace {

using clinicore::core::Error;
using clinicore::core::Result;
using clinicore::http::Method;
using clinicore::http::RequestContext;
using clinicore::http::Response;

constexpr size_t kMaxBody = 4096;

clinicore::http::Dispatcher& App() {
  static auto router = [] {
    auto r = std::make_shared<clinicore::http::Router>();
    r->Add(Method::kGet, "/v1/users/{id}", [](RequestContext& context) -> Result<Response> {
      // Like a real handler: a bad id is refused with a detail that names it.
      return Error::InvalidArgument("'" + context.PathParam("id") + "' is not a user id.", {{"id", "must be a UUID"}});
    });
    r->Add(Method::kGet, "/v1/items", [](RequestContext& context) -> Result<Response> {
      nlohmann::json echo = nlohmann::json::object();
      for (const auto& [key, value] : context.raw.query) echo[key] = value;
      for (const auto& [key, value] : context.raw.headers) echo["h:" + key] = value;
      auto limit = context.PageLimit();
      if (!limit) return std::move(limit).error();
      return Response::Json(200, echo);
    });
    r->Add(Method::kPost, "/v1/items",
           [](RequestContext& context) -> Result<Response> { return Response::Json(201, context.body); },
           {.json_body = true});
    r->Add(Method::kDelete, "/v1/items/{id}",
           [](RequestContext&) -> Result<Response> { return Error::NotFound("No such item."); });
    return r;
  }();
  static auto metrics = std::make_shared<clinicore::core::Metrics>();
  static clinicore::http::Dispatcher dispatcher(router, metrics, kMaxBody);
  return dispatcher;
}

void CheckAnswer(const clinicore::http::RawResponse& response, bool head = false) {
  if (response.status >= 500 || response.status < 100) __builtin_trap();
  // An answer to HEAD carries no body (RFC 9110 section 9.3.2), problems included.
  if (head && !response.body.empty()) __builtin_trap();
  if (response.status < 400) return;
  if (response.Header("Content-Type") != "application/problem+json") __builtin_trap();
  if (head) return;
  // A problem body: JSON whose status matches and whose request id is set.
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || body["status"] != response.status || !body["request_id"].is_string()) __builtin_trap();
}

void Run(const clinicore::http::FramerEvent& started, const clinicore::http::FramerEvent& complete) {
  Pistache::Http::RequestParser parser(kMaxBody + 64 * 1024);
  Pistache::Http::Private::State state = Pistache::Http::Private::State::Again;
  try {
    if (!parser.feed(started.bytes.data(), started.bytes.size())) __builtin_trap();
    (void)parser.parse();
    if (!parser.feed(complete.bytes.data(), complete.bytes.size())) __builtin_trap();
    state = parser.parse();
  } catch (...) {
    __builtin_trap();  // the framer handed Pistache something it refuses
  }
  if (state != Pistache::Http::Private::State::Done) __builtin_trap();
  auto request = clinicore::http::detail::ToRawRequest(parser.request, complete.head);
  const bool head = request.method == Method::kHead;
  CheckAnswer(App().Handle(request), head);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  clinicore::http::RequestFramer framer({.max_head_bytes = 8 * 1024, .max_body_bytes = kMaxBody});
  // The first byte splits the input into two reads, as a socket might.
  const size_t split = size == 0 ? 0 : data[0] % size;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::optional<clinicore::http::FramerEvent> started;
  for (const auto& part : {bytes.substr(0, split), bytes.substr(split)}) {
    for (auto& event : framer.Feed(part)) {
      switch (event.kind) {
        case clinicore::http::FramerEvent::Kind::kStarted:
          started = std::move(event);
          break;
        case clinicore::http::FramerEvent::Kind::kComplete:
          if (!started) __builtin_trap();
          Run(*started, event);
          started.reset();
          break;
        case clinicore::http::FramerEvent::Kind::kRefused: {
          if (event.error.fields.empty()) __builtin_trap();  // every refusal names the part
          clinicore::http::RawRequest unparsed;
          CheckAnswer(App().Reject(event.error, unparsed));
          (void)clinicore::http::detail::SerializeClosingResponse(App().Reject(event.error, unparsed));
          return 0;
        }
        case clinicore::http::FramerEvent::Kind::kContinue:
          break;
      }
    }
  }
  return 0;
}
