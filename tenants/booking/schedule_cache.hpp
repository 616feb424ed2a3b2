#pragma once

#include <memory>

#include "platform/db/notified_cache.hpp"
#include "tenants/booking/availability.hpp"
#include "tenants/booking/records.hpp"

namespace clinicore::booking {

// A clinic's schedule for one service and some local days, with the tenant's booking settings.
struct LoadedSchedule {
  Schedule schedule;
  BookingSettings settings;
};

// The schedules availability reads, per tenant, clinic, service, practitioner and days. Any
// committed change to a tenant's claims (bookings, holds), catalogue, working hours, time off,
// closures, resources or settings forgets all of that tenant's (migrations/tenant/0008,
// announce_schedule_change), from any writer, as the lead pages are forgotten. A kept schedule
// stays right as time passes: each hold's claim carries its expiry, and notice and horizon are
// taken from the clock of each request.
class ScheduleCache : public db::NotifiedCache<std::shared_ptr<const LoadedSchedule>> {
 public:
  static constexpr const char* kChannel = "clinicore_schedules";

  ScheduleCache(core::Millis ttl, size_t capacity, std::shared_ptr<core::Metrics> metrics)
      : NotifiedCache({kChannel, "clinicore_booking_schedules_cache", "Availability schedules"}, ttl, capacity,
                      std::move(metrics)) {}
};

}  // namespace clinicore::booking
