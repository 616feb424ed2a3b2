#include "platform/auth/account_cache.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace clinicore::auth {
namespace {

using core::Millis;

Account AccountNamed(const std::string& id, const std::string& name) {
  Account account;
  account.id = id;
  account.full_name = name;
  account.role = "doctor";
  return account;
}

// A database stand-in that counts its reads and can run something in the middle of one.
struct CountingLoad {
  explicit CountingLoad(std::optional<Account> first_row) : row(std::move(first_row)) {}
  int reads = 0;
  std::optional<Account> row;
  std::function<void()> during_read;
  AccountCache::Load Fn() {
    return [this]() -> core::Result<std::optional<Account>> {
      ++reads;
      if (during_read) during_read();
      return row;
    };
  }
};

class AccountCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  AccountCache cache_{Millis(60'000), 100, metrics_};
  const std::string key_ = AccountCache::KeyOf("t_alpha", "u1");
};

TEST_F(AccountCacheTest, ReadsTheDatabaseEveryTimeUntilLive) {
  CountingLoad load{AccountNamed("u1", "Ada")};
  EXPECT_EQ(cache_.ReadThrough(key_, load.Fn()).value()->full_name, "Ada");
  EXPECT_EQ(cache_.ReadThrough(key_, load.Fn()).value()->full_name, "Ada");
  EXPECT_EQ(load.reads, 2);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(AccountCacheTest, OnceLiveASecondReadIsAHitUntilForgotten) {
  cache_.SetLive(true);
  CountingLoad load{AccountNamed("u1", "Ada")};
  EXPECT_TRUE(cache_.ReadThrough(key_, load.Fn()).ok());
  load.row = AccountNamed("u1", "Ada Lovelace");
  EXPECT_EQ(cache_.ReadThrough(key_, load.Fn()).value()->full_name, "Ada");
  EXPECT_EQ(load.reads, 1);
  cache_.Forget(key_);
  EXPECT_EQ(cache_.ReadThrough(key_, load.Fn()).value()->full_name, "Ada Lovelace");
  EXPECT_EQ(load.reads, 2);
}

TEST_F(AccountCacheTest, AReadThatRacedWithAChangeIsNotKept) {
  cache_.SetLive(true);
  CountingLoad load{AccountNamed("u1", "before the change")};
  // The change commits (and its notice is handled) while the old row is being read.
  load.during_read = [&] { cache_.Forget(key_); };
  EXPECT_EQ(cache_.ReadThrough(key_, load.Fn()).value()->full_name, "before the change");
  load.during_read = nullptr;
  load.row = AccountNamed("u1", "after the change");
  EXPECT_EQ(cache_.ReadThrough(key_, load.Fn()).value()->full_name, "after the change");
  EXPECT_EQ(load.reads, 2);
}

TEST_F(AccountCacheTest, LosingOrRegainingTheListenerEmptiesTheCache) {
  cache_.SetLive(true);
  CountingLoad load{AccountNamed("u1", "Ada")};
  EXPECT_TRUE(cache_.ReadThrough(key_, load.Fn()).ok());
  EXPECT_EQ(cache_.size(), 1u);
  cache_.SetLive(false);  // notices may be missed from now on
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_TRUE(cache_.ReadThrough(key_, load.Fn()).ok());
  EXPECT_EQ(load.reads, 2);
  cache_.SetLive(true);
  EXPECT_EQ(cache_.size(), 0u);
  // A read that began before the listener came back is not kept either.
  load.during_read = [&] { cache_.SetLive(true); };
  EXPECT_TRUE(cache_.ReadThrough(key_, load.Fn()).ok());
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(AccountCacheTest, AMissingAccountIsNotCached) {
  cache_.SetLive(true);
  CountingLoad load{std::nullopt};
  EXPECT_FALSE(cache_.ReadThrough(key_, load.Fn()).value().has_value());
  load.row = AccountNamed("u1", "created since");
  EXPECT_EQ(cache_.ReadThrough(key_, load.Fn()).value()->full_name, "created since");
}

TEST_F(AccountCacheTest, AFailedReadIsPassedOnAndNotCached) {
  cache_.SetLive(true);
  int reads = 0;
  auto failing = [&]() -> core::Result<std::optional<Account>> {
    ++reads;
    return core::Error::Unavailable("database down");
  };
  auto answer = cache_.ReadThrough(key_, failing);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(AccountCacheTest, KeysOfTwoTenantsNeverMeet) {
  cache_.SetLive(true);
  CountingLoad alpha{AccountNamed("u1", "alpha's user")};
  CountingLoad beta{AccountNamed("u1", "beta's user")};
  EXPECT_TRUE(cache_.ReadThrough(AccountCache::KeyOf("t_alpha", "u1"), alpha.Fn()).ok());
  EXPECT_EQ(cache_.ReadThrough(AccountCache::KeyOf("t_beta", "u1"), beta.Fn()).value()->full_name, "beta's user");
  cache_.Forget(AccountCache::KeyOf("t_beta", "u1"));
  EXPECT_EQ(cache_.ReadThrough(AccountCache::KeyOf("t_alpha", "u1"), alpha.Fn()).value()->full_name, "alpha's user");
  EXPECT_EQ(alpha.reads, 1);
}

TEST_F(AccountCacheTest, AWholeTenantNoticeForgetsThatTenantOnly) {
  cache_.SetLive(true);
  CountingLoad alpha{AccountNamed("u1", "alpha")};
  CountingLoad beta{AccountNamed("u1", "beta")};
  for (const char* id : {"u1", "u2"})
    EXPECT_TRUE(cache_.ReadThrough(AccountCache::KeyOf("t_alpha", id), alpha.Fn()).ok());
  EXPECT_TRUE(cache_.ReadThrough(AccountCache::KeyOf("t_alphabet", "u1"), beta.Fn()).ok());  // a longer schema name
  cache_.Forget(AccountCache::WholeTenant("t_alpha"));
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_TRUE(cache_.ReadThrough(AccountCache::KeyOf("t_alphabet", "u1"), beta.Fn()).ok());
  EXPECT_EQ(beta.reads, 1);
  EXPECT_TRUE(cache_.ReadThrough(AccountCache::KeyOf("t_alpha", "u2"), alpha.Fn()).ok());
  EXPECT_EQ(alpha.reads, 3);
}

TEST(AccountCacheBoundsTest, EntriesExpireAndTheSizeIsBounded) {
  auto metrics = std::make_shared<core::Metrics>();
  AccountCache short_lived(Millis(1), 100, metrics);
  short_lived.SetLive(true);
  CountingLoad load{AccountNamed("u1", "Ada")};
  EXPECT_TRUE(short_lived.ReadThrough("t_alpha:u1", load.Fn()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(short_lived.ReadThrough("t_alpha:u1", load.Fn()).ok());
  EXPECT_EQ(load.reads, 2);

  AccountCache small(Millis(60'000), 3, metrics);
  small.SetLive(true);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(small.ReadThrough("t_alpha:u" + std::to_string(i), load.Fn()).ok());
  EXPECT_LE(small.size(), 3u);

  AccountCache off(Millis(0), 100, metrics);  // CLINICORE_AUTH_ACCOUNT_CACHE_TTL_MS=0
  off.SetLive(true);
  EXPECT_TRUE(off.ReadThrough("t_alpha:u1", load.Fn()).ok());
  EXPECT_TRUE(off.ReadThrough("t_alpha:u1", load.Fn()).ok());
  EXPECT_EQ(off.size(), 0u);
}

}  // namespace
}  // namespace clinicore::auth
