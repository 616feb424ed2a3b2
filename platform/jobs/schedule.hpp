#pragma once

#include <bitset>
#include <nlohmann/json.hpp>
#include <string>

#include "platform/core/result.hpp"
#include "platform/jobs/job.hpp"

namespace clinicore::jobs {

// When a recurring job fires: a 5-field cron expression evaluated in a time zone (the
// tenant's; UTC for platform schedules), or a fixed interval aligned to the Unix epoch.
//
// Cron fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-7,
// 0 and 7 are Sunday). Each field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or
// a comma-separated list of those. As in Vixie cron, when both day fields are restricted a day
// matching either one fires. Across daylight saving time a local time that does not exist (the
// spring gap) fires at the moment the clocks jump, and a local time that happens twice (the
// autumn overlap) fires once, the first time.
class ScheduleSpec {
 public:
  static core::Result<ScheduleSpec> Cron(const std::string& expression);
  static ScheduleSpec Every(Millis interval);

  // The first fire time strictly after `after`; InvalidArgument for an unknown time zone.
  core::Result<Clock::time_point> NextAfter(Clock::time_point after, const std::string& time_zone) const;
  // "cron:<expression>" or "every:<ms>": stored with each schedule row, so that a changed
  // spec recomputes the next fire time.
  const std::string& text() const { return text_; }

 private:
  ScheduleSpec() = default;

  std::string text_;
  Millis interval_{0};  // > 0 for Every
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day-of-month was "*"
  bool any_weekday_ = true;  // day-of-week was "*"
};

// A job that a schedule enqueues once per period. Platform schedules run once for the
// platform; tenant schedules once per period for every tenant.
struct Schedule {
  std::string name;  // unique, like a kind: "loyalty.nightly-expiry"
  std::string kind;  // the kind enqueued; its scope decides platform or per tenant
  ScheduleSpec spec;
  nlohmann::json payload = nlohmann::json::object();
  int priority = kPriorityNormal;
  int max_attempts = kDefaultMaxAttempts;
};

// The idempotency key of the job a schedule enqueues for the period starting at `fire_at`.
std::string ScheduleKey(const std::string& name, Clock::time_point fire_at);

}  // namespace clinicore::jobs
