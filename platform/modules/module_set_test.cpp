#include "platform/modules/module_set.hpp"

#include <gtest/gtest.h>

#include "platform/modules/audit.hpp"

namespace clinicore::modules {
namespace {

using http::Method;

// A module as small as the seam allows: one route, a personal-data map, optionally a
// per-clinic scope on its rule and a subscription.
class TestModule final : public Module {
 public:
  TestModule(std::string name, auth::AccessRule rule, bool answers_scope = false)
      : name_(std::move(name)), rule_(std::move(rule)), answers_scope_(answers_scope) {}

  std::string_view Name() const override { return name_; }
  void RegisterStatements(db::Database&) override {}
  void RegisterRoutes(RouteTable& routes) override {
    routes.Add(rule_, [](Call&) -> core::Result<http::Response> { return http::Response::NoContent(); });
  }
  std::vector<EventSubscription> Subscriptions() override {
    return {{"", "clinic.created", [](jobs::JobContext&, const Event&) { return jobs::Outcome::Done(); }}};
  }
  std::shared_ptr<auth::ClinicScopeSource> ClinicScope() override {
    struct Everything final : auth::ClinicScopeSource {
      core::Result<std::vector<std::string>> ClinicsOf(const auth::RealmContext&, const std::string&,
                                                       const std::string&) override {
        return std::vector<std::string>{};
      }
    };
    return answers_scope_ ? std::make_shared<Everything>() : nullptr;
  }
  PersonalDataMap PersonalData() const override { return {{name_ + "_people", "user_id", {"note"}}}; }

