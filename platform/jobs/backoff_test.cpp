#include "platform/jobs/backoff.hpp"

#include <gtest/gtest.h>

namespace clinicore::jobs {
namespace {

using core::Millis;

TEST(BackoffTest, DoublesPerAttemptUpToTheCap) {
  BackoffPolicy policy{Millis(100), Millis(1'000)};
  EXPECT_EQ(policy.Ceiling(1), Millis(100));
  EXPECT_EQ(policy.Ceiling(2), Millis(200));
  EXPECT_EQ(policy.Ceiling(4), Millis(800));
  EXPECT_EQ(policy.Ceiling(5), Millis(1'000));
  EXPECT_EQ(policy.Ceiling(1'000), Millis(1'000)) << "no overflow for huge attempts";
  EXPECT_EQ(policy.Ceiling(0), Millis(100));
}

TEST(BackoffTest, JitterStaysInTheUpperHalfAndVaries) {
  BackoffPolicy policy{Millis(1'000), Millis(3'600'000)};
  std::mt19937_64 random(42);
  for (int attempt = 1; attempt <= 25; ++attempt) {
    const Millis ceiling = policy.Ceiling(attempt);
    Millis low = ceiling;
    Millis high = Millis(0);
    for (int i = 0; i < 200; ++i) {
      const Millis delay = policy.Delay(attempt, random);
      ASSERT_GE(delay, ceiling / 2) << "attempt " << attempt;
      ASSERT_LE(delay, ceiling) << "attempt " << attempt;
      low = std::min(low, delay);
      high = std::max(high, delay);
    }
    EXPECT_LT(low, high) << "jitter spreads retries of attempt " << attempt;
  }
}

TEST(BackoffTest, ZeroBaseRetriesAtOnce) {
  BackoffPolicy policy{Millis(0), Millis(0)};
  std::mt19937_64 random(1);
  EXPECT_EQ(policy.Delay(3, random), Millis(0));
}

}  // namespace
}  // namespace clinicore::jobs
