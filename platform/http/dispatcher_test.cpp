#include "platform/http/dispatcher.hpp"

#include <gtest/gtest.h>

namespace clinicore::http {
namespace {

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_->Add(Method::kGet, "/items/{id}", [](RequestContext& context) -> core::Result<Response> {
      return Response::Json(200, {{"id", context.PathParam("id")}});
    });
    router_->Add(Method::kPost, "/items",
                 [](RequestContext& context) -> core::Result<Response> { return Response::Json(201, context.body); },
                 {.json_body = true});
    router_->Add(Method::kGet, "/boom",
                 [](RequestContext&) -> core::Result<Response> { throw std::runtime_error("secret internals"); });
    router_->Add(Method::kGet, "/missing",
                 [](RequestContext&) -> core::Result<Response> { return core::Error::NotFound("No such item."); });
  }

  RawResponse Send(Method method, std::string path, std::string body = "", Headers headers = {}) {
    RawRequest request;
    request.method = method;
    request.path = std::move(path);
    request.body = std::move(body);
    request.headers = std::move(headers);
    return dispatcher_.Handle(request);
  }

  static nlohmann::json Json(const RawResponse& response) { return nlohmann::json::parse(response.body); }

  std::shared_ptr<Router> router_ = std::make_shared<Router>();
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  Dispatcher dispatcher_{router_, metrics_, 1024};
};

TEST_F(DispatcherTest, RoutesAndEchoesRequestId) {
  auto response = Send(Method::kGet, "/items/42", "", {{"x-request-id", "abc-123"}});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Json(response)["id"], "42");
  EXPECT_EQ(response.Header("X-Request-Id"), "abc-123");
}

TEST_F(DispatcherTest, GeneratesRequestIdWhenAbsentOrUnsafe) {
  auto response = Send(Method::kGet, "/items/1", "", {{"x-request-id", "bad id\r\ninjected"}});
  auto id = response.Header("X-Request-Id");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 32u);
}

TEST_F(DispatcherTest, UnknownRouteIsProblem404) {
  auto response = Send(Method::kGet, "/nope");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.Header("Content-Type"), "application/problem+json");
  auto body = Json(response);
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["instance"], "/nope");
  EXPECT_EQ(body["request_id"], *response.Header("X-Request-Id"));
}

TEST_F(DispatcherTest, WrongMethodIs405WithAllow) {
  auto response = Send(Method::kDelete, "/items/1");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("Allow"), "GET, HEAD");
  EXPECT_EQ(response.Header("Content-Type"), "application/problem+json");
}

TEST_F(DispatcherTest, OversizedBodyIs413) {
  auto response = Send(Method::kPost, "/items", std::string(2048, 'x'), {{"content-type", "application/json"}});
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(Json(response)["errors"][0]["field"], "body");
}

