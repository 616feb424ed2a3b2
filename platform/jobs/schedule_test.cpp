#include "platform/jobs/schedule.hpp"

#include <date/date.h>
#include <gtest/gtest.h>

namespace clinicore::jobs {
namespace {

using namespace std::chrono;

Clock::time_point Utc(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0) {
  return Clock::time_point(date::sys_days(date::year(y) / m / d) + hours(hh) + minutes(mm) + seconds(ss));
}

std::string Iso(Clock::time_point at) {
  return date::format("%FT%TZ", floor<seconds>(at));
}

std::string Next(const std::string& cron, Clock::time_point after, const std::string& zone = "UTC") {
  auto spec = ScheduleSpec::Cron(cron);
  EXPECT_TRUE(spec.ok()) << cron;
  auto next = spec->NextAfter(after, zone);
  EXPECT_TRUE(next.ok()) << cron;
  return next.ok() ? Iso(*next) : "";
}

TEST(ScheduleSpecTest, CronFieldsAndStrictlyAfter) {
  EXPECT_EQ(Next("0 3 * * *", Utc(2026, 5, 10, 2, 59, 59)), "2026-05-10T03:00:00Z");
  EXPECT_EQ(Next("0 3 * * *", Utc(2026, 5, 10, 3, 0, 0)), "2026-05-11T03:00:00Z") << "never the same instant";
  EXPECT_EQ(Next("*/15 * * * *", Utc(2026, 5, 10, 10, 7)), "2026-05-10T10:15:00Z");
  EXPECT_EQ(Next("5,35 8-9 * * *", Utc(2026, 5, 10, 9, 40)), "2026-05-11T08:05:00Z");
  EXPECT_EQ(Next("0 0 1 */3 *", Utc(2026, 5, 10, 0, 0)), "2026-07-01T00:00:00Z");
  EXPECT_EQ(Next("0 12 * * 1", Utc(2026, 5, 10, 0, 0)), "2026-05-11T12:00:00Z") << "10 May 2026 is a Sunday";
  EXPECT_EQ(Next("0 12 * * 7", Utc(2026, 5, 10, 13, 0)), "2026-05-17T12:00:00Z") << "7 is Sunday too";
  EXPECT_EQ(Next("0 0 29 2 *", Utc(2026, 3, 1, 0, 0)), "2028-02-29T00:00:00Z");
}

TEST(ScheduleSpecTest, BothDayFieldsRestrictedMeansEither) {
  // The 15th, or any Monday: after Wednesday 13 May 2026 comes Friday the 15th, then Monday the 18th.
  EXPECT_EQ(Next("0 0 15 * 1", Utc(2026, 5, 13, 0, 0)), "2026-05-15T00:00:00Z");
  EXPECT_EQ(Next("0 0 15 * 1", Utc(2026, 5, 15, 0, 0)), "2026-05-18T00:00:00Z");
}

TEST(ScheduleSpecTest, RunsInTheTenantsTimeZone) {
  // 03:00 in Athens is 00:00 UTC in summer (UTC+3) and 01:00 UTC in winter (UTC+2).
  EXPECT_EQ(Next("0 3 * * *", Utc(2026, 7, 1, 12, 0), "Europe/Athens"), "2026-07-02T00:00:00Z");
  EXPECT_EQ(Next("0 3 * * *", Utc(2026, 12, 1, 12, 0), "Europe/Athens"), "2026-12-02T01:00:00Z");
}

TEST(ScheduleSpecTest, DaylightSavingGapAndOverlap) {
  // Athens skips 03:00–04:00 on 29 March 2026 (clocks jump at 01:00 UTC): 03:30 fires at the jump.
  EXPECT_EQ(Next("30 3 * * *", Utc(2026, 3, 28, 12, 0), "Europe/Athens"), "2026-03-29T01:00:00Z");
  // On 25 October 2026, 03:30 happens twice (00:30 and 01:30 UTC): it fires once, the first time.
  const std::string first = Next("30 3 * * *", Utc(2026, 10, 24, 12, 0), "Europe/Athens");
  EXPECT_EQ(first, "2026-10-25T00:30:00Z");
  EXPECT_EQ(Next("30 3 * * *", Utc(2026, 10, 25, 0, 30), "Europe/Athens"), "2026-10-26T01:30:00Z");
}

TEST(ScheduleSpecTest, EveryIsAlignedToTheEpoch) {
  auto spec = ScheduleSpec::Every(minutes(10));
  EXPECT_EQ(Iso(*spec.NextAfter(Utc(2026, 5, 10, 10, 7, 30), "UTC")), "2026-05-10T10:10:00Z");
  EXPECT_EQ(Iso(*spec.NextAfter(Utc(2026, 5, 10, 10, 10, 0), "Asia/Tokyo")), "2026-05-10T10:20:00Z");
  EXPECT_EQ(spec.text(), "every:600000");
}

TEST(ScheduleSpecTest, RefusesMalformedExpressionsAndZones) {
  for (const char* bad : {"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                          "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "* * * * * *"}) {
    EXPECT_FALSE(ScheduleSpec::Cron(bad).ok()) << "'" << bad << "'";
  }
  EXPECT_FALSE(ScheduleSpec::Cron("0 0 31 2 *")->NextAfter(Utc(2026, 1, 1, 0, 0), "UTC").ok()) << "never fires";
  EXPECT_FALSE(ScheduleSpec::Cron("0 3 * * *")->NextAfter(Utc(2026, 1, 1, 0, 0), "Mars/Olympus").ok());
  EXPECT_EQ(ScheduleSpec::Cron("0  3 * *   *")->text(), "cron:0 3 * * *");
}

TEST(ScheduleSpecTest, KeyNamesThePeriod) {
  EXPECT_EQ(ScheduleKey("loyalty.expiry", Utc(2026, 5, 10, 3, 0)), "schedule:loyalty.expiry:2026-05-10T03:00:00Z");
}

}  // namespace
}  // namespace clinicore::jobs
