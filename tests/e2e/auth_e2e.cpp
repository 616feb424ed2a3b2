// Identity and access over HTTP against the real binary: sign-up, sign-in, refresh rotation
// and reuse detection, sign-out, staff management, revocation, the console realm, rate
// limits and lockout (with Redis up and down), malformed tokens, and the authorization
// matrix generated from the policy table itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "tests/harness/api_server.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using core::Millis;
using nlohmann::json;
using testing::FirstErrorField;
using testing::Http;
using testing::HttpReply;
using testing::kTestPassword;
using testing::MetricValue;
using testing::ServerProcess;
using testing::WaitFor;

const std::vector<std::string> kRoles = {"admin", "clinic_owner", "doctor", "secretariat", "salesperson", "client"};

using AuthServer = testing::ApiServer;

class AuthE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Every test signs in from 127.0.0.1: the per-IP limit has its own test below.
    server_ = new AuthServer(std::map<std::string, std::string>{{"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "100000"}});
    server_->CreateTenant("auth-a");
    server_->CreateTenant("auth-b");
  }
  static void TearDownTestSuite() { delete server_; }
  static AuthServer* server_;
};
AuthServer* AuthE2eTest::server_ = nullptr;

TEST_F(AuthE2eTest, JwksPublishesTheSigningKeyOnly) {
  auto reply = server_->Call("GET", "/.well-known/jwks.json");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("content-type"), "application/jwk-set+json");
  const json jwks = json::parse(reply.body);
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kid"], "test-key");
  EXPECT_EQ(jwks["keys"][0]["kty"], "OKP");
  EXPECT_FALSE(jwks["keys"][0].contains("d"));
}

TEST_F(AuthE2eTest, SignUpSignInProfileAndBadInput) {
  const json signup = {{"email", "Client.One@Example.com"},
                       {"password", "a sturdy passphrase"},
                       {"full_name", "Client One"},
                       {"phone", "+306912345678"}};
  auto created = server_->TenantCall("auth-a", "POST", "/v1/auth/register", signup);
  ASSERT_EQ(created.status, 201) << created.body;
  const json session = json::parse(created.body);
  EXPECT_EQ(session["token_type"], "Bearer");
  EXPECT_EQ(session["expires_in"], 900);
  EXPECT_EQ(session["user"]["role"], "client");
  EXPECT_FALSE(session["user"].contains("password_hash"));

  // The same address again (any case) is a 409 naming the field, and says no more.
  json again = signup;
  again["email"] = "client.one@example.COM";
  auto duplicate = server_->TenantCall("auth-a", "POST", "/v1/auth/register", again);
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(FirstErrorField(duplicate), "email");
  // The same address in another tenant is another person.
  EXPECT_EQ(server_->TenantCall("auth-b", "POST", "/v1/auth/register", signup).status, 201);

  struct Case {
    json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"email", "nope"}, {"password", "a sturdy passphrase"}, {"full_name", "X"}}, "email"},
      {{{"email", "x@example.com"}, {"password", "password123"}, {"full_name", "X"}}, "password"},
      {{{"email", "x@example.com"}, {"password", "short"}, {"full_name", "X"}}, "password"},
      {{{"email", "x@example.com"}, {"password", "a sturdy passphrase"}, {"full_name", "X"}, {"phone", "6912345678"}},
       "phone"},
      {{{"email", "x@example.com"}, {"password", "a sturdy passphrase"}, {"full_name", "X"}, {"role", "admin"}},
       "role"},
      {{{"email", "x@example.com"}, {"password", "a sturdy passphrase"}, {"full_name", std::string(300, 'n')}},
       "full_name"},
      {{{"email", 5}, {"password", "a sturdy passphrase"}, {"full_name", "X"}}, "email"},
      {{{"password", "a sturdy passphrase"}, {"full_name", "X"}}, "email"},
  };
  for (const auto& c : cases) {
    auto reply = server_->TenantCall("auth-a", "POST", "/v1/auth/register", c.body);
    EXPECT_EQ(reply.status, 400) << c.body.dump() << " → " << reply.body;
    EXPECT_EQ(reply.Header("content-type"), "application/problem+json");
    EXPECT_EQ(FirstErrorField(reply), c.field) << reply.body;
  }

  // Sign-in: wrong password and unknown account get the same answer.
  auto wrong = server_->TenantCall("auth-a", "POST", "/v1/auth/login",
                                   {{"email", "client.one@example.com"}, {"password", "not the password"}});
  auto unknown = server_->TenantCall("auth-a", "POST", "/v1/auth/login",
                                     {{"email", "nobody@example.com"}, {"password", "not the password"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(json::parse(wrong.body)["detail"], json::parse(unknown.body)["detail"]);
  const json signed_in = server_->Login("auth-a", "CLIENT.ONE@example.com", "a sturdy passphrase");
  const std::string bearer = AuthServer::Bearer(signed_in);

  auto me = server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, bearer);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json::parse(me.body)["email"], "Client.One@Example.com");
  auto patched = server_->TenantCall("auth-a", "PATCH", "/v1/users/me/profile",
                                     {{"full_name", "Client Uno"}, {"locale", "el-GR"}}, bearer);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body)["full_name"], "Client Uno");
  auto bad_phone = server_->TenantCall("auth-a", "PATCH", "/v1/users/me/profile", {{"phone", "+0"}}, bearer);
  EXPECT_EQ(FirstErrorField(bad_phone), "phone");
  auto role_escalation = server_->TenantCall("auth-a", "PATCH", "/v1/users/me/profile", {{"role", "admin"}}, bearer);
  EXPECT_EQ(role_escalation.status, 400);
  EXPECT_EQ(FirstErrorField(role_escalation), "role");
  // The token of tenant A means nothing in tenant B.
  EXPECT_EQ(server_->TenantCall("auth-b", "GET", "/v1/users/me", nullptr, bearer).status, 401);
  EXPECT_GE(server_->AuditCount("auth-a", "login.failed"), 1);
  EXPECT_GE(server_->AuditCount("auth-a", "login.succeeded"), 1);
}

