-- Plugins (docs/plugin-guide.md, docs/decisions/0006-plugin-boundary.md).
--
-- `serve` never loads plugin code. It validates a tenant's plugin config against the schema a
-- worker (or `clinicore plugin install`) recorded here when it loaded the plugin file.

-- Every plugin file a worker or `clinicore plugin install` loaded and accepted: its
-- descriptor, so the API can list plugins and validate configs without executing them. A
-- name + version is immutable: the same pair from a different file is refused.
CREATE TABLE platform.plugin_installs (
    name              text NOT NULL CHECK (name ~ '^[a-z][a-z0-9-]{1,62}$'),
    version           text NOT NULL CHECK (length(version) BETWEEN 5 AND 64),
    kind              text NOT NULL CHECK (kind IN ('channel', 'lead_source', 'loyalty_rule')),
    description       text NOT NULL DEFAULT '',
    abi_major         integer NOT NULL,
    abi_minor         integer NOT NULL,
    build_flags       jsonb NOT NULL DEFAULT '[]'::jsonb,
    config_schema     jsonb NOT NULL,
    secret_fields     jsonb NOT NULL DEFAULT '[]'::jsonb,
    limits            jsonb NOT NULL DEFAULT '{}'::jsonb,
    has_check_config  boolean NOT NULL DEFAULT false,
    file_name         text NOT NULL,
    file_sha256       text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    installed_by      text NOT NULL,
    installed_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

-- The plugins a tenant enabled: one version per plugin name; the config without its secret
-- fields; the secret fields sealed together (XChaCha20-Poly1305 with CLINICORE_PLUGIN_SECRET_KEY,
-- bound to tenant and plugin: a sealed value copied to another row does not open); and the hash
-- that keys the worker's plugin instance (tenant + plugin + version + config hash).
CREATE TABLE platform.tenant_plugins (
    tenant_id       uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    plugin_name     text NOT NULL,
    plugin_version  text NOT NULL,
    config          jsonb NOT NULL DEFAULT '{}'::jsonb,
    sealed_secrets  bytea,
    secret_fields   jsonb NOT NULL DEFAULT '[]'::jsonb,
    config_hash     text NOT NULL CHECK (config_hash ~ '^[0-9a-f]{64}$'),
    check_status    text NOT NULL DEFAULT 'pending'
                         CHECK (check_status IN ('pending', 'passed', 'failed', 'not_offered', 'error')),
    check_detail    jsonb,
    checked_at      timestamptz,
    enabled_by      text NOT NULL,
    enabled_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, plugin_name),
    FOREIGN KEY (plugin_name, plugin_version) REFERENCES platform.plugin_installs (name, version)
);
CREATE INDEX tenant_plugins_plugin_idx ON platform.tenant_plugins (plugin_name, plugin_version);

-- Consecutive failures of a plugin for one tenant (its fault: it threw, returned garbage or
-- missed its deadline). At CLINICORE_PLUGIN_QUARANTINE_AFTER it is quarantined with the reason;
-- a success resets the count; a console admin releases a quarantine.
CREATE TABLE platform.plugin_health (
    tenant_id             uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    plugin_name           text NOT NULL,
    consecutive_failures  integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_failure_at       timestamptz,
    last_failure          text,
    last_success_at       timestamptz,
    quarantined_at        timestamptz,
    quarantine_reason     text,
    released_at           timestamptz,
    released_by           text,
    PRIMARY KEY (tenant_id, plugin_name)
);

-- A plugin's own key-value state, per tenant and plugin name (the kv_* host services).
CREATE TABLE platform.plugin_kv (
    tenant_id    uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    plugin_name  text NOT NULL,
    key          bytea NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 200),
    value        bytea NOT NULL CHECK (octet_length(value) <= 65536),
    expires_at   timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, plugin_name, key)
);
CREATE INDEX plugin_kv_expiry_idx ON platform.plugin_kv (expires_at) WHERE expires_at IS NOT NULL;
