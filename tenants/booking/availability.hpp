#pragma once

#include <date/tz.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "platform/kit/weekly_hours.hpp"

// Free slots, computed in the clinic's IANA time zone. Pure: the caller loads the schedule
// (tenants/booking/booking_store) and the rules (the tenant's booking settings); the database's
// exclusion constraint stays the authority on conflicts, this only proposes.
namespace clinicore::booking {

using Instant = std::chrono::sys_seconds;

struct Span {
  Instant from, to;                  // [from, to)
  Instant expires = Instant::max();  // a hold's claim blocks nobody from its expiry on
  bool Overlaps(Instant a, Instant b) const { return from < b && a < to; }
};

struct PractitionerSchedule {
  std::string id;
  kit::WeeklyHours working_hours;
  std::vector<Span> time_off;
  std::vector<Span> busy;  // live claims: appointments and unexpired holds, buffers included
};

struct ResourceSchedule {
  std::string id;
  std::string kind;
  std::vector<Span> busy;
};

struct ServiceTimes {
  int duration_minutes = 30;
  int buffer_before_minutes = 0;
  int buffer_after_minutes = 0;
  std::vector<std::string> resource_kinds;  // one free resource of each (a kind may repeat)
};

struct ClosedDays {
  date::year_month_day first, last;  // inclusive
};

struct Schedule {
  const date::time_zone* zone = nullptr;
  kit::WeeklyHours opening_hours;
  std::vector<ClosedDays> closures;
  ServiceTimes service;
  std::vector<PractitionerSchedule> practitioners;  // the ones who perform the service
  std::vector<ResourceSchedule> resources;          // the clinic's, of the kinds it needs
};

struct SlotRules {
  int step_minutes = 15;  // starts lie on this grid from local midnight
  Instant earliest;       // now + minimum notice
  Instant latest;         // now + horizon
  Instant now;            // claims that expired by now (holds) block nothing
};

struct Slot {
  Instant start, end;
  std::string practitioner_id;
  std::vector<std::string> resource_ids;
};

// The time a slot occupies: the service plus its buffers.
Span BusySpan(const ServiceTimes& service, Instant start);

// Every free slot whose start falls on a local day from `first` to `last`, ordered by start,
// then practitioner. A local time skipped by a DST change is never a start; a repeated local
// hour yields its first occurrence only, so no start is produced twice.
std::vector<Slot> FreeSlots(const Schedule& schedule, date::year_month_day first, date::year_month_day last,
                            const SlotRules& rules);

enum class StartCheck { kOk, kOffGrid, kOutsideHours, kTooSoon, kTooFar };

// Whether `start` is a slot of `practitioner`'s schedule, occupancy aside (the claim decides
// that): on the grid, within clinic and working hours, not on a closure or time off, and within
// notice and horizon.
StartCheck CheckStart(const Schedule& schedule, const PractitionerSchedule& practitioner, Instant start,
                      const SlotRules& rules);

// {"slots":[{"start","end","local_start","practitioner_id","resource_ids"}, ...]}, written
// directly: every value is a UUID or a fixed-format time, so nothing needs escaping, and a
// day of a busy clinic (hundreds of slots) costs tens of microseconds instead of a DOM.
std::string SlotsJson(const date::time_zone* zone, const std::vector<Slot>& slots);

// "2027-03-28T09:00:00+03:00": the instant as the clinic's wall clock shows it.
std::string LocalTimeText(const date::time_zone* zone, Instant instant);
// "2027-03-28T06:00:00Z".
std::string UtcText(Instant instant);
// The clinic's local day of an instant.
date::year_month_day LocalDay(const date::time_zone* zone, Instant instant);

}  // namespace clinicore::booking