TEST_F(AuthE2eTest, RefreshRotatesAndAReusedTokenEndsTheWholeFamily) {
  server_->EnsureUser("auth-a", "rotate@auth-a.test", "doctor");
  const json first = server_->Login("auth-a", "rotate@auth-a.test");
  const json elsewhere = server_->Login("auth-a", "rotate@auth-a.test");  // another device's session
  auto second = server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", first["refresh_token"]}});
  ASSERT_EQ(second.status, 200) << second.body;
  const json rotated = json::parse(second.body);
  EXPECT_NE(rotated["refresh_token"], first["refresh_token"]);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(rotated)).status, 200);

  // The first token again: theft suspected; the family (the rotated token too) is revoked.
  auto reused = server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", first["refresh_token"]}});
  EXPECT_EQ(reused.status, 401);
  EXPECT_EQ(FirstErrorField(reused), "refresh_token");
  auto after = server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", rotated["refresh_token"]}});
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(server_->AuditCount("auth-a", "refresh.reused"), 1);
  // The family's access tokens end with it; the account's other session was never exposed.
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(rotated)).status, 401);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(elsewhere)).status, 200);

  // Other tenants' refresh tokens, junk and wrong types are refused the same way.
  EXPECT_EQ(server_->TenantCall("auth-b", "POST", "/v1/auth/refresh", {{"refresh_token", "x"}}).status, 401);
  EXPECT_EQ(server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", 5}}).status, 400);
  EXPECT_EQ(
      server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", std::string(500, 'x')}}).status,
      400);
}

// An operator's reset (`clinicore tenant ensure-user` on an existing account) ends its
// sessions and is audited. The refresh token dies with the CLI's transaction; the access token
// on a server whose deny-list replica hears of it over pub/sub (within a second, the
// replica's bound; ReplicaTest holds that bound, this test waits generously for a loaded machine).
TEST_F(AuthE2eTest, AnOperatorResetEndsTheAccountsSessions) {
  server_->EnsureUser("auth-a", "reset@auth-a.test", "doctor");
  const json session = server_->Login("auth-a", "reset@auth-a.test");
  ASSERT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(session)).status, 200);
  server_->EnsureUser("auth-a", "reset@auth-a.test", "secretariat");
  EXPECT_TRUE(WaitFor(
      [&] {
        return server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(session)).status == 401;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(
      server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", session["refresh_token"]}}).status,
      401);
  EXPECT_EQ(server_->AuditCount("auth-a", "user.reset_by_operator"), 1);
  // Revocation ends sessions, not a time span: a sign-in right after it (the same second) works.
  const json again = server_->Login("auth-a", "reset@auth-a.test");
  EXPECT_EQ(again["user"]["role"], "secretariat");
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(again)).status, 200);
}

