#pragma once

// One `serve` process with a migrated database of its own, and the calls e2e tests make to
// it: tenants and users through the CLI, tenant calls with X-Tenant and a bearer token.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tests/harness/harness.hpp"

namespace clinicore::testing {

using nlohmann::json;

// One server (and its database) per fixture; tenants made through the CLI.
class ApiServer {
 public:
  explicit ApiServer(std::map<std::string, std::string> extra_env = {}) {
    std::string output;
    EXPECT_EQ(MigrateDatabase(database_.url(), &output, extra_env), 0) << output;
    env_ = ServerEnv(database_.url());
    for (auto& [name, value] : extra_env) env_[name] = value;
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"serve"}, env_);
    EXPECT_TRUE(server_->WaitUntilServing()) << server_->Output();
  }

  // A tenant whose owner signs in with kTestPassword.
  void CreateTenant(const std::string& slug) {
    std::string output;
    ASSERT_EQ(RunClinicore({"tenant", "create", slug, "Clinic " + slug, "--owner-email", "owner@" + slug + ".test",
                            "--owner-name", "Owner"},
                           env_, std::string(kTestPassword) + "\n", &output),
              0)
        << output;
  }
  // A user of the role with kTestPassword; returns its id.
  std::string EnsureUser(const std::string& slug, const std::string& email, const std::string& role) {
    std::string output;
    EXPECT_EQ(RunClinicore({"tenant", "ensure-user", slug, email, role, "--name", "User " + role}, env_,
                           std::string(kTestPassword) + "\n", &output),
              0)
        << output;
    return nlohmann::json::parse(output.substr(output.find('{')))["id"];
  }

  HttpReply Call(const std::string& method, const std::string& path, const json& body = nullptr,
                 std::vector<std::string> headers = {}) const {
    if (!body.is_null()) headers.push_back("Content-Type: application/json");
    return Http(method, server_->BaseUrl() + path, body.is_null() ? "" : body.dump(), headers);
  }
  HttpReply TenantCall(const std::string& tenant, const std::string& method, const std::string& path,
                       const json& body = nullptr, const std::string& authorization = "") const {
    std::vector<std::string> headers = {"X-Tenant: " + tenant};
    if (!authorization.empty()) headers.push_back("Authorization: " + authorization);
    return Call(method, path, body, headers);
  }
  json Login(const std::string& tenant, const std::string& email, const std::string& password = kTestPassword) const {
    auto reply = TenantCall(tenant, "POST", "/v1/auth/login", {{"email", email}, {"password", password}});
    EXPECT_EQ(reply.status, 200) << reply.body;
    return json::parse(reply.body, nullptr, false);
  }
  static std::string Bearer(const json& session) { return "Bearer " + session["access_token"].get<std::string>(); }

  long long AuditCount(const std::string& slug, const std::string& action) const {
    pqxx::connection connection(database_.url());
    pqxx::nontransaction tx(connection);
    std::string schema = "t_" + slug;
    std::replace(schema.begin(), schema.end(), '-', '_');
    return tx
        .exec("SELECT count(*) FROM " + tx.quote_name(schema) + ".audit_log WHERE action = " + tx.quote(action))[0][0]
        .as<long long>();
  }

  const std::map<std::string, std::string>& env() const { return env_; }
  ServerProcess& server() { return *server_; }
  const std::string& database_url() const { return database_.url(); }

 private:
  TestDatabase database_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace clinicore::testing
