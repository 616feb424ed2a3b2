#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/result.hpp"

namespace clinicore::kit {

// Open hours within one day, in minutes since local midnight; `close` may be 1440 ("24:00").
struct Interval {
  int open = 0;
  int close = 0;
  bool operator==(const Interval&) const = default;
};

// A week of opening (or working) hours in the clinic's time zone, Monday first. Between two
// intervals of a day is a break; a day without intervals is closed.
struct WeeklyHours {
  std::array<std::vector<Interval>, 7> days;
  bool operator==(const WeeklyHours&) const = default;
};

inline constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// {"mon":[{"open":"09:00","close":"13:00"}, ...], ..., "sun":[]}: a missing day is closed.
// Refusals name the part: `<field>.<day>` for an inverted, overlapping or malformed interval,
// `<field>.<key>` for a key that is not a day, `<field>` when it is not an object.
core::Result<WeeklyHours> ParseWeeklyHours(const nlohmann::json& value, std::string_view field);
nlohmann::json WeeklyHoursJson(const WeeklyHours& hours);

// The first day (its index) on which `inner` is not inside `outer`, or nullopt when it lies
// within it every day (a practitioner's working hours within the clinic's opening hours).
std::optional<int> FirstDayOutside(const WeeklyHours& inner, const WeeklyHours& outer);

}  // namespace clinicore::kit