// /users/me is answered from an in-process account cache (decisions/0008). Whatever changes
// the account, and wherever, the next reads must show it: the same server at once, another
// server or an operator's SQL within PostgreSQL's notice delay.
TEST_F(AuthE2eTest, CachedProfilesFollowEveryChangeInEveryServer) {
  const std::string id = server_->EnsureUser("auth-a", "cached@auth-a.test", "doctor");
  const std::string bearer = AuthServer::Bearer(server_->Login("auth-a", "cached@auth-a.test"));
  ServerProcess other({"serve"}, server_->env());  // a second replica on the same database
  ASSERT_TRUE(other.WaitUntilServing()) << other.Output();
  auto name_on = [&](const std::string& base_url) {
    auto reply = Http("GET", base_url + "/v1/users/me", "", {"X-Tenant: auth-a", "Authorization: " + bearer});
    EXPECT_EQ(reply.status, 200) << reply.body;
    return json::parse(reply.body, nullptr, false).value("full_name", std::string("?"));
  };
  auto cache_live = [](const std::string& base_url) {
    return MetricValue(Http("GET", base_url + "/metrics").body, "clinicore_auth_account_cache_live");
  };
  const Millis notice_delay(20'000);  // in fact milliseconds; a bound for a loaded machine
  ASSERT_TRUE(WaitFor([&] { return cache_live(server_->server().BaseUrl()) == 1; }, notice_delay));
  ASSERT_TRUE(WaitFor([&] { return cache_live(other.BaseUrl()) == 1; }, notice_delay));
  EXPECT_EQ(name_on(other.BaseUrl()), "User doctor");
  const auto hits = [&] {
    return MetricValue(Http("GET", other.BaseUrl() + "/metrics").body,
                       "clinicore_auth_account_cache_total{outcome=\"hit\"}");
  };
  const double hits_before = hits();
  EXPECT_EQ(name_on(other.BaseUrl()), "User doctor");
  EXPECT_GT(hits(), std::max(0.0, hits_before)) << "the second read is answered from the cache";

  // The server that made the change reads it back at once, every time.
  for (int i = 0; i < 10; ++i) {
    const std::string name = "Doctor " + std::to_string(i);
    ASSERT_EQ(server_->TenantCall("auth-a", "PATCH", "/v1/users/me/profile", {{"full_name", name}}, bearer).status,
              200);
    EXPECT_EQ(name_on(server_->server().BaseUrl()), name);
  }
  // The other replica hears of it through PostgreSQL's notice.
  EXPECT_TRUE(WaitFor([&] { return name_on(other.BaseUrl()) == "Doctor 9"; }, notice_delay));

  // An operator's SQL, which no service code sees, reaches both caches through the trigger.
  {
    pqxx::connection connection(server_->database_url());
    pqxx::work tx(connection);
    tx.exec("UPDATE t_auth_a.users SET full_name = 'Set By SQL' WHERE id = " + tx.quote(id));
    tx.commit();
  }
  EXPECT_TRUE(WaitFor([&] { return name_on(server_->server().BaseUrl()) == "Set By SQL"; }, notice_delay));
  EXPECT_TRUE(WaitFor([&] { return name_on(other.BaseUrl()) == "Set By SQL"; }, notice_delay));

  // A soft-deleted account is gone everywhere (its token is void too, through the deny-list).
  {
    pqxx::connection connection(server_->database_url());
    pqxx::work tx(connection);
    tx.exec("UPDATE t_auth_a.users SET deleted_at = now() WHERE id = " + tx.quote(id));
    tx.commit();
  }
  auto status_on = [&](const std::string& base_url) {
    return Http("GET", base_url + "/v1/users/me", "", {"X-Tenant: auth-a", "Authorization: " + bearer}).status;
  };
  EXPECT_TRUE(WaitFor([&] { return status_on(other.BaseUrl()) == 404; }, notice_delay));
}

// A signed-in user changes their password: the current one is required, the new one must pass
// the policy, and every other session ends while the caller's own goes on.
TEST_F(AuthE2eTest, ChangingThePasswordEndsTheOtherSessionsOnly) {
  server_->EnsureUser("auth-a", "changer@auth-a.test", "client");
  const json mine = server_->Login("auth-a", "changer@auth-a.test");
  const json other_device = server_->Login("auth-a", "changer@auth-a.test");
  const std::string bearer = AuthServer::Bearer(mine);
  auto change = [&](const json& body) {
    return server_->TenantCall("auth-a", "POST", "/v1/users/me/password", body, bearer);
  };
  const std::string next = "a-new-and-longer-secret-7";

  auto wrong = change({{"current_password", "not-my-password-1"}, {"new_password", next}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(FirstErrorField(wrong), "current_password");
  EXPECT_EQ(server_->AuditCount("auth-a", "user.password_change_failed"), 1);
  auto weak = change({{"current_password", kTestPassword}, {"new_password", "short"}});
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(FirstErrorField(weak), "new_password");
  auto same = change({{"current_password", kTestPassword}, {"new_password", kTestPassword}});
  EXPECT_EQ(same.status, 400);
  EXPECT_EQ(FirstErrorField(same), "new_password");
  EXPECT_EQ(change({{"current_password", kTestPassword}}).status, 400);
  EXPECT_EQ(change({{"current_password", 5}, {"new_password", next}}).status, 400);
  EXPECT_EQ(server_
                ->TenantCall("auth-a", "POST", "/v1/users/me/password",
                             {{"current_password", kTestPassword}, {"new_password", next}})
                .status,
            401)
      << "no token, no change";

  auto changed = change({{"current_password", kTestPassword}, {"new_password", next}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(json::parse(changed.body)["sessions_ended"], 1);
  EXPECT_EQ(server_->AuditCount("auth-a", "user.password_changed"), 1);
  // This session goes on, token and refresh; the other device is signed out at once.
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, bearer).status, 200);
  EXPECT_EQ(
      server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", mine["refresh_token"]}}).status,
      200);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(other_device)).status,
            401);
  EXPECT_EQ(
      server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", other_device["refresh_token"]}})
          .status,
      401);
  // Only the new password signs in.
  EXPECT_EQ(server_
                ->TenantCall("auth-a", "POST", "/v1/auth/login",
                             {{"email", "changer@auth-a.test"}, {"password", kTestPassword}})
                .status,
            401);
  server_->Login("auth-a", "changer@auth-a.test", next);
}

// A session has an absolute age limit however often it is refreshed: its refresh tokens never
// outlive CLINICORE_AUTH_SESSION_MAX_MS from the sign-in.
TEST(AuthSessionAgeE2eTest, RefreshingNeverExtendsASessionBeyondItsMaximumAge) {
  AuthServer server(std::map<std::string, std::string>{{"CLINICORE_AUTH_SESSION_MAX_MS", "3000"}});
  server.CreateTenant("auth-age");
  server.EnsureUser("auth-age", "old@auth-age.test", "doctor");
  const json first = server.Login("auth-age", "old@auth-age.test");
  EXPECT_LE(first["refresh_expires_in"].get<int>(), 3);
  auto refreshed =
      server.TenantCall("auth-age", "POST", "/v1/auth/refresh", {{"refresh_token", first["refresh_token"]}});
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const json second = json::parse(refreshed.body);
  EXPECT_LE(second["refresh_expires_in"].get<int>(), 3) << "a refresh does not restart the clock";
  // Waits until PostgreSQL, which judges the age, finds the session three seconds old: a wait on
  // the condition itself, not on this machine keeping time with the server's sign-in.
  const auto session_over = [&] {
    pqxx::connection connection(server.database_url());
    pqxx::nontransaction tx(connection);
    return tx
        .exec(
            "SELECT coalesce(extract(epoch FROM now() - min(issued_at)) >= 3, false) FROM "
            "t_auth_age.refresh_tokens")[0][0]
        .as<bool>();
  };
  ASSERT_TRUE(WaitFor(session_over, Millis(20'000), Millis(100)));
  auto too_old =
      server.TenantCall("auth-age", "POST", "/v1/auth/refresh", {{"refresh_token", second["refresh_token"]}});
  EXPECT_EQ(too_old.status, 401) << too_old.body;
  EXPECT_EQ(FirstErrorField(too_old), "refresh_token");
  // Signing in again starts a new session. One that is older than the maximum (its tokens were
  // issued under a longer setting; here its start is moved back) is refused and revoked.
  const json again = server.Login("auth-age", "old@auth-age.test");
  {
    pqxx::connection connection(server.database_url());
    pqxx::work tx(connection);
    tx.exec("UPDATE t_auth_age.refresh_tokens SET issued_at = issued_at - interval '1 hour'");
    tx.commit();
  }
  auto stale = server.TenantCall("auth-age", "POST", "/v1/auth/refresh", {{"refresh_token", again["refresh_token"]}});
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(stale.body.find("maximum age"), std::string::npos) << stale.body;
}

TEST_F(AuthE2eTest, LogoutEndsTheSessionAndVoidsTheAccessTokenAtOnce) {
  server_->EnsureUser("auth-a", "leaver@auth-a.test", "secretariat");
  const json first = server_->Login("auth-a", "leaver@auth-a.test");
  auto refreshed =
      server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", first["refresh_token"]}});
  ASSERT_EQ(refreshed.status, 200);
  const json session = json::parse(refreshed.body);
  const std::string bearer = AuthServer::Bearer(session);
  ASSERT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, bearer).status, 200);
  const std::string earlier = AuthServer::Bearer(first);  // same session, issued before the refresh
  ASSERT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, earlier).status, 200);
  auto out =
      server_->TenantCall("auth-a", "POST", "/v1/auth/logout", {{"refresh_token", session["refresh_token"]}}, bearer);
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, bearer).status, 401);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, earlier).status, 401)
      << "sign-out ends every access token of the session";
  EXPECT_EQ(
      server_->TenantCall("auth-a", "POST", "/v1/auth/refresh", {{"refresh_token", session["refresh_token"]}}).status,
      401);
  // Logging out twice is not an error.
  EXPECT_EQ(
      server_->TenantCall("auth-a", "POST", "/v1/auth/logout", {{"refresh_token", session["refresh_token"]}}).status,
      204);
}