TEST_F(DispatcherTest, NonJsonBodyIs415) {
  auto response = Send(Method::kPost, "/items", "a=b", {{"content-type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(response.status, 415);
  EXPECT_EQ(Json(response)["errors"][0]["field"], "Content-Type");
  EXPECT_EQ(Send(Method::kPost, "/items", "{}").status, 415);  // no content type at all
}

TEST_F(DispatcherTest, MalformedJsonIs400WithOffset) {
  auto response = Send(Method::kPost, "/items", "{\"a\":", {{"content-type", "application/json"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(Json(response)["detail"].get<std::string>().find("byte 6"), std::string::npos) << response.body;
}

TEST_F(DispatcherTest, ValidJsonReachesHandler) {
  auto response = Send(Method::kPost, "/items", "{\"a\":1}", {{"content-type", "application/json; charset=utf-8"}});
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(Json(response)["a"], 1);
}

TEST_F(DispatcherTest, ExceptionBecomes500WithoutInternals) {
  auto response = Send(Method::kGet, "/boom");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  auto body = Json(response);
  EXPECT_NE(body["detail"].get<std::string>().find(body["request_id"].get<std::string>()), std::string::npos);
}

TEST_F(DispatcherTest, HandlerErrorsUseTheTable) {
  EXPECT_EQ(Send(Method::kGet, "/missing").status, 404);
}

TEST_F(DispatcherTest, MiddlewareCanStopARequest) {
  dispatcher_.Use([](RequestContext& context) -> core::Status {
    if (context.raw.Header("x-deny")) return core::Error{core::ErrorCode::kPermissionDenied, "Denied.", {}, {}};
    return core::Ok();
  });
  EXPECT_EQ(Send(Method::kGet, "/items/1", "", {{"x-deny", "1"}}).status, 403);
  EXPECT_EQ(Send(Method::kGet, "/items/1").status, 200);
}

TEST_F(DispatcherTest, DrainingRefusesNewWork) {
  dispatcher_.BeginDrain();
  auto response = Send(Method::kGet, "/items/1");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.Header("Connection"), "close");
}

TEST_F(DispatcherTest, HeadDropsTheBody) {
  auto response = Send(Method::kHead, "/items/1");
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
}

TEST_F(DispatcherTest, CountsRequestsByRouteTemplate) {
  (void)Send(Method::kGet, "/items/1");
  (void)Send(Method::kGet, "/items/2");
  const std::string text = metrics_->RenderPrometheus();
  EXPECT_NE(text.find(R"(clinicore_http_requests_total{method="GET",route="/items/{id}",status="200"} 2)"),
            std::string::npos)
      << text;
}

// The part a 400 for bad bytes names, and a check that nothing of the bytes is echoed.
std::string RefusedPart(const RawResponse& response) {
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.Header("Content-Type"), "application/problem+json");
  const auto body = nlohmann::json::parse(response.body);  // parses: the answer itself is valid UTF-8
  EXPECT_EQ(body["code"], "invalid_argument");
  return body["errors"][0]["field"].get<std::string>();
}

TEST_F(DispatcherTest, InvalidUtf8OrNulInThePathIsA400NamingThePath) {
  for (const std::string path : {"/items/%FF", "/items/%ED%BF%BF", "/items/%ED%A0%80", "/items/\xff", "/items/a%00b",
                                 "/items/%C0%AF", "/it\x01ms/1", "/items/100%"}) {
    auto response = Send(Method::kGet, path);
    EXPECT_EQ(RefusedPart(response), "path") << testing::PrintToString(path);
    // The instance is the path when it is printable text, else empty: never the raw bytes.
    const std::string instance = Json(response)["instance"];
    EXPECT_TRUE(instance == path || instance.empty()) << instance;
  }
  // Well-formed UTF-8, escaped or not, still routes.
  EXPECT_EQ(Json(Send(Method::kGet, "/items/%CE%96%CF%89%CE%AE"))["id"], "Ζωή");
}

TEST_F(DispatcherTest, InvalidUtf8InAQueryValueIsA400NamingTheParameter) {
  RawRequest request;
  request.path = "/items/1";
  request.query = {{"tenant", "\xed\xa0\x80"}};
  EXPECT_EQ(RefusedPart(dispatcher_.Handle(request)), "query.tenant");
  request.query = {{"\xff", "x"}};
  EXPECT_EQ(RefusedPart(dispatcher_.Handle(request)), "query");
  request.query = {{"q", std::string("a\0b", 3)}};
  EXPECT_EQ(RefusedPart(dispatcher_.Handle(request)), "query.q");
}

TEST_F(DispatcherTest, InvalidUtf8OrControlsInAHeaderIsA400NamingTheHeader) {
  EXPECT_EQ(RefusedPart(Send(Method::kGet, "/items/1", "", {{"x-tenant", "d\xffmo"}})), "X-Tenant");
  EXPECT_EQ(RefusedPart(Send(Method::kGet, "/items/1", "", {{"host", "d\xffmo.localhost"}})), "Host");
  EXPECT_EQ(RefusedPart(Send(Method::kGet, "/items/1", "", {{"authorization", std::string("Bearer a\0b", 10)}})),
            "Authorization");
  EXPECT_EQ(RefusedPart(Send(Method::kGet, "/items/1", "", {{"bad\xffname", "x"}})), "headers");
  // A tab is allowed in a header value; UTF-8 text too.
  EXPECT_EQ(Send(Method::kGet, "/items/1", "", {{"user-agent", "curl\t8 Ζ"}}).status, 200);
}

TEST_F(DispatcherTest, ADetailNeverEchoesTheRefusedBytes) {
  auto response = Send(Method::kGet, "/items/\xff\xfe", "", {});
  EXPECT_EQ(response.body.find('\xff'), std::string::npos);
  EXPECT_EQ(Json(response)["instance"], "");
}

TEST_F(DispatcherTest, NulInAJsonStringIsA400NamingTheField) {
  const Headers json = {{"content-type", "application/json"}};
  EXPECT_EQ(RefusedPart(Send(Method::kPost, "/items", R"({"email":"a\u0000b"})", json)), "email");
  EXPECT_EQ(RefusedPart(Send(Method::kPost, "/items", R"({"consent":{"how":"web\u0000"}})", json)), "consent.how");
  EXPECT_EQ(RefusedPart(Send(Method::kPost, "/items", R"({"tags":["ok","x\u0000"]})", json)), "tags[1]");
  EXPECT_EQ(RefusedPart(Send(Method::kPost, "/items", "{\"email\":\"\xff\xfe\"}", json)), "body");
  EXPECT_EQ(Send(Method::kPost, "/items", R"({"email":"ζ@example.com"})", json).status, 201);
}

}  // namespace
}  // namespace clinicore::http
