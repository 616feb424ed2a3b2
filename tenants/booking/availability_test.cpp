#include "tenants/booking/availability.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace clinicore::booking {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

date::year_month_day Day(int year, unsigned month, unsigned day) {
  return date::year{year} / date::month{month} / date::day{day};
}

Instant At(date::year_month_day day, int hour, int minute = 0) {
  return Instant{date::sys_days{day}} + hours{hour} + minutes{minute};
}

kit::WeeklyHours EveryDay(int open, int close) {
  kit::WeeklyHours hours;
  for (auto& day : hours.days) day = {{open, close}};
  return hours;
}

Schedule OneDoctor(const char* zone, const kit::WeeklyHours& hours, int duration = 60) {
  Schedule schedule;
  schedule.zone = date::locate_zone(zone);
  schedule.opening_hours = hours;
  schedule.service.duration_minutes = duration;
  schedule.practitioners.push_back({"doctor-a", hours, {}, {}});
  return schedule;
}

SlotRules Anytime(int step) {
  return {step, Instant{}, At(Day(2100, 1, 1), 0), Instant{}};
}

std::vector<std::string> Locals(const Schedule& schedule, const std::vector<Slot>& slots) {
  std::vector<std::string> texts;
  texts.reserve(slots.size());
  for (const auto& slot : slots) texts.push_back(LocalTimeText(schedule.zone, slot.start));
  return texts;
}

TEST(Availability, NineInAthensFollowsTheOffsetAcrossSpringForward) {
  const auto schedule = OneDoctor("Europe/Athens", EveryDay(9 * 60, 17 * 60));
  const auto saturday = FreeSlots(schedule, Day(2027, 3, 27), Day(2027, 3, 27), Anytime(60));
  const auto sunday = FreeSlots(schedule, Day(2027, 3, 28), Day(2027, 3, 28), Anytime(60));
  ASSERT_EQ(saturday.size(), 8u);
  ASSERT_EQ(sunday.size(), 8u);
  EXPECT_EQ(UtcText(saturday.front().start), "2027-03-27T07:00:00Z");
  EXPECT_EQ(UtcText(sunday.front().start), "2027-03-28T06:00:00Z");
  EXPECT_EQ(UtcText(sunday.front().end), "2027-03-28T07:00:00Z");
  EXPECT_EQ(LocalTimeText(schedule.zone, sunday.front().start), "2027-03-28T09:00:00+03:00");
  EXPECT_EQ(LocalTimeText(schedule.zone, saturday.front().start), "2027-03-27T09:00:00+02:00");
  EXPECT_EQ(sunday.front().practitioner_id, "doctor-a");
}

struct DstDay {
  const char* zone;
  date::year_month_day day;
  const char* changing_hour;  // the local hour skipped or repeated, "03" for 03:00–03:59
  bool spring;
};

class DstDays : public ::testing::TestWithParam<DstDay> {};

// Open around the clock on the change day: 48 half-hour starts a normal day, two fewer when an
// hour is skipped, and on a repeated hour still 48 distinct instants (its first occurrence).
TEST_P(DstDays, NoStartInASkippedHourAndNoneTwiceInARepeatedOne) {
  const auto& param = GetParam();
  const auto schedule = OneDoctor(param.zone, EveryDay(0, 24 * 60), 30);
  const auto slots = FreeSlots(schedule, param.day, param.day, Anytime(30));
  std::set<Instant> starts;
  for (const auto& slot : slots) starts.insert(slot.start);
  EXPECT_EQ(starts.size(), slots.size()) << "a start was produced twice";
  const auto locals = Locals(schedule, slots);
  const std::string hour_prefix = date::format("%F", date::sys_days{param.day}) + "T" + param.changing_hour + ":";
  const auto in_changing_hour = std::count_if(locals.begin(), locals.end(),
                                              [&](const std::string& text) { return text.rfind(hour_prefix, 0) == 0; });
  if (param.spring) {
    EXPECT_EQ(slots.size(), 46u);
    EXPECT_EQ(in_changing_hour, 0) << "a start inside the skipped hour";
  } else {
    EXPECT_EQ(slots.size(), 48u);
    EXPECT_EQ(in_changing_hour, 2) << "the repeated hour yields each start once";
  }
  for (size_t i = 1; i < slots.size(); ++i) EXPECT_LT(slots[i - 1].start, slots[i].start);
  for (const auto& slot : slots) EXPECT_EQ(LocalDay(schedule.zone, slot.start), param.day);
}

