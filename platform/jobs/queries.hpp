#pragma once

#include "platform/db/sql.hpp"

// Every statement of the jobs component, by name. Registered with the pool at start-up
// (RegisterJobStatements). Tables: migrations/platform/0003_jobs.sql.
namespace clinicore::jobs::queries {

#define CLINICORE_NIL_UUID "'00000000-0000-0000-0000-000000000000'::uuid"
#define CLINICORE_EPOCH_MS(column) "(extract(epoch FROM " column ") * 1000)::bigint"

// Runs in platform transactions AND in tenant transactions (as the tenant's role, which may
// only insert and read its own tenant's rows: row-level security on queue.jobs). $1 tenant id
// or NULL (the caller's own tenant in a tenant transaction, else the platform), $2 kind,
// $3 payload, $4 idempotency key or NULL (random), $5 priority, $6 run_at in Unix ms or NULL
// (now), $7 max attempts.
inline constexpr const char* kEnqueue = "jobs.enqueue";
inline constexpr const char* kEnqueueSql =
    "INSERT INTO queue.jobs (tenant_id, kind, payload, idempotency_key, priority, run_at, max_attempts) "
    "VALUES (coalesce($1::uuid, queue.caller_tenant(), " CLINICORE_NIL_UUID
    "), $2, $3::jsonb, coalesce($4, gen_random_uuid()::text), $5, "
    "coalesce(to_timestamp($6::bigint / 1000.0), now()), $7) "
    "ON CONFLICT (tenant_id, kind, idempotency_key) DO NOTHING "
    "RETURNING id, tenant_id::text, " CLINICORE_EPOCH_MS("run_at");

// The job an Enqueue with an existing key returns ($1 tenant or NULL, $2 kind, $3 key).
inline constexpr const char* kSelectByKey = "jobs.select_job_by_key";
inline constexpr const char* kSelectByKeySql =
    "SELECT id, tenant_id::text, " CLINICORE_EPOCH_MS("run_at")
    " FROM queue.jobs "
    "WHERE tenant_id = coalesce($1::uuid, queue.caller_tenant(), " CLINICORE_NIL_UUID
    ") AND kind = $2 AND idempotency_key = $3";

#define CLINICORE_JOB_COLUMNS(t)                                                                         \
  t ".id, " t ".tenant_id::text, " t ".kind, " t ".payload::text, " t ".attempt, " t ".max_attempts, " t \
    ".idempotency_key, " CLINICORE_EPOCH_MS(t ".run_at") ", " CLINICORE_EPOCH_MS(t ".created_at")

// One claim, one statement (autocommit): for each candidate tenant ($1: [{tenant_id, quota,
// lim}] in the worker's round-robin order), the jobs queue.claim_due picks and locks (at most
// quota, never more than lim running for the tenant over all workers; see 0003_jobs.sql), of
// the kinds this worker runs ($2), become running under this worker's lease ($4 ms; $3 its id).
// No state condition here: the function holds each picked row's lock since it saw it available,
// so nothing changed it meanwhile, and such a condition would lead the planner to scan the
// whole jobs_available_idx for the ids instead of probing the primary key.
inline constexpr const char* kClaim = "jobs.claim";
inline constexpr const char* kClaimSql =
    "UPDATE queue.jobs j SET state = 'running', attempt = j.attempt + 1, locked_by = $3, "
    "lease_expires_at = now() + $4::bigint * interval '1 millisecond', started_at = clock_timestamp(), "
    "finished_at = NULL "
    "WHERE j.id = ANY (ARRAY("
    "  SELECT d.id FROM jsonb_to_recordset($1::jsonb) AS c(tenant_id uuid, quota int, lim int) "
    "  CROSS JOIN LATERAL queue.claim_due(c.tenant_id, c.quota, c.lim, $2::text[]) AS d(id)"
    ")) "
    "RETURNING " CLINICORE_JOB_COLUMNS("j");

// Writes the outcomes of finished attempts in one statement. $1: [{id, attempt, state,
// delay_ms, error, release}]; a row only changes while this worker still holds that attempt
// (state running, locked_by = $2, same attempt), so an outcome that arrives after the lease
// was lost and the job reclaimed changes nothing. `release` gives the attempt back (shutdown).
// The last 10 errors are kept, newest first.
inline constexpr const char* kSettle = "jobs.settle";
inline constexpr const char* kSettleSql =
    "UPDATE queue.jobs j SET "
    "state = o.state, "
    "run_at = CASE WHEN o.state = 'available' THEN now() + o.delay_ms * interval '1 millisecond' ELSE j.run_at END, "
    "finished_at = CASE WHEN o.state = 'available' THEN NULL ELSE now() END, "
    "attempt = CASE WHEN o.release THEN j.attempt - 1 ELSE j.attempt END, "
    "last_error = coalesce(o.error, j.last_error), "
    "errors = CASE WHEN o.error IS NULL THEN j.errors ELSE jsonb_path_query_array(jsonb_build_array("
    "  jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', o.error, 'worker', $2::text)) || j.errors, "
    "  '$[0 to 9]') END, "
    "locked_by = NULL, lease_expires_at = NULL "
    "FROM jsonb_to_recordset($1::jsonb) AS o(id bigint, attempt int, state text, delay_ms bigint, error text, "
    "release bool) "
    "WHERE j.id = o.id AND j.attempt = o.attempt AND j.state = 'running' AND j.locked_by = $2 "
    "RETURNING j.id";

// Extends the leases of this worker's running jobs; returns the ids it still holds.
inline constexpr const char* kRenewLeases = "jobs.renew_leases";
inline constexpr const char* kRenewLeasesSql =
    "UPDATE queue.jobs SET lease_expires_at = now() + $3::bigint * interval '1 millisecond' "
    "WHERE id = ANY($2::bigint[]) AND state = 'running' AND locked_by = $1 RETURNING id";

// Jobs whose worker stopped renewing its lease (killed, frozen, cut off from the database):
// due again after the backoff of the attempt that was lost, or dead once it was the last. $1
// backoff base ms, $2 backoff cap ms, $3 batch size. Returns the tenants with reclaimed jobs.
inline constexpr const char* kReclaimExpired = "jobs.reclaim_expired";
inline constexpr const char* kReclaimExpiredSql =
    "WITH expired AS ("
    "  SELECT id FROM queue.jobs WHERE state = 'running' AND lease_expires_at < now() "
    "  ORDER BY lease_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED"
    ") "
    "UPDATE queue.jobs j SET "
    "state = CASE WHEN j.attempt >= j.max_attempts THEN 'dead' ELSE 'available' END, "
    "run_at = now() + least($2::bigint, $1::bigint * power(2, least(j.attempt - 1, 40))) "
    "  * (0.5 + random() / 2) * interval '1 millisecond', "
    "finished_at = CASE WHEN j.attempt >= j.max_attempts THEN now() ELSE NULL END, "
    "last_error = 'lease expired: worker ' || j.locked_by || ' stopped renewing it during attempt ' || j.attempt, "
    "errors = jsonb_path_query_array(jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), "
    "  'error', 'lease expired', 'worker', j.locked_by)) || j.errors, '$[0 to 9]'), "
    "locked_by = NULL, lease_expires_at = NULL "
    "FROM expired WHERE j.id = expired.id RETURNING j.tenant_id::text, j.state, j.id, j.kind, j.attempt, "
    "j.payload::text";

// The tenants that have available jobs of the given kinds ($1), with the earliest run_at of
// each: a loose index scan (one index probe per tenant, then one per priority), so the cost
// follows the number of tenants with work, not the number of jobs.
#define CLINICORE_NEXT_BRANCH(p)                                                                  \
  "(SELECT q.run_at FROM queue.jobs q WHERE q.tenant_id = t.tenant_id AND q.state = 'available' " \
  "AND q.priority = " p " AND q.kind = ANY($1::text[]) ORDER BY q.run_at LIMIT 1)"
inline constexpr const char* kDueTenants = "jobs.due_tenants";
inline constexpr const char* kDueTenantsSql =
    "WITH RECURSIVE t(tenant_id) AS ("
    "  (SELECT tenant_id FROM queue.jobs WHERE state = 'available' ORDER BY tenant_id LIMIT 1) "
    "  UNION ALL "
    "  SELECT (SELECT q.tenant_id FROM queue.jobs q WHERE q.state = 'available' AND q.tenant_id > t.tenant_id "
    "          ORDER BY q.tenant_id LIMIT 1) "
    "  FROM t WHERE t.tenant_id IS NOT NULL"
    "), n AS MATERIALIZED ("
    "  SELECT t.tenant_id, least(" CLINICORE_NEXT_BRANCH("0") ", " CLINICORE_NEXT_BRANCH("1") ", " CLINICORE_NEXT_BRANCH(
        "2") ", " CLINICORE_NEXT_BRANCH("3")
    ") AS next_run_at FROM t WHERE t.tenant_id IS NOT NULL"
    ") "
    "SELECT tenant_id::text, " CLINICORE_EPOCH_MS("next_run_at") ", " CLINICORE_EPOCH_MS(
        "now()") " FROM n WHERE next_run_at IS NOT NULL";

// Recurring schedules. One row per (schedule, tenant); platform schedules use the nil tenant.
// $1 name, $2 spec text: a changed spec recomputes the next fire time.
inline constexpr const char* kSyncPlatformSchedule = "jobs.sync_platform_schedule";
inline constexpr const char* kSyncPlatformScheduleSql =
    "INSERT INTO queue.schedules (name, tenant_id, spec) VALUES ($1, " CLINICORE_NIL_UUID
    ", $2) "
    "ON CONFLICT (name, tenant_id) DO UPDATE SET spec = EXCLUDED.spec, next_fire_at = NULL, updated_at = now() "
    "WHERE queue.schedules.spec <> EXCLUDED.spec";

inline constexpr const char* kSyncTenantSchedule = "jobs.sync_tenant_schedule";
inline constexpr const char* kSyncTenantScheduleSql =
    "INSERT INTO queue.schedules (name, tenant_id, spec) SELECT $1, t.id, $2 FROM platform.tenants t "
    "ON CONFLICT (name, tenant_id) DO UPDATE SET spec = EXCLUDED.spec, next_fire_at = NULL, updated_at = now() "
    "WHERE queue.schedules.spec <> EXCLUDED.spec";

// Schedule rows of tenants that no longer exist (purged).
inline constexpr const char* kDeleteOrphanSchedules = "jobs.delete_orphan_schedules";
inline constexpr const char* kDeleteOrphanSchedulesSql =
    "DELETE FROM queue.schedules s WHERE s.tenant_id <> " CLINICORE_NIL_UUID
    " AND NOT EXISTS (SELECT 1 FROM platform.tenants t WHERE t.id = s.tenant_id)";

// Schedules due now (or never computed), locked so that of several workers exactly one fires
// each; $1 registered schedule names, $2 batch size.
inline constexpr const char* kLockDueSchedules = "jobs.lock_due_schedules";
inline constexpr const char* kLockDueSchedulesSql =
    "SELECT name, tenant_id::text, " CLINICORE_EPOCH_MS("next_fire_at") ", " CLINICORE_EPOCH_MS(
        "now()") " FROM queue.schedules "
                 "WHERE name = ANY($1::text[]) AND (next_fire_at IS NULL OR next_fire_at <= now()) "
                 "ORDER BY next_fire_at NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED";

// $1 name, $2 tenant, $3 next fire (Unix ms), $4 fired (bool), $5 job id or NULL.
inline constexpr const char* kAdvanceSchedule = "jobs.advance_schedule";
inline constexpr const char* kAdvanceScheduleSql =
    "UPDATE queue.schedules SET next_fire_at = to_timestamp($3::bigint / 1000.0), "
    "last_fired_at = CASE WHEN $4 THEN now() ELSE last_fired_at END, "
    "last_job_id = CASE WHEN $4 THEN $5 ELSE last_job_id END, updated_at = now() "
    "WHERE name = $1 AND tenant_id = $2::uuid";

inline constexpr const char* kEarliestSchedule = "jobs.earliest_schedule";
inline constexpr const char* kEarliestScheduleSql = "SELECT " CLINICORE_EPOCH_MS(
    "min(next_fire_at)") ", " CLINICORE_EPOCH_MS("now()") " FROM queue.schedules WHERE name = ANY($1::text[])";

// Finished jobs past their retention ($1 ms), at most $2 at a time.
inline constexpr const char* kPrune = "jobs.prune";
inline constexpr const char* kPruneSql =
    "DELETE FROM queue.jobs WHERE id IN (SELECT id FROM queue.jobs WHERE state IN ('completed', 'discarded') "
    "AND finished_at < now() - $1::bigint * interval '1 millisecond' LIMIT $2)";

// Jobs of tenants that no longer exist (purged with their schema), at most $1 at a time.
inline constexpr const char* kDeleteOrphanJobs = "jobs.delete_orphan_jobs";
inline constexpr const char* kDeleteOrphanJobsSql =
    "DELETE FROM queue.jobs WHERE id IN (SELECT j.id FROM queue.jobs j WHERE j.tenant_id <> " CLINICORE_NIL_UUID
    " AND j.state <> 'running' AND NOT EXISTS (SELECT 1 FROM platform.tenants t WHERE t.id = j.tenant_id) LIMIT $1)";

// Depth for /metrics: jobs by kind and state (due and scheduled apart), completed excluded.
inline constexpr const char* kDepthByKind = "jobs.depth_by_kind";
inline constexpr const char* kDepthByKindSql =
    "SELECT kind, "
    "CASE WHEN state = 'available' AND run_at <= now() THEN 'due' "
    "WHEN state = 'available' THEN 'scheduled' ELSE state END AS s, count(*)::bigint, "
    "coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE state = 'available' AND run_at <= now())), 0) "
    "FROM queue.jobs WHERE state IN ('available', 'running', 'dead') GROUP BY 1, 2";

// ---- console ------------------------------------------------------------------------------

// Queue depth per tenant and kind; $1 tenant or NULL for all.
inline constexpr const char* kConsoleQueues = "jobs.console_queues";
inline constexpr const char* kConsoleQueuesSql =
    "SELECT j.tenant_id::text, t.slug, j.kind, "
    "count(*) FILTER (WHERE j.state = 'available' AND j.run_at <= now())::bigint, "
    "count(*) FILTER (WHERE j.state = 'available' AND j.run_at > now())::bigint, "
    "count(*) FILTER (WHERE j.state = 'running')::bigint, "
    "count(*) FILTER (WHERE j.state = 'available' AND j.last_error IS NOT NULL)::bigint, "
    "count(*) FILTER (WHERE j.state = 'dead')::bigint, "
    "to_char(min(j.run_at) FILTER (WHERE j.state = 'available' AND j.run_at <= now()) AT TIME ZONE 'UTC', "
    "  'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
    "FROM queue.jobs j LEFT JOIN platform.tenants t ON t.id = j.tenant_id "
    "WHERE j.state IN ('available', 'running', 'dead') AND ($1::uuid IS NULL OR j.tenant_id = $1::uuid) "
    "GROUP BY 1, 2, 3 ORDER BY 2 NULLS FIRST, 1, 3";

#define CLINICORE_CONSOLE_JOB_COLUMNS \
  "j.id, j.tenant_id::text, t.slug, j.kind, j.state, j.priority, j.attempt, j.max_attempts, " \
  "j.idempotency_key, " \
  CLINICORE_SQL_INSTANT("j.run_at") ", " CLINICORE_SQL_INSTANT("j.created_at") ", " CLINICORE_SQL_INSTANT("j.started_at") ", "              \
  CLINICORE_SQL_INSTANT("j.finished_at") ", j.locked_by, " CLINICORE_SQL_INSTANT("j.lease_expires_at") ", j.last_error, "          \
  "j.errors::text, octet_length(j.payload::text)"

// Jobs in one state, newest first (keyset on id): one statement per state, each with its
// state as a literal so that the planner uses that state's partial index. $1 tenant or NULL;
// $2 kind or NULL; $3 cursor (id) or NULL; $4 limit.
#define CLINICORE_CONSOLE_LIST(predicate)                                                    \
  "SELECT " CLINICORE_CONSOLE_JOB_COLUMNS                                                    \
  " FROM queue.jobs j LEFT JOIN platform.tenants t ON t.id = j.tenant_id WHERE " predicate   \
  " AND ($1::uuid IS NULL OR j.tenant_id = $1::uuid) AND ($2::text IS NULL OR j.kind = $2) " \
  "AND ($3::bigint IS NULL OR j.id < $3) ORDER BY j.id DESC LIMIT $4"
struct ConsoleListStatement {
  const char* state;  // the console's name for it
  const char* name;
  const char* sql;
};
inline constexpr ConsoleListStatement kConsoleListJobs[] = {
    {"dead", "jobs.console_list_dead", CLINICORE_CONSOLE_LIST("j.state = 'dead'")},
    {"failing", "jobs.console_list_failing",
     CLINICORE_CONSOLE_LIST("j.state = 'available' AND j.last_error IS NOT NULL")},
    {"running", "jobs.console_list_running", CLINICORE_CONSOLE_LIST("j.state = 'running'")},
    {"available", "jobs.console_list_available", CLINICORE_CONSOLE_LIST("j.state = 'available'")},
    {"completed", "jobs.console_list_completed", CLINICORE_CONSOLE_LIST("j.state = 'completed'")},
    {"discarded", "jobs.console_list_discarded", CLINICORE_CONSOLE_LIST("j.state = 'discarded'")},
};

inline constexpr const char* kConsoleGetJob = "jobs.console_get_job";
inline constexpr const char* kConsoleGetJobSql =
    "SELECT " CLINICORE_CONSOLE_JOB_COLUMNS
    " FROM queue.jobs j LEFT JOIN platform.tenants t ON t.id = j.tenant_id WHERE j.id = $1";

// A dead job runs again now; when it has used every attempt it gets one more.
inline constexpr const char* kConsoleRetry = "jobs.console_retry";
inline constexpr const char* kConsoleRetrySql =
    "UPDATE queue.jobs SET state = 'available', run_at = now(), finished_at = NULL, "
    "max_attempts = greatest(max_attempts, attempt + 1) WHERE id = $1 AND state = 'dead' "
    "RETURNING tenant_id::text, kind";

inline constexpr const char* kConsoleDiscard = "jobs.console_discard";
inline constexpr const char* kConsoleDiscardSql =
    "UPDATE queue.jobs SET state = 'discarded', finished_at = now() WHERE id = $1 AND state = 'dead' "
    "RETURNING tenant_id::text, kind";

inline constexpr const char* kConsoleSchedules = "jobs.console_schedules";
inline constexpr const char* kConsoleSchedulesSql =
    "SELECT s.name, s.tenant_id::text, t.slug, s.spec, " CLINICORE_SQL_INSTANT("s.next_fire_at") ", " CLINICORE_SQL_INSTANT(
        "s.last_fired_at") ", s.last_job_id FROM queue.schedules s LEFT JOIN platform.tenants t ON t.id = s.tenant_id "
                           "WHERE ($1::uuid IS NULL OR s.tenant_id = $1::uuid) "
                           "AND ($2::text IS NULL OR (s.name, s.tenant_id::text) > ($2, $3)) "
                           "ORDER BY s.name, s.tenant_id::text LIMIT $4";

inline constexpr const char* kInsertAudit = "jobs.insert_console_audit";
inline constexpr const char* kInsertAuditSql =
    "INSERT INTO platform.console_audit (actor, action, tenant_id, request_id, details) "
    "VALUES ($1, $2, nullif($3::uuid, " CLINICORE_NIL_UUID "), $4, $5::jsonb)";

#undef CLINICORE_CONSOLE_LIST
#undef CLINICORE_CONSOLE_JOB_COLUMNS
#undef CLINICORE_TS
#undef CLINICORE_NEXT_BRANCH
#undef CLINICORE_JOB_COLUMNS
#undef CLINICORE_EPOCH_MS
#undef CLINICORE_NIL_UUID

}  // namespace clinicore::jobs::queries