 private:
  std::string name_;
  auth::AccessRule rule_;
  bool answers_scope_;
};

ModuleList Modules(std::vector<std::unique_ptr<Module>> modules) {
  ModuleList list;
  for (auto& module : modules) list.push_back(std::move(module));
  return list;
}

class ModuleSetTest : public ::testing::Test {
 protected:
  // Never connects: nothing here runs a statement.
  db::Database database_{core::DatabaseConfig{}, std::make_shared<core::Metrics>()};
  IdempotencyKeys keys_{database_};
};

TEST_F(ModuleSetTest, RoutesArriveWithTheirRulesAndThePolicyCoversThem) {
  std::vector<std::unique_ptr<Module>> list;
  list.push_back(std::make_unique<TestModule>("alpha", auth::RolesMay(Method::kGet, "/v1/alpha", {"admin"})));
  list.push_back(std::make_unique<TestModule>("beta", auth::OpenTo(Method::kPost, "/v1/beta")));
  ModuleSet set(Modules(std::move(list)));
  http::Router router;
  auto rules = set.RegisterRoutes(router, keys_);
  ASSERT_EQ(rules.size(), 2u);
  ASSERT_EQ(router.routes().size(), 2u);
  EXPECT_EQ(router.routes()[0].options.scope, http::RouteScope::kTenant);  // module routes are tenant routes
  auth::AccessPolicy policy(rules);
  EXPECT_NO_THROW(policy.RequireEveryRoute(router));
}

TEST_F(ModuleSetTest, ARouteWithoutARuleStopsStartUp) {
  std::vector<std::unique_ptr<Module>> list;
  list.push_back(std::make_unique<TestModule>("alpha", auth::RolesMay(Method::kGet, "/v1/alpha", {"admin"})));
  ModuleSet set(Modules(std::move(list)));
  http::Router router;
  auto rules = set.RegisterRoutes(router, keys_);
  rules.clear();  // as if a module's rows never reached the table
  auth::AccessPolicy policy(rules);
  try {
    policy.RequireEveryRoute(router);
    FAIL() << "a route without a rule passed";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("/v1/alpha"), std::string::npos) << e.what();
  }
}

TEST_F(ModuleSetTest, AModuleRuleThatDoesNotFitItsRouteStopsStartUp) {
  std::vector<std::unique_ptr<Module>> list;
  list.push_back(std::make_unique<TestModule>("alpha", auth::PlatformAdminsOnly(Method::kGet, "/v1/alpha")));
  ModuleSet set(Modules(std::move(list)));
  http::Router router;
  auth::AccessPolicy policy(set.RegisterRoutes(router, keys_));
  EXPECT_THROW(policy.RequireEveryRoute(router), std::logic_error);
}

TEST_F(ModuleSetTest, AClinicScopeNobodyAnswersStopsStartUp) {
  auto scoped = auth::ScopedToClinics(auth::RolesMay(Method::kGet, "/v1/alpha/{id}", {"doctor"}), {"doctor"}, "id");
  std::vector<std::unique_ptr<Module>> list;
  list.push_back(std::make_unique<TestModule>("alpha", scoped));
  ModuleSet set(Modules(std::move(list)));
  http::Router router;
  auto policy = std::make_shared<const auth::AccessPolicy>(set.RegisterRoutes(router, keys_));
  EXPECT_TRUE(policy->DeclaresClinicScope());
  EXPECT_EQ(set.ClinicScope(), nullptr);
  EXPECT_THROW(auth::Authorization(policy, nullptr, set.ClinicScope()), std::logic_error);
}

TEST_F(ModuleSetTest, TwoModulesOfOneNameOrTwoScopeAnswersRefuseToStart) {
  std::vector<std::unique_ptr<Module>> same;
  same.push_back(std::make_unique<TestModule>("alpha", auth::OpenTo(Method::kGet, "/v1/a")));
  same.push_back(std::make_unique<TestModule>("alpha", auth::OpenTo(Method::kGet, "/v1/b")));
  EXPECT_THROW(ModuleSet{Modules(std::move(same))}, std::logic_error);
  std::vector<std::unique_ptr<Module>> scopes;
  scopes.push_back(std::make_unique<TestModule>("alpha", auth::OpenTo(Method::kGet, "/v1/a"), true));
  scopes.push_back(std::make_unique<TestModule>("beta", auth::OpenTo(Method::kGet, "/v1/b"), true));
  EXPECT_THROW(ModuleSet{Modules(std::move(scopes))}, std::logic_error);
}

TEST_F(ModuleSetTest, JobsGetTheFanOutAndOneDeliveryKindPerSubscriber) {
  std::vector<std::unique_ptr<Module>> list;
  list.push_back(std::make_unique<TestModule>("alpha", auth::OpenTo(Method::kGet, "/v1/a")));
  list.push_back(std::make_unique<TestModule>("beta", auth::OpenTo(Method::kGet, "/v1/b")));
  ModuleSet set(Modules(std::move(list)));
  jobs::JobRegistry registry;
  set.RegisterJobs(registry);
  EXPECT_NE(registry.Find(kFanOutKind), nullptr);
  EXPECT_NE(registry.Find("alpha.on.clinic.created"), nullptr);
  EXPECT_NE(registry.Find("beta.on.clinic.created"), nullptr);
  EXPECT_NE(registry.Find(kIdempotencyPurgeKind), nullptr);
  EXPECT_NE(registry.FindSchedule(kIdempotencyPurgeKind), nullptr);
}

TEST_F(ModuleSetTest, PersonalDataNamesEveryModule) {
  std::vector<std::unique_ptr<Module>> list;
  list.push_back(std::make_unique<TestModule>("alpha", auth::OpenTo(Method::kGet, "/v1/a")));
  list.push_back(std::make_unique<TestModule>("beta", auth::OpenTo(Method::kGet, "/v1/b")));
  const auto data = ModuleSet(Modules(std::move(list))).PersonalData();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].first, "alpha");
  EXPECT_EQ(data[1].second.table, "beta_people");
}

TEST(AuditDetails, KeepsWhatChangedAndMasksSecrets) {
  const nlohmann::json before = {{"name", "A"}, {"price_minor", 100}, {"updated_at", "t1"}, {"api_key", "s1"}};
  const nlohmann::json after = {{"name", "B"}, {"price_minor", 100}, {"updated_at", "t2"}, {"api_key", "s2"}};
  const auto diff = AuditDetails(before, after);
  EXPECT_EQ(diff["changed"]["name"], nlohmann::json({{"from", "A"}, {"to", "B"}}));
  EXPECT_FALSE(diff["changed"].contains("price_minor"));
  EXPECT_FALSE(diff["changed"].contains("updated_at"));
  EXPECT_FALSE(diff["changed"].contains("api_key"));  // masked on both sides: no change shows
  const auto created = AuditDetails(nullptr, {{"name", "C"}, {"password_hash", "x"}, {"nested", {{"token", "t"}}}});
  EXPECT_EQ(created["created"]["password_hash"], "***");
  EXPECT_EQ(created["created"]["nested"]["token"], "***");
  EXPECT_EQ(AuditDetails({{"name", "D"}}, nullptr)["deleted"]["name"], "D");
}

}  // namespace
}  // namespace clinicore::modules
