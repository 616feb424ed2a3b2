#include "platform/cache/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace clinicore::cache {
namespace {

TEST(LocalCountersTest, CountsPerWindowAndStartsAgain) {
  LocalCounters counters(10);
  EXPECT_EQ(counters.Hit("a", Millis(50)).first, 1);
  EXPECT_EQ(counters.Hit("a", Millis(50)).first, 2);
  EXPECT_EQ(counters.Hit("b", Millis(50)).first, 1);
  std::this_thread::sleep_for(Millis(60));
  EXPECT_EQ(counters.Hit("a", Millis(50)).first, 1);
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
