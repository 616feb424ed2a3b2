#include "tenants/booking/availability.hpp"

#include <algorithm>
#include <cstdio>

namespace clinicore::booking {
namespace {

using std::chrono::minutes;

date::local_seconds LocalAt(date::year_month_day day, int minute_of_day) {
  return date::local_seconds{date::local_days{day}} + minutes{minute_of_day};
}

// A local start time as UTC: nullopt inside a skipped hour; the first occurrence in a repeated one.
std::optional<Instant> StartInstant(const date::time_zone* zone, date::local_seconds local) {
  const auto info = zone->get_info(local);
  if (info.result == date::local_info::nonexistent) return std::nullopt;
  return Instant{local.time_since_epoch() - info.first.offset};
}

// An interval bound as UTC: a skipped local time is the moment the clock jumped; a repeated one
// its `last` occurrence for a closing time, its first for an opening time.
Instant BoundInstant(const date::time_zone* zone, date::local_seconds local, bool closing) {
  const auto info = zone->get_info(local);
  if (info.result == date::local_info::nonexistent) return info.first.end;
  const auto& offset = (closing && info.result == date::local_info::ambiguous) ? info.second.offset : info.first.offset;
  return Instant{local.time_since_epoch() - offset};
}

bool Closed(const std::vector<ClosedDays>& closures, date::year_month_day day) {
  const auto at = date::sys_days{day};
  return std::any_of(closures.begin(), closures.end(), [&](const ClosedDays& c) {
    return date::sys_days{c.first} <= at && at <= date::sys_days{c.last};
  });
}

int WeekdayIndex(date::year_month_day day) {  // Monday 0
  return static_cast<int>(date::weekday{date::sys_days{day}}.iso_encoding()) - 1;
}

// Where clinic hours and working hours overlap on a weekday, in local minutes.
std::vector<kit::Interval> OpenIntervals(const std::vector<kit::Interval>& clinic,
                                         const std::vector<kit::Interval>& working) {
  std::vector<kit::Interval> open;
  for (const auto& a : clinic) {
    for (const auto& b : working) {
      const int from = std::max(a.open, b.open), to = std::min(a.close, b.close);
      if (from < to) open.push_back({from, to});
    }
  }
  std::sort(open.begin(), open.end(), [](const auto& x, const auto& y) { return x.open < y.open; });
  return open;
}

bool Free(const std::vector<Span>& busy, const Span& wanted, Instant now = Instant::min()) {
  return std::none_of(busy.begin(), busy.end(),
                      [&](const Span& b) { return b.expires > now && b.Overlaps(wanted.from, wanted.to); });
}

// Calls `emit(start)` for each start of the practitioner's schedule on `day` within hours,
// outside closures and time off, occupancy aside.
template <typename Emit>
void ScheduledStarts(const Schedule& schedule, const PractitionerSchedule& practitioner, date::year_month_day day,
                     int step, Emit emit) {
  if (Closed(schedule.closures, day)) return;
  const auto weekday = static_cast<size_t>(WeekdayIndex(day));
  const auto duration = minutes{schedule.service.duration_minutes};
  for (const auto& interval :
       OpenIntervals(schedule.opening_hours.days[weekday], practitioner.working_hours.days[weekday])) {
    const Instant opens = BoundInstant(schedule.zone, LocalAt(day, interval.open), false);
    const Instant closes = BoundInstant(schedule.zone, LocalAt(day, interval.close), true);
    for (int minute = (interval.open + step - 1) / step * step; minute < interval.close; minute += step) {
      const auto start = StartInstant(schedule.zone, LocalAt(day, minute));
      if (!start || *start < opens || *start + duration > closes) continue;
      if (!Free(practitioner.time_off, {*start, *start + duration})) continue;
      emit(*start);
    }
  }
}

// One free resource of each needed kind over `wanted`, or nullopt.
std::optional<std::vector<std::string>> FreeResources(const Schedule& schedule, const Span& wanted, Instant now) {
  std::vector<std::string> taken;
  for (const auto& kind : schedule.service.resource_kinds) {
    const auto found = std::find_if(schedule.resources.begin(), schedule.resources.end(), [&](const auto& r) {
      return r.kind == kind && std::find(taken.begin(), taken.end(), r.id) == taken.end() && Free(r.busy, wanted, now);
    });
    if (found == schedule.resources.end()) return std::nullopt;
    taken.push_back(found->id);
  }
  return taken;
}

}  // namespace

Span BusySpan(const ServiceTimes& service, Instant start) {
  return {start - minutes{service.buffer_before_minutes},
          start + minutes{service.duration_minutes + service.buffer_after_minutes}};
}

std::vector<Slot> FreeSlots(const Schedule& schedule, date::year_month_day first, date::year_month_day last,
                            const SlotRules& rules) {
  std::vector<Slot> slots;
  const int step = std::max(1, rules.step_minutes);
  for (auto day = date::sys_days{first}; day <= date::sys_days{last}; day += date::days{1}) {
    for (const auto& practitioner : schedule.practitioners) {
      ScheduledStarts(schedule, practitioner, date::year_month_day{day}, step, [&](Instant start) {
        if (start < rules.earliest || start > rules.latest) return;
        const Span busy = BusySpan(schedule.service, start);
        if (!Free(practitioner.busy, busy, rules.now)) return;
        auto resources = FreeResources(schedule, busy, rules.now);
        if (!resources) return;
        slots.push_back(
            {start, start + minutes{schedule.service.duration_minutes}, practitioner.id, std::move(*resources)});
      });
    }
  }
  std::stable_sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.start != b.start ? a.start < b.start : a.practitioner_id < b.practitioner_id;
  });
  return slots;
}

