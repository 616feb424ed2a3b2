#pragma once

// Every statement of the tenancy component, by name. Registered with the pool at start-up.
namespace clinicore::tenancy::queries {

#define CLINICORE_TENANT_COLUMNS                                                                    \
  "id::text, slug, display_name, status, time_zone, locale, limits::text, schema_name, role_name, " \
  "schema_version, status_reason, "                                                                 \
  "to_char(purge_after AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                     \
  "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "                   \
  "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), cell"

inline constexpr const char* kSelectTenantById = "tenancy.select_tenant_by_id";
inline constexpr const char* kSelectTenantByIdSql =
    "SELECT " CLINICORE_TENANT_COLUMNS " FROM platform.tenants WHERE id = $1::uuid";

inline constexpr const char* kSelectTenantBySlug = "tenancy.select_tenant_by_slug";
inline constexpr const char* kSelectTenantBySlugSql =
    "SELECT " CLINICORE_TENANT_COLUMNS " FROM platform.tenants WHERE slug = $1";

// Keyset pagination by slug; $1 status or NULL, $2 LIKE pattern or NULL, $3 cursor slug or
// NULL, $4 limit.
inline constexpr const char* kListTenants = "tenancy.list_tenants";
inline constexpr const char* kListTenantsSql =
    "SELECT " CLINICORE_TENANT_COLUMNS
    " FROM platform.tenants "
    "WHERE ($1::text IS NULL OR status = $1) "
    "AND ($2::text IS NULL OR slug ILIKE $2 ESCAPE '\\' OR display_name ILIKE $2 ESCAPE '\\') "
    "AND ($3::text IS NULL OR slug > $3) ORDER BY slug LIMIT $4";

inline constexpr const char* kInsertTenant = "tenancy.insert_tenant";
inline constexpr const char* kInsertTenantSql =
    "INSERT INTO platform.tenants (id, slug, display_name, time_zone, locale, limits, schema_name, role_name, "
    "schema_version, cell) VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10) "
    "RETURNING " CLINICORE_TENANT_COLUMNS;

inline constexpr const char* kUpdateTenantProfile = "tenancy.update_tenant_profile";
inline constexpr const char* kUpdateTenantProfileSql =
    "UPDATE platform.tenants SET display_name = coalesce($2, display_name), time_zone = coalesce($3, time_zone), "
    "locale = coalesce($4, locale), limits = coalesce($5::jsonb, limits), updated_at = now() "
    "WHERE id = $1::uuid RETURNING " CLINICORE_TENANT_COLUMNS;

// Moves a tenant between states; $3 is the state it must be in now (a compare-and-set).
inline constexpr const char* kUpdateTenantStatus = "tenancy.update_tenant_status";
inline constexpr const char* kUpdateTenantStatusSql =
    "UPDATE platform.tenants SET status = $2, status_reason = $4, "
    "purge_after = CASE WHEN $2 = 'offboarding' THEN now() + make_interval(hours => $5) ELSE NULL END, "
    "updated_at = now() WHERE id = $1::uuid AND status = $3 RETURNING " CLINICORE_TENANT_COLUMNS;

inline constexpr const char* kSetSchemaVersion = "tenancy.set_schema_version";
inline constexpr const char* kSetSchemaVersionSql =
    "UPDATE platform.tenants SET schema_version = $2 WHERE schema_name = $1 AND schema_version < $2";

inline constexpr const char* kSelectBehindTenants = "tenancy.select_behind_tenants";
inline constexpr const char* kSelectBehindTenantsSql =
    "SELECT " CLINICORE_TENANT_COLUMNS " FROM platform.tenants WHERE schema_version < $1 ORDER BY slug";

inline constexpr const char* kInsertAudit = "tenancy.insert_console_audit";
inline constexpr const char* kInsertAuditSql =
    "INSERT INTO platform.console_audit (actor, action, tenant_id, request_id, details) "
    "VALUES ($1, $2, $3::uuid, $4, $5::jsonb)";

// Claims an idempotency key for this transaction; a concurrent holder makes this wait.
inline constexpr const char* kClaimIdempotencyKey = "tenancy.claim_idempotency_key";
inline constexpr const char* kClaimIdempotencyKeySql =
    "INSERT INTO platform.idempotency_keys (scope, key, request_hash, response_status, response_body) "
    "VALUES ($1, $2, $3, 0, 'null'::jsonb) ON CONFLICT (scope, key) DO NOTHING RETURNING key";

inline constexpr const char* kSelectIdempotencyKey = "tenancy.select_idempotency_key";
inline constexpr const char* kSelectIdempotencyKeySql =
    "SELECT request_hash, response_status, response_body::text FROM platform.idempotency_keys "
    "WHERE scope = $1 AND key = $2";

inline constexpr const char* kStoreIdempotentResponse = "tenancy.store_idempotent_response";
inline constexpr const char* kStoreIdempotentResponseSql =
    "UPDATE platform.idempotency_keys SET response_status = $3, response_body = $4::jsonb "
    "WHERE scope = $1 AND key = $2";

inline constexpr const char* kInsertExport = "tenancy.insert_export";
inline constexpr const char* kInsertExportSql =
    "INSERT INTO platform.tenant_exports (tenant_id, slug, location, tables, rows) VALUES ($1::uuid, $2, $3, $4, $5)";

