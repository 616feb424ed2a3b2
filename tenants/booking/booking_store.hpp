#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/db/database.hpp"
#include "tenants/booking/records.hpp"

namespace clinicore::booking {

// The outcome of claiming a practitioner and resources (booking_claim in migrations/tenant/0008).
struct Claim {
  std::optional<std::string> conflict;  // "practitioner" or the resource kind none of which was free
  std::vector<std::string> resource_ids;
};

struct ClaimRequest {
  std::string owner_id;                   // the hold or appointment
  std::optional<std::string> expires_at;  // a hold's; none for an appointment
  std::string practitioner_id, clinic_id, service_id;
  std::string busy_from, busy_to;  // the service's time plus its buffers
};

struct AppointmentFilter {
  std::optional<std::vector<std::string>> clinic_ids;  // nullopt: every clinic
  std::optional<std::string> clinic_id, practitioner_id, client_id, status, from, to;
};

struct StatusChange {
  std::string status;
  std::optional<std::string> cancel_reason;
  std::optional<long long> amount_paid_minor;
  std::optional<std::string> currency, notes;
};

// The booking module's SQL (one named statement each), inside the caller's tenant transaction.
class BookingStore {
 public:
  static void RegisterStatements(db::Database& database);

  // Everything availability needs for a clinic, service and local date range, as one JSON
  // document (clinic, service, closures, practitioners with time off, resources, busy claims,
  // settings); null fields when the clinic or service is not live. Each claim carries its
  // expiry (a hold's), so a kept copy knows when a hold stops blocking.
  static nlohmann::json LoadSchedule(db::Transaction& tx, const std::string& clinic_id, const std::string& service_id,
                                     const std::optional<std::string>& practitioner_id, const std::string& from_day,
                                     const std::string& to_day, bool with_claims);
  static nlohmann::json LoadSettings(db::Transaction& tx);
  static void SaveSetting(db::Transaction& tx, const std::string& key, const nlohmann::json& value);

  static Claim ClaimTime(db::Transaction& tx, const ClaimRequest& request);
  static void ReleaseClaims(db::Transaction& tx, const std::string& owner_id);
  // Moves a live hold's claims to the appointment; false when the hold has expired meanwhile.
  static bool TransferHoldClaims(db::Transaction& tx, const std::string& hold_id, const std::string& appointment_id);

  static Hold InsertHold(db::Transaction& tx, const Hold& hold);
  static std::optional<Hold> FindHoldForUpdate(db::Transaction& tx, const std::string& id);
  static void SettleHold(db::Transaction& tx, const std::string& id);

  static Appointment InsertAppointment(db::Transaction& tx, const Appointment& appointment);
  static std::optional<Appointment> FindAppointment(db::Transaction& tx, const std::string& id,
                                                    bool for_update = false);
  static Appointment MoveAppointment(db::Transaction& tx, const std::string& id, const std::string& practitioner_id,
                                     const std::string& start, const std::string& end,
                                     const std::vector<std::string>& resource_ids);
  static Appointment ChangeStatus(db::Transaction& tx, const std::string& id, const StatusChange& change);
  // Ordered by start, then id; `after` is [start_key, id] of the last row of the last page.
  static std::vector<Appointment> ListAppointments(db::Transaction& tx, const AppointmentFilter& filter,
                                                   const std::optional<std::string>& after_key,
                                                   const std::optional<std::string>& after_id, int limit);

  static void InsertSeries(db::Transaction& tx, const Series& series, const std::vector<std::string>& starts);
  // The series with its occurrences in order; nullopt when there is none.
  static std::optional<Series> FindSeries(db::Transaction& tx, const std::string& id);
  static void SettleOccurrence(db::Transaction& tx, const std::string& series_id, int index, const std::string& status,
                               const std::optional<std::string>& appointment_id, const nlohmann::json& conflict);

  // Records the reminder of an appointment's start; false when it was raised already.
  static bool MarkReminderRaised(db::Transaction& tx, const std::string& appointment_id, const std::string& start,
                                 int hours_before);
  // The role of an account that may be booked (active, not deleted).
  static std::optional<std::string> AccountRole(db::Transaction& tx, const std::string& user_id);
};

}  // namespace clinicore::booking
