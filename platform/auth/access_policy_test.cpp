#include "platform/auth/access_policy.hpp"

#include <gtest/gtest.h>

namespace clinicore::auth {
namespace {

using http::Method;
using http::RouteScope;

core::Result<http::Response> Nothing(http::RequestContext&) {
  return http::Response::NoContent();
}

TEST(AccessPolicyTest, EveryRouteNeedsExactlyOneFittingRule) {
  http::Router router;
  router.Add(Method::kGet, "/healthz", Nothing);
  router.Add(Method::kGet, "/v1/users/{id}", Nothing, {.scope = RouteScope::kTenant});
  router.Add(Method::kGet, "/v1/console/admins", Nothing, {.scope = RouteScope::kConsole});

  AccessPolicy complete({{Method::kGet, "/healthz", Audience::kAnyone, {}},
                         {Method::kGet, "/v1/users/{id}", Audience::kTenantUsers, {"admin", "client"}, {"client"}},
                         {Method::kGet, "/v1/console/admins", Audience::kPlatformAdmins, {}}});
  EXPECT_NO_THROW(complete.RequireEveryRoute(router));

  AccessPolicy missing({{Method::kGet, "/healthz", Audience::kAnyone, {}}});
  try {
    missing.RequireEveryRoute(router);
    FAIL() << "a route without a rule must stop start-up";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("no access rule for GET /v1/users/{id}"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("GET /v1/console/admins"), std::string::npos);
  }

  AccessPolicy misfit({{Method::kGet, "/healthz", Audience::kAnyone, {}},
                       {Method::kGet, "/v1/users/{id}", Audience::kPlatformAdmins, {}},
                       {Method::kGet, "/v1/console/admins", Audience::kPlatformAdmins, {}}});
  EXPECT_THROW(misfit.RequireEveryRoute(router), std::logic_error);

  AccessPolicy extra({{Method::kGet, "/healthz", Audience::kAnyone, {}},
                      {Method::kGet, "/v1/users/{id}", Audience::kTenantUsers, {"admin"}},
                      {Method::kGet, "/v1/console/admins", Audience::kPlatformAdmins, {}},
                      {Method::kDelete, "/v1/gone", Audience::kAnyone, {}}});
  EXPECT_THROW(extra.RequireEveryRoute(router), std::logic_error);
}

TEST(AccessPolicyTest, RefusesUnknownRolesAndDuplicateRulesAtStartUp) {
  http::Router router;
  router.Add(Method::kGet, "/x", Nothing, {.scope = RouteScope::kTenant});
  AccessPolicy unknown_role({{Method::kGet, "/x", Audience::kTenantUsers, {"superuser"}}});
  EXPECT_THROW(unknown_role.RequireEveryRoute(router), std::logic_error);
  AccessPolicy twice({{Method::kGet, "/x", Audience::kAnyone, {}}, {Method::kGet, "/x", Audience::kAnyone, {}}});
  try {
    twice.RequireEveryRoute(router);
    FAIL() << "two rules for one route must stop start-up";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("two rules for GET /x"), std::string::npos) << e.what();
  }
}

TEST(AccessPolicyTest, MatrixShowsEveryRoleOfEveryRule) {
  AccessPolicy policy({{Method::kGet, "/v1/users/{id}", Audience::kTenantUsers, {"admin", "client"}, {"client"}},
                       {Method::kGet, "/v1/console/admins", Audience::kPlatformAdmins, {}}});
  const std::string matrix = policy.MarkdownMatrix();
  EXPECT_NE(matrix.find("| `GET /v1/users/{id}` | ✓ | — | — | — | — | own | — |"), std::string::npos) << matrix;
  EXPECT_NE(matrix.find("| `GET /v1/console/admins` | — | — | — | — | — | — | ✓ |"), std::string::npos) << matrix;
}

}  // namespace
}  // namespace clinicore::auth