TEST_F(AuthE2eTest, StaffInvitationsRolesDeactivationAndSoftDelete) {
  const std::string owner = AuthServer::Bearer(server_->Login("auth-a", "owner@auth-a.test"));
  auto invited =
      server_->TenantCall("auth-a", "POST", "/v1/users",
                          {{"email", "dr.new@auth-a.test"}, {"full_name", "Dr New"}, {"role", "doctor"}}, owner);
  ASSERT_EQ(invited.status, 201) << invited.body;
  const json doctor = json::parse(invited.body);
  EXPECT_EQ(doctor["password_set"], false);
  const std::string doctor_id = doctor["id"];
  // No password yet: sign-in fails like any wrong password.
  EXPECT_EQ(server_
                ->TenantCall("auth-a", "POST", "/v1/auth/login",
                             {{"email", "dr.new@auth-a.test"}, {"password", kTestPassword}})
                .status,
            401);
  auto accepted = server_->TenantCall("auth-a", "POST", "/v1/auth/password",
                                      {{"token", doctor["invitation"]["token"]}, {"password", kTestPassword}});
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(server_
                ->TenantCall("auth-a", "POST", "/v1/auth/password",
                             {{"token", doctor["invitation"]["token"]}, {"password", kTestPassword}})
                .status,
            401)
      << "an invitation works once";
  const std::string doctor_bearer = AuthServer::Bearer(json::parse(accepted.body));

  // A clinic owner cannot make admins; a doctor cannot manage staff at all.
  auto make_admin = server_->TenantCall(
      "auth-a", "POST", "/v1/users", {{"email", "boss@auth-a.test"}, {"full_name", "Boss"}, {"role", "admin"}}, owner);
  EXPECT_EQ(make_admin.status, 403);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users", nullptr, doctor_bearer).status, 403);
  auto bad_role = server_->TenantCall("auth-a", "POST", "/v1/users",
                                      {{"email", "x@auth-a.test"}, {"full_name", "X"}, {"role", "wizard"}}, owner);
  EXPECT_EQ(FirstErrorField(bad_role), "role");

  // Listing pages with a cursor and filters by role.
  std::set<std::string> seen;
  std::optional<std::string> cursor;
  for (int page = 0; page < 20; ++page) {
    auto reply = server_->TenantCall("auth-a", "GET", "/v1/users?limit=1" + (cursor ? "&cursor=" + *cursor : ""),
                                     nullptr, owner);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const json body = json::parse(reply.body);
    for (const auto& user : body["items"]) EXPECT_TRUE(seen.insert(user["id"]).second) << "no repeats";
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  EXPECT_GE(seen.size(), 2u);
  auto doctors = json::parse(server_->TenantCall("auth-a", "GET", "/v1/users?role=doctor", nullptr, owner).body);
  for (const auto& user : doctors["items"]) EXPECT_EQ(user["role"], "doctor");
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users?cursor=garbage", nullptr, owner).status, 400);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users?limit=0", nullptr, owner).status, 400);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users?role=wizard", nullptr, owner).status, 400);

  // A doctor sees their own record only.
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/" + doctor_id, nullptr, doctor_bearer).status, 200);
  std::string upper_id = doctor_id;  // UUIDs compare in lower case, in the policy too
  std::transform(upper_id.begin(), upper_id.end(), upper_id.begin(), ::toupper);
  auto upper = server_->TenantCall("auth-a", "GET", "/v1/users/" + upper_id, nullptr, doctor_bearer);
  EXPECT_EQ(upper.status, 200) << upper.body;
  EXPECT_EQ(json::parse(upper.body, nullptr, false).value("id", ""), doctor_id);
  const std::string owner_id =
      json::parse(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, owner).body)["id"];
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/" + owner_id, nullptr, doctor_bearer).status, 403);

  // A role change ends the doctor's sessions at once (the token carried the old role).
  auto changed = server_->TenantCall("auth-a", "PATCH", "/v1/users/" + doctor_id, {{"role", "secretariat"}}, owner);
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, doctor_bearer).status, 401);
  EXPECT_EQ(server_->AuditCount("auth-a", "user.role_changed"), 1);
  {  // through the request kit's audit writer: who, in which role, on which account, what changed
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    const auto row = tx.exec(
        "SELECT actor_role, entity, entity_id, details->'changed'->'role'->>'to' FROM "
        "t_auth_a.audit_log WHERE action = 'user.role_changed'")[0];
    EXPECT_EQ(row[0].as<std::string>(), "clinic_owner");
    EXPECT_EQ(row[1].as<std::string>(), "user");
    EXPECT_EQ(row[2].as<std::string>(), doctor_id);
    EXPECT_EQ(row[3].as<std::string>(), "secretariat");
  }
  // A sign-in right after works: revocation ends sessions (the deny-list names them), it does
  // not void a span of time, so there is no second to wait out.
  const std::string secretariat = AuthServer::Bearer(server_->Login("auth-a", "dr.new@auth-a.test"));
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users", nullptr, secretariat).status, 200);

  // Deactivation: the token stops at once, sign-in fails.
  ASSERT_EQ(server_->TenantCall("auth-a", "PATCH", "/v1/users/" + doctor_id, {{"active", false}}, owner).status, 200);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, secretariat).status, 401);
  EXPECT_EQ(server_
                ->TenantCall("auth-a", "POST", "/v1/auth/login",
                             {{"email", "dr.new@auth-a.test"}, {"password", kTestPassword}})
                .status,
            401);
  EXPECT_EQ(server_->AuditCount("auth-a", "user.deactivated"), 1);
  // Nobody changes their own role or deactivates themselves.
  EXPECT_EQ(server_->TenantCall("auth-a", "PATCH", "/v1/users/" + owner_id, {{"active", false}}, owner).status, 412);

  // Soft delete: gone from the API, the address free again, the row kept for audit.
  EXPECT_EQ(server_->TenantCall("auth-a", "DELETE", "/v1/users/" + doctor_id, nullptr, owner).status, 204);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/" + doctor_id, nullptr, owner).status, 404);
  EXPECT_EQ(server_->TenantCall("auth-a", "DELETE", "/v1/users/" + doctor_id, nullptr, owner).status, 404);
  auto reinvited =
      server_->TenantCall("auth-a", "POST", "/v1/users",
                          {{"email", "dr.new@auth-a.test"}, {"full_name", "Dr New"}, {"role", "doctor"}}, owner);
  EXPECT_EQ(reinvited.status, 201) << reinvited.body;
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/not-a-uuid", nullptr, owner).status, 404);
}

