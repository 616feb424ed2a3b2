// The real `clinicore serve` at its HTTP edge: the bytes that used to get a 500 or no answer,
// persistent connections, the split ops and console listeners, and the address-wide limits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using std::chrono::milliseconds;
using testing::FirstErrorField;
using testing::Http;
using testing::HttpReply;
using testing::kTestPassword;
using testing::RawExchange;
using testing::ServerProcess;

class HttpEdgeE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_ = new testing::TestDatabase();
    std::string output;
    ASSERT_EQ(testing::MigrateDatabase(database_->url(), &output), 0) << output;
    env_ = new std::map<std::string, std::string>(testing::ServerEnv(database_->url()));
    for (const std::string slug : {"edge-a", "edge-b"}) {
      ASSERT_EQ(testing::RunClinicore({"tenant", "create", slug, "Clinic " + slug, "--owner-email",
                                       "owner@" + slug + ".test", "--owner-name", "Owner"},
                                      *env_, std::string(kTestPassword) + "\n", &output),
                0)
          << output;
    }
    auto env = *env_;
    // A Redis database of its own: the address-wide limits under test count every sign-in
    // from 127.0.0.1, and the other suites sign in from there too.
    const std::string redis = testing::TestRedisUrl();
    env["CLINICORE_REDIS_URL"] = redis.substr(0, redis.rfind('/')) + "/7";
    env["CLINICORE_OPS_PORT"] = "0";
    env["CLINICORE_CONSOLE_PORT"] = "0";
    env["CLINICORE_RATE_ANONYMOUS_PER_IP_PER_MINUTE"] = "20";
    env["CLINICORE_RATE_LOGIN_PER_IP_GLOBAL_PER_MINUTE"] = "4";
    server_ = new ServerProcess({"serve"}, env);
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->Output();
    ops_port_ = PortFromLog("ops_port");
    console_port_ = PortFromLog("console_port");
    ASSERT_GT(ops_port_, 0) << server_->Output();
    ASSERT_GT(console_port_, 0) << server_->Output();
    ASSERT_NE(ops_port_, server_->port());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete env_;
    delete database_;
  }

  static int PortFromLog(const std::string& field) {
    std::smatch match;
    const std::string output = server_->Output();
    if (!std::regex_search(output, match, std::regex("\"" + field + "\":([0-9]+)"))) return 0;
    return std::stoi(match[1]);
  }
  static std::string Url(const std::string& path, int port = 0) {
    return "http://127.0.0.1:" + std::to_string(port == 0 ? server_->port() : port) + path;
  }
  static std::string Token(const std::string& slug) {
    return testing::TenantAuthorization(server_->BaseUrl(), slug, "owner@" + slug + ".test", kTestPassword);
  }

  static testing::TestDatabase* database_;
  static std::map<std::string, std::string>* env_;
  static ServerProcess* server_;
  static int ops_port_;
  static int console_port_;
};
testing::TestDatabase* HttpEdgeE2eTest::database_ = nullptr;
std::map<std::string, std::string>* HttpEdgeE2eTest::env_ = nullptr;
ServerProcess* HttpEdgeE2eTest::server_ = nullptr;
int HttpEdgeE2eTest::ops_port_ = 0;
int HttpEdgeE2eTest::console_port_ = 0;

void ExpectProblem(const HttpReply& reply, long status, const std::string& field, const std::string& what) {
  EXPECT_EQ(reply.status, status) << what << ": " << reply.body;
  EXPECT_EQ(reply.Header("content-type"), "application/problem+json") << what;
  EXPECT_EQ(FirstErrorField(reply), field) << what;
}

// The status and problem field of a raw exchange's answer.
std::pair<int, std::string> RawProblem(int port, const std::string& bytes) {
  const std::string answer = RawExchange(port, bytes, milliseconds(10'000));
  if (answer.size() < 12) return {0, ""};
  const auto body = nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4), nullptr, false);
  const std::string field = body.is_discarded() ? "" : body["errors"][0].value("field", "");
  return {std::stoi(answer.substr(9, 3)), field};
}

