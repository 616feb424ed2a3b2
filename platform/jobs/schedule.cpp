#include "platform/jobs/schedule.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <sstream>
#include <vector>

namespace clinicore::jobs {
namespace {

using core::Error;

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == separator) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

bool ParseNumber(const std::string& text, int& out) {
  if (text.empty() || text.size() > 3) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Sets bits lo..hi of `bits` from one field; false when the field is malformed.
template <size_t N>
bool ParseField(const std::string& field, int lo, int hi, std::bitset<N>& bits) {
  if (field.empty()) return false;
  for (const std::string& item : Split(field, ',')) {
    std::string range = item;
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      if (!ParseNumber(item.substr(slash + 1), step) || step < 1 || step > hi - lo + 1) return false;
    }
    int from = lo;
    int to = hi;
    if (range != "*") {
      auto dash = range.find('-');
      if (dash == std::string::npos) {
        if (!ParseNumber(range, from)) return false;
        to = item.find('/') == std::string::npos ? from : hi;
      } else if (!ParseNumber(range.substr(0, dash), from) || !ParseNumber(range.substr(dash + 1), to)) {
        return false;
      }
    }
    if (from < lo || to > hi || from > to) return false;
    for (int value = from; value <= to; value += step) bits.set(static_cast<size_t>(value));
  }
  return true;
}

}  // namespace

core::Result<ScheduleSpec> ScheduleSpec::Cron(const std::string& expression) {
  std::vector<std::string> fields;
  std::istringstream in(expression);
  for (std::string field; in >> field;) fields.push_back(field);
  auto bad = [&](const std::string& why) {
    return Error::InvalidArgument("Cron expression '" + expression + "': " + why + ".",
                                  {{"schedule", "invalid cron expression"}});
  };
  if (fields.size() != 5) return bad("needs 5 fields (minute hour day-of-month month day-of-week)");
  ScheduleSpec spec;
  std::bitset<8> weekdays;
  if (!ParseField(fields[0], 0, 59, spec.minutes_)) return bad("bad minute field");
  if (!ParseField(fields[1], 0, 23, spec.hours_)) return bad("bad hour field");
  if (!ParseField(fields[2], 1, 31, spec.days_)) return bad("bad day-of-month field");
  if (!ParseField(fields[3], 1, 12, spec.months_)) return bad("bad month field");
  if (!ParseField(fields[4], 0, 7, weekdays)) return bad("bad day-of-week field");
  for (size_t d = 0; d < 7; ++d) spec.weekdays_[d] = weekdays[d];
  if (weekdays[7]) spec.weekdays_.set(0);
  spec.any_day_ = fields[2] == "*";
  spec.any_weekday_ = fields[4] == "*";
  spec.text_ = "cron:" + fields[0] + " " + fields[1] + " " + fields[2] + " " + fields[3] + " " + fields[4];
  return spec;
}

ScheduleSpec ScheduleSpec::Every(Millis interval) {
  ScheduleSpec spec;
  spec.interval_ = std::max(interval, Millis(1));
  spec.text_ = "every:" + std::to_string(spec.interval_.count());
  return spec;
}

core::Result<Clock::time_point> ScheduleSpec::NextAfter(Clock::time_point after, const std::string& time_zone) const {
  using namespace std::chrono;
  if (interval_.count() > 0) {
    const long long now_ms = duration_cast<milliseconds>(after.time_since_epoch()).count();
    const long long period = interval_.count();
    const long long floor = now_ms >= 0 ? now_ms / period * period : -((-now_ms + period - 1) / period) * period;
    return Clock::time_point(milliseconds(floor + period));
  }
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(time_zone.empty() ? "UTC" : time_zone);
  } catch (const std::exception&) {
    return Error::InvalidArgument("Unknown time zone '" + time_zone + "'.", {{"time_zone", "unknown time zone"}});
  }
  const auto after_minute =
      floor<minutes>(date::sys_time<milliseconds>(duration_cast<milliseconds>(after.time_since_epoch())));
  auto local = zone->to_local(after_minute) + minutes(1);
  // At most a few years of candidate days (a 29 February that must also be a Monday can
  // take years); each step jumps a whole month, day, hour or minute that cannot match.
  const auto limit = local + date::days(366 * 8);
  while (local < limit) {
    const auto day = floor<date::days>(local);
    const date::year_month_day ymd(day);
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      local = date::local_days(date::year_month_day(ymd.year() / ymd.month() / 1) + date::months(1));
      continue;
    }
    const bool day_ok = days_[static_cast<unsigned>(ymd.day())];
    const bool weekday_ok = weekdays_[date::weekday(day).c_encoding()];
    const bool match = any_day_ && any_weekday_ ? true
                       : any_day_               ? weekday_ok
                       : any_weekday_           ? day_ok
                                                : (day_ok || weekday_ok);
    if (!match) {
      local = day + date::days(1);
      continue;
    }
    const date::hh_mm_ss<minutes> time(floor<minutes>(local - day));
    if (!hours_[static_cast<size_t>(time.hours().count())]) {
      local = floor<hours>(local) + hours(1);
      continue;
    }
    if (!minutes_[static_cast<size_t>(time.minutes().count())]) {
      local += minutes(1);
      continue;
    }
    const auto fire = zone->to_sys(local, date::choose::earliest);
    if (fire > after_minute && Clock::time_point(fire.time_since_epoch()) > after) {
      return Clock::time_point(duration_cast<Clock::duration>(fire.time_since_epoch()));
    }
    local += minutes(1);
  }
  return Error::InvalidArgument("Cron expression '" + text_ + "' never fires.", {{"schedule", "never fires"}});
}

std::string ScheduleKey(const std::string& name, Clock::time_point fire_at) {
  using namespace std::chrono;
  const auto at = date::sys_time<milliseconds>(duration_cast<milliseconds>(fire_at.time_since_epoch()));
  const auto ms = at.time_since_epoch().count() % 1000;
  // Whole seconds read best; a sub-second interval keeps its milliseconds so periods differ.
  if (ms == 0) return "schedule:" + name + ":" + date::format("%FT%TZ", floor<seconds>(at));
  return "schedule:" + name + ":" + date::format("%FT%TZ", at);
}

}  // namespace clinicore::jobs