// A change only the database knows of (an operator's SQL, or a revocation Redis never got)
// still binds privileged requests: they re-read the account instead of trusting the token.
TEST_F(AuthE2eTest, PrivilegedChangesTrustTheDatabaseNotTheToken) {
  const std::string id = server_->EnsureUser("auth-b", "demoted@auth-b.test", "admin");
  const std::string bearer = AuthServer::Bearer(server_->Login("auth-b", "demoted@auth-b.test"));
  auto sql = [&](const std::string& set) {
    pqxx::connection connection(server_->database_url());
    pqxx::work tx(connection);
    tx.exec("UPDATE t_auth_b.users SET " + set + " WHERE id = " + tx.quote(id));
    tx.commit();
  };
  const json new_admin = {{"email", "made-by-demoted@auth-b.test"}, {"full_name", "New Admin"}, {"role", "admin"}};
  sql("role = 'secretariat'");
  auto refused = server_->TenantCall("auth-b", "POST", "/v1/users", new_admin, bearer);
  EXPECT_EQ(refused.status, 403) << "the token still says admin: " << refused.body;
  EXPECT_NE(refused.body.find("secretariat"), std::string::npos) << refused.body;
  // Reads go on with the token alone (the deny-list knows of no revocation).
  EXPECT_EQ(server_->TenantCall("auth-b", "GET", "/v1/users/me", nullptr, bearer).status, 200);

  sql("role = 'admin', active = false");
  auto inactive = server_->TenantCall("auth-b", "POST", "/v1/users", new_admin, bearer);
  EXPECT_EQ(inactive.status, 401) << inactive.body;
  EXPECT_EQ(inactive.Header("content-type").value_or(""), "application/problem+json");
}

// An invitation sets a first password once; a password set any other way voids it.
TEST_F(AuthE2eTest, AnInvitationDiesWhenThePasswordIsSetAnotherWay) {
  const std::string owner = AuthServer::Bearer(server_->Login("auth-b", "owner@auth-b.test"));
  auto invited = server_->TenantCall("auth-b", "POST", "/v1/users",
                                     {{"email", "late@auth-b.test"}, {"full_name", "Late"}, {"role", "doctor"}}, owner);
  ASSERT_EQ(invited.status, 201) << invited.body;
  const std::string token = json::parse(invited.body)["invitation"]["token"];
  server_->EnsureUser("auth-b", "late@auth-b.test", "doctor");  // an operator sets the password
  const std::string session = AuthServer::Bearer(server_->Login("auth-b", "late@auth-b.test"));
  auto accepted = server_->TenantCall("auth-b", "POST", "/v1/auth/password",
                                      {{"token", token}, {"password", "another-password-42"}});
  EXPECT_EQ(accepted.status, 401) << "the invitation must not overwrite the password set since: " << accepted.body;
  EXPECT_EQ(FirstErrorField(accepted), "token");
  EXPECT_EQ(server_->TenantCall("auth-b", "GET", "/v1/users/me", nullptr, session).status, 200);
}

