#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The records of the booking module as the API shows them. Times are RFC 3339 UTC at second
// precision ("2027-03-28T06:00:00Z"); slots add the clinic's wall clock (`local_start`).
namespace clinicore::booking {

inline constexpr std::string_view kAppointmentStatuses[] = {"booked", "cancelled", "completed", "no_show"};

struct Hold {
  std::string id;
  std::string clinic_id, service_id, practitioner_id, held_by;
  std::string start, end, expires_at;
  std::vector<std::string> resource_ids;
  std::optional<std::string> settled_at;
  std::string created_at;
};

struct Appointment {
  std::string id;
  std::string clinic_id, service_id, practitioner_id, client_id;
  std::string start, end;
  std::vector<std::string> resource_ids;
  std::string status = "booked";
  std::string notes;
  std::optional<std::string> cancel_reason;
  std::optional<long long> amount_paid_minor;
  std::optional<std::string> currency;
  std::optional<std::string> hold_id, booked_by, series_id;
  std::string created_at, updated_at;
  std::string start_key;  // starts_at at full precision, the list's keyset position
};

struct Occurrence {
  int index = 0;
  std::string start;
  std::string status = "pending";  // pending, booked or conflict
  std::optional<std::string> appointment_id;
  nlohmann::json conflict;  // {field, message}, or null
};

struct Series {
  std::string id;
  std::string clinic_id, service_id, practitioner_id, client_id;
  int every_weeks = 1;
  std::string notes;
  std::optional<std::string> created_by;
  std::string created_at;
  std::vector<Occurrence> occurrences;
};

// The tenant's booking settings (settings rows `booking.*`); absent keys keep these defaults.
struct BookingSettings {
  int slot_step_minutes = 15;
  int min_notice_minutes = 60;
  int horizon_days = 365;
  int hold_minutes = 5;
  int cancel_window_hours = 24;
  std::optional<int> second_reminder_hours;  // off unless set
};

BookingSettings SettingsFrom(const nlohmann::json& rows);  // {"booking.x": value, ...}
nlohmann::json ToJson(const BookingSettings& settings);
nlohmann::json ToJson(const Hold& hold);
nlohmann::json ToJson(const Appointment& appointment);
nlohmann::json ToJson(const Series& series);

}  // namespace clinicore::booking
