-- Runs inside each tenant's schema as the tenant's role (search_path is that schema alone).
-- Tenant settings: one JSON value per key; later modules add their keys.
CREATE TABLE settings (
    key         text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]{0,99}$'),
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