// Logout on one replica voids the access token on another: every server keeps the deny-list
// in memory, fed by Redis pub/sub.
TEST_F(AuthE2eTest, ARevocationOnOneServerDeniesTheTokenOnAnother) {
  server_->EnsureUser("auth-a", "replica@auth-a.test", "doctor");
  const json session = server_->Login("auth-a", "replica@auth-a.test");
  const std::string bearer = AuthServer::Bearer(session);
  ServerProcess other({"serve"}, server_->env());
  ASSERT_TRUE(other.WaitUntilServing()) << other.Output();
  auto status_on_other = [&] {
    return Http("GET", other.BaseUrl() + "/v1/users/me", "", {"X-Tenant: auth-a", "Authorization: " + bearer}).status;
  };
  ASSERT_EQ(status_on_other(), 200);
  ASSERT_EQ(
      server_->TenantCall("auth-a", "POST", "/v1/auth/logout", {{"refresh_token", session["refresh_token"]}}, bearer)
          .status,
      204);
  EXPECT_TRUE(WaitFor([&] { return status_on_other() == 401; }, Millis(10'000), Millis(10)));
  EXPECT_GT(MetricValue(Http("GET", other.BaseUrl() + "/metrics").body,
                        "clinicore_auth_revocation_checks_total{source=\"replica\"}"),
            0)
      << "the other server answered from its replica";
}

TEST_F(AuthE2eTest, ConsoleRealmIsSeparateFromTenantRealms) {
  const std::string console = testing::ConsoleAuthorization(server_->server().BaseUrl(), server_->database_url());
  ASSERT_FALSE(console.empty());
  auto me = server_->Call("GET", "/v1/console/me", nullptr, {"Authorization: " + console});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json::parse(me.body)["role"], "platform_admin");

  auto created =
      server_->Call("POST", "/v1/console/admins",
                    {{"email", "second@platform.test"}, {"full_name", "Second"}, {"password", kTestPassword}},
                    {"Authorization: " + console});
  ASSERT_EQ(created.status, 201) << created.body;
  auto weak = server_->Call("POST", "/v1/console/admins",
                            {{"email", "third@platform.test"}, {"full_name", "Third"}, {"password", "qwertyuiop"}},
                            {"Authorization: " + console});
  EXPECT_EQ(FirstErrorField(weak), "password");
  auto duplicate =
      server_->Call("POST", "/v1/console/admins",
                    {{"email", "SECOND@platform.test"}, {"full_name", "Again"}, {"password", kTestPassword}},
                    {"Authorization: " + console});
  EXPECT_EQ(duplicate.status, 409);
  auto listed = json::parse(server_->Call("GET", "/v1/console/admins", nullptr, {"Authorization: " + console}).body);
  EXPECT_GE(listed["items"].size(), 2u);

  // Deactivating the second admin voids their token immediately.
  auto second_login =
      server_->Call("POST", "/v1/console/auth/login", {{"email", "second@platform.test"}, {"password", kTestPassword}});
  ASSERT_EQ(second_login.status, 200);
  const std::string second = AuthServer::Bearer(json::parse(second_login.body));
  ASSERT_EQ(server_->Call("GET", "/v1/console/tenants", nullptr, {"Authorization: " + second}).status, 200);
  const std::string second_id = json::parse(created.body)["id"];
  ASSERT_EQ(
      server_->Call("PATCH", "/v1/console/admins/" + second_id, {{"active", false}}, {"Authorization: " + console})
          .status,
      200);
  EXPECT_EQ(server_->Call("GET", "/v1/console/tenants", nullptr, {"Authorization: " + second}).status, 401);

  // Tokens never cross realms.
  const std::string owner = AuthServer::Bearer(server_->Login("auth-a", "owner@auth-a.test"));
  EXPECT_EQ(server_->Call("GET", "/v1/console/tenants", nullptr, {"Authorization: " + owner}).status, 401);
  EXPECT_EQ(server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, console).status, 401);
  // Tenant users cannot sign in to the console, nor admins to a tenant. (A fresh address: the
  // console's sign-in counters live in Redis, beyond this test's database.)
  const std::string tenant_user = "console-probe-" + std::to_string(::getpid()) + "@auth-a.test";
  server_->EnsureUser("auth-a", tenant_user, "admin");
  EXPECT_EQ(
      server_->Call("POST", "/v1/console/auth/login", {{"email", tenant_user}, {"password", kTestPassword}}).status,
      401);
  EXPECT_EQ(server_
                ->TenantCall("auth-a", "POST", "/v1/auth/login",
                             {{"email", testing::ConsoleEmail(server_->database_url())}, {"password", kTestPassword}})
                .status,
            401);
}

TEST_F(AuthE2eTest, MalformedTokensAreProblemsNeverErrors) {
  const std::string good = server_->Login("auth-a", "owner@auth-a.test")["access_token"];
  const std::string header_part = good.substr(0, good.find('.'));
  const std::vector<std::string> headers = {
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      "bearer " + good,
      "Bearer " + good.substr(0, good.size() - 5),
      "Bearer " + good + "x",
      "Bearer " + std::string(5000, 'a'),
      "Bearer a.b.c",
      "Bearer ....",
      "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
      "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
      "Bearer " + header_part + ".W1tbW1tbW1tbW1tbW1tbW1tbW10.AAAA",
  };
  for (const auto& header : headers) {
    auto reply = server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, header);
    EXPECT_EQ(reply.status, 401) << header.substr(0, 60);
    EXPECT_EQ(reply.Header("content-type"), "application/problem+json");
    EXPECT_EQ(reply.Header("www-authenticate"), "Bearer");
  }
  // Bytes that are not UTF-8 are refused at the edge, before any token is read.
  auto bytes = server_->TenantCall("auth-a", "GET", "/v1/users/me", nullptr, "Bearer \xff\xfe\xfd");
  EXPECT_EQ(bytes.status, 400);
  EXPECT_EQ(testing::FirstErrorField(bytes), "Authorization");
}

