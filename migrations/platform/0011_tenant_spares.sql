-- Spares (docs/decisions/0013-tenant-spares.md): `clinicore work` keeps a few tenants'
-- worth of role and migrated schema ready in each cell, so onboarding renames one instead of
-- running the DDL of every tenant migration (about 150 relations, 100–300 ms at 10,000
-- tenants on the 2-core reference machine) while the client waits. A spare is a provisioned
-- tenant without a registry row: its role and schema are in provisioning.tenant_objects, its
-- schema is named s_<id without dashes> (never a tenant schema's t_… name), and the tenant
-- that claims it takes its id, so its role's name (tenant_<id>) stays true.

CREATE TABLE provisioning.spares (
    tenant_id      uuid PRIMARY KEY REFERENCES provisioning.tenant_objects ON DELETE CASCADE,
    cell           integer NOT NULL REFERENCES provisioning.cells,
    -- the tenant migrations applied (the version of the binary that made it); only spares
    -- at the claiming binary's latest version are claimed
    schema_version integer NOT NULL CHECK (schema_version >= 0),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spares_ready ON provisioning.spares (cell, schema_version, created_at);
REVOKE ALL ON provisioning.spares FROM PUBLIC;
-- What is ready where, for the refill and for operators; writes go through the functions.
GRANT SELECT ON provisioning.spares, provisioning.cells TO clinicore_platform;

CREATE FUNCTION provisioning.is_tenant_schema_name(p_schema text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT p_schema IS NOT NULL AND p_schema ~ '^t_[a-z0-9](?:[a-z0-9]|_(?!_))*[a-z0-9]$' AND length(p_schema) <= 42
$$;

-- A role in cell p_cell and an empty schema p_schema owned by the provisioner, with USAGE and
-- CREATE for the role; registered in tenant_objects. Callers check the names.
CREATE FUNCTION provisioning.make_tenant_objects(p_tenant uuid, p_schema text, p_cell integer) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  role_name text := 'tenant_' || replace(p_tenant::text, '-', '');
  cell_group text;
BEGIN
  SELECT group_role INTO cell_group FROM provisioning.cells WHERE cell = p_cell AND login_role IS NOT NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no registered cell %', p_cell USING ERRCODE = '22023';
  END IF;
  EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', role_name);
  -- The cell's login reaches it through the group (NOINHERIT: SET ROLE only).
  EXECUTE format('GRANT %I TO %I, %I', role_name, cell_group, current_user);
  EXECUTE format('CREATE SCHEMA %I', p_schema);
  EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', p_schema, role_name);
  INSERT INTO provisioning.tenant_objects (tenant_id, role_name, schema_name, cell)
  VALUES (p_tenant, role_name, p_schema, p_cell);
  RETURN role_name;
END
$$;
REVOKE ALL ON FUNCTION provisioning.make_tenant_objects(uuid, text, integer) FROM PUBLIC;

-- A tenant's role in cell p_cell and its empty schema, inside the caller's transaction.
-- Returns the role's name.
CREATE OR REPLACE FUNCTION provisioning.create_tenant(p_tenant uuid, p_schema text, p_cell integer) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_tenant IS NULL OR NOT provisioning.is_tenant_schema_name(p_schema) THEN
    RAISE EXCEPTION 'not a tenant id and schema name: %, %', p_tenant, p_schema USING ERRCODE = '22023';
  END IF;
  RETURN provisioning.make_tenant_objects(p_tenant, p_schema, p_cell);
END
$$;

-- A spare in cell p_cell: a role and an empty schema s_<id>, recorded as migrated to
-- p_version. The caller applies the tenant migrations up to p_version in the same transaction,
-- as the returned role, so the record is true when it commits. Returns the role's name.
CREATE FUNCTION provisioning.create_spare(p_tenant uuid, p_cell integer, p_version integer) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  role_name text;
BEGIN
  IF p_tenant IS NULL OR p_version IS NULL OR p_version < 0 THEN
    RAISE EXCEPTION 'not a spare id and version: %, %', p_tenant, p_version USING ERRCODE = '22023';
  END IF;
  -- Held until this transaction has ended, which is after it has told every backend that role
  -- memberships changed: claim_spare waits for it (see there).
  PERFORM pg_advisory_xact_lock(hashtext('clinicore.spare'), hashtext(p_tenant::text));
  role_name := provisioning.make_tenant_objects(p_tenant, 's_' || replace(p_tenant::text, '-', ''), p_cell);
  INSERT INTO provisioning.spares (tenant_id, cell, schema_version) VALUES (p_tenant, p_cell, p_version);
  RETURN role_name;
END
$$;

-- Onboarding's claim: the oldest spare of cell p_cell at version p_version, its schema renamed
-- to the new tenant's p_schema; NULL when there is none (the caller then provisions in line).
-- Concurrent onboardings take different spares (SKIP LOCKED); a rollback returns the spare.
CREATE FUNCTION provisioning.claim_spare(p_cell integer, p_version integer, p_schema text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  claimed uuid;
  spare_schema text;
BEGIN
  IF NOT provisioning.is_tenant_schema_name(p_schema) THEN
    RAISE EXCEPTION 'not a tenant schema name: %', p_schema USING ERRCODE = '22023';
  END IF;
  SELECT s.tenant_id INTO claimed FROM provisioning.spares s
   WHERE s.cell = p_cell AND s.schema_version = p_version
   ORDER BY s.created_at, s.tenant_id LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  -- A committed spare is visible a moment before its transaction has told the other backends
  -- that memberships changed; a backend that claimed it in that moment would still use its old
  -- membership list, and the SET ROLE into the spare's role would be refused (seen once in
  -- 5,000 bulk onboardings). create_spare's lock is released only after that notice, and the
  -- first lock this transaction takes on tenant_objects, just below, reads the notices.
  PERFORM pg_advisory_xact_lock_shared(hashtext('clinicore.spare'), hashtext(claimed::text));
  DELETE FROM provisioning.spares WHERE tenant_id = claimed;
  SELECT schema_name INTO spare_schema FROM provisioning.tenant_objects WHERE tenant_id = claimed;
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', spare_schema, p_schema);
  UPDATE provisioning.tenant_objects SET schema_name = p_schema WHERE tenant_id = claimed;
  RETURN claimed;
END
$$;

-- Drops a spare that is still a spare; false when an onboarding claimed it first (its row in
-- spares is gone, or locked by that onboarding until it commits).
CREATE FUNCTION provisioning.drop_spare(p_tenant uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM 1 FROM provisioning.spares WHERE tenant_id = p_tenant FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  -- No registry row can exist for it: claiming deletes the spare's row first.
  PERFORM provisioning.drop_tenant(p_tenant);
  RETURN true;
END
$$;

-- Cells fill by tenants; their spares do not count.
CREATE OR REPLACE FUNCTION provisioning.least_filled_cell(p_cells integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT c.cell FROM provisioning.cells c
   WHERE c.cell < p_cells AND c.login_role IS NOT NULL
   ORDER BY (SELECT count(*) FROM provisioning.tenant_objects o WHERE o.cell = c.cell
              AND NOT EXISTS (SELECT 1 FROM provisioning.spares s WHERE s.tenant_id = o.tenant_id)), c.cell
   LIMIT 1
$$;

REVOKE ALL ON FUNCTION provisioning.create_spare(uuid, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION provisioning.claim_spare(integer, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION provisioning.drop_spare(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION provisioning.create_spare(uuid, integer, integer) TO clinicore_platform;
GRANT EXECUTE ON FUNCTION provisioning.claim_spare(integer, integer, text) TO clinicore_platform;
GRANT EXECUTE ON FUNCTION provisioning.drop_spare(uuid) TO clinicore_platform;
