-- Durable jobs (docs/jobs.md, decisions/0005-job-queue-placement.md).
--
-- The queue has a schema of its own, `queue`, because a job must be enqueued in the SAME
-- transaction as the change that causes it, and most changes run inside a tenant's
-- transaction, as the tenant's role, which has no access to the `platform` schema. Tenant
-- roles get exactly one door here: they may INSERT jobs for their own tenant and read back
-- their own rows (row-level security; the tenant is derived from the role, so it cannot be
-- forged). Everything else (claiming, leases, schedules) is the service role's, which owns
-- these tables.
CREATE SCHEMA queue;
REVOKE ALL ON SCHEMA queue FROM PUBLIC;
GRANT USAGE ON SCHEMA queue TO PUBLIC;

-- The tenant of the current role: tenant roles are named tenant_<id without dashes>
-- (tenancy::RoleNameFor). NULL for any other role.
CREATE FUNCTION queue.caller_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN pg_catalog.current_user()::text OPERATOR(pg_catalog.~) '^tenant_[0-9a-f]{32}$'
              THEN pg_catalog.substr(pg_catalog.current_user()::text, 8)::uuid END
$$;
REVOKE ALL ON FUNCTION queue.caller_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION queue.caller_tenant() TO PUBLIC;

-- One row per job. tenant_id 00000000-0000-0000-0000-000000000000 is the platform's own queue.
-- States: available (due at run_at; also while waiting for a retry), running (claimed under
-- a lease), completed, dead (out of attempts or failed for good; kept until retried or
-- discarded from the console), discarded. Finished rows are pruned after the retention.
CREATE TABLE queue.jobs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         uuid NOT NULL,
    kind              text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$' AND length(kind) <= 100),
    payload           jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
    idempotency_key   text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    state             text NOT NULL DEFAULT 'available'
                           CHECK (state IN ('available', 'running', 'completed', 'dead', 'discarded')),
    priority          smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3),
    run_at            timestamptz NOT NULL DEFAULT now(),
    attempt           integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts      integer NOT NULL DEFAULT 20 CHECK (max_attempts BETWEEN 1 AND 1000),
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at        timestamptz,
    finished_at       timestamptz,
    locked_by         text,
    lease_expires_at  timestamptz,
    last_error        text,
    errors            jsonb NOT NULL DEFAULT '[]'::jsonb,
    CHECK (state <> 'running' OR (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL))
) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 0);

-- Enqueue deduplication: one job per tenant, kind and idempotency key while the row is kept.
CREATE UNIQUE INDEX jobs_idempotency_idx ON queue.jobs (tenant_id, kind, idempotency_key);
-- The claim and the discovery of tenants with work: one range per tenant and priority.
CREATE INDEX jobs_available_idx ON queue.jobs (tenant_id, priority, run_at, id) WHERE state = 'available';
-- Per-tenant running counts (concurrency limits) and expired leases.
CREATE INDEX jobs_running_idx ON queue.jobs (tenant_id) WHERE state = 'running';
CREATE INDEX jobs_lease_idx ON queue.jobs (lease_expires_at) WHERE state = 'running';
-- The console: dead jobs and jobs waiting for a retry.
CREATE INDEX jobs_dead_idx ON queue.jobs (tenant_id, id) WHERE state = 'dead';
CREATE INDEX jobs_failing_idx ON queue.jobs (tenant_id, id) WHERE state = 'available' AND last_error IS NOT NULL;
-- Pruning finished jobs after the retention.
CREATE INDEX jobs_finished_idx ON queue.jobs (finished_at) WHERE state IN ('completed', 'discarded');

ALTER TABLE queue.jobs ENABLE ROW LEVEL SECURITY;
-- The owner (the service role) is not subject to these policies; tenant roles are, and any
-- other role matches none of them (caller_tenant() is NULL), so it sees and inserts nothing.
CREATE POLICY jobs_tenant_insert ON queue.jobs FOR INSERT WITH CHECK (tenant_id = queue.caller_tenant());
CREATE POLICY jobs_tenant_select ON queue.jobs FOR SELECT USING (tenant_id = queue.caller_tenant());
REVOKE ALL ON queue.jobs FROM PUBLIC;
GRANT INSERT (tenant_id, kind, payload, idempotency_key, priority, run_at, max_attempts) ON queue.jobs TO PUBLIC;
GRANT SELECT (id, tenant_id, kind, idempotency_key, state, run_at) ON queue.jobs TO PUBLIC;

-- One tenant's share of a claim: up to p_quota due jobs of the kinds the calling worker runs
-- (p_kinds), never more than p_limit running for the tenant over all workers, locked for the
-- caller's claim: highest priority first, oldest first within a priority.
--   * Claims for one tenant are serialized over all workers by a transaction-level advisory
--     lock, tried and never waited for (a tenant another worker is claiming for right now is
--     skipped this time). The running count is read after the lock is held, in the fresh
--     snapshot a VOLATILE function's query gets, so it includes every other worker's committed
--     claim: the limit holds.
--   * FOR UPDATE SKIP LOCKED: claimers never wait for each other nor take the same job.
--   * Each priority is its own range of jobs_available_idx, so jobs due later are never stepped
--     over (a LIMIT with FOR UPDATE is not allowed inside a UNION, hence a function).
-- Only the service role calls it.
CREATE FUNCTION queue.claim_due(p_tenant uuid, p_quota integer, p_limit integer, p_kinds text[])
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE ROWS 8 AS $$
DECLARE
  wanted integer;
  got integer;
BEGIN
  IF p_quota <= 0 OR NOT pg_try_advisory_xact_lock(1785688691, hashtext(p_tenant::text)) THEN
    RETURN;
  END IF;
  SELECT least(p_quota, p_limit - count(*))::integer INTO wanted
    FROM queue.jobs WHERE state = 'running' AND tenant_id = p_tenant;
  FOR p IN 0..3 LOOP
    EXIT WHEN wanted <= 0;
    RETURN QUERY
      SELECT q.id FROM queue.jobs q
      WHERE q.tenant_id = p_tenant AND q.state = 'available' AND q.priority = p AND q.run_at <= now()
        AND q.kind = ANY (p_kinds)
      ORDER BY q.run_at, q.id LIMIT wanted FOR UPDATE SKIP LOCKED;
    GET DIAGNOSTICS got = ROW_COUNT;
    wanted := wanted - got;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION queue.claim_due(uuid, integer, integer, text[]) FROM PUBLIC;

-- Recurring schedules registered by the code (JobRegistry::Schedule): one row per schedule and
-- tenant (the nil tenant for platform schedules). A worker fires a row that is due under a
-- row lock (SKIP LOCKED), enqueues its job with the idempotency key schedule:<name>:<time>
-- and moves next_fire_at on, in one transaction: once per period, however many workers run.
CREATE TABLE queue.schedules (
    name           text NOT NULL,
    tenant_id      uuid NOT NULL,
    spec           text NOT NULL,
    next_fire_at   timestamptz,  -- NULL until a worker computes it
    last_fired_at  timestamptz,
    last_job_id    bigint,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, tenant_id)
);
CREATE INDEX schedules_due_idx ON queue.schedules (next_fire_at);
REVOKE ALL ON queue.schedules FROM PUBLIC;