// Every route × {no token, each role of this tenant, the same role of another tenant, a
// platform admin}: the status the policy table promises, checked against the real server.
TEST_F(AuthE2eTest, AuthorizationMatrixFollowsThePolicyTable) {
  std::string output;
  ASSERT_EQ(testing::RunClinicore({"auth", "policy", "--json"}, server_->env(), "", &output), 0) << output;
  const json rules = json::parse(output);
  ASSERT_GE(rules.size(), 30u);

  std::map<std::string, std::string> own_bearer;
  std::map<std::string, std::string> own_id;
  std::map<std::string, std::string> other_bearer;
  for (const auto& role : kRoles) {
    own_id[role] = server_->EnsureUser("auth-a", "matrix-" + role + "@auth-a.test", role);
    own_bearer[role] = AuthServer::Bearer(server_->Login("auth-a", "matrix-" + role + "@auth-a.test"));
    server_->EnsureUser("auth-b", "matrix-" + role + "@auth-b.test", role);
    other_bearer[role] = AuthServer::Bearer(server_->Login("auth-b", "matrix-" + role + "@auth-b.test"));
  }
  const std::string console = testing::ConsoleAuthorization(server_->server().BaseUrl(), server_->database_url());
  const std::string absent = "00000000-0000-4000-8000-000000000000";

  int checked = 0;
  for (const auto& rule : rules) {
    const std::string method = rule["method"];
    const std::string audience = rule["audience"];
    std::string path = rule["path"];
    auto with_id = [&](const std::string& id) {
      std::string p = path;
      if (auto at = p.find("{id}"); at != std::string::npos) p.replace(at, 4, id);
      if (auto at = p.find("{user_id}"); at != std::string::npos) p.replace(at, 9, id);
      if (auto at = p.find("{asset}"); at != std::string::npos) p.replace(at, 7, "swagger-ui.css");
      return p;
    };
    const bool tenant_route = audience == "tenant_users" || path.rfind("/v1/console", 0) != 0;
    auto call = [&](const std::string& bearer, const std::string& id) {
      std::vector<std::string> headers;
      if (tenant_route) headers.push_back("X-Tenant: auth-a");
      if (!bearer.empty()) headers.push_back("Authorization: " + bearer);
      const bool body = method == "POST" || method == "PATCH";
      if (body) headers.push_back("Content-Type: application/json");
      return Http(method, server_->server().BaseUrl() + with_id(id), body ? "{}" : "", headers).status;
    };
    const std::string label = method + " " + path;
    if (audience == "anyone") {
      const long status = call("", absent);
      EXPECT_TRUE(status != 401 && status != 403 && status < 500) << label << " without a token: " << status;
      ++checked;
      continue;
    }
    EXPECT_EQ(call("", absent), 401) << label << " without a token";
    if (audience == "platform_admins") {
      const long status = call(console, absent);
      EXPECT_TRUE(status != 401 && status != 403 && status < 500) << label << " as platform admin: " << status;
      for (const auto& role : kRoles) EXPECT_EQ(call(own_bearer[role], absent), 401) << label << " as " << role;
      checked += 1 + static_cast<int>(kRoles.size());
      continue;
    }
    EXPECT_EQ(call(console, absent), 401) << label << " with a console token";
    const auto& roles = rule["roles"];
    const auto& own_only = rule["own_record_only"];
    for (const auto& role : kRoles) {
      const bool allowed = std::find(roles.begin(), roles.end(), role) != roles.end();
      const bool own = std::find(own_only.begin(), own_only.end(), role) != own_only.end();
      EXPECT_EQ(call(other_bearer[role], own_id[role]), 401) << label << " with tenant B's " << role;
      const long other_record = call(own_bearer[role], absent);
      if (!allowed || (own && path.find("{id}") != std::string::npos)) {
        EXPECT_EQ(other_record, 403) << label << " as " << role;
      } else {
        EXPECT_TRUE(other_record != 401 && other_record != 403 && other_record < 500)
            << label << " as " << role << ": " << other_record;
      }
      if (allowed && own) {
        const long own_record = call(own_bearer[role], own_id[role]);
        EXPECT_TRUE(own_record != 401 && own_record != 403 && own_record < 500)
            << label << " as " << role << " on their own record: " << own_record;
      }
      checked += 2;
    }
  }
  EXPECT_GT(checked, 150);
}

// Raising the Argon2id cost upgrades each hash at its owner's next successful sign-in.
TEST(AuthHashingE2eTest, SignInRehashesWhenTheConfiguredCostRose) {
  AuthServer server(std::map<std::string, std::string>{{"CLINICORE_AUTH_PASSWORD_OPS_LIMIT", "3"}});
  auto cheaper = server.env();
  cheaper["CLINICORE_AUTH_PASSWORD_OPS_LIMIT"] = "2";
  std::string output;
  ASSERT_EQ(testing::RunClinicore(
                {"tenant", "create", "rehash", "Rehash", "--owner-email", "owner@rehash.test", "--owner-name", "Owner"},
                cheaper, std::string(kTestPassword) + "\n", &output),
            0)
      << output;
  auto stored_hash = [&] {
    pqxx::connection connection(server.database_url());
    pqxx::nontransaction tx(connection);
    return tx.exec("SELECT password_hash FROM t_rehash.users WHERE email = 'owner@rehash.test'")[0][0]
        .as<std::string>();
  };
  EXPECT_NE(stored_hash().find(",t=2,"), std::string::npos) << stored_hash();
  server.Login("rehash", "owner@rehash.test");
  EXPECT_NE(stored_hash().find(",t=3,"), std::string::npos) << stored_hash();
  server.Login("rehash", "owner@rehash.test");  // the new hash verifies
}

