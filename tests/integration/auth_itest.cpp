// The rate limiter, the lockout and the batched tenant budget against the harness's Redis,
// and against no Redis at all (the in-process fallbacks).
#include <gtest/gtest.h>
#include <unistd.h>

#include "platform/cache/rate_limiter.hpp"
#include "platform/cache/redis_client.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::cache {
namespace {

std::shared_ptr<RedisClient> Redis(const std::string& url) {
  core::RedisConfig config;
  EXPECT_TRUE(core::ParseRedisUrl(url, config).ok());
  config.connect_timeout = Millis(50);
  return std::make_shared<RedisClient>(config, std::make_shared<core::Metrics>());
}

std::shared_ptr<RedisClient> LiveRedis() {
  return Redis(testing::TestRedisUrl());
}
std::shared_ptr<RedisClient> DeadRedis() {
  return Redis("redis://127.0.0.1:1/0");
}

std::string UniqueKey(const std::string& what) {
  static int counter = 0;
  return TenantKey("itest-" + std::to_string(::getpid()), what + ":" + std::to_string(++counter));
}

TEST(RateLimiterTest, CountsAFixedWindowInRedisSharedByEveryProcess) {
  auto redis = LiveRedis();
  RateLimiter one(redis, std::make_shared<core::Metrics>());
  RateLimiter other(redis, std::make_shared<core::Metrics>());  // another replica, same Redis
  const std::string key = UniqueKey("login");
  const RateLimit limit{3, Millis(60'000)};
  EXPECT_TRUE(one.Hit(key, limit, WhenRedisDown::kLimitLocally).allowed);
  EXPECT_TRUE(other.Hit(key, limit, WhenRedisDown::kLimitLocally).allowed);
  EXPECT_TRUE(one.Hit(key, limit, WhenRedisDown::kLimitLocally).allowed);
  const auto refused = other.Hit(key, limit, WhenRedisDown::kLimitLocally);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after.count(), 59);
  EXPECT_LE(refused.retry_after.count(), 60);
}

TEST(RateLimiterTest, WindowsEnd) {
  RateLimiter limiter(LiveRedis(), std::make_shared<core::Metrics>());
  const std::string key = UniqueKey("short");
  // A second: two hits in a row always fall in it, however loaded the machine.
  const RateLimit limit{1, Millis(1'000)};
  const auto opened = std::chrono::steady_clock::now();
  EXPECT_TRUE(limiter.Hit(key, limit, WhenRedisDown::kAllow).allowed);
  EXPECT_FALSE(limiter.Hit(key, limit, WhenRedisDown::kAllow).allowed);
  // Hits are refused until the window ends (waited for, not slept for), then allowed again.
  EXPECT_TRUE(testing::WaitFor([&] { return limiter.Hit(key, limit, WhenRedisDown::kAllow).allowed; }, Millis(10'000),
                               Millis(50)));
  // Redis counts the window in whole milliseconds of its own clock: allow for that.
  EXPECT_GE(std::chrono::steady_clock::now() - opened, Millis(900)) << "not before the window ended";
}

TEST(RateLimiterTest, LockoutGrowsWithEveryFailureAndSuccessClearsIt) {
  for (const bool redis_up : {true, false}) {
    RateLimiter limiter(redis_up ? LiveRedis() : DeadRedis(), std::make_shared<core::Metrics>());
    const RateLimiter::Lockout lockout{3, Millis(1'000), Millis(5'000)};
    const std::string key = UniqueKey("account");
    EXPECT_EQ(limiter.RecordFailure(key, lockout).count(), 0);
    EXPECT_EQ(limiter.RecordFailure(key, lockout).count(), 0);
    EXPECT_EQ(limiter.LockedFor(key).count(), 0);
    EXPECT_EQ(limiter.RecordFailure(key, lockout).count(), 1'000) << "redis up: " << redis_up;
    EXPECT_GT(limiter.LockedFor(key).count(), 0);
    EXPECT_EQ(limiter.RecordFailure(key, lockout).count(), 2'000);
    EXPECT_EQ(limiter.RecordFailure(key, lockout).count(), 4'000);
    EXPECT_EQ(limiter.RecordFailure(key, lockout).count(), 5'000) << "capped";
    limiter.RecordSuccess(key);
    EXPECT_EQ(limiter.LockedFor(key).count(), 0);
    EXPECT_EQ(limiter.RecordFailure(key, lockout).count(), 0) << "the count starts again";
  }
}

TEST(RateLimiterTest, WithRedisDownSignInIsLimitedInProcessAndReadsGoOn) {
  RateLimiter limiter(DeadRedis(), std::make_shared<core::Metrics>());
  const RateLimit limit{2, Millis(60'000)};
  EXPECT_TRUE(limiter.Hit("{t:x}:login", limit, WhenRedisDown::kLimitLocally).allowed);
  EXPECT_TRUE(limiter.Hit("{t:x}:login", limit, WhenRedisDown::kLimitLocally).allowed);
  EXPECT_FALSE(limiter.Hit("{t:x}:login", limit, WhenRedisDown::kLimitLocally).allowed) << "never unlimited";
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Hit("{t:x}:reads", limit, WhenRedisDown::kAllow).allowed);
}

TEST(BatchedBudgetTest, ReplicasShareOneBudgetWithinABatch) {
  auto redis = LiveRedis();
  BatchedBudget one(redis, std::make_shared<core::Metrics>(), 5, Millis(1'000'000));
  BatchedBudget other(redis, std::make_shared<core::Metrics>(), 5, Millis(1'000'000));
  const std::string key = UniqueKey("api");
  const RateLimit limit{40, Millis(600'000)};
  int allowed = 0;
  for (int i = 0; i < 30; ++i) {
    allowed += one.Hit(key, limit).allowed ? 1 : 0;
    allowed += other.Hit(key, limit).allowed ? 1 : 0;
  }
  // 60 hits against a budget of 40: each replica may overshoot by at most one unsent batch.
  EXPECT_GE(allowed, 40);
  EXPECT_LE(allowed, 40 + 2 * 5);
  const auto refused = one.Hit(key, limit);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after.count(), 1);
}

TEST(BatchedBudgetTest, WithRedisDownEachProcessEnforcesItAlone) {
  BatchedBudget budget(DeadRedis(), std::make_shared<core::Metrics>(), 4, Millis(0));
  const RateLimit limit{10, Millis(600'000)};
  int allowed = 0;
  for (int i = 0; i < 20; ++i) allowed += budget.Hit("{t:y}:api", limit).allowed ? 1 : 0;
  EXPECT_EQ(allowed, 10);
}

}  // namespace
}  // namespace clinicore::cache
