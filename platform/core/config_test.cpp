#include "platform/core/config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace clinicore::core {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigTest, DefaultsSuitLocalUse) {
  auto config = LoadConfig(FakeEnv({}));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->http.port, 8080);
  EXPECT_EQ(config->redis.host, "127.0.0.1");
  EXPECT_EQ(config->redis.port, 16379);
  EXPECT_GT(config->database.pool_size, 0);
}

TEST(ConfigTest, ReadsEveryKindOfValue) {
  auto config = LoadConfig(FakeEnv({{"CLINICORE_HTTP_PORT", "0"},
                                    {"CLINICORE_DB_POOL_SIZE", "3"},
                                    {"CLINICORE_DB_POOL_WAIT_MS", "250"},
                                    {"CLINICORE_REDIS_URL", "redis://localhost:7000/2"},
                                    {"CLINICORE_LOG_LEVEL", "debug"}}));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->http.port, 0);
  EXPECT_EQ(config->database.pool_size, 3);
  EXPECT_EQ(config->database.pool_wait, Millis(250));
  EXPECT_EQ(config->redis.host, "localhost");
  EXPECT_EQ(config->redis.port, 7000);
  EXPECT_EQ(config->redis.database, 2);
  EXPECT_EQ(config->log_level, "debug");
}

struct BadValue {
  std::string name;
  std::string value;
  std::string expected_words;
};

class ConfigRejectsTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigRejectsTest, NamesTheVariableAndTheProblem) {
  const BadValue& bad = GetParam();
  auto config = LoadConfig(FakeEnv({{bad.name, bad.value}}));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().detail.find(bad.name), std::string::npos) << config.error().detail;
  EXPECT_NE(config.error().detail.find(bad.expected_words), std::string::npos) << config.error().detail;
  ASSERT_EQ(config.error().fields.size(), 1u);
  EXPECT_EQ(config.error().fields[0].field, bad.name);
}

INSTANTIATE_TEST_SUITE_P(BadValues, ConfigRejectsTest,
                         ::testing::Values(BadValue{"CLINICORE_HTTP_PORT", "eighty", "whole number"},
                                           BadValue{"CLINICORE_HTTP_PORT", "70000", "between 0 and 65535"},
                                           BadValue{"CLINICORE_HTTP_PORT", "-1", "between"},
                                           BadValue{"CLINICORE_HTTP_PORT", "80 ", "whole number"},
                                           BadValue{"CLINICORE_HTTP_THREADS", "0", "between 1"},
                                           BadValue{"CLINICORE_DB_POOL_SIZE", "", "whole number"},
                                           BadValue{"CLINICORE_DATABASE_URL", "mysql://x", "postgresql://"},
                                           BadValue{"CLINICORE_REDIS_URL", "http://x",
                                                    "redis://[user:password@]host:port/db"},
                                           BadValue{"CLINICORE_REDIS_URL", "redis://u:p%zz@h:1/0", "escape"},
                                           BadValue{"CLINICORE_REDIS_URL", "redis://user@h:1/0", "without a password"},
                                           BadValue{"CLINICORE_REDIS_URL", "redis://h:99999", "port"},
                                           BadValue{"CLINICORE_LOG_LEVEL", "loud", "one of"},
                                           BadValue{"CLINICORE_HTTP_MAX_BODY_BYTES", "12", "between 1024"},
                                           BadValue{"CLINICORE_MIGRATIONS_DIR", "", "must not be empty"}));

}  // namespace
}  // namespace clinicore::core

