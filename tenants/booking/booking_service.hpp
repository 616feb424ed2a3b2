#pragma once

#include <memory>

#include "platform/jobs/enqueue.hpp"
#include "platform/jobs/job.hpp"
#include "platform/kit/page.hpp"
#include "platform/modules/events.hpp"
#include "platform/modules/route_table.hpp"
#include "tenants/booking/availability.hpp"
#include "tenants/booking/booking_store.hpp"
#include "tenants/booking/schedule_cache.hpp"

namespace clinicore::booking {

// The job that raises appointment.reminder_due some hours before an appointment.
inline constexpr const char* kReminderKind = "booking.reminder";
// The job that books the occurrences of a recurring series.
inline constexpr const char* kBookSeriesKind = "booking.book-series";
inline constexpr int kMaxOccurrences = 52;

struct AvailabilityQuery {
  std::string clinic_id, service_id;
  std::optional<std::string> practitioner_id;
  date::year_month_day from, to;  // local days of the clinic
};

// Where and when: what a hold and a staff booking both name.
struct TimeRequest {
  std::string clinic_id, service_id, practitioner_id;
  Instant start;
};

struct BookingRequest {
  std::optional<std::string> hold_id;
  std::optional<TimeRequest> time;  // a staff booking without a hold
  std::optional<std::string> client_id;
  std::string notes;
};

// A staff booking repeated every `every_weeks` weeks at the same local time, `count` times or
// until a local day (inclusive).
struct SeriesRequest {
  TimeRequest first;
  std::string client_id;
  std::string notes;
  int every_weeks = 1;
  std::optional<int> count;
  std::optional<date::year_month_day> until;
};

struct SettingsPatch {
  std::optional<int> slot_step_minutes, min_notice_minutes, horizon_days, hold_minutes, cancel_window_hours;
  std::optional<std::optional<int>> second_reminder_hours;  // null turns it off
  bool Empty() const {
    return !slot_step_minutes && !min_notice_minutes && !horizon_days && !hold_minutes && !cancel_window_hours &&
           !second_reminder_hours;
  }
};

// Availability, holds and appointments. Every booking claims its practitioner and resources in
// booking_claims, whose exclusion constraint refuses any overlap: the service checks the
// schedule (hours, grid, notice), the database decides conflicts. Each change commits with its
// audit row, its event and its reminder jobs.
class BookingService {
 public:
  BookingService(db::Database& database, std::shared_ptr<jobs::JobClient> jobs,
                 std::shared_ptr<ScheduleCache> schedules)
      : database_(database), jobs_(std::move(jobs)), schedules_(std::move(schedules)) {}

  // The body {"slots": [...]}, ordered by start (SlotsJson).
  core::Result<std::string> Availability(const modules::Call& call, const AvailabilityQuery& query);
  core::Result<Hold> PlaceHold(const modules::Call& call, const TimeRequest& request);
  core::Status ReleaseHold(const modules::Call& call, const std::string& id);

  core::Result<Appointment> Book(const modules::Call& call, const BookingRequest& request);
  core::Result<kit::Page<Appointment>> ListAppointments(const modules::Call& call, const kit::PageRequest& page,
                                                        AppointmentFilter filter);
  core::Result<Appointment> GetAppointment(const modules::Call& call, const std::string& id);
  core::Result<Appointment> Reschedule(const modules::Call& call, const std::string& id, Instant start,
                                       const std::optional<std::string>& practitioner_id);
  core::Result<Appointment> Cancel(const modules::Call& call, const std::string& id, const std::string& reason);
  core::Result<Appointment> Complete(const modules::Call& call, const std::string& id, long long amount_paid_minor,
                                     const std::string& currency, const std::optional<std::string>& notes);
  core::Result<Appointment> MarkNoShow(const modules::Call& call, const std::string& id);

  // The series id; a job books its occurrences.
  core::Result<std::string> CreateSeries(const modules::Call& call, const SeriesRequest& request);
  core::Result<Series> GetSeries(const modules::Call& call, const std::string& id);

  core::Result<BookingSettings> GetSettings(const modules::Call& call);
  core::Result<BookingSettings> UpdateSettings(const modules::Call& call, const SettingsPatch& patch);

  // `work`: the kReminderKind job.
  jobs::Outcome RaiseReminder(jobs::JobContext& context);
  // `work`: the kBookSeriesKind job, one transaction per occurrence.
  jobs::Outcome BookSeries(jobs::JobContext& context);

 private:
  core::Result<Appointment> ChangeStatus(const modules::Call& call, const std::string& id, StatusChange change);
  template <typename Result>
  Result Forgetting(const modules::Call& call, Result result);

  db::Database& database_;
  std::shared_ptr<jobs::JobClient> jobs_;
  std::shared_ptr<ScheduleCache> schedules_;
};

}  // namespace clinicore::booking
