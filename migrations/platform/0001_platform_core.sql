-- The platform schema holds what is shared by all tenants. Its schema_migrations table is
-- created by the migration runner itself.

-- The tenant registry: each clinic group is one tenant with its own schema and role.
CREATE TABLE platform.tenants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'offboarding')),
    time_zone     text NOT NULL DEFAULT 'UTC',
    locale        text NOT NULL DEFAULT 'en',
    limits        jsonb NOT NULL DEFAULT '{}'::jsonb,
    schema_name   text NOT NULL UNIQUE,
    role_name     text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