INSTANTIATE_TEST_SUITE_P(Zones, DstDays,
                         ::testing::Values(DstDay{"Europe/Athens", Day(2027, 3, 28), "03", true},
                                           DstDay{"Europe/Athens", Day(2027, 10, 31), "03", false},
                                           DstDay{"Europe/London", Day(2027, 3, 28), "01", true},
                                           DstDay{"Europe/London", Day(2027, 10, 31), "01", false},
                                           DstDay{"America/New_York", Day(2027, 3, 14), "02", true},
                                           DstDay{"America/New_York", Day(2027, 11, 7), "01", false}));

TEST(Availability, FallBackDayKeepsNineToFiveAtTheWinterOffset) {
  const auto schedule = OneDoctor("America/New_York", EveryDay(9 * 60, 17 * 60));
  const auto slots = FreeSlots(schedule, Day(2027, 11, 7), Day(2027, 11, 7), Anytime(60));
  ASSERT_EQ(slots.size(), 8u);
  EXPECT_EQ(UtcText(slots.front().start), "2027-11-07T14:00:00Z");
  EXPECT_EQ(LocalTimeText(schedule.zone, slots.back().start), "2027-11-07T16:00:00-05:00");
}

TEST(Availability, BusyTimeAndBuffersBlockOverlapsButNotAdjacentSlots) {
  auto schedule = OneDoctor("UTC", EveryDay(9 * 60, 13 * 60));
  const auto day = Day(2027, 4, 5);
  schedule.practitioners[0].busy.push_back({At(day, 10), At(day, 11)});
  auto starts = [&] {
    std::vector<std::string> texts;
    for (const auto& s : FreeSlots(schedule, day, day, Anytime(30))) texts.push_back(UtcText(s.start).substr(11, 5));
    return texts;
  };
  EXPECT_EQ(starts(), (std::vector<std::string>{"09:00", "11:00", "11:30", "12:00"}));
  schedule.service.buffer_after_minutes = 15;  // 09:00 now runs into 10:00; 12:00's buffer may pass closing
  EXPECT_EQ(starts(), (std::vector<std::string>{"11:00", "11:30", "12:00"}));
  schedule.service.buffer_after_minutes = 0;
  schedule.service.buffer_before_minutes = 30;
  EXPECT_EQ(starts(), (std::vector<std::string>{"09:00", "11:30", "12:00"}));
}

TEST(Availability, AnExpiredHoldBlocksNothing) {
  auto schedule = OneDoctor("UTC", EveryDay(9 * 60, 11 * 60));
  const auto day = Day(2027, 4, 5);
  schedule.practitioners[0].busy.push_back({At(day, 9), At(day, 10), At(day, 8)});  // a hold until 08:00
  auto rules = Anytime(60);
  rules.now = At(day, 7);
  EXPECT_EQ(FreeSlots(schedule, day, day, rules).size(), 1u);
  rules.now = At(day, 8);
  EXPECT_EQ(FreeSlots(schedule, day, day, rules).size(), 2u);
}

TEST(Availability, BreaksClosuresAndTimeOffLeaveGaps) {
  kit::WeeklyHours split;
  for (auto& d : split.days) d = {{9 * 60, 11 * 60}, {12 * 60, 14 * 60}};
  auto schedule = OneDoctor("UTC", split);
  const auto day = Day(2027, 4, 5);
  EXPECT_EQ(FreeSlots(schedule, day, day, Anytime(60)).size(), 4u);
  schedule.practitioners[0].time_off.push_back({At(day, 12, 30), At(day, 13)});
  EXPECT_EQ(FreeSlots(schedule, day, day, Anytime(60)).size(), 3u);  // 12:00 overlaps it, 13:00 only touches it
  schedule.closures.push_back({day, day});
  EXPECT_TRUE(FreeSlots(schedule, day, day, Anytime(60)).empty());
  EXPECT_EQ(FreeSlots(schedule, day, Day(2027, 4, 6), Anytime(60)).size(), 4u);
}

TEST(Availability, WorkingHoursNarrowTheClinicsHours) {
  auto schedule = OneDoctor("UTC", EveryDay(8 * 60, 18 * 60));
  schedule.practitioners[0].working_hours = EveryDay(10 * 60, 12 * 60);
  const auto day = Day(2027, 4, 5);
  EXPECT_EQ(FreeSlots(schedule, day, day, Anytime(60)).size(), 2u);
  schedule.practitioners[0].working_hours.days[0].clear();  // Mondays off
  EXPECT_TRUE(FreeSlots(schedule, day, day, Anytime(60)).empty());
}

