-- Least-privilege database roles (docs/tenancy.md, "Database roles").
--
--   provisioner (the role running `clinicore migrate`, the database's owner): owns every
--     platform object and the provisioning functions below. CREATEROLE, used for nothing else.
--   clinicore_platform (NOLOGIN): the DML the service needs on platform objects, and nothing it
--     could use to change them (no ownership, no DDL). Entered per transaction.
--   clinicore_runtime (NOLOGIN NOINHERIT): the group every tenant role and clinicore_platform
--     are granted to. `serve` and `work` log in as a NOINHERIT member of it (clinicore_app in
--     scripts/), so a session that has not entered a role, or that ran RESET ROLE, holds only
--     what PUBLIC holds.
--
-- The cluster-wide roles are normally made by whoever bootstraps the cluster (scripts/lib/
-- common.sh, pg_cluster_ensure_db); this migration makes them when they are missing, tolerating
-- a concurrent migration of another database of the same cluster doing the same.
DO $$
DECLARE
  wanted text;
BEGIN
  FOREACH wanted IN ARRAY ARRAY['clinicore_platform', 'clinicore_runtime'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = wanted) THEN
      BEGIN
        EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN NOINHERIT', wanted);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;  -- another database's migration made it meanwhile
      END;
    END IF;
  END LOOP;
END
$$;

-- Membership: the runtime group reaches the platform role; the provisioner reaches everything
-- the runtime does (it migrates tenant schemas as their roles).
DO $$
DECLARE
  grant_pair text[];
BEGIN
  FOREACH grant_pair SLICE 1 IN ARRAY ARRAY[['clinicore_platform', 'clinicore_runtime'],
                                            ['clinicore_runtime', current_user::text]] LOOP
    IF NOT pg_catalog.pg_has_role(grant_pair[2], grant_pair[1], 'MEMBER') THEN
      BEGIN
        EXECUTE pg_catalog.format('GRANT %I TO %I', grant_pair[1], grant_pair[2]);
      EXCEPTION WHEN unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
END
$$;

-- The platform role's rights: rows, never structure.
GRANT USAGE ON SCHEMA platform TO clinicore_platform;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA platform TO clinicore_platform;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA queue TO clinicore_platform;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA platform TO clinicore_platform;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA queue TO clinicore_platform;
GRANT EXECUTE ON FUNCTION queue.claim_due(uuid, integer, integer, text[]) TO clinicore_platform;
-- Objects later migrations create come with the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA platform GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO clinicore_platform;
ALTER DEFAULT PRIVILEGES IN SCHEMA queue GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO clinicore_platform;
ALTER DEFAULT PRIVILEGES IN SCHEMA platform GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO clinicore_platform;
ALTER DEFAULT PRIVILEGES IN SCHEMA queue GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO clinicore_platform;

-- The queue's row policies bound tenant roles; the platform role (no longer the owner, which
-- policies do not bind) sees and changes every tenant's jobs, as the worker must.
CREATE POLICY jobs_platform ON queue.jobs TO clinicore_platform USING (true) WITH CHECK (true);

-- Provisioning: the only statements that need CREATEROLE, behind two SECURITY DEFINER
-- functions that take a tenant's id (and its schema name, checked) and derive everything else.
-- What they create is recorded here, beyond the platform role's reach, so a forged registry
-- row can never point drop_tenant at a schema that is not a tenant's.
CREATE SCHEMA provisioning;
REVOKE ALL ON SCHEMA provisioning FROM PUBLIC;
GRANT USAGE ON SCHEMA provisioning TO clinicore_platform;

CREATE TABLE provisioning.tenant_objects (
    tenant_id   uuid PRIMARY KEY,
    role_name   text NOT NULL UNIQUE,
    schema_name text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON provisioning.tenant_objects FROM PUBLIC;

-- Tenants onboarded before this migration: their roles join the runtime group, and what they
-- own is recorded.
DO $$
DECLARE
  tenant record;
BEGIN
  FOR tenant IN SELECT id, role_name, schema_name FROM platform.tenants LOOP
    EXECUTE pg_catalog.format('GRANT %I TO clinicore_runtime', tenant.role_name);
    INSERT INTO provisioning.tenant_objects (tenant_id, role_name, schema_name)
    VALUES (tenant.id, tenant.role_name, tenant.schema_name);
  END LOOP;
END
$$;

-- A tenant's role (tenant_<id without dashes>, tenancy::RoleNameFor) and its empty schema
-- (t_<slug with underscores>, tenancy::SchemaNameFor), inside the caller's transaction.
-- Returns the role's name.
CREATE FUNCTION provisioning.create_tenant(p_tenant uuid, p_schema text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  role_name text := 'tenant_' || replace(p_tenant::text, '-', '');
BEGIN
  IF p_tenant IS NULL OR p_schema IS NULL OR p_schema !~ '^t_[a-z0-9](?:[a-z0-9]|_(?!_))*[a-z0-9]$'
     OR length(p_schema) > 42 THEN
    RAISE EXCEPTION 'not a tenant id and schema name: %, %', p_tenant, p_schema USING ERRCODE = '22023';
  END IF;
  EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', role_name);
  -- The runtime reaches it through its group (NOINHERIT: SET ROLE only); the provisioner holds
  -- it directly, to migrate the schema and, at offboarding, to drop it.
  EXECUTE format('GRANT %I TO clinicore_runtime, %I', role_name, current_user);
  EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', p_schema, role_name);
  INSERT INTO provisioning.tenant_objects (tenant_id, role_name, schema_name) VALUES (p_tenant, role_name, p_schema);
  RETURN role_name;
END
$$;

-- Drops what create_tenant made for a tenant that is no longer in the registry (its row goes
-- first: tenancy::TenantService::Purge).
CREATE FUNCTION provisioning.drop_tenant(p_tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  objects provisioning.tenant_objects;
BEGIN
  IF EXISTS (SELECT 1 FROM platform.tenants WHERE id = p_tenant) THEN
    RAISE EXCEPTION 'tenant % is still registered', p_tenant USING ERRCODE = '55000';
  END IF;
  DELETE FROM provisioning.tenant_objects WHERE tenant_id = p_tenant RETURNING * INTO objects;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no provisioned tenant %', p_tenant USING ERRCODE = 'P0002';
  END IF;
  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', objects.schema_name);
  EXECUTE format('DROP ROLE %I', objects.role_name);
END
$$;

REVOKE ALL ON FUNCTION provisioning.create_tenant(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION provisioning.drop_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION provisioning.create_tenant(uuid, text) TO clinicore_platform;
GRANT EXECUTE ON FUNCTION provisioning.drop_tenant(uuid) TO clinicore_platform;
