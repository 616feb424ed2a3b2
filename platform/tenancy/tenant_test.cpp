#include "platform/tenancy/tenant.hpp"

#include <gtest/gtest.h>

#include "platform/tenancy/tenancy_middleware.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::tenancy {
namespace {

TEST(SlugTest, AcceptsOrdinarySlugs) {
  for (const std::string& slug : {std::string("acme"), std::string("north-clinic"), std::string("abc"),
                                  std::string("a1b2c3"), std::string("clinic-2024"), std::string(40, 'a')}) {
    EXPECT_TRUE(ValidateSlug(slug).ok()) << slug;
  }
}

TEST(SlugTest, RefusesBadSlugsNamingTheField) {
  const std::vector<std::string> bad = {"",
                                        "ab",
                                        std::string(41, 'a'),
                                        "Acme",
                                        "acme_clinic",
                                        "-acme",
                                        "acme-",
                                        "xn--acme",
                                        "a--b",
                                        "acme clinic",
                                        "acme.clinic",
                                        "admin",
                                        "console",
                                        "public",
                                        "postgres",
                                        "pg-catalog",
                                        "acm\xc3\xa9",
                                        "\xd0\xb0"
                                        "cme",
                                        "acme;drop",
                                        "a'b'c",
                                        "t_acme\"",
                                        std::string("ac\0me", 5),
                                        "ACME"};
  for (const auto& slug : bad) {
    auto status = ValidateSlug(slug);
    ASSERT_FALSE(status.ok()) << "accepted: " << slug;
    EXPECT_EQ(status.error().fields.at(0).field, "slug");
    EXPECT_EQ(status.error().code, core::ErrorCode::kInvalidArgument);
  }
}

TEST(NamingTest, DerivesSchemaAndRoleNames) {
  EXPECT_EQ(SchemaNameFor("north-clinic"), "t_north_clinic");
  EXPECT_EQ(RoleNameFor("7C43A5E9-94ff-4cba-8026-282732d74772"), "tenant_7c43a5e994ff4cba8026282732d74772");
  EXPECT_TRUE(IsUuid("7c43a5e9-94ff-4cba-8026-282732d74772"));
  EXPECT_FALSE(IsUuid("7c43a5e9-94ff-4cba-8026-282732d7477"));
  EXPECT_FALSE(IsUuid("north-clinic"));
  EXPECT_FALSE(IsUuid("7c43a5e9x94ff-4cba-8026-282732d74772"));
}

TEST(HostTest, FindsTheSlugOneLevelBelowTheBaseDomain) {
  EXPECT_EQ(SlugFromHost("demo.localhost:8080", "localhost"), "demo");
  EXPECT_EQ(SlugFromHost("Demo.Example.COM", "example.com"), "demo");
  EXPECT_FALSE(SlugFromHost("localhost:8080", "localhost"));
  EXPECT_FALSE(SlugFromHost("a.b.example.com", "example.com"));
  EXPECT_FALSE(SlugFromHost("demo.example.org", "example.com"));
  EXPECT_FALSE(SlugFromHost("evilexample.com", "example.com"));
}

TEST(OnboardValidationTest, ChecksEveryField) {
  OnboardRequest request{"acme", "Acme", "Europe/Athens", "el-GR", {{"max_users", 50}}};
  EXPECT_TRUE(ValidateOnboardRequest(request).ok());
  auto field_of = [](const core::Status& status) { return status.error().fields.at(0).field; };
  EXPECT_EQ(field_of(ValidateOnboardRequest({"acme", "", "UTC", "en", nlohmann::json::object()})), "display_name");
  EXPECT_EQ(field_of(ValidateOnboardRequest({"acme", "A", "Mars/Olympus", "en", nlohmann::json::object()})),
            "time_zone");
  EXPECT_EQ(field_of(ValidateOnboardRequest({"acme", "A", "UTC", "english", nlohmann::json::object()})), "locale");
  EXPECT_EQ(field_of(ValidateOnboardRequest({"acme", "A", "UTC", "en", {{"max_users", -1}}})), "limits.max_users");
  EXPECT_EQ(field_of(ValidateOnboardRequest({"acme", "A", "UTC", "en", {{"Bad Key", 1}}})), "limits.Bad Key");
  EXPECT_EQ(field_of(ValidateOnboardRequest({"acme", "A", "UTC", "en", nlohmann::json::array()})), "limits");
}

}  // namespace
}  // namespace clinicore::tenancy
