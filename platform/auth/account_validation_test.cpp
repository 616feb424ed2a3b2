#include "platform/auth/account_validation.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace clinicore::auth {
namespace {

TEST(AccountValidationTest, Emails) {
  for (const char* good : {"ann@example.com", "a.b+tag@clinic.gr", "x@sub.domain.co.uk"}) {
    EXPECT_TRUE(ValidateEmail(good).ok()) << good;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "a@b", "plain", "@example.com", "a@@example.com", "a b@example.com",
                                "a@example..com", "a@-example.com", "a@example.com.", "<a>@example.com",
                                std::string(65, 'a') + "@example.com", "a@" + std::string(260, 'b') + ".com"}) {
    auto status = ValidateEmail(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().fields.at(0).field, "email");
  }
  EXPECT_EQ(ValidateEmail("nope", "owner.email").error().fields.at(0).field, "owner.email");
}

TEST(AccountValidationTest, PhonesAreE164) {
  EXPECT_TRUE(ValidatePhone("+306912345678").ok());
  EXPECT_TRUE(ValidatePhone("+14155552671").ok());
  for (const char* bad : {"6912345678", "+0691234567", "+30 691 234 5678", "+1234", "+1234567890123456", "+30abc"}) {
    EXPECT_FALSE(ValidatePhone(bad).ok()) << bad;
  }
}

TEST(AccountValidationTest, Names) {
  EXPECT_TRUE(ValidateFullName("Ελένη Παπαδοπούλου").ok());
  EXPECT_FALSE(ValidateFullName("").ok());
  EXPECT_FALSE(ValidateFullName("line\nbreak").ok());
  EXPECT_FALSE(ValidateFullName(std::string(201, 'a')).ok());
}

}  // namespace
}  // namespace clinicore::auth
