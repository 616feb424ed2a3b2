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

}  // namespace
}  // namespace clinicore::core