inline constexpr const char* kCountExports = "tenancy.count_exports";
inline constexpr const char* kCountExportsSql =
    "SELECT count(*)::int FROM platform.tenant_exports WHERE tenant_id = $1::uuid";

// Role and schema of a new tenant, and their removal, through the provisioning functions
// (migrations/platform/0009): the service role cannot create or drop roles itself.
inline constexpr const char* kCreateTenantObjects = "tenancy.create_tenant_objects";
inline constexpr const char* kCreateTenantObjectsSql =
    "SELECT provisioning.create_tenant($1::uuid, $2::text, $3::integer)";
// The cell a new tenant joins: the least filled of the first $1 (this node's CLINICORE_DB_CELLS).
inline constexpr const char* kLeastFilledCell = "tenancy.least_filled_cell";
inline constexpr const char* kLeastFilledCellSql = "SELECT provisioning.least_filled_cell($1::integer)";
// Spares (migrations/platform/0011, TenantService::RefillSpares): $1 cell, $2 the binary's
// latest tenant schema version, $3 the new tenant's schema; NULL when none is ready.
inline constexpr const char* kClaimSpare = "tenancy.claim_spare";
inline constexpr const char* kClaimSpareSql = "SELECT provisioning.claim_spare($1::integer, $2::integer, $3::text)";
inline constexpr const char* kCreateSpare = "tenancy.create_spare";
inline constexpr const char* kCreateSpareSql = "SELECT provisioning.create_spare($1::uuid, $2::integer, $3::integer)";
// A role's grant to its cell group given again after it committed, so that every backend
// rebuilds its list of memberships (migrations/platform/0012): false for an unknown id.
inline constexpr const char* kAnnounceTenantRole = "tenancy.announce_tenant_role";
inline constexpr const char* kAnnounceTenantRoleSql = "SELECT provisioning.announce_tenant_role($1::uuid)";
inline constexpr const char* kDropSpare = "tenancy.drop_spare";
inline constexpr const char* kDropSpareSql = "SELECT provisioning.drop_spare($1::uuid)";
// The cells this node serves ($1: CLINICORE_DB_CELLS) that migrate registered with a login,
// with their spares at version $2.
inline constexpr const char* kReadySparesPerCell = "tenancy.ready_spares_per_cell";
inline constexpr const char* kReadySparesPerCellSql =
    "SELECT c.cell, count(s.tenant_id)::int FROM provisioning.cells c LEFT JOIN provisioning.spares s "
    "ON s.cell = c.cell AND s.schema_version = $2::integer WHERE c.cell < $1::integer AND c.login_role IS NOT NULL "
    "GROUP BY c.cell ORDER BY c.cell";
// Serializes the refills of one cell ($1) over every worker, until the transaction ends.
inline constexpr const char* kLockCellSpares = "tenancy.lock_cell_spares";
inline constexpr const char* kLockCellSparesSql =
    "SELECT pg_advisory_xact_lock(hashtext('clinicore.tenant-spares'), $1::integer)";
inline constexpr const char* kCountReadySpares = "tenancy.count_ready_spares";
inline constexpr const char* kCountReadySparesSql =
    "SELECT count(*)::int FROM provisioning.spares WHERE cell = $1::integer AND schema_version = $2::integer";
// Spares to drop in this node's cells ($3): older than the latest version ($1), and beyond the
// $2 oldest at it. Newer ones are a newer binary's, left to it.
inline constexpr const char* kSurplusSpares = "tenancy.surplus_spares";
inline constexpr const char* kSurplusSparesSql =
    "SELECT tenant_id::text FROM (SELECT tenant_id, schema_version, row_number() OVER "
    "(PARTITION BY cell, schema_version ORDER BY created_at, tenant_id) AS rank FROM provisioning.spares "
    "WHERE cell < $3::integer) s WHERE schema_version < $1::integer OR (schema_version = $1::integer AND "
    "rank > $2::integer)";
inline constexpr const char* kDropTenantObjects = "tenancy.drop_tenant_objects";
inline constexpr const char* kDropTenantObjectsSql = "SELECT provisioning.drop_tenant($1::uuid)";

inline constexpr const char* kDeleteTenant = "tenancy.delete_tenant";
inline constexpr const char* kDeleteTenantSql =
    "DELETE FROM platform.tenants WHERE id = $1::uuid AND status = 'offboarding' AND purge_after <= now()";

// Offboarding tenants whose retention has passed, with or without an export.
inline constexpr const char* kSelectPurgeCandidates = "tenancy.select_purge_candidates";
inline constexpr const char* kSelectPurgeCandidatesSql =
    "SELECT " CLINICORE_TENANT_COLUMNS
    " FROM platform.tenants WHERE status = 'offboarding' AND purge_after <= now() "
    "ORDER BY purge_after";

// Inside a tenant scope: the tenant's own schema version and the database clock.
inline constexpr const char* kTenantStatus = "tenancy.tenant_status";
inline constexpr const char* kTenantStatusSql =
    "SELECT coalesce(max(version), 0)::int, "
    "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM schema_migrations";

}  // namespace clinicore::tenancy::queries
