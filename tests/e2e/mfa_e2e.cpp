// The TOTP second factor over HTTP against the real binary (platform admins, and tenant admins
// and clinic owners who opt in): enrolment (start, confirm with a code), sign-in that needs a
// code once enrolled, codes that work once, recovery codes, turning it off, wrong codes in the
// lockout, and CLINICORE_CONSOLE_REQUIRE_MFA=1 with `clinicore admin mfa-enroll` / `mfa-reset`.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "platform/auth/totp.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using nlohmann::json;
using testing::Http;
using testing::HttpReply;
using testing::kTestPassword;
using testing::ServerProcess;

int64_t NowStep() {
  return auth::totp::CurrentStep();
}

// The secret `clinicore admin mfa-enroll` printed ("secret: <base32>"), as bytes.
std::optional<std::string> PrintedSecret(const std::string& output) {
  std::smatch line;
  if (!std::regex_search(output, line, std::regex("secret: ([A-Z2-7]+)"))) return std::nullopt;
  return auth::totp::FromBase32(line[1].str());
}

// A code of none of the three steps the server accepts now.
std::string WrongCode(const std::string& secret) {
  const int64_t step = NowStep();
  for (int candidate = 0;; ++candidate) {
    std::string text = std::to_string(candidate);
    text.insert(0, 6 - text.size(), '0');
    bool valid = false;
    for (int64_t s = step - 2; s <= step + 2; ++s) valid = valid || auth::totp::Hotp(secret, s) == text;
    if (!valid) return text;
  }
}

class MfaE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_ = new testing::TestDatabase();
    std::string output;
    ASSERT_EQ(testing::MigrateDatabase(database_->url(), &output), 0) << output;
    env_ = testing::ServerEnv(database_->url());
    // These tests sign in often and send wrong codes on purpose; WrongCodesCountTowardTheLockout
    // runs a server of its own with the limits on.
    env_["CLINICORE_RATE_LOGIN_PER_ACCOUNT_PER_MINUTE"] = "1000";
    env_["CLINICORE_AUTH_LOCKOUT_THRESHOLD"] = "1000";
    env_["CLINICORE_AUTH_LOCKOUT_GLOBAL_THRESHOLD"] = "1000";
    server_ = new ServerProcess({"serve"}, env_);
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->Output();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete database_;
  }

  static void CreateAdmin(const std::string& email) {
    std::string output;
    ASSERT_EQ(
        testing::RunClinicore({"admin", "create", email, "Admin"}, env_, std::string(kTestPassword) + "\n", &output), 0)
        << output;
  }
  static HttpReply Post(const std::string& base, const std::string& path, const json& body,
                        const std::string& authorization = "") {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (!authorization.empty()) headers.push_back("Authorization: " + authorization);
    return Http("POST", base + path, body.dump(), headers);
  }
  static HttpReply Login(const std::string& email, json extra = json::object(), const std::string& base = "") {
    extra["email"] = email;
    extra["password"] = kTestPassword;
    return Post(base.empty() ? server_->BaseUrl() : base, "/v1/console/auth/login", extra);
  }
  static std::string Bearer(const HttpReply& reply) {
    return "Bearer " + json::parse(reply.body)["access_token"].get<std::string>();
  }
  // Console accounts share the lane's Redis (lockouts, rate keys) across runs: a fresh email
  // per run keeps a repeated run from meeting the counters of the one before.
  static std::string Email(const std::string& name) { return name + "-" + database_->name() + "@platform.test"; }
  static std::string Field(const HttpReply& reply) {
    const json body = json::parse(reply.body, nullptr, false);
    if (!body.contains("errors") || body["errors"].empty()) return "";
    return body["errors"][0].value("field", "");
  }

  static testing::TestDatabase* database_;
  static ServerProcess* server_;
  static std::map<std::string, std::string> env_;
};
testing::TestDatabase* MfaE2eTest::database_ = nullptr;
ServerProcess* MfaE2eTest::server_ = nullptr;
std::map<std::string, std::string> MfaE2eTest::env_;