TEST(AuthLimitsE2eTest, LoginLimitsLockoutAndTheirAnswers) {
  AuthServer server({{"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "1000"},
                     {"CLINICORE_RATE_LOGIN_PER_ACCOUNT_PER_MINUTE", "1000"},
                     {"CLINICORE_AUTH_LOCKOUT_THRESHOLD", "3"},
                     {"CLINICORE_AUTH_LOCKOUT_BASE_MS", "1000"}});
  server.CreateTenant("limits");
  auto attempt = [&](const std::string& password) {
    return server.TenantCall("limits", "POST", "/v1/auth/login",
                             {{"email", "owner@limits.test"}, {"password", password}});
  };
  EXPECT_EQ(attempt("wrong one").status, 401);
  EXPECT_EQ(attempt("wrong two").status, 401);
  EXPECT_EQ(attempt("wrong three").status, 401);  // the third failure starts a 1 s lock
  auto locked = attempt(kTestPassword);
  EXPECT_EQ(locked.status, 429) << "even the right password waits out the lock";
  EXPECT_EQ(locked.Header("content-type"), "application/problem+json");
  ASSERT_TRUE(locked.Header("retry-after"));
  EXPECT_GE(std::stoi(*locked.Header("retry-after")), 1);
  EXPECT_EQ(server.AuditCount("limits", "login.locked_out"), 1);
  // An unknown address locks the same way, so a lock tells nothing about existence.
  for (int i = 0; i < 3; ++i) {
    server.TenantCall("limits", "POST", "/v1/auth/login", {{"email", "ghost@limits.test"}, {"password", "x"}});
  }
  EXPECT_EQ(
      server.TenantCall("limits", "POST", "/v1/auth/login", {{"email", "ghost@limits.test"}, {"password", "x"}}).status,
      429);
  // An operator ends a lock at once, from every address.
  std::string output;
  EXPECT_EQ(
      testing::RunClinicore({"auth", "unlock", "ghost@limits.test", "--tenant", "limits"}, server.env(), "", &output),
      0)
      << output;
  EXPECT_EQ(
      server.TenantCall("limits", "POST", "/v1/auth/login", {{"email", "ghost@limits.test"}, {"password", "x"}}).status,
      401)
      << "unlocked: a wrong password is answered again";
  // Waits out the lock by asking: a locked attempt is answered 429 without counting as a
  // failure, so asking does not extend it. The first other answer is the verdict.
  long after_lock = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        after_lock = attempt(kTestPassword).status;
        return after_lock != 429;
      },
      Millis(20'000), Millis(100)));
  EXPECT_EQ(after_lock, 200) << "after the lock, the right password works and resets the count";
  EXPECT_EQ(attempt("wrong again").status, 401);
}

TEST(AuthLimitsE2eTest, PerIpLimitAnswers429WithRetryAfter) {
  AuthServer server(
      {{"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "4"}, {"CLINICORE_RATE_REGISTER_PER_IP_PER_HOUR", "2"}});
  server.CreateTenant("per-ip");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(server
                  .TenantCall("per-ip", "POST", "/v1/auth/login",
                              {{"email", "a" + std::to_string(i) + "@x.test"}, {"password", "whatever-it-is"}})
                  .status,
              401);
  }
  auto limited = server.TenantCall("per-ip", "POST", "/v1/auth/login",
                                   {{"email", "owner@per-ip.test"}, {"password", kTestPassword}});
  EXPECT_EQ(limited.status, 429);
  ASSERT_TRUE(limited.Header("retry-after"));
  const int retry = std::stoi(*limited.Header("retry-after"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  // Sign-up has its own budget.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(server
                  .TenantCall("per-ip", "POST", "/v1/auth/register",
                              {{"email", "c" + std::to_string(i) + "@x.test"},
                               {"password", "a sturdy passphrase"},
                               {"full_name", "C"}})
                  .status,
              201);
  }
  EXPECT_EQ(server
                .TenantCall("per-ip", "POST", "/v1/auth/register",
                            {{"email", "c9@x.test"}, {"password", "a sturdy passphrase"}, {"full_name", "C"}})
                .status,
            429);
}

TEST(AuthLimitsE2eTest, TenantRequestBudget) {
  AuthServer server(std::map<std::string, std::string>{{"CLINICORE_RATE_TENANT_REQUESTS_PER_MINUTE", "5"}});
  server.CreateTenant("budget");
  server.CreateTenant("budget-other");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(server.TenantCall("budget", "GET", "/v1/tenant").status, 200);
  auto over = server.TenantCall("budget", "GET", "/v1/tenant");
  EXPECT_EQ(over.status, 429);
  EXPECT_TRUE(over.Header("retry-after"));
  EXPECT_EQ(server.TenantCall("budget-other", "GET", "/v1/tenant").status, 200) << "budgets are per tenant";
  EXPECT_EQ(server.Call("GET", "/healthz").status, 200) << "platform routes have no tenant budget";
}

// With Redis unreachable, reads and sign-in go on, and sign-in is still limited, in-process.
TEST(AuthLimitsE2eTest, RedisDownKeepsSignInLimitedInProcess) {
  const int dead_port = 1;  // nothing listens on port 1 of loopback
  AuthServer server({{"CLINICORE_REDIS_URL", "redis://127.0.0.1:" + std::to_string(dead_port) + "/0"},
                     {"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "3"},
                     {"CLINICORE_REDIS_CONNECT_TIMEOUT_MS", "50"}});
  server.CreateTenant("no-redis");
  const json session = server.Login("no-redis", "owner@no-redis.test");
  EXPECT_EQ(server.TenantCall("no-redis", "GET", "/v1/users/me", nullptr, AuthServer::Bearer(session)).status, 200);
  EXPECT_EQ(server.TenantCall("no-redis", "POST", "/v1/auth/login", {{"email", "x@y.test"}, {"password", "nope-nope"}})
                .status,
            401);
  EXPECT_EQ(server.TenantCall("no-redis", "POST", "/v1/auth/login", {{"email", "x@y.test"}, {"password", "nope-nope"}})
                .status,
            401);
  auto limited =
      server.TenantCall("no-redis", "POST", "/v1/auth/login", {{"email", "x@y.test"}, {"password", "nope-nope"}});
  EXPECT_EQ(limited.status, 429) << "never unlimited";
  EXPECT_TRUE(limited.Header("retry-after"));
  // A change only managers may make fails closed: whether the token was revoked is unknown.
  auto invite = server.TenantCall("no-redis", "POST", "/v1/users",
                                  {{"email", "new@no-redis.test"}, {"full_name", "New"}, {"role", "doctor"}},
                                  AuthServer::Bearer(session));
  EXPECT_EQ(invite.status, 503) << invite.body;
  EXPECT_EQ(invite.Header("content-type").value_or(""), "application/problem+json");
}

}  // namespace
}  // namespace clinicore
