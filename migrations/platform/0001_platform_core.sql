-- The platform schema holds what all tenants share. The migration runner creates the schema
-- and its schema_migrations table itself. Tenant roles get no access to anything here.
REVOKE ALL ON SCHEMA platform FROM PUBLIC;

-- The tenant registry: each clinic group is one tenant with its own schema and role.
-- schema_name and role_name are derived by the service, never taken from a request.
CREATE TABLE platform.tenants (
    id              uuid PRIMARY KEY,
    slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$'
                                                AND length(slug) BETWEEN 3 AND 40),
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    status          text NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'suspended', 'offboarding')),
    time_zone       text NOT NULL DEFAULT 'UTC',
    locale          text NOT NULL DEFAULT 'en',
    limits          jsonb NOT NULL DEFAULT '{}'::jsonb,
    schema_name     text NOT NULL UNIQUE,
    role_name       text NOT NULL UNIQUE,
    schema_version  integer NOT NULL DEFAULT 0,
    status_reason   text,
    purge_after     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_status_idx ON platform.tenants (status, id);
CREATE INDEX tenants_version_idx ON platform.tenants (schema_version);

-- Every console operation, who did it and what changed. Append-only.
CREATE TABLE platform.console_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    tenant_id   uuid,
    request_id  text,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX console_audit_tenant_idx ON platform.console_audit (tenant_id, at);

-- Replays of console requests that carried an Idempotency-Key: the same key and body give
-- the same answer; the same key with another body is refused.
CREATE TABLE platform.idempotency_keys (
    scope            text NOT NULL,
    key              text NOT NULL,
    request_hash     text NOT NULL,
    response_status  integer NOT NULL,
    response_body    jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- Exports of a tenant's data taken before it is dropped (offboarding). A tenant is purged
-- only after its retention has passed AND an export exists.
CREATE TABLE platform.tenant_exports (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    slug        text NOT NULL,
    location    text NOT NULL,
    tables      integer NOT NULL,
    rows        bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_exports_tenant_idx ON platform.tenant_exports (tenant_id, created_at);
