#include "tenants/booking/booking_store.hpp"

#include "platform/db/rows.hpp"
#include "platform/db/sql.hpp"

namespace clinicore::booking {
namespace {

using db::OptionalText;

// Booking times are whole seconds ("2027-03-28T06:00:00Z"); bookkeeping instants milliseconds.
#define CLINICORE_BOOKING_TIME(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define CLINICORE_HOLD_COLUMNS \
  "id::text, clinic_id::text, service_id::text, practitioner_id::text, held_by::text, " CLINICORE_BOOKING_TIME( \
      "starts_at") ", " CLINICORE_BOOKING_TIME("ends_at") ", " CLINICORE_SQL_INSTANT(                           \
      "expires_at") ", array_to_json(resource_ids)::text, " CLINICORE_SQL_INSTANT("settled_at") ", " CLINICORE_SQL_INSTANT("created_at")

#define CLINICORE_APPOINTMENT_COLUMNS \
  "id::text, clinic_id::text, service_id::text, practitioner_id::text, client_id::text, " CLINICORE_BOOKING_TIME( \
      "starts_at") ", " CLINICORE_BOOKING_TIME(                                                                    \
      "ends_at") ", array_to_json(resource_ids)::text, status, notes, cancel_reason, amount_paid_minor, "          \
                 "paid_currency, hold_id::text, booked_by::text, series_id::text, " CLINICORE_SQL_INSTANT(                          \
                     "created_at") ", " CLINICORE_SQL_INSTANT("updated_at") ", " CLINICORE_SQL_SORT_KEY("starts_at")

// $1 clinic, $2 service, $3 practitioner (NULL: all who perform the service), $4/$5 the local
// first and last day, $6 whether to read the claims too (a booking's schedule check needs none:
// the claim itself decides). The window is a day wider on each side than the local days can reach.
constexpr const char* kLoadSchedule = "booking.load_schedule";
constexpr const char* kLoadScheduleSql =
    "WITH c AS (SELECT id, time_zone, opening_hours FROM clinics WHERE id = $1::uuid AND deleted_at IS NULL AND "
    "active), "
    "s AS (SELECT id, duration_minutes, buffer_before_minutes, buffer_after_minutes, resource_kinds FROM services "
    "WHERE id = $2::uuid AND clinic_id = $1::uuid AND deleted_at IS NULL AND active), "
    "w AS (SELECT tstzrange((($4::date - 1)::timestamp AT TIME ZONE c.time_zone), "
    "(($5::date + 2)::timestamp AT TIME ZONE c.time_zone)) AS r FROM c), "
    "p AS (SELECT pr.user_id, pr.working_hours FROM practitioners pr "
    "JOIN practitioner_services ps ON ps.clinic_id = pr.clinic_id AND ps.user_id = pr.user_id "
    "JOIN users u ON u.id = pr.user_id WHERE pr.clinic_id = $1::uuid AND ps.service_id = $2::uuid AND u.active "
    "AND u.deleted_at IS NULL AND ($3::uuid IS NULL OR pr.user_id = $3::uuid)), "
    "rs AS (SELECT r.id, r.kind, r.name FROM resources r, s WHERE r.clinic_id = $1::uuid AND r.kind = ANY "
    "(s.resource_kinds)) "
    "SELECT json_build_object("
    "'clinic', (SELECT json_build_object('time_zone', time_zone, 'opening_hours', opening_hours) FROM c), "
    "'service', (SELECT row_to_json(s) FROM s), "
    "'closures', (SELECT COALESCE(json_agg(json_build_array(cc.start_date, cc.end_date)), '[]') FROM "
    "clinic_closures cc WHERE cc.clinic_id = $1::uuid AND cc.end_date >= $4::date - 1 AND cc.start_date <= "
    "$5::date + 1), "
    "'practitioners', (SELECT COALESCE(json_agg(json_build_object('id', p.user_id, 'working_hours', "
    "p.working_hours, 'time_off', (SELECT COALESCE(json_agg(json_build_array(floor(extract(epoch FROM "
    "t.starts_at))::bigint, ceil(extract(epoch FROM t.ends_at))::bigint)), '[]') FROM practitioner_time_off t, w "
    "WHERE t.clinic_id = $1::uuid AND t.user_id = p.user_id AND t.starts_at < upper(w.r) AND t.ends_at > "
    "lower(w.r))) ORDER BY p.user_id), '[]') FROM p), "
    "'resources', (SELECT COALESCE(json_agg(json_build_object('id', rs.id, 'kind', rs.kind) ORDER BY rs.name "
    "COLLATE \"C\", rs.id), '[]') FROM rs), "
    "'busy', CASE WHEN $6 THEN (SELECT COALESCE(json_agg(json_build_array(b.subject_id, floor(extract(epoch FROM "
    "lower(b.busy)))::bigint, ceil(extract(epoch FROM upper(b.busy)))::bigint, floor(extract(epoch FROM "
    "b.expires_at))::bigint)), '[]') FROM booking_claims b, w "
    "WHERE b.busy && w.r AND (b.expires_at IS NULL OR b.expires_at > clock_timestamp()) AND (b.subject_id IN "
    "(SELECT user_id FROM p) OR b.subject_id IN (SELECT id FROM rs))) ELSE '[]'::json END, "
    "'settings', (SELECT COALESCE(json_object_agg(key, value), '{}') FROM settings WHERE key LIKE "
    "'booking.%'))::text";

constexpr const char* kSelectSettings = "booking.select_settings";
constexpr const char* kSelectSettingsSql =
    "SELECT COALESCE(json_object_agg(key, value), '{}')::text FROM settings WHERE key LIKE 'booking.%'";

constexpr const char* kUpsertSetting = "booking.upsert_setting";
constexpr const char* kUpsertSettingSql =
    "INSERT INTO settings (key, value) VALUES ($1, $2::jsonb) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()";

// The service's resource kinds in one order for every claim, so concurrent claims of several
// kinds take their locks in the same order.
constexpr const char* kClaimTime = "booking.claim_time";
constexpr const char* kClaimTimeSql =
    "SELECT conflict, array_to_json(resource_ids)::text FROM booking_claim($1::uuid, $2::timestamptz, $3::uuid, "
    "$4::uuid, (SELECT ARRAY(SELECT k FROM unnest(s.resource_kinds) k ORDER BY k) FROM services s WHERE s.id = "
    "$5::uuid), tstzrange($6::timestamptz, $7::timestamptz))";

constexpr const char* kReleaseClaims = "booking.release_claims";
constexpr const char* kReleaseClaimsSql = "DELETE FROM booking_claims WHERE owner_id = $1::uuid";

constexpr const char* kTransferHoldClaims = "booking.transfer_hold_claims";
constexpr const char* kTransferHoldClaimsSql =
    "UPDATE booking_claims SET owner_id = $2::uuid, expires_at = NULL "
    "WHERE owner_id = $1::uuid AND expires_at > clock_timestamp()";

constexpr const char* kInsertHold = "booking.insert_hold";
constexpr const char* kInsertHoldSql =
    "INSERT INTO appointment_holds (id, clinic_id, service_id, practitioner_id, held_by, starts_at, ends_at, "
    "expires_at, resource_ids) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::uuid, $6::timestamptz, "
    "$7::timestamptz, $8::timestamptz, $9::uuid[]) RETURNING " CLINICORE_HOLD_COLUMNS;

constexpr const char* kSelectHoldForUpdate = "booking.select_hold_for_update";
constexpr const char* kSelectHoldForUpdateSql =
    "SELECT " CLINICORE_HOLD_COLUMNS
    ", expires_at > clock_timestamp() FROM appointment_holds WHERE id = $1::uuid "
    "FOR UPDATE";

constexpr const char* kSettleHold = "booking.settle_hold";
constexpr const char* kSettleHoldSql =
    "UPDATE appointment_holds SET settled_at = clock_timestamp() WHERE id = $1::uuid";

constexpr const char* kInsertAppointment = "booking.insert_appointment";
constexpr const char* kInsertAppointmentSql =
    "INSERT INTO appointments (id, clinic_id, service_id, practitioner_id, client_id, starts_at, ends_at, "
    "resource_ids, notes, hold_id, booked_by, series_id) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::uuid, "
    "$6::timestamptz, $7::timestamptz, $8::uuid[], $9, $10::uuid, $11::uuid, $12::uuid) "
    "RETURNING " CLINICORE_APPOINTMENT_COLUMNS;

constexpr const char* kSelectAppointment = "booking.select_appointment";
constexpr const char* kSelectAppointmentSql =
    "SELECT " CLINICORE_APPOINTMENT_COLUMNS " FROM appointments WHERE id = $1::uuid";

constexpr const char* kSelectAppointmentForUpdate = "booking.select_appointment_for_update";
constexpr const char* kSelectAppointmentForUpdateSql =
    "SELECT " CLINICORE_APPOINTMENT_COLUMNS " FROM appointments WHERE id = $1::uuid FOR UPDATE";

constexpr const char* kMoveAppointment = "booking.move_appointment";
constexpr const char* kMoveAppointmentSql =
    "UPDATE appointments SET practitioner_id = $2::uuid, starts_at = $3::timestamptz, ends_at = $4::timestamptz, "
    "resource_ids = $5::uuid[], updated_at = clock_timestamp() WHERE id = $1::uuid "
    "RETURNING " CLINICORE_APPOINTMENT_COLUMNS;

constexpr const char* kChangeStatus = "booking.change_status";
constexpr const char* kChangeStatusSql =
    "UPDATE appointments SET status = $2, cancel_reason = COALESCE($3, cancel_reason), "
    "amount_paid_minor = COALESCE($4::bigint, amount_paid_minor), paid_currency = COALESCE($5, paid_currency), "
    "notes = COALESCE($6, notes), updated_at = clock_timestamp() WHERE id = $1::uuid "
    "RETURNING " CLINICORE_APPOINTMENT_COLUMNS;

// $1 clinics in scope (NULL: all), $2 clinic, $3 practitioner, $4 client, $5 status, $6/$7
// start from/to, $8/$9 after (start, id; the first page starts at -infinity), $10 limit.
constexpr const char* kListAppointments = "booking.list_appointments";
constexpr const char* kListAppointmentsSql =
    "SELECT " CLINICORE_APPOINTMENT_COLUMNS
    " FROM appointments WHERE ($1::uuid[] IS NULL OR clinic_id = ANY ($1::uuid[])) "
    "AND ($2::uuid IS NULL OR clinic_id = $2::uuid) AND ($3::uuid IS NULL OR practitioner_id = $3::uuid) "
    "AND ($4::uuid IS NULL OR client_id = $4::uuid) AND ($5::text IS NULL OR status = $5) "
    "AND ($6::timestamptz IS NULL OR starts_at >= $6::timestamptz) "
    "AND ($7::timestamptz IS NULL OR starts_at < $7::timestamptz) "
    "AND (starts_at, id) > ($8::timestamptz, $9::uuid) ORDER BY starts_at, id LIMIT $10";

constexpr const char* kInsertSeries = "booking.insert_series";
constexpr const char* kInsertSeriesSql =
    "WITH s AS (INSERT INTO appointment_series (id, clinic_id, service_id, practitioner_id, client_id, every_weeks, "
    "notes, created_by) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::uuid, $6, $7, $8::uuid) RETURNING id) "
    "INSERT INTO series_occurrences (series_id, occurrence, starts_at) "
    "SELECT s.id, t.n - 1, t.start FROM s, unnest($9::timestamptz[]) WITH ORDINALITY AS t(start, n)";

constexpr const char* kSelectSeries = "booking.select_series";
constexpr const char* kSelectSeriesSql =
    "SELECT id::text, clinic_id::text, service_id::text, practitioner_id::text, client_id::text, every_weeks, notes, "
    "created_by::text, " CLINICORE_SQL_INSTANT("created_at") " FROM appointment_series WHERE id = $1::uuid";

constexpr const char* kSelectOccurrences = "booking.select_occurrences";
constexpr const char* kSelectOccurrencesSql =
    "SELECT occurrence, " CLINICORE_BOOKING_TIME("starts_at") ", status, appointment_id::text, conflict::text "
    "FROM series_occurrences WHERE series_id = $1::uuid ORDER BY occurrence";

constexpr const char* kSettleOccurrence = "booking.settle_occurrence";
constexpr const char* kSettleOccurrenceSql =
    "UPDATE series_occurrences SET status = $3, appointment_id = $4::uuid, conflict = $5::jsonb "
    "WHERE series_id = $1::uuid AND occurrence = $2 AND status = 'pending'";

constexpr const char* kMarkReminder = "booking.mark_reminder";
constexpr const char* kMarkReminderSql =
    "INSERT INTO appointment_reminders (appointment_id, starts_at, hours_before) VALUES ($1::uuid, $2::timestamptz, "
    "$3) ON CONFLICT DO NOTHING";

constexpr const char* kAccountRole = "booking.account_role";
constexpr const char* kAccountRoleSql = "SELECT role FROM users WHERE id = $1::uuid AND active AND deleted_at IS NULL";

std::vector<std::string> IdList(const pqxx::field& field) {
  if (field.is_null()) return {};
  return nlohmann::json::parse(field.as<std::string>()).get<std::vector<std::string>>();
}

Hold HoldOf(const pqxx::row& row) {
  Hold h;
  h.id = row[0].as<std::string>();
  h.clinic_id = row[1].as<std::string>();
  h.service_id = row[2].as<std::string>();
  h.practitioner_id = row[3].as<std::string>();
  h.held_by = row[4].as<std::string>();
  h.start = row[5].as<std::string>();
  h.end = row[6].as<std::string>();
  h.expires_at = row[7].as<std::string>();
  h.resource_ids = IdList(row[8]);
  h.settled_at = OptionalText(row[9]);
  h.created_at = row[10].as<std::string>();
  return h;
}

Appointment AppointmentOf(const pqxx::row& row) {
  Appointment a;
  a.id = row[0].as<std::string>();
  a.clinic_id = row[1].as<std::string>();
  a.service_id = row[2].as<std::string>();
  a.practitioner_id = row[3].as<std::string>();
  a.client_id = row[4].as<std::string>();
  a.start = row[5].as<std::string>();
  a.end = row[6].as<std::string>();
  a.resource_ids = IdList(row[7]);
  a.status = row[8].as<std::string>();
  a.notes = row[9].as<std::string>();
  a.cancel_reason = OptionalText(row[10]);
  if (!row[11].is_null()) a.amount_paid_minor = row[11].as<long long>();
  a.currency = OptionalText(row[12]);
  a.hold_id = OptionalText(row[13]);
  a.booked_by = OptionalText(row[14]);
  a.series_id = OptionalText(row[15]);
  a.created_at = row[16].as<std::string>();
  a.updated_at = row[17].as<std::string>();
  a.start_key = row[18].as<std::string>();
  return a;
}

}  // namespace

void BookingStore::RegisterStatements(db::Database& database) {
  const std::pair<const char*, const char*> statements[] = {
      {kLoadSchedule, kLoadScheduleSql},
      {kSelectSettings, kSelectSettingsSql},
      {kUpsertSetting, kUpsertSettingSql},
      {kClaimTime, kClaimTimeSql},
      {kReleaseClaims, kReleaseClaimsSql},
      {kTransferHoldClaims, kTransferHoldClaimsSql},
      {kInsertHold, kInsertHoldSql},
      {kSelectHoldForUpdate, kSelectHoldForUpdateSql},
      {kSettleHold, kSettleHoldSql},
      {kInsertAppointment, kInsertAppointmentSql},
      {kSelectAppointment, kSelectAppointmentSql},
      {kSelectAppointmentForUpdate, kSelectAppointmentForUpdateSql},
      {kMoveAppointment, kMoveAppointmentSql},
      {kChangeStatus, kChangeStatusSql},
      {kListAppointments, kListAppointmentsSql},
      {kInsertSeries, kInsertSeriesSql},
      {kSelectSeries, kSelectSeriesSql},
      {kSelectOccurrences, kSelectOccurrencesSql},
      {kSettleOccurrence, kSettleOccurrenceSql},
      {kMarkReminder, kMarkReminderSql},
      {kAccountRole, kAccountRoleSql},
  };
  for (const auto& [name, sql] : statements) database.RegisterStatement(name, sql);
}

nlohmann::json BookingStore::LoadSchedule(db::Transaction& tx, const std::string& clinic_id,
                                          const std::string& service_id,
                                          const std::optional<std::string>& practitioner_id,
                                          const std::string& from_day, const std::string& to_day, bool with_claims) {
  const auto rows = tx.Exec(kLoadSchedule, clinic_id, service_id, practitioner_id, from_day, to_day, with_claims);
  return nlohmann::json::parse(rows[0][0].as<std::string>());
}

nlohmann::json BookingStore::LoadSettings(db::Transaction& tx) {
  return nlohmann::json::parse(tx.Exec(kSelectSettings)[0][0].as<std::string>());
}

void BookingStore::SaveSetting(db::Transaction& tx, const std::string& key, const nlohmann::json& value) {
  tx.Exec(kUpsertSetting, key, value.dump());
}

Claim BookingStore::ClaimTime(db::Transaction& tx, const ClaimRequest& r) {
  const auto rows = tx.Exec(kClaimTime, r.owner_id, r.expires_at, r.practitioner_id, r.clinic_id, r.service_id,
                            r.busy_from, r.busy_to);
  return {OptionalText(rows[0][0]), IdList(rows[0][1])};
}

void BookingStore::ReleaseClaims(db::Transaction& tx, const std::string& owner_id) {
  tx.Exec(kReleaseClaims, owner_id);
}

bool BookingStore::TransferHoldClaims(db::Transaction& tx, const std::string& hold_id,
                                      const std::string& appointment_id) {
  return tx.Exec(kTransferHoldClaims, hold_id, appointment_id).affected_rows() > 0;
}

Hold BookingStore::InsertHold(db::Transaction& tx, const Hold& h) {
  return HoldOf(tx.Exec(kInsertHold, h.id, h.clinic_id, h.service_id, h.practitioner_id, h.held_by, h.start, h.end,
                        h.expires_at, db::UuidArray(h.resource_ids))[0]);
}

std::optional<Hold> BookingStore::FindHoldForUpdate(db::Transaction& tx, const std::string& id) {
  const auto rows = tx.Exec(kSelectHoldForUpdate, id);
  if (rows.empty()) return std::nullopt;
  auto hold = HoldOf(rows[0]);
  if (!rows[0][11].as<bool>() && !hold.settled_at) hold.settled_at = hold.expires_at;  // expired: holds nothing
  return hold;
}

void BookingStore::SettleHold(db::Transaction& tx, const std::string& id) {
  tx.Exec(kSettleHold, id);
}

Appointment BookingStore::InsertAppointment(db::Transaction& tx, const Appointment& a) {
  return AppointmentOf(tx.Exec(kInsertAppointment, a.id, a.clinic_id, a.service_id, a.practitioner_id, a.client_id,
                               a.start, a.end, db::UuidArray(a.resource_ids), a.notes, a.hold_id, a.booked_by,
                               a.series_id)[0]);
}

std::optional<Appointment> BookingStore::FindAppointment(db::Transaction& tx, const std::string& id, bool for_update) {
  return db::FirstRow<Appointment>(tx.Exec(for_update ? kSelectAppointmentForUpdate : kSelectAppointment, id),
                                   AppointmentOf);
}

Appointment BookingStore::MoveAppointment(db::Transaction& tx, const std::string& id,
                                          const std::string& practitioner_id, const std::string& start,
                                          const std::string& end, const std::vector<std::string>& resource_ids) {
  return AppointmentOf(tx.Exec(kMoveAppointment, id, practitioner_id, start, end, db::UuidArray(resource_ids))[0]);
}

Appointment BookingStore::ChangeStatus(db::Transaction& tx, const std::string& id, const StatusChange& c) {
  return AppointmentOf(
      tx.Exec(kChangeStatus, id, c.status, c.cancel_reason, c.amount_paid_minor, c.currency, c.notes)[0]);
}

std::vector<Appointment> BookingStore::ListAppointments(db::Transaction& tx, const AppointmentFilter& f,
                                                        const std::optional<std::string>& after_key,
                                                        const std::optional<std::string>& after_id, int limit) {
  std::optional<std::string> clinics;
  if (f.clinic_ids) clinics = db::UuidArray(*f.clinic_ids);
  return db::AllRows<Appointment>(
      tx.Exec(kListAppointments, clinics, f.clinic_id, f.practitioner_id, f.client_id, f.status, f.from, f.to,
              after_key.value_or("-infinity"), after_id.value_or("00000000-0000-0000-0000-000000000000"), limit),
      AppointmentOf);
}

void BookingStore::InsertSeries(db::Transaction& tx, const Series& s, const std::vector<std::string>& starts) {
  std::string array = "{";
  for (const auto& start : starts) array += (array.size() > 1 ? "," : "") + start;
  array += "}";
  tx.Exec(kInsertSeries, s.id, s.clinic_id, s.service_id, s.practitioner_id, s.client_id, s.every_weeks, s.notes,
          s.created_by, array);
}

std::optional<Series> BookingStore::FindSeries(db::Transaction& tx, const std::string& id) {
  const auto rows = tx.Exec(kSelectSeries, id);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  Series s;
  s.id = row[0].as<std::string>();
  s.clinic_id = row[1].as<std::string>();
  s.service_id = row[2].as<std::string>();
  s.practitioner_id = row[3].as<std::string>();
  s.client_id = row[4].as<std::string>();
  s.every_weeks = row[5].as<int>();
  s.notes = row[6].as<std::string>();
  s.created_by = OptionalText(row[7]);
  s.created_at = row[8].as<std::string>();
  for (const auto& o : tx.Exec(kSelectOccurrences, id)) {
    s.occurrences.push_back({o[0].as<int>(), o[1].as<std::string>(), o[2].as<std::string>(), OptionalText(o[3]),
                             o[4].is_null() ? nlohmann::json(nullptr) : nlohmann::json::parse(o[4].as<std::string>())});
  }
  return s;
}

void BookingStore::SettleOccurrence(db::Transaction& tx, const std::string& series_id, int index,
                                    const std::string& status, const std::optional<std::string>& appointment_id,
                                    const nlohmann::json& conflict) {
  std::optional<std::string> conflict_text;
  if (!conflict.is_null()) conflict_text = conflict.dump();
  tx.Exec(kSettleOccurrence, series_id, index, status, appointment_id, conflict_text);
}

bool BookingStore::MarkReminderRaised(db::Transaction& tx, const std::string& appointment_id, const std::string& start,
                                      int hours_before) {
  return tx.Exec(kMarkReminder, appointment_id, start, hours_before).affected_rows() > 0;
}

std::optional<std::string> BookingStore::AccountRole(db::Transaction& tx, const std::string& user_id) {
  const auto rows = tx.Exec(kAccountRole, user_id);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

}  // namespace clinicore::booking