StartCheck CheckStart(const Schedule& schedule, const PractitionerSchedule& practitioner, Instant start,
                      const SlotRules& rules) {
  const int step = std::max(1, rules.step_minutes);
  const auto local = date::make_zoned(schedule.zone, start).get_local_time();
  const auto since_midnight = local - std::chrono::floor<date::days>(local);
  if (since_midnight % minutes{step} != std::chrono::seconds{0}) return StartCheck::kOffGrid;
  bool scheduled = false;
  ScheduledStarts(schedule, practitioner, LocalDay(schedule.zone, start), step,
                  [&](Instant candidate) { scheduled = scheduled || candidate == start; });
  if (!scheduled) return StartCheck::kOutsideHours;
  if (start < rules.earliest) return StartCheck::kTooSoon;
  if (start > rules.latest) return StartCheck::kTooFar;
  return StartCheck::kOk;
}

std::string SlotsJson(const date::time_zone* zone, const std::vector<Slot>& slots) {
  std::string out = "{\"slots\":[";
  out.reserve(out.size() + slots.size() * 190);
  for (size_t i = 0; i < slots.size(); ++i) {
    const auto& slot = slots[i];
    out += i == 0 ? "{\"start\":\"" : ",{\"start\":\"";
    out += UtcText(slot.start);
    out += "\",\"end\":\"";
    out += UtcText(slot.end);
    out += "\",\"local_start\":\"";
    out += LocalTimeText(zone, slot.start);
    out += "\",\"practitioner_id\":\"";
    out += slot.practitioner_id;
    out += "\",\"resource_ids\":[";
    for (size_t r = 0; r < slot.resource_ids.size(); ++r) {
      out += r == 0 ? "\"" : ",\"";
      out += slot.resource_ids[r];
      out += '"';
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

date::year_month_day LocalDay(const date::time_zone* zone, Instant instant) {
  const auto local = date::make_zoned(zone, instant).get_local_time();
  return date::year_month_day{std::chrono::floor<date::days>(local)};
}

std::string LocalTimeText(const date::time_zone* zone, Instant instant) {
  const auto info = zone->get_info(instant);
  const auto local = instant + info.offset;
  const auto day = std::chrono::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<std::chrono::seconds> time{local - day};
  const auto offset = std::chrono::duration_cast<minutes>(info.offset).count();
  const long magnitude = offset < 0 ? -offset : offset;
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d%c%02ld:%02ld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), offset < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
  return text;
}

std::string UtcText(Instant instant) {
  const auto day = std::chrono::floor<date::days>(instant);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<std::chrono::seconds> time{instant - day};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

}  // namespace clinicore::booking
