#include "platform/cache/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "tests/harness/wait.hpp"

namespace clinicore::cache {
namespace {

TEST(LocalCountersTest, CountsPerWindowAndStartsAgain) {
  LocalCounters counters(10);
  // Counted in a window no stall of the machine outlasts.
  EXPECT_EQ(counters.Hit("a", Millis(60'000)).first, 1);
  EXPECT_EQ(counters.Hit("a", Millis(60'000)).first, 2);
  EXPECT_EQ(counters.Hit("b", Millis(60'000)).first, 1);
  // A window that ends (waited for, not slept for): the next hit opens a new one.
  EXPECT_EQ(counters.Hit("short", Millis(20)).first, 1);
  ASSERT_TRUE(testing::WaitFor([&] { return counters.Remaining("short") == Millis(0); }, Millis(10'000), Millis(5)));
  EXPECT_EQ(counters.Hit("short", Millis(20)).first, 1);
  EXPECT_EQ(counters.Hit("a", Millis(60'000)).first, 3) << "the other window goes on";
}

TEST(LocalCountersTest, WhenFullOfLiveKeysNewKeysAreRefusedNotForgotten) {
  LocalCounters counters(2);
  counters.Hit("a", Millis(60'000));
  counters.Hit("b", Millis(60'000));
  EXPECT_EQ(counters.Hit("c", Millis(60'000)).first, std::numeric_limits<long long>::max());
  EXPECT_EQ(counters.Hit("a", Millis(60'000)).first, 2);
}

TEST(LocalCountersTest, SetRemainingAndErase) {
  LocalCounters counters(10);
  counters.Set("lock", 1, Millis(60'000));
  EXPECT_GT(counters.Remaining("lock").count(), 50'000);
  counters.Erase("lock");
  EXPECT_EQ(counters.Remaining("lock").count(), 0);
  EXPECT_EQ(counters.Count("lock"), 0);
}

}  // namespace
}  // namespace clinicore::cache