TEST_F(HttpEdgeE2eTest, TheBytesThatOnceGotA500OrNoAnswerGetA400NamingThePart) {
  const std::string token = Token("edge-a");
  ASSERT_FALSE(token.empty());
  const std::vector<std::string> tenant = {"X-Tenant: edge-a", "Authorization: " + token};
  ExpectProblem(Http("GET", Url("/v1/users/%FF"), "", tenant), 400, "path", "a byte that is not UTF-8");
  ExpectProblem(Http("GET", Url("/v1/users/%ED%A0%80"), "", tenant), 400, "path", "a lone surrogate");
  ExpectProblem(Http("GET", Url("/v1/console/jobs/%ED%BF%BF", console_port_)), 400, "path", "console path");
  ExpectProblem(Http("GET", Url("/v1/console/jobs/queues?tenant=%ED%A0%80", console_port_)), 400, "query.tenant",
                "console query");
  ExpectProblem(Http("GET", Url("/v1/tenant"), "", {"X-Tenant: d\xffmo"}), 400, "X-Tenant", "X-Tenant");
  ExpectProblem(Http("GET", Url("/v1/tenant"), "", {"Host: d\xffmo.localhost"}), 400, "Host", "Host");
  ExpectProblem(Http("POST", Url("/v1/auth/login"), "{\"email\":\"\xff\xfe\"}",
                     {"X-Tenant: edge-a", "Content-Type: application/json"}),
                400, "body", "a JSON body that is not UTF-8");
  ExpectProblem(Http("POST", Url("/v1/auth/login"), R"({"email":"a\u0000@x.test","password":"x"})",
                     {"X-Tenant: edge-a", "Content-Type: application/json"}),
                400, "email", "NUL in a JSON string");

  EXPECT_EQ(RawProblem(server_->port(), "GET /v1/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            (std::pair<int, std::string>{400, "path"}));
  EXPECT_EQ(RawProblem(server_->port(), "GARBAGE\r\n\r\n"), (std::pair<int, std::string>{400, "request_line"}));
  EXPECT_EQ(RawProblem(server_->port(), "GET /healthz HTTP/1.1\r\nHost: x:abc\r\n\r\n"),
            (std::pair<int, std::string>{400, "Host"}));
  EXPECT_EQ(Http("GET", Url("/healthz")).status, 200) << "the server goes on serving";
}

TEST_F(HttpEdgeE2eTest, ConnectionsPersistUntilTheClientAsksToClose) {
  const auto started = std::chrono::steady_clock::now();
  const std::string answers = RawExchange(server_->port(),
                                          "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                          "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                          milliseconds(10'000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(9'000)) << "the server closed, not the timeout";
  size_t count = 0;
  for (size_t at = answers.find("HTTP/1.1 200"); at != std::string::npos; at = answers.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 2u) << answers;
  EXPECT_NE(answers.find("Connection: Keep-Alive"), std::string::npos) << answers;
  EXPECT_NE(answers.find("Connection: Close"), std::string::npos) << answers;
}

TEST_F(HttpEdgeE2eTest, OpsAndConsoleRoutesAreServedOnlyOnTheirOwnListeners) {
  EXPECT_EQ(Http("GET", Url("/metrics")).status, 404) << "/metrics is not public once an ops port is set";
  EXPECT_EQ(Http("GET", Url("/metrics", ops_port_)).status, 200);
  EXPECT_EQ(Http("GET", Url("/readyz", ops_port_)).status, 200);
  EXPECT_EQ(Http("GET", Url("/v1/console/me")).status, 404);
  EXPECT_EQ(Http("GET", Url("/v1/console/me", console_port_)).status, 401);
  EXPECT_EQ(Http("GET", Url("/v1/users/me", console_port_), "", {"X-Tenant: edge-a"}).status, 404);
  for (int port : {server_->port(), ops_port_, console_port_}) {
    EXPECT_EQ(Http("GET", Url("/healthz", port)).status, 200) << port;
  }
}

TEST_F(HttpEdgeE2eTest, AnonymousRoutesThatReadTheDatabaseAreLimitedPerAddress) {
  HttpReply limited;
  for (int i = 0; i < 60 && limited.status != 429; ++i) {
    limited = Http("GET", Url("/v1/tenant/status"), "", {"X-Tenant: edge-b"});
    ASSERT_TRUE(limited.status == 200 || limited.status == 429) << limited.status << " " << limited.body;
  }
  ASSERT_EQ(limited.status, 429) << "20 a minute from one address";
  EXPECT_EQ(limited.Header("content-type"), "application/problem+json");
  EXPECT_TRUE(limited.Header("retry-after").has_value());
  EXPECT_EQ(Http("GET", Url("/v1/status")).status, 429) << "one budget for every such route";
  EXPECT_EQ(Http("GET", Url("/healthz")).status, 200) << "liveness is not counted";
}

TEST_F(HttpEdgeE2eTest, SignInsFromOneAddressAreLimitedAcrossTenants) {
  // Unknown accounts, alternating tenants: no account lockout and no per-tenant limit comes
  // near; only the address-wide budget (4 a minute here) can refuse them.
  int refused_at = 0;
  for (int i = 1; i <= 10 && refused_at == 0; ++i) {
    const std::string slug = i % 2 == 0 ? "edge-a" : "edge-b";
    const nlohmann::json body = {{"email", "nobody" + std::to_string(i) + "@" + slug + ".test"},
                                 {"password", "wrong-password-123"}};
    auto reply =
        Http("POST", Url("/v1/auth/login"), body.dump(), {"X-Tenant: " + slug, "Content-Type: application/json"});
    if (reply.status == 429) {
      refused_at = i;
      EXPECT_NE(reply.body.find("sign-ins from your address"), std::string::npos) << reply.body;
      EXPECT_TRUE(reply.Header("retry-after").has_value());
    } else {
      EXPECT_EQ(reply.status, 401) << reply.body;
    }
  }
  // The suite's own sign-in (Token) makes the refusal come sooner; a minute window that ends
  // mid-loop lets at most four more through (3 + 4 + 1).
  EXPECT_GE(refused_at, 1);
  EXPECT_LE(refused_at, 8);
}

}  // namespace
}  // namespace clinicore
