// The hiredis client against the harness's Redis, and against no Redis at all.
#include <gtest/gtest.h>
#include <unistd.h>

#include "platform/cache/redis_client.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::cache {
namespace {

core::RedisConfig ConfigFor(const std::string& url) {
  core::RedisConfig config;
  EXPECT_TRUE(core::ParseRedisUrl(url, config).ok());
  return config;
}

TEST(RedisClientTest, RunsCommandsAndDecodesReplies) {
  RedisClient redis(ConfigFor(testing::TestRedisUrl()), std::make_shared<core::Metrics>());
  ASSERT_TRUE(redis.Ping().ok());
  EXPECT_EQ(TenantKey("tenant-a", "probe"), "{t:tenant-a}:probe");
  const std::string key = TenantKey("tenant-" + std::to_string(::getpid()), "probe");
  ASSERT_TRUE(redis.Command({"DEL", key, key + ":n"}).ok());
  auto set = redis.Command({"SET", key, std::string("bin\0ary", 7), "EX", "60"});
  ASSERT_TRUE(set.ok()) << set.error().internal;
  auto value = redis.Command({"GET", key});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->type, RedisValue::Type::kString);
  EXPECT_EQ(value->text, std::string("bin\0ary", 7));
  auto counter = redis.Command({"INCRBY", key + ":n", "5"});
  ASSERT_TRUE(counter.ok());
  EXPECT_EQ(counter->integer, 5);
  auto missing = redis.Command({"GET", key + ":missing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, RedisValue::Type::kNil);
}

TEST(RedisClientTest, ErrorReplyIsNotFatal) {
  RedisClient redis(ConfigFor(testing::TestRedisUrl()), std::make_shared<core::Metrics>());
  auto bad = redis.Command({"NOSUCHCOMMAND"});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(redis.Ping().ok());
}

// The test Redis (like scripts/run's) has a password and no default user.
TEST(RedisClientTest, TheRedisOfTheTestsWantsItsPasswordAndGetsIt) {
  auto config = ConfigFor(testing::TestRedisUrl());
  ASSERT_FALSE(config.password.empty()) << "scripts/test runs Redis with an ACL user";
  EXPECT_TRUE(RedisClient(config, std::make_shared<core::Metrics>()).Ping().ok());
  for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
           {config.username, "not-the-password"}, {"", ""}, {"", config.password}}) {
    auto wrong = config;
    wrong.username = user;
    wrong.password = password;
    auto refused = RedisClient(wrong, std::make_shared<core::Metrics>()).Ping();
    ASSERT_FALSE(refused.ok()) << "user '" << user << "'";
    EXPECT_EQ(refused.error().code, core::ErrorCode::kUnavailable);
    EXPECT_EQ(refused.error().internal.find(config.password), std::string::npos) << refused.error().internal;
  }
}

TEST(RedisClientTest, DownRedisFailsFastAndCountsErrors) {
  auto metrics = std::make_shared<core::Metrics>();
  auto config = ConfigFor("redis://127.0.0.1:1/0");
  config.reconnect_backoff = std::chrono::seconds(5);
  RedisClient redis(config, metrics);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    auto status = redis.Ping();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, core::ErrorCode::kUnavailable);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_NE(metrics->RenderPrometheus().find("clinicore_redis_errors_total 50"), std::string::npos);
}

}  // namespace
}  // namespace clinicore::cache