TEST(Availability, EachNeededKindTakesAFreeResource) {
  auto schedule = OneDoctor("UTC", EveryDay(9 * 60, 11 * 60));
  const auto day = Day(2027, 4, 5);
  schedule.service.resource_kinds = {"room", "device"};
  schedule.resources = {
      {"room-1", "room", {{At(day, 9), At(day, 10)}}}, {"room-2", "room", {}}, {"laser", "device", {}}};
  auto slots = FreeSlots(schedule, day, day, Anytime(60));
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_EQ(slots[0].resource_ids, (std::vector<std::string>{"room-2", "laser"}));
  EXPECT_EQ(slots[1].resource_ids, (std::vector<std::string>{"room-1", "laser"}));
  schedule.resources[2].busy.push_back({At(day, 10), At(day, 11)});
  slots = FreeSlots(schedule, day, day, Anytime(60));
  ASSERT_EQ(slots.size(), 1u);
  schedule.resources.pop_back();
  EXPECT_TRUE(FreeSlots(schedule, day, day, Anytime(60)).empty());  // no device at all
}

TEST(Availability, NoticeAndHorizonBoundTheStarts) {
  const auto schedule = OneDoctor("UTC", EveryDay(9 * 60, 17 * 60));
  const auto day = Day(2027, 4, 5);
  const SlotRules rules{60, At(day, 11), At(day, 14), Instant{}};
  const auto slots = FreeSlots(schedule, day, day, rules);
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(UtcText(slots.front().start), "2027-04-05T11:00:00Z");
  EXPECT_EQ(UtcText(slots.back().start), "2027-04-05T14:00:00Z");
}

TEST(Availability, SlotsOfSeveralPractitionersInterleaveByStart) {
  auto schedule = OneDoctor("UTC", EveryDay(9 * 60, 11 * 60));
  schedule.practitioners.push_back({"doctor-b", EveryDay(9 * 60, 11 * 60), {}, {}});
  const auto day = Day(2027, 4, 5);
  const auto slots = FreeSlots(schedule, day, day, Anytime(60));
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[0].practitioner_id, "doctor-a");
  EXPECT_EQ(slots[1].practitioner_id, "doctor-b");
  EXPECT_EQ(slots[0].start, slots[1].start);
}

TEST(Availability, SlotsJsonIsTheDocumentAClientParses) {
  const auto* athens = date::locate_zone("Europe/Athens");
  const auto day = Day(2027, 3, 28);
  const std::vector<Slot> slots = {{At(day, 6), At(day, 7), "doctor-a", {}},
                                   {At(day, 6, 15), At(day, 7, 15), "doctor-b", {"room-1", "laser"}}};
  const auto parsed = nlohmann::json::parse(SlotsJson(athens, slots));
  const nlohmann::json expected = {{"slots",
                                    {{{"start", "2027-03-28T06:00:00Z"},
                                      {"end", "2027-03-28T07:00:00Z"},
                                      {"local_start", "2027-03-28T09:00:00+03:00"},
                                      {"practitioner_id", "doctor-a"},
                                      {"resource_ids", nlohmann::json::array()}},
                                     {{"start", "2027-03-28T06:15:00Z"},
                                      {"end", "2027-03-28T07:15:00Z"},
                                      {"local_start", "2027-03-28T09:15:00+03:00"},
                                      {"practitioner_id", "doctor-b"},
                                      {"resource_ids", {"room-1", "laser"}}}}}};
  EXPECT_EQ(parsed, expected);
  EXPECT_EQ(nlohmann::json::parse(SlotsJson(athens, {})), nlohmann::json({{"slots", nlohmann::json::array()}}));
  EXPECT_EQ(LocalTimeText(date::locate_zone("America/New_York"), At(day, 6)), "2027-03-28T02:00:00-04:00");
}

TEST(Availability, CheckStartNamesWhatIsWrong) {
  const auto schedule = OneDoctor("Europe/Athens", EveryDay(9 * 60, 17 * 60));
  const auto& doctor = schedule.practitioners[0];
  const auto day = Day(2027, 4, 5);  // 09:00 local is 06:00Z
  const auto rules = Anytime(15);
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 6), rules), StartCheck::kOk);
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 6, 15), rules), StartCheck::kOk);
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 6, 10), rules), StartCheck::kOffGrid);
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 6) + std::chrono::seconds{1}, rules), StartCheck::kOffGrid);
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 5), rules), StartCheck::kOutsideHours);
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 13, 30), rules), StartCheck::kOutsideHours);  // ends after 17:00
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 6), {15, At(day, 7), At(day, 20), Instant{}}), StartCheck::kTooSoon);
  EXPECT_EQ(CheckStart(schedule, doctor, At(day, 9), {15, At(day, 7), At(day, 8), Instant{}}), StartCheck::kTooFar);
}

}  // namespace
}  // namespace clinicore::booking
