#pragma once

#include "platform/db/sql.hpp"

// Every statement of the clinics module, named "clinics.<verb>_<noun>". Reads leave out
// soft-deleted rows unless their name says otherwise. Lists are keyset-paginated on
// (name, id) or (start_date, id): $n::text IS NULL starts at the beginning. Names sort in
// byte order (COLLATE "C") whatever the database's collation, so the catalogue cache pages in
// memory exactly as the database would.
namespace clinicore::clinics::queries {

#define CLINICORE_CLINIC_COLUMNS                                                                                      \
  "id::text, name, address, phone, email, time_zone, currency, opening_hours::text, owner_id::text, "                 \
  "active, " CLINICORE_SQL_INSTANT("created_at") ", " CLINICORE_SQL_INSTANT("updated_at") ", " CLINICORE_SQL_INSTANT( \
      "deleted_at")

#define CLINICORE_SERVICE_COLUMNS                                                                                     \
  "id::text, clinic_id::text, name, category, duration_minutes, buffer_before_minutes, "                              \
  "buffer_after_minutes, price_minor, currency, array_to_json(resource_kinds)::text, active, " CLINICORE_SQL_INSTANT( \
      "created_at") ", " CLINICORE_SQL_INSTANT("updated_at")

inline constexpr const char* kInsertClinic = "clinics.insert_clinic";
inline constexpr const char* kInsertClinicSql =
    "INSERT INTO clinics (name, address, phone, email, time_zone, currency, opening_hours, owner_id, active) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::uuid, $9) RETURNING " CLINICORE_CLINIC_COLUMNS;

inline constexpr const char* kSelectClinic = "clinics.select_clinic";
inline constexpr const char* kSelectClinicSql =
    "SELECT " CLINICORE_CLINIC_COLUMNS " FROM clinics WHERE id = $1::uuid AND deleted_at IS NULL";

inline constexpr const char* kSelectClinicForUpdate = "clinics.select_clinic_for_update";
inline constexpr const char* kSelectClinicForUpdateSql =
    "SELECT " CLINICORE_CLINIC_COLUMNS " FROM clinics WHERE id = $1::uuid AND deleted_at IS NULL FOR UPDATE";

// $1 only active ones, $2 limited to these ids (NULL: all), $3/$4 after (name, id), $5 limit,
// $6 active (NULL: either), $7 a name pattern (NULL: any).
inline constexpr const char* kListClinics = "clinics.list_clinics";
inline constexpr const char* kListClinicsSql =
    "SELECT " CLINICORE_CLINIC_COLUMNS
    " FROM clinics WHERE deleted_at IS NULL AND (NOT $1 OR active) "
    "AND ($2::uuid[] IS NULL OR id = ANY ($2::uuid[])) "
    "AND ($6::boolean IS NULL OR active = $6) AND ($7::text IS NULL OR name ILIKE $7) "
    "AND ($3::text IS NULL OR (name COLLATE \"C\", id) > ($3::text COLLATE \"C\", $4::uuid)) "
    "ORDER BY name COLLATE \"C\", id LIMIT $5";

// Each of $2.. NULL leaves its column; the *_set flags let PATCH clear phone and email.
inline constexpr const char* kUpdateClinic = "clinics.update_clinic";
inline constexpr const char* kUpdateClinicSql =
    "UPDATE clinics SET name = COALESCE($2, name), address = COALESCE($3, address), "
    "phone = CASE WHEN $4 THEN $5 ELSE phone END, email = CASE WHEN $6 THEN $7 ELSE email END, "
    "time_zone = COALESCE($8, time_zone), currency = COALESCE($9, currency), "
    "opening_hours = COALESCE($10::jsonb, opening_hours), owner_id = COALESCE($11::uuid, owner_id), "
    "active = COALESCE($12, active), updated_at = now() "
    "WHERE id = $1::uuid AND deleted_at IS NULL RETURNING " CLINICORE_CLINIC_COLUMNS;

inline constexpr const char* kSoftDeleteClinic = "clinics.soft_delete_clinic";
inline constexpr const char* kSoftDeleteClinicSql =
    "UPDATE clinics SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL "
    "RETURNING " CLINICORE_CLINIC_COLUMNS;

inline constexpr const char* kRestoreClinic = "clinics.restore_clinic";
inline constexpr const char* kRestoreClinicSql =
    "UPDATE clinics SET deleted_at = NULL, updated_at = now() WHERE id = $1::uuid AND deleted_at IS NOT NULL "
    "RETURNING " CLINICORE_CLINIC_COLUMNS;

inline constexpr const char* kInsertClosure = "clinics.insert_closure";
inline constexpr const char* kInsertClosureSql =
    "INSERT INTO clinic_closures (clinic_id, start_date, end_date, reason) VALUES ($1::uuid, $2::date, $3::date, $4) "
    "RETURNING id::text, clinic_id::text, start_date::text, end_date::text, reason, " CLINICORE_SQL_INSTANT(
        "created_at");

inline constexpr const char* kListClosures = "clinics.list_closures";
inline constexpr const char* kListClosuresSql =
    "SELECT id::text, clinic_id::text, start_date::text, end_date::text, reason, " CLINICORE_SQL_INSTANT(
        "created_at") " FROM clinic_closures WHERE clinic_id = $1::uuid "
                      "AND ($2::text IS NULL OR (start_date, id) > ($2::date, $3::uuid)) "
                      "ORDER BY start_date, id LIMIT $4";

inline constexpr const char* kInsertService = "clinics.insert_service";
inline constexpr const char* kInsertServiceSql =
    "INSERT INTO services (clinic_id, name, category, duration_minutes, buffer_before_minutes, "
    "buffer_after_minutes, price_minor, currency, resource_kinds, active) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, ARRAY(SELECT json_array_elements_text($9::json)), $10) "
    "RETURNING " CLINICORE_SERVICE_COLUMNS;

inline constexpr const char* kSelectService = "clinics.select_service";
inline constexpr const char* kSelectServiceSql =
    "SELECT " CLINICORE_SERVICE_COLUMNS " FROM services WHERE id = $1::uuid AND deleted_at IS NULL";

// $2 only active ones, $3/$4 after (name, id), $5 limit, $6 active (NULL: either), $7 category.
inline constexpr const char* kListServices = "clinics.list_services";
inline constexpr const char* kListServicesSql =
    "SELECT " CLINICORE_SERVICE_COLUMNS
    " FROM services WHERE clinic_id = $1::uuid AND deleted_at IS NULL AND (NOT $2 OR active) "
    "AND ($6::boolean IS NULL OR active = $6) AND ($7::text IS NULL OR category = $7) "
    "AND ($3::text IS NULL OR (name COLLATE \"C\", id) > ($3::text COLLATE \"C\", $4::uuid)) "
    "ORDER BY name COLLATE \"C\", id LIMIT $5";

inline constexpr const char* kUpdateService = "clinics.update_service";
inline constexpr const char* kUpdateServiceSql =
    "UPDATE services SET name = COALESCE($2, name), category = COALESCE($3, category), "
    "duration_minutes = COALESCE($4, duration_minutes), "
    "buffer_before_minutes = COALESCE($5, buffer_before_minutes), "
    "buffer_after_minutes = COALESCE($6, buffer_after_minutes), price_minor = COALESCE($7, price_minor), "
    "currency = COALESCE($8, currency), "
    "resource_kinds = CASE WHEN $9::json IS NULL THEN resource_kinds "
    "ELSE ARRAY(SELECT json_array_elements_text($9::json)) END, "
    "active = COALESCE($10, active), updated_at = now() "
    "WHERE id = $1::uuid AND deleted_at IS NULL RETURNING " CLINICORE_SERVICE_COLUMNS;

inline constexpr const char* kSoftDeleteService = "clinics.soft_delete_service";
inline constexpr const char* kSoftDeleteServiceSql =
    "UPDATE services SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL "
    "RETURNING " CLINICORE_SERVICE_COLUMNS;

// Of the given service ids, those that are live services of the clinic.
inline constexpr const char* kCountClinicServices = "clinics.count_clinic_services";
inline constexpr const char* kCountClinicServicesSql =
    "SELECT count(*) FROM services WHERE clinic_id = $1::uuid AND deleted_at IS NULL AND id = ANY ($2::uuid[])";

inline constexpr const char* kInsertPractitioner = "clinics.insert_practitioner";
inline constexpr const char* kInsertPractitionerSql =
    "INSERT INTO practitioners (clinic_id, user_id, working_hours) VALUES ($1::uuid, $2::uuid, $3::jsonb) "
    "ON CONFLICT DO NOTHING RETURNING " CLINICORE_SQL_INSTANT("created_at");

inline constexpr const char* kInsertPractitionerServices = "clinics.insert_practitioner_services";
inline constexpr const char* kInsertPractitionerServicesSql =
    "INSERT INTO practitioner_services (clinic_id, user_id, service_id) "
    "SELECT $1::uuid, $2::uuid, unnest($3::uuid[]) ON CONFLICT DO NOTHING";

inline constexpr const char* kSelectPractitioner = "clinics.select_practitioner";
inline constexpr const char* kSelectPractitionerSql =
    "SELECT p.working_hours::text FROM practitioners p WHERE p.clinic_id = $1::uuid AND p.user_id = $2::uuid";

// After $2 (a user id), $3 limit.
inline constexpr const char* kListPractitioners = "clinics.list_practitioners";
inline constexpr const char* kListPractitionersSql =
    "SELECT p.clinic_id::text, p.user_id::text, u.full_name, p.working_hours::text, "
    "COALESCE((SELECT json_agg(ps.service_id::text ORDER BY ps.service_id) FROM practitioner_services ps "
    "JOIN services s ON s.id = ps.service_id AND s.deleted_at IS NULL "
    "WHERE ps.clinic_id = p.clinic_id AND ps.user_id = p.user_id), '[]')::text, " CLINICORE_SQL_INSTANT(
        "p.created_at") " FROM practitioners p JOIN users u ON u.id = p.user_id "
                        "WHERE p.clinic_id = $1::uuid AND u.deleted_at IS NULL "
                        "AND ($2::text IS NULL OR p.user_id > $2::uuid) "
                        "ORDER BY p.user_id LIMIT $3";

inline constexpr const char* kInsertTimeOff = "clinics.insert_time_off";
inline constexpr const char* kInsertTimeOffSql =
    "INSERT INTO practitioner_time_off (clinic_id, user_id, starts_at, ends_at, reason) "
    "VALUES ($1::uuid, $2::uuid, $3::timestamptz, $4::timestamptz, $5) "
    "RETURNING id::text, clinic_id::text, user_id::text, " CLINICORE_SQL_INSTANT(
        "starts_at") ", " CLINICORE_SQL_INSTANT("ends_at") ", reason, " CLINICORE_SQL_INSTANT("created_at");

inline constexpr const char* kInsertResource = "clinics.insert_resource";
inline constexpr const char* kInsertResourceSql =
    "INSERT INTO resources (clinic_id, name, kind) VALUES ($1::uuid, $2, $3) "
    "RETURNING id::text, clinic_id::text, name, kind, " CLINICORE_SQL_INSTANT("created_at");

inline constexpr const char* kListResources = "clinics.list_resources";
inline constexpr const char* kListResourcesSql =
    "SELECT id::text, clinic_id::text, name, kind, " CLINICORE_SQL_INSTANT(
        "created_at") " FROM resources WHERE clinic_id = $1::uuid "
                      "AND ($2::text IS NULL OR (name COLLATE \"C\", id) > ($2::text COLLATE \"C\", $3::uuid)) "
                      "ORDER BY name COLLATE \"C\", id LIMIT $4";

inline constexpr const char* kInsertStaff = "clinics.insert_staff";
inline constexpr const char* kInsertStaffSql =
    "INSERT INTO clinic_staff (clinic_id, user_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING "
    "RETURNING " CLINICORE_SQL_INSTANT("created_at");

inline constexpr const char* kDeleteStaff = "clinics.delete_staff";
inline constexpr const char* kDeleteStaffSql =
    "DELETE FROM clinic_staff WHERE clinic_id = $1::uuid AND user_id = $2::uuid RETURNING 1";

inline constexpr const char* kListStaff = "clinics.list_staff";
inline constexpr const char* kListStaffSql =
    "SELECT cs.clinic_id::text, cs.user_id::text, u.full_name, u.role, " CLINICORE_SQL_INSTANT(
        "cs.created_at") " FROM clinic_staff cs JOIN users u ON u.id = cs.user_id "
                         "WHERE cs.clinic_id = $1::uuid AND u.deleted_at IS NULL "
                         "AND ($2::text IS NULL OR cs.user_id > $2::uuid) "
                         "ORDER BY cs.user_id LIMIT $3";

// The clinics a user's per-clinic scope covers: owned ones for clinic owners, the ones they
// belong to for staff.
inline constexpr const char* kClinicsOfUser = "clinics.clinics_of_user";
inline constexpr const char* kClinicsOfUserSql =
    "SELECT id::text FROM clinics WHERE owner_id = $1::uuid AND deleted_at IS NULL "
    "UNION SELECT clinic_id::text FROM clinic_staff WHERE user_id = $1::uuid";

// The account a membership names: its role, and whether it may work (active, not deleted).
inline constexpr const char* kSelectAccount = "clinics.select_account";
inline constexpr const char* kSelectAccountSql =
    "SELECT role, active AND deleted_at IS NULL, full_name FROM users WHERE id = $1::uuid";

}  // namespace clinicore::clinics::queries