namespace clinicore::core {
namespace {

TEST(ConfigTest, PasswordHashingCannotGoBelowTheOwaspMinimum) {
  auto weak = LoadConfig([](const std::string& name) -> std::optional<std::string> {
    if (name == "CLINICORE_AUTH_PASSWORD_MEM_MIB") return "8";
    return std::nullopt;
  });
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.error().detail.find("CLINICORE_AUTH_PASSWORD_MEM_MIB"), std::string::npos);
  auto defaults = LoadConfig([](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->auth.password_mem_limit, 19u << 20);
  EXPECT_EQ(defaults->auth.password_ops_limit, 2u);
}

TEST(ConfigTest, TheAccountCacheCanBeTunedOrTurnedOff) {
  auto tuned = LoadConfig([](const std::string& name) -> std::optional<std::string> {
    if (name == "CLINICORE_AUTH_ACCOUNT_CACHE_TTL_MS") return "0";
    if (name == "CLINICORE_AUTH_ACCOUNT_CACHE_ENTRIES") return "500";
    return std::nullopt;
  });
  ASSERT_TRUE(tuned.ok()) << tuned.error().detail;
  EXPECT_EQ(tuned->auth.account_cache_ttl, Millis(0));
  EXPECT_EQ(tuned->auth.account_cache_entries, 500u);
  auto defaults = LoadConfig([](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  EXPECT_EQ(defaults->auth.account_cache_ttl, Millis(60'000));
  auto none = LoadConfig([](const std::string& name) -> std::optional<std::string> {
    if (name == "CLINICORE_AUTH_ACCOUNT_CACHE_ENTRIES") return "0";
    return std::nullopt;
  });
  EXPECT_FALSE(none.ok()) << "a cache of no entries is spelt TTL 0";
}

TEST(ConfigTest, SigningKeyErrorsNeverEchoTheKey) {
  auto empty = LoadConfig([](const std::string& name) -> std::optional<std::string> {
    if (name == "CLINICORE_AUTH_SIGNING_KEY") return "";
    return std::nullopt;
  });
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().detail.find("CLINICORE_AUTH_SIGNING_KEY"), std::string::npos);
  EXPECT_NE(empty.error().detail.find("<hidden>"), std::string::npos);
}

}  // namespace
}  // namespace clinicore::core

namespace clinicore::core {
namespace {

TEST(ConfigTest, JobVariablesHaveSafeDefaultsAndBounds) {
  auto defaults = LoadConfig(FakeEnv({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_LT(defaults->jobs.tenant_concurrency, defaults->jobs.concurrency) << "one tenant never fills a worker";
  EXPECT_FALSE(defaults->jobs.test_kinds) << "test kinds never ship enabled";
  EXPECT_LT(defaults->jobs.shutdown_grace, Millis(30'000)) << "below Kubernetes' default kill timeout";
  auto set = LoadConfig(FakeEnv({{"CLINICORE_WORK_CONCURRENCY", "16"},
                                 {"CLINICORE_WORK_LEASE_MS", "5000"},
                                 {"CLINICORE_WORK_TEST_KINDS", "1"},
                                 {"CLINICORE_WORK_METRICS_PORT", "0"},
                                 {"CLINICORE_JOBS_BACKOFF_BASE_MS", "250"}}));
  ASSERT_TRUE(set.ok()) << set.error().detail;
  EXPECT_EQ(set->jobs.concurrency, 16);
  EXPECT_EQ(set->jobs.lease, Millis(5'000));
  EXPECT_TRUE(set->jobs.test_kinds);
  EXPECT_EQ(set->jobs.metrics_port, 0);
  EXPECT_EQ(set->jobs.backoff_base, Millis(250));
  for (const auto& [name, value] : std::map<std::string, std::string>{{"CLINICORE_WORK_CONCURRENCY", "0"},
                                                                      {"CLINICORE_WORK_LEASE_MS", "100"},
                                                                      {"CLINICORE_WORK_TEST_KINDS", "yes"}}) {
    auto bad = LoadConfig(FakeEnv({{name, value}}));
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_NE(bad.error().detail.find(name), std::string::npos);
  }
}

}  // namespace
}  // namespace clinicore::core

namespace clinicore::core {
namespace {

TEST(ConfigTest, TheRedisUrlCarriesAnAclUserAndPasswordNeverShownInErrors) {
  RedisConfig redis;
  ASSERT_TRUE(ParseRedisUrl("redis://clinicore:s%40cret%3Ax@redis.internal:6380/3", redis).ok());
  EXPECT_EQ(redis.username, "clinicore");
  EXPECT_EQ(redis.password, "s@cret:x");
  EXPECT_EQ(redis.host, "redis.internal");
  EXPECT_EQ(redis.port, 6380);
  EXPECT_EQ(redis.database, 3);
  ASSERT_TRUE(ParseRedisUrl("redis://:only-a-password@h:1/0", redis).ok());
  EXPECT_EQ(redis.username, "");
  EXPECT_EQ(redis.password, "only-a-password");
  ASSERT_TRUE(ParseRedisUrl("redis://h:1/0", redis).ok());
  EXPECT_EQ(redis.password, "");
  auto bad = ParseRedisUrl("redis://clinicore:hunter2@h:99999/0", redis);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().detail.find("hunter2"), std::string::npos) << bad.error().detail;
  EXPECT_EQ(bad.error().internal.find("hunter2"), std::string::npos) << bad.error().internal;
}

TEST(ConfigTest, CellsNeedADatabaseUrlThatNamesItsUser) {
  const auto user = [](const std::string& url) {
    const auto [begin, end] = DatabaseUrlUserSpan(url);
    return url.substr(begin, end - begin);
  };
  EXPECT_EQ(user("postgresql://clinicore_app@db:5432/clinicore"), "clinicore_app");
  EXPECT_EQ(user("postgresql://clinicore_app:p%40ss@db/clinicore?sslmode=require"), "clinicore_app");
  EXPECT_EQ(user("postgresql://db:5432/clinicore?user=x@y"), "") << "an '@' after the path is not user info";
  EXPECT_EQ(user("postgresql:///clinicore"), "");
  EXPECT_EQ(user("not a url"), "");

  auto one_cell = LoadConfig(FakeEnv({{"CLINICORE_DATABASE_URL", "postgresql://db/clinicore"}}));
  ASSERT_TRUE(one_cell.ok());
  EXPECT_EQ(one_cell->database.cells, 1);
  auto cells =
      LoadConfig(FakeEnv({{"CLINICORE_DATABASE_URL", "postgresql://db/clinicore"}, {"CLINICORE_DB_CELLS", "4"}}));
  ASSERT_FALSE(cells.ok());
  EXPECT_NE(cells.error().detail.find("CLINICORE_DB_CELLS"), std::string::npos) << cells.error().detail;
  auto named = LoadConfig(FakeEnv({{"CLINICORE_DATABASE_URL", "postgresql://app@db/clinicore"},
                                   {"CLINICORE_DB_CELLS", "4"},
                                   {"CLINICORE_DB_TENANTS_PER_CONNECTION", "0"}}));
  ASSERT_TRUE(named.ok()) << named.error().detail;
  EXPECT_EQ(named->database.cells, 4);
  EXPECT_EQ(named->database.tenants_per_connection, 0);
  EXPECT_FALSE(LoadConfig(FakeEnv({{"CLINICORE_DB_CELLS", "0"}})).ok());
}

TEST(ConfigTest, SparesPerCellAndTheirIntervalAreBounded) {
  auto defaults = LoadConfig(FakeEnv({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->tenancy.spares_per_cell, 2);
  EXPECT_EQ(defaults->tenancy.spares_interval, Millis(15'000));
  auto none = LoadConfig(FakeEnv({{"CLINICORE_TENANT_SPARES", "0"}, {"CLINICORE_WORK_SPARES_INTERVAL_MS", "100"}}));
  ASSERT_TRUE(none.ok()) << none.error().detail;
  EXPECT_EQ(none->tenancy.spares_per_cell, 0);
  EXPECT_EQ(none->tenancy.spares_interval, Millis(100));
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"CLINICORE_TENANT_SPARES", "65"},
                                                        {"CLINICORE_TENANT_SPARES", "-1"},
                                                        {"CLINICORE_TENANT_SPARES", "two"},
                                                        {"CLINICORE_WORK_SPARES_INTERVAL_MS", "99"}}) {
    auto bad = LoadConfig(FakeEnv({{name, value}}));
    ASSERT_FALSE(bad.ok()) << name << "=" << value;
    EXPECT_NE(bad.error().detail.find(name), std::string::npos) << bad.error().detail;
  }
}

}  // namespace
}  // namespace clinicore::core