TEST_F(MfaE2eTest, AnEnrolledAdminSignsInWithACodeThatWorksOnceOrARecoveryCode) {
  const std::string email = Email("mfa-one");
  CreateAdmin(email);
  auto plain = Login(email);
  ASSERT_EQ(plain.status, 200) << plain.body;
  const std::string bearer = Bearer(plain);

  auto started = Post(server_->BaseUrl(), "/v1/console/auth/mfa/totp", json::object(), bearer);
  ASSERT_EQ(started.status, 201) << started.body;
  const json enrolment = json::parse(started.body);
  const auto secret = auth::totp::FromBase32(enrolment["secret"].get<std::string>());
  ASSERT_TRUE(secret.has_value());
  ASSERT_EQ(secret->size(), 32u);
  EXPECT_NE(enrolment["otpauth_uri"].get<std::string>().find("algorithm=SHA256"), std::string::npos);
  EXPECT_EQ(Login(email).status, 200) << "a pending enrolment asks for nothing yet";

  auto wrong = Post(server_->BaseUrl(), "/v1/console/auth/mfa/totp/confirm", {{"otp", WrongCode(*secret)}}, bearer);
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_EQ(Field(wrong), "otp");
  const std::string first_code = auth::totp::Hotp(*secret, NowStep());
  auto confirmed = Post(server_->BaseUrl(), "/v1/console/auth/mfa/totp/confirm", {{"otp", first_code}}, bearer);
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  const json recovery = json::parse(confirmed.body)["recovery_codes"];
  ASSERT_EQ(recovery.size(), 10u);
  EXPECT_EQ(Post(server_->BaseUrl(), "/v1/console/auth/mfa/totp", json::object(), bearer).status, 409);

  // From now on the password alone is not enough, and the answer says what is missing.
  auto missing = Login(email);
  EXPECT_EQ(missing.status, 401) << missing.body;
  EXPECT_EQ(Field(missing), "otp");
  EXPECT_EQ(Login(email, {{"otp", first_code}}).status, 401) << "the code that confirmed is used up";
  EXPECT_EQ(Login(email, {{"otp", WrongCode(*secret)}}).status, 401);
  const std::string next_code = auth::totp::Hotp(*secret, NowStep() + 1);
  auto with_code = Login(email, {{"otp", next_code}});
  ASSERT_EQ(with_code.status, 200) << with_code.body;
  EXPECT_EQ(Login(email, {{"otp", next_code}}).status, 401) << "a code works once";

  const std::string recovery_code = recovery[0].get<std::string>();
  EXPECT_EQ(Login(email, {{"recovery_code", recovery_code}}).status, 200);
  auto reused = Login(email, {{"recovery_code", recovery_code}});
  EXPECT_EQ(reused.status, 401);
  EXPECT_EQ(Field(reused), "recovery_code");

  // Bad shapes are 400s naming the field; a wrong password says nothing about the factor.
  auto letters = Login(email, {{"otp", "12ab56"}});
  EXPECT_EQ(letters.status, 400);
  EXPECT_EQ(Field(letters), "otp");
  EXPECT_EQ(Login(email, {{"otp", "123456"}, {"recovery_code", recovery[1]}}).status, 400);
  auto bad_password = Post(server_->BaseUrl(), "/v1/console/auth/login", {{"email", email}, {"password", "nope-nope"}});
  EXPECT_EQ(bad_password.status, 401);
  EXPECT_EQ(Field(bad_password), "password");

  // Turning it off takes a code too; afterwards the password is enough again.
  const std::string session = Bearer(with_code);
  EXPECT_EQ(
      Post(server_->BaseUrl(), "/v1/console/auth/mfa/totp/disable", {{"otp", WrongCode(*secret)}}, session).status,
      401);
  EXPECT_EQ(Post(server_->BaseUrl(), "/v1/console/auth/mfa/totp/disable", json::object(), session).status, 400);
  auto disabled =
      Post(server_->BaseUrl(), "/v1/console/auth/mfa/totp/disable", {{"recovery_code", recovery[2]}}, session);
  EXPECT_EQ(disabled.status, 204) << disabled.body;
  EXPECT_EQ(Login(email).status, 200);
}

TEST_F(MfaE2eTest, WhenRequiredAnAdminWithoutASecondFactorCannotSignInUntilAnOperatorEnrolsOne) {
  const std::string email = Email("mfa-required");
  CreateAdmin(email);
  auto required_env = env_;
  required_env["CLINICORE_CONSOLE_REQUIRE_MFA"] = "1";
  ServerProcess strict({"serve"}, required_env);
  ASSERT_TRUE(strict.WaitUntilServing()) << strict.Output();

  auto refused = Login(email, json::object(), strict.BaseUrl());
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(Field(refused), "otp");
  EXPECT_EQ(Login(email).status, 200) << "the other server does not require it";

  std::string output;
  ASSERT_EQ(testing::RunClinicore({"admin", "mfa-enroll", email}, required_env, "", &output), 0) << output;
  const auto secret = PrintedSecret(output);
  ASSERT_TRUE(secret.has_value()) << output;
  auto signed_in = Login(email, {{"otp", auth::totp::Hotp(*secret, NowStep())}}, strict.BaseUrl());
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string refresh = json::parse(signed_in.body)["refresh_token"];
  EXPECT_EQ(Login(email).status, 401) << "enrolled: every server asks for the code";
  EXPECT_EQ(Post(strict.BaseUrl(), "/v1/console/auth/mfa/totp/disable",
                 {{"otp", auth::totp::Hotp(*secret, NowStep() + 1)}}, Bearer(signed_in))
                .status,
            412)
      << "required: it cannot be turned off";

  // The operator's reset removes it and ends the admin's sessions.
  ASSERT_EQ(testing::RunClinicore({"admin", "mfa-reset", email}, required_env, "", &output), 0) << output;
  EXPECT_NE(output.find("(2 sessions ended)"), std::string::npos) << "one on each server: " << output;
  EXPECT_EQ(Post(strict.BaseUrl(), "/v1/console/auth/refresh", {{"refresh_token", refresh}}).status, 401);
  EXPECT_EQ(Login(email, json::object(), strict.BaseUrl()).status, 403);
  EXPECT_EQ(Login(email).status, 200);
  EXPECT_EQ(testing::RunClinicore({"admin", "mfa-enroll", "nobody@platform.test"}, required_env, "", &output), 2);
}

