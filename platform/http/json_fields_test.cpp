#include "platform/http/json_fields.hpp"

#include <gtest/gtest.h>

namespace clinicore::http {
namespace {

TEST(JsonFieldsTest, ReadsKnownFields) {
  const nlohmann::json body = {{"name", "Athens"}, {"limits", {{"users", 5}}}};
  JsonFields fields(body);
  EXPECT_EQ(fields.String("name", {.required = true}), "Athens");
  EXPECT_EQ(fields.Object("limits")->at("users"), 5);
  EXPECT_FALSE(fields.String("missing").has_value());
  EXPECT_TRUE(fields.Finish().ok());
}

TEST(JsonFieldsTest, CollectsEveryProblemByField) {
  const nlohmann::json body = {{"name", 7}, {"slug", std::string(50, 'a')}, {"typo", true}};
  JsonFields fields(body);
  (void)fields.String("name");
  (void)fields.String("slug", {.max_length = 40});
  (void)fields.String("display_name", {.required = true});
  auto status = fields.Finish();
  ASSERT_FALSE(status.ok());
  std::vector<std::string> names;
  for (const auto& error : status.error().fields) names.push_back(error.field);
  EXPECT_EQ(names, (std::vector<std::string>{"name", "slug", "display_name", "typo"}));
}

TEST(JsonFieldsTest, RefusesNonObjectsAndMissingBodies) {
  for (const auto& body : {nlohmann::json::array(), nlohmann::json("x"), nlohmann::json(nullptr)}) {
    JsonFields fields(body);
    (void)fields.String("name");
    auto status = fields.Finish();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().fields[0].field, "body");
  }
  const nlohmann::json none = nullptr;
  JsonFields optional_body(none, false);
  EXPECT_TRUE(optional_body.Finish().ok());
}

}  // namespace
}  // namespace clinicore::http
