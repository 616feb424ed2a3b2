#include "platform/kit/weekly_hours.hpp"

#include <algorithm>

#include "platform/kit/validators.hpp"

namespace clinicore::kit {
namespace {

using core::Error;

constexpr size_t kMaxIntervalsPerDay = 8;

std::optional<int> DayIndex(std::string_view name) {
  for (size_t i = 0; i < kDayNames.size(); ++i) {
    if (kDayNames[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

Error DayError(const std::string& day_field, std::string message) {
  return Error::InvalidArgument(day_field + " " + message + ".", {{day_field, std::move(message)}});
}

core::Result<std::vector<Interval>> ParseDay(const nlohmann::json& value, const std::string& day_field) {
  if (!value.is_array()) return DayError(day_field, "must be a list of {open, close} intervals");
  if (value.size() > kMaxIntervalsPerDay) return DayError(day_field, "has more than 8 intervals");
  std::vector<Interval> day;
  for (const auto& item : value) {
    if (!item.is_object() || item.size() != 2 || !item.contains("open") || !item.contains("close") ||
        !item["open"].is_string() || !item["close"].is_string()) {
      return DayError(day_field, "must hold intervals of exactly {\"open\": \"HH:MM\", \"close\": \"HH:MM\"}");
    }
    auto open = kit::ParseClockTime(item["open"].get<std::string>(), day_field);
    auto close = kit::ParseClockTime(item["close"].get<std::string>(), day_field, /*allow_end_of_day=*/true);
    if (!open || !close) return DayError(day_field, "has a time that is not HH:MM (00:00 to 24:00)");
    if (*open >= *close) return DayError(day_field, "has an interval that closes before it opens");
    day.push_back({*open, *close});
  }
  std::sort(day.begin(), day.end(), [](const Interval& a, const Interval& b) { return a.open < b.open; });
  for (size_t i = 1; i < day.size(); ++i) {
    if (day[i].open < day[i - 1].close) return DayError(day_field, "has overlapping intervals");
  }
  return day;
}

}  // namespace

core::Result<WeeklyHours> ParseWeeklyHours(const nlohmann::json& value, std::string_view field) {
  const std::string name(field);
  if (!value.is_object()) {
    return Error::InvalidArgument(name + " must be an object of days (mon to sun).",
                                  {{name, "must be an object with the days mon to sun"}});
  }
  WeeklyHours hours;
  for (const auto& [key, day] : value.items()) {
    const auto index = DayIndex(key);
    if (!index) return DayError(name + "." + key, "is not a day (mon, tue, wed, thu, fri, sat, sun)");
    CLINICORE_TRY(hours.days[static_cast<size_t>(*index)], ParseDay(day, name + "." + key));
  }
  return hours;
}

nlohmann::json WeeklyHoursJson(const WeeklyHours& hours) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < kDayNames.size(); ++i) {
    nlohmann::json day = nlohmann::json::array();
    for (const auto& interval : hours.days[i]) {
      day.push_back({{"open", kit::FormatClockTime(interval.open)}, {"close", kit::FormatClockTime(interval.close)}});
    }
    out[std::string(kDayNames[i])] = std::move(day);
  }
  return out;
}

std::optional<int> FirstDayOutside(const WeeklyHours& inner, const WeeklyHours& outer) {
  for (size_t i = 0; i < inner.days.size(); ++i) {
    for (const auto& interval : inner.days[i]) {
      const auto& open = outer.days[i];
      const bool inside = std::any_of(open.begin(), open.end(), [&](const Interval& o) {
        return o.open <= interval.open && interval.close <= o.close;
      });
      if (!inside) return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

}  // namespace clinicore::kit