// Tenant accounts: optional, for the tenant's admins and clinic owners only.
TEST_F(MfaE2eTest, ATenantOwnerMayEnrolASecondFactorAndOtherRolesMayNot) {
  const std::string slug = "mfa-t-" + database_->name().substr(database_->name().size() - 6);
  std::string output;
  ASSERT_EQ(testing::RunClinicore({"tenant", "create", slug, "MFA clinic", "--owner-email", "owner@" + slug + ".test",
                                   "--owner-name", "Owner"},
                                  env_, std::string(kTestPassword) + "\n", &output),
            0)
      << output;
  ASSERT_EQ(testing::RunClinicore({"tenant", "ensure-user", slug, "doctor@" + slug + ".test", "doctor"}, env_,
                                  std::string(kTestPassword) + "\n", &output),
            0)
      << output;
  auto tenant_post = [&](const std::string& path, const json& body, const std::string& authorization) {
    std::vector<std::string> headers = {"Content-Type: application/json", "X-Tenant: " + slug};
    if (!authorization.empty()) headers.push_back("Authorization: " + authorization);
    return Http("POST", server_->BaseUrl() + path, body.dump(), headers);
  };
  auto tenant_login = [&](const std::string& email, json extra = json::object()) {
    extra["email"] = email;
    extra["password"] = kTestPassword;
    return tenant_post("/v1/auth/login", extra, "");
  };
  const std::string owner = "owner@" + slug + ".test";
  auto doctor_session = tenant_login("doctor@" + slug + ".test");
  ASSERT_EQ(doctor_session.status, 200) << doctor_session.body;
  EXPECT_EQ(tenant_post("/v1/auth/mfa/totp", json::object(), Bearer(doctor_session)).status, 403);

  auto owner_session = tenant_login(owner);
  ASSERT_EQ(owner_session.status, 200) << owner_session.body;
  auto started = tenant_post("/v1/auth/mfa/totp", json::object(), Bearer(owner_session));
  ASSERT_EQ(started.status, 201) << started.body;
  const auto secret = auth::totp::FromBase32(json::parse(started.body)["secret"].get<std::string>());
  ASSERT_TRUE(secret.has_value());
  auto confirmed =
      tenant_post("/v1/auth/mfa/totp/confirm", {{"otp", auth::totp::Hotp(*secret, NowStep())}}, Bearer(owner_session));
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  auto missing = tenant_login(owner);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(Field(missing), "otp");
  EXPECT_EQ(tenant_login(owner, {{"otp", auth::totp::Hotp(*secret, NowStep() + 1)}}).status, 200);
  EXPECT_EQ(tenant_login("doctor@" + slug + ".test").status, 200) << "only the enrolled account is asked";
  // The console's own second factor is another realm's: a tenant code is no console code.
  EXPECT_EQ(Login(owner).status, 401);
}

TEST_F(MfaE2eTest, WrongCodesCountTowardTheLockout) {
  const std::string email = Email("mfa-lockout");
  CreateAdmin(email);
  std::string output;
  ASSERT_EQ(testing::RunClinicore({"admin", "mfa-enroll", email}, env_, "", &output), 0) << output;
  const auto secret = PrintedSecret(output);
  ASSERT_TRUE(secret.has_value()) << output;
  auto strict_env = env_;
  strict_env["CLINICORE_AUTH_LOCKOUT_THRESHOLD"] = "2";
  ServerProcess strict({"serve"}, strict_env);
  ASSERT_TRUE(strict.WaitUntilServing()) << strict.Output();
  EXPECT_EQ(Login(email, {{"otp", WrongCode(*secret)}}, strict.BaseUrl()).status, 401);
  EXPECT_EQ(Login(email, {{"otp", WrongCode(*secret)}}, strict.BaseUrl()).status, 401);
  auto locked = Login(email, {{"otp", auth::totp::Hotp(*secret, NowStep())}}, strict.BaseUrl());
  EXPECT_EQ(locked.status, 429) << "the right code after two wrong ones waits out the lock: " << locked.body;
}

}  // namespace
}  // namespace clinicore
