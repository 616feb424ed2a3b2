#include "platform/jobs/enqueue.hpp"

#include <gtest/gtest.h>

#include "platform/jobs/job_store.hpp"
#include "platform/jobs/registry.hpp"

namespace clinicore::jobs {
namespace {

TEST(EnqueueTest, KindsAreModuleDotName) {
  for (const char* good : {"booking.send-reminder", "platform.noop", "a.b", "loyalty.expire_points", "a.b.c"}) {
    EXPECT_TRUE(ValidateKind(good).ok()) << good;
  }
  for (const char* bad : {"", "noop", ".a", "a.", "a..b", "A.b", "a.B", "1a.b", "a.1b", "a b.c", "a.b;drop"}) {
    auto status = ValidateKind(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().fields.front().field, "kind");
  }
  EXPECT_FALSE(ValidateKind("a." + std::string(100, 'b')).ok());
}

TEST(EnqueueTest, WakeMessagesRoundTripAndRefuseGarbage) {
  const std::string tenant = "7c43a5e9-94ff-4cba-8026-282732d74772";
  const Clock::time_point at(std::chrono::milliseconds(1'795'000'000'123));
  auto decoded = DecodeWake(EncodeWake(tenant, at));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->first, tenant);
  EXPECT_EQ(decoded->second, at);
  for (const char* bad : {"", "x 1", "7c43a5e9-94ff-4cba-8026-282732d74772", "7c43a5e9-94ff-4cba-8026-282732d74772 ",
                          "7C43A5E9-94FF-4CBA-8026-282732D74772 1", "7c43a5e9-94ff-4cba-8026-282732d74772 12x"}) {
    EXPECT_FALSE(DecodeWake(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(EnqueueTest, ArrayLiteralsQuoteEverything) {
  EXPECT_EQ(TextArray({}), "{}");
  EXPECT_EQ(TextArray({"a.b", "x\"y", "back\\slash", "com,ma"}), R"({"a.b","x\"y","back\\slash","com,ma"})");
  EXPECT_EQ(BigintArray({1, 22, 333}), "{1,22,333}");
}

TEST(EnqueueTest, OutcomeFromErrorRetriesOnlyWhatALaterAttemptMayNotMeet) {
  EXPECT_EQ(Outcome::FromError(core::Error::Unavailable("db down")).kind(), Outcome::Kind::kRetry);
  EXPECT_EQ(Outcome::FromError(core::Error::Internal("bug")).kind(), Outcome::Kind::kRetry);
  EXPECT_EQ(Outcome::FromError(core::Error::NotFound("gone")).kind(), Outcome::Kind::kFail);
  EXPECT_EQ(Outcome::FromError(core::Error::InvalidArgument("bad")).kind(), Outcome::Kind::kFail);
  core::Error overloaded{core::ErrorCode::kResourceExhausted, "busy", {}, {}};
  EXPECT_EQ(Outcome::FromError(overloaded).kind(), Outcome::Kind::kRetry);
  core::Error rate_limited = overloaded;  // says when to come back: not a failure
  rate_limited.retry_after_seconds = 2;
  const Outcome snoozed = Outcome::FromError(rate_limited);
  EXPECT_EQ(snoozed.kind(), Outcome::Kind::kSnooze);
  EXPECT_EQ(snoozed.after(), Millis(2'000));
}

TEST(EnqueueTest, RegistryRefusesStartUpMistakes) {
  JobRegistry registry;
  auto done = [](JobContext&) { return Outcome::Done(); };
  registry.Register("booking.remind", done);
  EXPECT_THROW(registry.Register("booking.remind", done), std::invalid_argument);
  EXPECT_THROW(registry.Register("Booking", done), std::invalid_argument);
  EXPECT_THROW(registry.AddSchedule({.name = "x.y", .kind = "nope.nope", .spec = ScheduleSpec::Every(core::Millis(1))}),
               std::invalid_argument);
  registry.AddSchedule(
      {.name = "booking.nightly", .kind = "booking.remind", .spec = ScheduleSpec::Every(core::Millis(1))});
  EXPECT_THROW(registry.AddSchedule(
                   {.name = "booking.nightly", .kind = "booking.remind", .spec = ScheduleSpec::Every(core::Millis(1))}),
               std::invalid_argument);
  EXPECT_EQ(registry.Kinds(), std::vector<std::string>{"booking.remind"});
}

}  // namespace
}  // namespace clinicore::jobs
