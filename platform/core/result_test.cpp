#include "platform/core/result.hpp"

#include <gtest/gtest.h>

namespace clinicore::core {
namespace {

Result<int> Half(int value) {
  if (value % 2) return Error::InvalidArgument("odd", {{"value", "must be even"}});
  return value / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  auto ok = Half(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().fields, (std::vector<FieldError>{{"value", "must be even"}}));
}

TEST(ResultTest, StatusDefaultsToOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  Status failed = Error::NotFound("gone");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(ErrorCodeName(failed.error().code), "not_found");
}

Result<int> HalfOf(int n) {
  if (n % 2 != 0) return Error::InvalidArgument("odd", {{"n", "must be even"}});
  return n / 2;
}

Result<int> Quarter(int n) {
  CLINICORE_TRY(const int half, HalfOf(n));
  CLINICORE_TRY(int quarter, HalfOf(half));
  return quarter;
}

Status EvenOnly(int n) {
  CLINICORE_TRY_STATUS(HalfOf(n));
  return Ok();
}

TEST(Try, ReturnsTheFirstErrorOrGoesOnWithTheValue) {
  EXPECT_EQ(Quarter(8).value(), 2);
  auto refused = Quarter(6);  // 6 / 2 = 3 is odd: the second step refuses
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().fields.at(0).field, "n");
  EXPECT_TRUE(EvenOnly(4));
  EXPECT_FALSE(EvenOnly(5));
}

}  // namespace
}  // namespace clinicore::core
