#include "platform/http/router.hpp"

#include <gtest/gtest.h>

namespace clinicore::http {
namespace {

Handler Named(std::string name) {
  return [name](RequestContext&) -> core::Result<Response> { return Response::Text(200, "text/plain", name); };
}

TEST(RouterTest, MatchesLiteralsAndParams) {
  Router router;
  router.Add(Method::kGet, "/v1/tenants/{id}", Named("show"));
  auto match = router.Match(Method::kGet, "/v1/tenants/abc%20d");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(match.route->path_template, "/v1/tenants/{id}");
  EXPECT_EQ(match.params.at("id"), "abc d");
}

TEST(RouterTest, LiteralBeatsParam) {
  Router router;
  router.Add(Method::kGet, "/v1/tenants/{id}", Named("show"));
  router.Add(Method::kGet, "/v1/tenants/search", Named("search"));
  EXPECT_EQ(router.Match(Method::kGet, "/v1/tenants/search").route->path_template, "/v1/tenants/search");
  EXPECT_EQ(router.Match(Method::kGet, "/v1/tenants/x").route->path_template, "/v1/tenants/{id}");
}

TEST(RouterTest, ReportsAllowedMethods) {
  Router router;
  router.Add(Method::kGet, "/things", Named("list"));
  router.Add(Method::kPost, "/things", Named("create"));
  auto match = router.Match(Method::kDelete, "/things");
  EXPECT_EQ(match.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(match.allowed, (std::vector<Method>{Method::kGet, Method::kPost}));
}

TEST(RouterTest, HeadUsesGetRoute) {
  Router router;
  router.Add(Method::kGet, "/healthz", Named("health"));
  EXPECT_EQ(router.Match(Method::kHead, "/healthz").kind, RouteMatch::Kind::kFound);
}

TEST(RouterTest, UnknownAndMalformedPathsAreNotFound) {
  Router router;
  router.Add(Method::kGet, "/v1/tenants/{id}", Named("show"));
  EXPECT_EQ(router.Match(Method::kGet, "/v1/tenants").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/v1/tenants/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/v1/tenants/%zz").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/v1/tenants/%4").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/v1/tenants/a/b").kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterTest, RefusesDuplicatesAndBadTemplates) {
  Router router;
  router.Add(Method::kGet, "/a/{id}", Named("x"));
  EXPECT_THROW(router.Add(Method::kGet, "/a/{other}", Named("y")), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "no-slash", Named("z")), std::invalid_argument);
  EXPECT_NO_THROW(router.Add(Method::kPost, "/a/{id}", Named("w")));
}

TEST(PercentDecodeTest, DecodesAndRejects) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%2Fb", out));
  EXPECT_EQ(out, "a/b");
  EXPECT_FALSE(PercentDecode("%", out));
  EXPECT_FALSE(PercentDecode("%G0", out));
  EXPECT_FALSE(PercentDecode("abc%2", out));
}

}  // namespace
}  // namespace clinicore::http
