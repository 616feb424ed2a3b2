// Plugins over HTTP against the real binary: `clinicore plugin install` records descriptors,
// the console enables plugins per tenant (config validated against the recorded schema, 400
// naming the field; secrets sealed and never returned), quarantine is visible and released,
// tenant admins see what is enabled for them, and `serve` never maps a plugin library.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <sstream>

#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using nlohmann::json;
using testing::Http;
using testing::HttpReply;
using testing::kTestPassword;
using testing::ServerProcess;

constexpr const char* kSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr const char* kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string FirstParty(const std::string& name) {
  return std::string(CLINICORE_FIRST_PARTY_PLUGIN_DIR) + "/" + name + ".so";
}
std::string TestPlugin(const std::string& name) {
  return std::string(CLINICORE_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

class PluginsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_ = new testing::TestDatabase();
    std::string output;
    ASSERT_EQ(testing::MigrateDatabase(database_->url(), &output), 0) << output;
    env_ = testing::ServerEnv(database_->url());
    env_["CLINICORE_PLUGIN_SECRET_KEY"] = kSecretKey;
    env_["CLINICORE_PLUGIN_HTTP_ALLOW_PRIVATE"] = "1";  // the CLI's live check reaches the test server
    // Descriptors are recorded by `clinicore plugin install` (a worker does the same at start).
    ASSERT_EQ(testing::RunClinicore({"plugin", "install", FirstParty("webhook"), FirstParty("points_per_spend"),
                                     TestPlugin("misbehaving")},
                                    env_, "", &output),
              0)
        << output;
    server_ = new ServerProcess({"serve"}, env_);
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->Output();
    console_auth_ = ConsoleAuthorization();
    for (const char* slug : {"plug-a", "plug-b"}) {
      ASSERT_EQ(testing::RunClinicore({"tenant", "create", slug, std::string("Clinic ") + slug, "--owner-email",
                                       std::string("owner@") + slug + ".test", "--owner-name", "Owner"},
                                      env_, std::string(kTestPassword) + "\n", &output),
                0)
          << output;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete database_;
  }

  // THE one place credentials come from (swap them here when the auth fixtures change): a
  // platform admin for the console, a tenant's owner for the tenant route.
  static std::string ConsoleAuthorization() {
    return testing::ConsoleAuthorization(server_->BaseUrl(), database_->url());
  }
  static std::string OwnerAuthorization(const std::string& slug) {
    return testing::TenantAuthorization(server_->BaseUrl(), slug, "owner@" + slug + ".test", kTestPassword);
  }

  static HttpReply Console(const std::string& method, const std::string& path, const json& body = nullptr) {
    std::vector<std::string> headers = {"Authorization: " + console_auth_};
    if (!body.is_null()) headers.push_back("Content-Type: application/json");
    return Http(method, server_->BaseUrl() + path, body.is_null() ? "" : body.dump(), headers);
  }
  static HttpReply Tenant(const std::string& slug, const std::string& path, const std::string& authorization) {
    std::vector<std::string> headers = {"X-Tenant: " + slug};
    if (!authorization.empty()) headers.push_back("Authorization: " + authorization);
    return Http("GET", server_->BaseUrl() + path, "", headers);
  }
  static json Body(const HttpReply& reply) { return json::parse(reply.body); }
  static void Sql(const std::string& statement) {
    pqxx::connection connection(database_->url());
    pqxx::work work(connection);
    work.exec(statement);
    work.commit();
  }
  static std::string TenantId(const std::string& slug) {
    pqxx::connection connection(database_->url());
    pqxx::nontransaction work(connection);
    return work.exec("SELECT id::text FROM platform.tenants WHERE slug = " + work.quote(slug))[0][0].as<std::string>();
  }

  static testing::TestDatabase* database_;
  static ServerProcess* server_;
  static std::map<std::string, std::string> env_;
  static std::string console_auth_;
};
testing::TestDatabase* PluginsE2eTest::database_ = nullptr;
ServerProcess* PluginsE2eTest::server_ = nullptr;
std::map<std::string, std::string> PluginsE2eTest::env_;
std::string PluginsE2eTest::console_auth_;

TEST_F(PluginsE2eTest, ConsoleListsInstalledPluginsWithTheirSchemas) {
  EXPECT_EQ(Http("GET", server_->BaseUrl() + "/v1/console/plugins").status, 401);
  auto reply = Console("GET", "/v1/console/plugins");
  ASSERT_EQ(reply.status, 200) << reply.body;
  std::map<std::string, json> by_name;
  const json body = Body(reply);  // outlives the loop
  for (const auto& item : body["items"]) by_name[item["name"].get<std::string>()] = item;
  ASSERT_EQ(by_name.count("webhook"), 1u) << reply.body;
  EXPECT_EQ(by_name["webhook"]["kind"], "channel");
  EXPECT_EQ(by_name["webhook"]["secret_fields"], json::array({"secret"}));
  EXPECT_EQ(by_name["webhook"]["config_schema"]["required"], json::array({"url", "secret"}));
  EXPECT_EQ(by_name["webhook"]["has_check_config"], true);
  EXPECT_EQ(by_name["points-per-spend"]["kind"], "loyalty_rule");
  EXPECT_EQ(by_name["misbehaving"]["file_name"], "misbehaving.so");
}

TEST_F(PluginsE2eTest, EnableRefusesABadConfigNamingTheField) {
  auto bad = Console("PUT", "/v1/console/tenants/plug-a/plugins/webhook",
                     {{"config", {{"url", "ftp://x"}, {"secret", "nope"}}}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.Header("content-type"), "application/problem+json");
  const json problem = Body(bad);
  ASSERT_EQ(problem["errors"].size(), 2u);
  EXPECT_EQ(problem["errors"][0]["field"], "config.secret");
  EXPECT_EQ(problem["errors"][1]["field"], "config.url");
  EXPECT_EQ(problem["errors"][1]["message"], "must match the pattern ^https?://[^ ]+$");
  EXPECT_EQ(bad.body.find("nope"), std::string::npos);  // the input is not echoed back

  const json typo = Body(Console("PUT", "/v1/console/tenants/plug-a/plugins/webhook", {{"cfg", json::object()}}));
  ASSERT_EQ(typo["errors"].size(), 2u) << typo.dump();
  EXPECT_EQ(typo["errors"][0]["field"], "config");
  EXPECT_EQ(typo["errors"][1]["field"], "cfg");
  EXPECT_EQ(Console("PUT", "/v1/console/tenants/plug-a/plugins/no-such", {{"config", json::object()}}).status, 404);
  EXPECT_EQ(Console("PUT", "/v1/console/tenants/no-such-tenant/plugins/webhook", {{"config", json::object()}}).status,
            404);
  EXPECT_EQ(Console("PUT", "/v1/console/tenants/plug-a/plugins/webhook",
                    {{"version", "9.9.9"}, {"config", {{"url", "https://x"}, {"secret", kWebhookSecret}}}})
                .status,
            404);
}

TEST_F(PluginsE2eTest, SecretsAreNeverReturnedAndTenantsSeeOnlyTheirOwnPlugins) {
  auto enabled = Console("PUT", "/v1/console/tenants/plug-a/plugins/webhook",
                         {{"config", {{"url", "https://hooks.example.test/a"}, {"secret", kWebhookSecret}}}});
  ASSERT_EQ(enabled.status, 200) << enabled.body;
  EXPECT_EQ(enabled.body.find(kWebhookSecret), std::string::npos);
  const json view = Body(enabled);
  EXPECT_EQ(view["version"], "1.0.0");
  EXPECT_EQ(view["config"], (json{{"url", "https://hooks.example.test/a"}}));
  EXPECT_EQ(view["secret_fields_set"], json::array({"secret"}));
  EXPECT_EQ(view["check"]["status"], "pending");
  ASSERT_EQ(Console("PUT", "/v1/console/tenants/plug-b/plugins/points-per-spend",
                    {{"config", {{"points_per_unit", 2}, {"currency", "EUR"}}}})
                .status,
            200);

  auto listed = Console("GET", "/v1/console/tenants/plug-a/plugins");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(kWebhookSecret), std::string::npos);
  ASSERT_EQ(Body(listed)["items"].size(), 1u);
  EXPECT_EQ(Body(listed)["items"][0]["health"]["quarantined"], false);

  // The tenant's own admins (the owner here) see what is enabled for them, no secrets.
  const std::string owner_a = OwnerAuthorization("plug-a");
  ASSERT_FALSE(owner_a.empty());
  auto mine = Tenant("plug-a", "/v1/tenant/plugins", owner_a);
  ASSERT_EQ(mine.status, 200) << mine.body;
  ASSERT_EQ(Body(mine)["items"].size(), 1u);
  EXPECT_EQ(Body(mine)["items"][0]["name"], "webhook");
  EXPECT_EQ(Body(mine)["items"][0]["secret_fields_set"], json::array({"secret"}));
  EXPECT_EQ(mine.body.find(kWebhookSecret), std::string::npos);
  EXPECT_EQ(Tenant("plug-a", "/v1/tenant/plugins", "").status, 401);
  // A's token is not B's: tokens name their tenant.
  EXPECT_EQ(Tenant("plug-b", "/v1/tenant/plugins", owner_a).status, 401);
  const std::string owner_b = OwnerAuthorization("plug-b");
  auto theirs = Tenant("plug-b", "/v1/tenant/plugins", owner_b);
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  std::set<std::string> names;
  const json their_items = Body(theirs);
  for (const auto& item : their_items["items"]) names.insert(item["name"].get<std::string>());
  EXPECT_EQ(names.count("points-per-spend"), 1u);
  EXPECT_EQ(names.count("webhook"), 0u);
}

TEST_F(PluginsE2eTest, QuarantineIsVisibleWithItsReasonAndCanBeReleased) {
  ASSERT_EQ(Console("PUT", "/v1/console/tenants/plug-b/plugins/misbehaving", {{"config", {{"label", "b"}}}}).status,
            200);
  // What a worker records after N consecutive failures (platform/plugins PluginHost::Book).
  Sql("INSERT INTO platform.plugin_health (tenant_id, plugin_name, consecutive_failures, last_failure_at, "
      "last_failure, quarantined_at, quarantine_reason) VALUES ('" +
      TenantId("plug-b") + "', 'misbehaving', 5, now(), 'boom', now(), '5 consecutive failures; the last: boom')");
  auto listed = Console("GET", "/v1/console/tenants/plug-b/plugins");
  ASSERT_EQ(listed.status, 200) << listed.body;
  json misbehaving;
  const json items = Body(listed);
  for (const auto& item : items["items"]) {
    if (item["name"] == "misbehaving") misbehaving = item;
  }
  EXPECT_EQ(misbehaving["health"]["quarantined"], true) << listed.body;
  EXPECT_EQ(misbehaving["health"]["quarantine_reason"], "5 consecutive failures; the last: boom");

  auto released = Console("POST", "/v1/console/tenants/plug-b/plugins/misbehaving/release");
  ASSERT_EQ(released.status, 200) << released.body;
  EXPECT_EQ(Body(released)["health"]["quarantined"], false);
  EXPECT_EQ(Body(released)["health"]["consecutive_failures"], 0);
  EXPECT_EQ(Console("POST", "/v1/console/tenants/plug-b/plugins/misbehaving/release").status, 412);

  EXPECT_EQ(Console("DELETE", "/v1/console/tenants/plug-b/plugins/misbehaving").status, 204);
  EXPECT_EQ(Console("DELETE", "/v1/console/tenants/plug-b/plugins/misbehaving").status, 404);
  pqxx::connection connection(database_->url());
  pqxx::nontransaction work(connection);
  auto actions = work.exec(
      "SELECT string_agg(action, ',' ORDER BY id) FROM platform.console_audit WHERE action LIKE 'plugin.%' AND "
      "tenant_id = '" +
      TenantId("plug-b") + "' AND details->>'plugin' = 'misbehaving'");
  EXPECT_EQ(actions[0][0].as<std::string>(), "plugin.enable,plugin.release,plugin.disable");
}

TEST_F(PluginsE2eTest, TheLiveCheckRunsOutsideServeAndIsRecordedForTheConsole) {
  // Point the webhook at serve's own /healthz: a POST there is a 405, so the check fails,
  // naming the field. It runs in a `clinicore plugin check` process, as a worker job would.
  ASSERT_EQ(Console("PUT", "/v1/console/tenants/plug-a/plugins/webhook",
                    {{"config", {{"url", server_->BaseUrl() + "/healthz"}, {"secret", kWebhookSecret}}}})
                .status,
            200);
  std::string output;
  auto worker_env = env_;
  worker_env["CLINICORE_PLUGIN_DIR"] = CLINICORE_FIRST_PARTY_PLUGIN_DIR;
  EXPECT_EQ(testing::RunClinicore({"plugin", "check", "plug-a", "webhook"}, worker_env, "", &output), 1) << output;
  auto listed = Console("GET", "/v1/console/tenants/plug-a/plugins");
  const json check = Body(listed)["items"][0]["check"];
  EXPECT_EQ(check["status"], "failed") << listed.body;
  EXPECT_EQ(check["detail"]["errors"][0]["field"], "url");
}

// Plugin code never runs in `serve`: after everything above, no plugin library is mapped in
// the serve process.
TEST_F(PluginsE2eTest, ServeNeverLoadsAPluginLibrary) {
  ASSERT_EQ(Console("GET", "/v1/console/tenants/plug-a/plugins").status, 200);
  int checked = 0;
  DIR* proc = opendir("/proc");
  ASSERT_NE(proc, nullptr);
  while (dirent* entry = readdir(proc)) {
    const std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    int parent = 0;
    rest >> state >> parent;
    if (parent != ::getpid()) continue;
    std::ifstream cmdline("/proc/" + pid + "/cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find("serve") == std::string::npos) continue;
    std::ifstream maps("/proc/" + pid + "/maps");
    std::string mapped((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
    EXPECT_EQ(mapped.find("webhook.so"), std::string::npos);
    EXPECT_EQ(mapped.find("misbehaving.so"), std::string::npos);
    EXPECT_EQ(mapped.find("points_per_spend.so"), std::string::npos);
    ++checked;
  }
  closedir(proc);
  EXPECT_EQ(checked, 1);
}

}  // namespace
}  // namespace clinicore

namespace clinicore {
namespace {

constexpr const char* kRotatedKey = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

// The sealed value's format byte and key id (hex), straight from the row.
std::pair<int, std::string> SealedHeader(const std::string& database_url, const std::string& tenant_id) {
  pqxx::connection connection(database_url);
  pqxx::nontransaction work(connection);
  const auto row = work.exec_params1(
      "SELECT get_byte(sealed_secrets, 0), encode(substring(sealed_secrets FROM 2 FOR 8), 'hex') "
      "FROM platform.tenant_plugins WHERE tenant_id = $1::uuid AND plugin_name = 'webhook'",
      tenant_id);
  return {row[0].as<int>(), row[1].as<std::string>()};
}

// "key <id>: N re-sealed, M already under it, K failed" -> id.
std::string ReportedKeyId(const std::string& output) {
  const auto at = output.find("key ");
  return at == std::string::npos ? "" : output.substr(at + 4, 16);
}

TEST_F(PluginsE2eTest, RekeyReSealsStoredSecretsUnderTheNewKeyAndTheOldKeyAloneNoLongerOpensThem) {
  std::string output;
  ASSERT_EQ(testing::RunClinicore({"tenant", "create", "plug-rekey", "Clinic rekey", "--owner-email",
                                   "owner@plug-rekey.test", "--owner-name", "Owner"},
                                  env_, std::string(kTestPassword) + "\n", &output),
            0)
      << output;
  auto enabled = Console("PUT", "/v1/console/tenants/plug-rekey/plugins/webhook",
                         {{"config", {{"url", "https://hooks.example.test/r"}, {"secret", kWebhookSecret}}}});
  ASSERT_EQ(enabled.status, 200) << enabled.body;
  const std::string tenant_id = TenantId("plug-rekey");
  const auto before = SealedHeader(database_->url(), tenant_id);
  EXPECT_EQ(before.first, 2) << "sealed values carry a key id";

  // Rotation: the new key seals, the old one is still configured to open.
  auto rotated = env_;
  rotated["CLINICORE_PLUGIN_SECRET_KEY"] = kRotatedKey;
  rotated["CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS"] = kSecretKey;
  ASSERT_EQ(testing::RunClinicore({"plugin", "rekey"}, rotated, "", &output), 0) << output;
  const std::string new_id = ReportedKeyId(output);
  ASSERT_EQ(new_id.size(), 16u) << output;
  EXPECT_NE(new_id, before.second);
  EXPECT_EQ(output.find(" 0 re-sealed"), std::string::npos) << output;
  EXPECT_NE(output.find(" 0 failed"), std::string::npos) << output;
  EXPECT_EQ(SealedHeader(database_->url(), tenant_id), std::make_pair(2, new_id));
  {
    pqxx::connection connection(database_->url());
    pqxx::nontransaction work(connection);
    EXPECT_EQ(work.exec_params1("SELECT count(*) FROM platform.console_audit WHERE action = 'plugin.rekey' "
                                "AND tenant_id = $1::uuid AND details->>'key_id' = $2",
                                tenant_id, new_id)[0]
                  .as<int>(),
              1);
  }

  // Nothing left to do: a second run changes nothing.
  ASSERT_EQ(testing::RunClinicore({"plugin", "rekey"}, rotated, "", &output), 0) << output;
  EXPECT_NE(output.find(" 0 re-sealed"), std::string::npos) << output;
  EXPECT_EQ(SealedHeader(database_->url(), tenant_id), std::make_pair(2, new_id));

  // The old key alone cannot open the row any more: rekey names it and fails, changing nothing.
  auto old_only = env_;
  EXPECT_EQ(testing::RunClinicore({"plugin", "rekey"}, old_only, "", &output), 1) << output;
  EXPECT_NE(output.find("not rekeyed\ttenant " + tenant_id + "\tplugin webhook"), std::string::npos) << output;
  EXPECT_NE(output.find(new_id), std::string::npos) << "names the key it would need: " << output;
  EXPECT_EQ(SealedHeader(database_->url(), tenant_id), std::make_pair(2, new_id));

  // A server holding only the new key keeps the stored secret when the config is edited.
  auto new_only = env_;
  new_only["CLINICORE_PLUGIN_SECRET_KEY"] = kRotatedKey;
  ServerProcess rotated_server({"serve"}, new_only);
  ASSERT_TRUE(rotated_server.WaitUntilServing()) << rotated_server.Output();
  auto edited = Http("PUT", rotated_server.BaseUrl() + "/v1/console/tenants/plug-rekey/plugins/webhook",
                     json{{"config", {{"url", "https://hooks.example.test/r2"}}}}.dump(),
                     {"Authorization: " + testing::ConsoleAuthorization(rotated_server.BaseUrl(), database_->url()),
                      "Content-Type: application/json"});
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(Body(edited)["secret_fields_set"], json::array({"secret"}));

  // No key at all: there is nothing to seal with.
  auto no_key = env_;
  no_key.erase("CLINICORE_PLUGIN_SECRET_KEY");
  EXPECT_EQ(testing::RunClinicore({"plugin", "rekey"}, no_key, "", &output), 2) << output;
  EXPECT_NE(output.find("CLINICORE_PLUGIN_SECRET_KEY is not configured"), std::string::npos) << output;
}

}  // namespace
}  // namespace clinicore
