#include "platform/kit/weekly_hours.hpp"

#include <gtest/gtest.h>

namespace clinicore::kit {
namespace {

nlohmann::json Day(std::initializer_list<std::pair<const char*, const char*>> intervals) {
  nlohmann::json day = nlohmann::json::array();
  for (const auto& [open, close] : intervals) day.push_back({{"open", open}, {"close", close}});
  return day;
}

std::string RefusedField(const nlohmann::json& value) {
  auto parsed = ParseWeeklyHours(value, "opening_hours");
  if (parsed) return "(accepted)";
  return parsed.error().fields.empty() ? "(no field)" : parsed.error().fields[0].field;
}

TEST(WeeklyHours, ParsesBreaksAndClosedDaysAndWritesEveryDay) {
  auto hours =
      ParseWeeklyHours({{"mon", Day({{"14:00", "18:00"}, {"09:00", "13:00"}})}, {"sun", Day({})}}, "opening_hours");
  ASSERT_TRUE(hours);
  ASSERT_EQ(hours->days[0].size(), 2u);
  EXPECT_EQ(hours->days[0][0], (Interval{9 * 60, 13 * 60}));  // sorted by opening time
  EXPECT_TRUE(hours->days[6].empty());
  const auto json = WeeklyHoursJson(*hours);
  EXPECT_EQ(json.size(), 7u);
  EXPECT_EQ(json["mon"][1]["close"], "18:00");
  EXPECT_EQ(json["tue"], nlohmann::json::array());
  EXPECT_EQ(ParseWeeklyHours(json, "x").value(), *hours);  // round trip
}

TEST(WeeklyHours, AcceptsMidnightAsAClosingTimeOnly) {
  EXPECT_EQ(RefusedField({{"fri", Day({{"18:00", "24:00"}})}}), "(accepted)");
  EXPECT_EQ(RefusedField({{"fri", Day({{"24:00", "24:00"}})}}), "opening_hours.fri");
}

TEST(WeeklyHours, RefusalsNameTheDay) {
  EXPECT_EQ(RefusedField({{"mon", Day({{"13:00", "09:00"}})}}), "opening_hours.mon");                      // inverted
  EXPECT_EQ(RefusedField({{"tue", Day({{"09:00", "13:00"}, {"12:00", "18:00"}})}}), "opening_hours.tue");  // overlap
  EXPECT_EQ(RefusedField({{"wed", Day({{"9:00", "13:00"}})}}), "opening_hours.wed");
  EXPECT_EQ(RefusedField({{"thu", Day({{"09:00", "13:60"}})}}), "opening_hours.thu");
  EXPECT_EQ(RefusedField({{"sat", "09:00-13:00"}}), "opening_hours.sat");
  EXPECT_EQ(RefusedField({{"sun", {{{"open", "09:00"}}}}}), "opening_hours.sun");
  EXPECT_EQ(RefusedField({{"sun", {{{"open", "09:00"}, {"close", "10:00"}, {"x", 1}}}}}), "opening_hours.sun");
  EXPECT_EQ(RefusedField({{"monday", Day({})}}), "opening_hours.monday");
  EXPECT_EQ(RefusedField(nlohmann::json::array()), "opening_hours");
  EXPECT_EQ(RefusedField(nullptr), "opening_hours");
}

TEST(WeeklyHours, TouchingIntervalsAreNotAnOverlap) {
  EXPECT_EQ(RefusedField({{"mon", Day({{"09:00", "13:00"}, {"13:00", "18:00"}})}}), "(accepted)");
}

TEST(WeeklyHours, FindsTheFirstDayOutsideTheOuterHours) {
  const auto clinic =
      ParseWeeklyHours({{"mon", Day({{"09:00", "13:00"}, {"14:00", "18:00"}})}, {"tue", Day({{"09:00", "18:00"}})}},
                       "opening_hours")
          .value();
  auto inside = ParseWeeklyHours({{"mon", Day({{"10:00", "12:00"}})}, {"tue", Day({{"09:00", "18:00"}})}}, "w").value();
  EXPECT_FALSE(FirstDayOutside(inside, clinic));
  auto across_break = ParseWeeklyHours({{"mon", Day({{"12:00", "15:00"}})}}, "w").value();
  EXPECT_EQ(FirstDayOutside(across_break, clinic), 0);
  auto closed_day = ParseWeeklyHours({{"wed", Day({{"10:00", "11:00"}})}}, "w").value();
  EXPECT_EQ(FirstDayOutside(closed_day, clinic), 2);
}

}  // namespace
}  // namespace clinicore::kit
