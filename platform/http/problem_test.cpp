#include "platform/http/problem.hpp"

#include <gtest/gtest.h>

namespace clinicore::http {
namespace {

using core::ErrorCode;

TEST(ProblemTest, MapsEveryCodeToItsStatus) {
  EXPECT_EQ(ProblemStatus(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(ProblemStatus(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(ProblemStatus(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(ProblemStatus(ErrorCode::kNotFound), 404);
  EXPECT_EQ(ProblemStatus(ErrorCode::kMethodNotAllowed), 405);
  EXPECT_EQ(ProblemStatus(ErrorCode::kAlreadyExists), 409);
  EXPECT_EQ(ProblemStatus(ErrorCode::kConflict), 409);
  EXPECT_EQ(ProblemStatus(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(ProblemStatus(ErrorCode::kLengthRequired), 411);
  EXPECT_EQ(ProblemStatus(ErrorCode::kHeadersTooLarge), 431);
  EXPECT_EQ(ProblemStatus(ErrorCode::kUnsupportedMediaType), 415);
  EXPECT_EQ(ProblemStatus(ErrorCode::kResourceExhausted), 429);
  EXPECT_EQ(ProblemStatus(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(ProblemStatus(ErrorCode::kInternal), 500);
}

TEST(ProblemTest, BodyHasTheRfc9457MembersAndNoInternals) {
  core::Error error{ErrorCode::kInvalidArgument, "Bad email.", "SELECT secret FROM t_x.users", {{"email", "invalid"}}};
  auto body = ProblemBody(error, "/v1/users", "req-1");
  EXPECT_EQ(body["status"], 400);
  EXPECT_EQ(body["title"], "Bad Request");
  EXPECT_EQ(body["detail"], "Bad email.");
  EXPECT_EQ(body["instance"], "/v1/users");
  EXPECT_EQ(body["code"], "invalid_argument");
  EXPECT_EQ(body["request_id"], "req-1");
  EXPECT_EQ(body["errors"][0]["field"], "email");
  EXPECT_TRUE(body["type"].get<std::string>().find("invalid_argument") != std::string::npos);
  EXPECT_EQ(body.dump().find("SELECT"), std::string::npos);
}

}  // namespace
}  // namespace clinicore::http
