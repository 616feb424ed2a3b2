#pragma once

#include <string>

#include "platform/db/sql.hpp"

// Every statement of the CRM module, named "crm.<verb>_<noun>". Reads leave out soft-deleted
// rows. Statements that read leads on a caller's behalf take the caller's row scope as $1 and
// $2 (CLINICORE_LEAD_VISIBLE), so a list and a single read apply the one rule.
namespace clinicore::crm::queries {

#define CLINICORE_LEAD_COLUMNS \
  "l.id::text, l.first_name, l.last_name, l.email, l.phone, l.source, l.external_id, l.campaign::text, "           \
  "l.clinic_id::text, l.service_id::text, l.status, l.lost_reason, l.owner_id::text, l.consent::text, "            \
  CLINICORE_SQL_INSTANT("l.last_activity_at") ", " CLINICORE_SQL_INSTANT("l.created_at") ", "                     \
  CLINICORE_SQL_INSTANT("l.updated_at") ", " CLINICORE_SQL_SORT_KEY("l.created_at") ", "                          \
  CLINICORE_SQL_SORT_KEY("l.updated_at") ", "                                                                      \
  "(SELECT coalesce(json_agg(t.tag_id::text ORDER BY t.tag_id), '[]') FROM lead_tags t WHERE t.lead_id = l.id)::text"

// A lead as the API shows it (records.cpp ToJson), rendered by PostgreSQL for lists: building
// 20 JSON trees per page in the server cost more than the query. The e2e test holds the two
// renderings equal.
#define CLINICORE_LEAD_JSON                                                                                        \
  "json_build_object('id', l.id, 'first_name', l.first_name, 'last_name', l.last_name, 'email', l.email, "         \
  "'phone', l.phone, 'source', l.source, 'external_id', l.external_id, 'campaign', l.campaign, "                   \
  "'clinic_id', l.clinic_id, 'service_id', l.service_id, 'status', l.status, 'lost_reason', l.lost_reason, "       \
  "'owner_id', l.owner_id, 'tags', (SELECT coalesce(json_agg(t.tag_id ORDER BY t.tag_id), '[]') FROM lead_tags t " \
  "WHERE t.lead_id = l.id), 'consent', CASE WHEN l.consent = '{}' THEN NULL ELSE l.consent END, "                  \
  "'last_activity_at', " CLINICORE_SQL_INSTANT("l.last_activity_at") ", 'created_at', " CLINICORE_SQL_INSTANT(     \
      "l.created_at") ", 'updated_at', " CLINICORE_SQL_INSTANT("l.updated_at") ")::text"

// Who sees a lead (migrations/tenant/0006, lead_visible_to): $1 the caller's clinics (NULL:
// every clinic), $2 the salesperson asking (NULL for other roles).
#define CLINICORE_LEAD_VISIBLE                                                                                     \
  "COALESCE(lead_visible_to(l.clinic_id, l.owner_id, $1::uuid[], $2::uuid, (SELECT crm_salesperson_sees_all())), " \
  "false)"

inline constexpr const char* kSelectSettings = "crm.select_settings";
inline constexpr const char* kSelectSettingsSql = "SELECT key, value::text FROM settings WHERE key LIKE 'crm.%'";

inline constexpr const char* kUpsertSetting = "crm.upsert_setting";
inline constexpr const char* kUpsertSettingSql =
    "INSERT INTO settings (key, value) VALUES ($1, $2::jsonb) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()";

// Serializes creations of leads with one email or phone (a transaction lock per value, in
// this tenant's schema only), so two arriving at once become one lead and a merge.
inline constexpr const char* kLockIdentity = "crm.lock_identity";
inline constexpr const char* kLockIdentitySql =
    "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':crm.lead:' || $1, 0))";

// The newest live lead with this email or phone created within the last $3 days.
inline constexpr const char* kFindDuplicate = "crm.find_duplicate";
inline constexpr const char* kFindDuplicateSql =
    "SELECT " CLINICORE_LEAD_COLUMNS
    " FROM leads l WHERE l.deleted_at IS NULL AND l.created_at >= now() - make_interval(days => $3) "
    "AND ((l.email_normalized = $1::text) OR (l.phone = $2::text)) "
    "ORDER BY l.created_at DESC LIMIT 1 FOR UPDATE";

inline constexpr const char* kInsertLead = "crm.insert_lead";
inline constexpr const char* kInsertLeadSql =
    "INSERT INTO leads AS l (first_name, last_name, email, email_normalized, phone, source, external_id, campaign, "
    "clinic_id, service_id, owner_id, consent) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::uuid, $10::uuid, $11::uuid, $12::jsonb) "
    "RETURNING " CLINICORE_LEAD_COLUMNS;

inline constexpr const char* kSelectLead = "crm.select_lead";
inline constexpr const char* kSelectLeadSql =
    "SELECT " CLINICORE_LEAD_COLUMNS
    " FROM leads l WHERE l.id = $3::uuid AND l.deleted_at IS NULL AND " CLINICORE_LEAD_VISIBLE;

inline constexpr const char* kSelectLeadForUpdate = "crm.select_lead_for_update";
inline constexpr const char* kSelectLeadForUpdateSql =
    "SELECT " CLINICORE_LEAD_COLUMNS
    " FROM leads l WHERE l.id = $3::uuid AND l.deleted_at IS NULL AND " CLINICORE_LEAD_VISIBLE " FOR UPDATE OF l";

// Events of other modules name leads without a caller: no scope.
// The lead of a client account (booking events name the client): the newest live lead with
// the account's email or phone, one still being worked first.
inline constexpr const char* kLeadOfClient = "crm.lead_of_client";
inline constexpr const char* kLeadOfClientSql =
    "SELECT l.id::text FROM leads l JOIN users u ON u.id = $1::uuid WHERE l.deleted_at IS NULL "
    "AND (l.email_normalized = u.email_normalized OR (u.phone IS NOT NULL AND l.phone = u.phone)) "
    "ORDER BY (l.status IN ('new', 'contacted', 'qualified')) DESC, l.created_at DESC LIMIT 1";

inline constexpr const char* kSelectAnyLeadForUpdate = "crm.select_any_lead_for_update";
inline constexpr const char* kSelectAnyLeadForUpdateSql =
    "SELECT " CLINICORE_LEAD_COLUMNS " FROM leads l WHERE l.id = $1::uuid AND l.deleted_at IS NULL FOR UPDATE OF l";

// Each of $2.. NULL leaves its column; *_set flags let PATCH clear a nullable one. A change by a
// person is activity: last_activity_at moves with updated_at.
inline constexpr const char* kUpdateLead = "crm.update_lead";
inline constexpr const char* kUpdateLeadSql =
    "UPDATE leads AS l SET first_name = COALESCE($2, first_name), last_name = COALESCE($3, last_name), "
    "email = CASE WHEN $4 THEN $5 ELSE email END, email_normalized = CASE WHEN $4 THEN $6 ELSE email_normalized END, "
    "phone = CASE WHEN $7 THEN $8 ELSE phone END, external_id = CASE WHEN $9 THEN $10 ELSE external_id END, "
    "campaign = COALESCE($11::jsonb, campaign), clinic_id = CASE WHEN $12 THEN $13::uuid ELSE clinic_id END, "
    "service_id = CASE WHEN $14 THEN $15::uuid ELSE service_id END, status = COALESCE($16, status), "
    "lost_reason = CASE WHEN $16::text IS NULL THEN lost_reason WHEN $16 = 'lost' THEN $17 ELSE NULL END, "
    "consent = COALESCE($18::jsonb, consent), owner_id = CASE WHEN $19 THEN $20::uuid ELSE owner_id END, "
    "updated_at = clock_timestamp(), last_activity_at = CASE WHEN $21 THEN clock_timestamp() ELSE last_activity_at END "
    "WHERE l.id = $1::uuid AND l.deleted_at IS NULL RETURNING " CLINICORE_LEAD_COLUMNS;

inline constexpr const char* kTouchLead = "crm.touch_lead";
inline constexpr const char* kTouchLeadSql =
    "UPDATE leads SET last_activity_at = clock_timestamp(), updated_at = clock_timestamp() WHERE id = $1::uuid";

inline constexpr const char* kSoftDeleteLead = "crm.soft_delete_lead";
inline constexpr const char* kSoftDeleteLeadSql =
    "UPDATE leads SET deleted_at = now(), updated_at = clock_timestamp() WHERE id = $1::uuid AND deleted_at IS NULL";

// The lead list, one statement per order and per search or none (a search uses the trigram
// index; the others walk the order's index from the cursor). $1/$2 the scope, $3 status, $4
// owner, $5 source, $6 tag, $7 clinic, $8/$9 created from/to, $10/$11 the cursor (the first
// page starts at ±infinity), $12 limit, $13 the search pattern.
std::string ListLeadsSql(const std::string& column, bool descending, bool search);
std::string ListLeadsName(const std::string& column, bool descending, bool search);

#define CLINICORE_ACTIVITY_COLUMNS                                                        \
  "id::text, lead_id::text, kind, actor_id::text, details::text, " CLINICORE_SQL_INSTANT( \
      "created_at") ", " CLINICORE_SQL_SORT_KEY("created_at")

inline constexpr const char* kInsertActivity = "crm.insert_activity";
inline constexpr const char* kInsertActivitySql =
    "INSERT INTO lead_activities (lead_id, kind, actor_id, details, event_id) "
    "VALUES ($1::uuid, $2, $3::uuid, $4::jsonb, $5::uuid) ON CONFLICT (event_id) DO NOTHING "
    "RETURNING " CLINICORE_ACTIVITY_COLUMNS;

// Newest first; $2/$3 the cursor (the first page starts at +infinity).
inline constexpr const char* kListActivities = "crm.list_activities";
inline constexpr const char* kListActivitiesSql =
    "SELECT " CLINICORE_ACTIVITY_COLUMNS
    " FROM lead_activities WHERE lead_id = $1::uuid AND (created_at, id) < ($2::timestamptz, $3::uuid) "
    "ORDER BY created_at DESC, id DESC LIMIT $4";

#define CLINICORE_TAG_COLUMNS \
  "id::text, name, color, " CLINICORE_SQL_INSTANT("created_at") ", " CLINICORE_SQL_INSTANT("updated_at")

// A live name taken already (in any case) inserts nothing.
inline constexpr const char* kInsertTag = "crm.insert_tag";
inline constexpr const char* kInsertTagSql =
    "INSERT INTO tags (name, color) VALUES ($1, $2) ON CONFLICT ((lower(name))) WHERE deleted_at IS NULL "
    "DO NOTHING RETURNING " CLINICORE_TAG_COLUMNS;

inline constexpr const char* kSelectTag = "crm.select_tag";
inline constexpr const char* kSelectTagSql =
    "SELECT " CLINICORE_TAG_COLUMNS " FROM tags WHERE id = $1::uuid AND deleted_at IS NULL";

inline constexpr const char* kTagNameTaken = "crm.tag_name_taken";
inline constexpr const char* kTagNameTakenSql =
    "SELECT 1 FROM tags WHERE lower(name) = lower($1) AND id <> $2::uuid AND deleted_at IS NULL";

// By name in byte order, then id; $1/$2 after (name, id), $3 limit.
inline constexpr const char* kListTags = "crm.list_tags";
inline constexpr const char* kListTagsSql =
    "SELECT " CLINICORE_TAG_COLUMNS
    " FROM tags WHERE deleted_at IS NULL AND ($1::text IS NULL OR (name COLLATE \"C\", id) > ($1::text COLLATE \"C\", "
    "$2::uuid)) ORDER BY name COLLATE \"C\", id LIMIT $3";

inline constexpr const char* kUpdateTag = "crm.update_tag";
inline constexpr const char* kUpdateTagSql =
    "UPDATE tags SET name = COALESCE($2, name), color = COALESCE($3, color), updated_at = now() "
    "WHERE id = $1::uuid AND deleted_at IS NULL RETURNING " CLINICORE_TAG_COLUMNS;

// A deleted tag leaves every lead it was on.
inline constexpr const char* kSoftDeleteTag = "crm.soft_delete_tag";
inline constexpr const char* kSoftDeleteTagSql =
    "WITH gone AS (UPDATE tags SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL "
    "RETURNING id), untagged AS (DELETE FROM lead_tags WHERE tag_id IN (SELECT id FROM gone)) "
    "SELECT count(*) FROM gone";

inline constexpr const char* kAttachTag = "crm.attach_tag";
inline constexpr const char* kAttachTagSql =
    "INSERT INTO lead_tags (lead_id, tag_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING RETURNING tag_id";

inline constexpr const char* kDetachTag = "crm.detach_tag";
inline constexpr const char* kDetachTagSql =
    "DELETE FROM lead_tags WHERE lead_id = $1::uuid AND tag_id = $2::uuid RETURNING tag_id";

// The role of an account that may work (active, not deleted), and whether it works at a clinic
// ($2, NULL for none).
inline constexpr const char* kSelectWorker = "crm.select_worker";
inline constexpr const char* kSelectWorkerSql =
    "SELECT u.role, ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM clinic_team c WHERE c.clinic_id = $2::uuid "
    "AND c.user_id = u.id)) FROM users u WHERE u.id = $1::uuid AND u.active AND u.deleted_at IS NULL";

// Whether the clinic ($1) is live and the service ($2, NULL for none) is a live one of it.
inline constexpr const char* kCheckPlace = "crm.check_place";
inline constexpr const char* kCheckPlaceSql =
    "SELECT EXISTS (SELECT 1 FROM clinics WHERE id = $1::uuid AND deleted_at IS NULL), "
    "$2::uuid IS NULL OR EXISTS (SELECT 1 FROM services WHERE id = $2::uuid AND clinic_id = $1::uuid "
    "AND deleted_at IS NULL)";

inline constexpr const char* kClinicSalespeople = "crm.clinic_salespeople";
inline constexpr const char* kClinicSalespeopleSql =
    "SELECT user_id::text FROM clinic_team WHERE clinic_id = $1::uuid AND role = 'salesperson' ORDER BY user_id";

inline constexpr const char* kLockTurn = "crm.lock_turn";
inline constexpr const char* kLockTurnSql =
    "INSERT INTO crm_assignment_turns (clinic_id, last_owner) VALUES ($1::uuid, "
    "'00000000-0000-0000-0000-000000000000') "
    "ON CONFLICT (clinic_id) DO UPDATE SET updated_at = now() RETURNING last_owner::text";

inline constexpr const char* kSaveTurn = "crm.save_turn";
inline constexpr const char* kSaveTurnSql =
    "UPDATE crm_assignment_turns SET last_owner = $2::uuid, updated_at = now() WHERE clinic_id = $1::uuid";

// The clinic's salesperson with the fewest open leads (ties: the lowest id).
inline constexpr const char* kLeastLoaded = "crm.least_loaded";
inline constexpr const char* kLeastLoadedSql =
    "SELECT t.user_id::text FROM clinic_team t LEFT JOIN leads l ON l.owner_id = t.user_id "
    "AND l.deleted_at IS NULL AND l.status NOT IN ('won', 'lost') WHERE t.clinic_id = $1::uuid "
    "AND t.role = 'salesperson' GROUP BY t.user_id ORDER BY count(l.id), t.user_id LIMIT 1";

// Who follows an unowned lead up: the clinic's longest-serving secretariat, else the tenant's
// first admin.
inline constexpr const char* kFollowUpFallback = "crm.follow_up_fallback";
inline constexpr const char* kFollowUpFallbackSql =
    "(SELECT user_id::text, 0 AS rank, created_at FROM clinic_team WHERE clinic_id = $1::uuid "
    "AND role = 'secretariat') UNION ALL (SELECT id::text, 1, created_at FROM users WHERE role = 'admin' AND active "
    "AND deleted_at IS NULL) ORDER BY rank, created_at LIMIT 1";

// Leads quiet for $1 hours that have not been flagged for this quiet spell, at most $2, marked
// flagged in the same statement (workers running at once share them out).
inline constexpr const char* kFlagQuietLeads = "crm.flag_quiet_leads";
inline constexpr const char* kFlagQuietLeadsSql =
    "UPDATE leads l SET stale_flagged_for = l.last_activity_at FROM (SELECT id FROM leads "
    "WHERE deleted_at IS NULL AND status NOT IN ('won', 'lost') AND last_activity_at < now() - make_interval(hours => "
    "$1) "
    "AND stale_flagged_for IS DISTINCT FROM last_activity_at ORDER BY last_activity_at LIMIT $2 "
    "FOR UPDATE SKIP LOCKED) quiet WHERE l.id = quiet.id "
    "RETURNING l.id::text, l.owner_id::text, l.clinic_id::text, " CLINICORE_SQL_INSTANT("l.last_activity_at");

}  // namespace clinicore::crm::queries
