-- Cells (docs/decisions/0012-tenant-cells.md): a tenant's role belongs to one cell's group
-- role, clinicore_cell_<k>, and cell k's runtime login is a member of that group only.
-- PostgreSQL recomputes a login's role memberships after any role change in the cluster, in
-- time that grows with the square of their number (138 ms at 10,000 roles, 2.5 ms at 1,000 on
-- the 2-core reference machine); a cell bounds the number for every login. The provisioner
-- stays a member of every tenant role (migrate, drop_tenant), so nothing on the onboarding path
-- may ask PostgreSQL whether it is: a new tenant's schema is the provisioner's, with USAGE and
-- CREATE for the tenant's role (CREATE SCHEMA ... AUTHORIZATION would check that membership
-- and rebuild the provisioner's list, ~1 s at 8,800 tenants).
--
-- `clinicore migrate` registers the cells it is configured for (CLINICORE_DB_CELLS): their
-- group roles, their logins, the memberships (tenancy::EnsureCells). This file makes cell 0,
-- moves every tenant onboarded so far into it, and replaces the provisioning functions.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'clinicore_cell_0') THEN
    BEGIN
      CREATE ROLE clinicore_cell_0 NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- another database's migration made it meanwhile
    END;
  END IF;
END
$$;

CREATE TABLE provisioning.cells (
    cell        integer PRIMARY KEY CHECK (cell >= 0),
    group_role  text NOT NULL UNIQUE,
    login_role  text UNIQUE,  -- set by `clinicore migrate`
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON provisioning.cells FROM PUBLIC;
INSERT INTO provisioning.cells (cell, group_role) VALUES (0, 'clinicore_cell_0');

ALTER TABLE provisioning.tenant_objects ADD COLUMN cell integer NOT NULL DEFAULT 0 REFERENCES provisioning.cells;
CREATE INDEX tenant_objects_cell ON provisioning.tenant_objects (cell);
-- Where the service finds a tenant's login. A forged value only routes the tenant to a login
-- that is not a member of its role: PostgreSQL refuses the SET ROLE.
ALTER TABLE platform.tenants ADD COLUMN cell integer NOT NULL DEFAULT 0 CHECK (cell >= 0);

-- The tenants so far: into cell 0, out of the runtime group.
DO $$
DECLARE
  tenant record;
BEGIN
  FOR tenant IN SELECT role_name FROM provisioning.tenant_objects LOOP
    EXECUTE pg_catalog.format('GRANT %I TO clinicore_cell_0', tenant.role_name);
    EXECUTE pg_catalog.format('REVOKE %I FROM clinicore_runtime', tenant.role_name);
  END LOOP;
END
$$;

-- The cell a new tenant should join: the least filled of cells 0 … p_cells - 1 that are
-- registered with a login (the caller's CLINICORE_DB_CELLS), lowest number on a tie.
CREATE FUNCTION provisioning.least_filled_cell(p_cells integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT c.cell FROM provisioning.cells c
   WHERE c.cell < p_cells AND c.login_role IS NOT NULL
   ORDER BY (SELECT count(*) FROM provisioning.tenant_objects o WHERE o.cell = c.cell), c.cell
   LIMIT 1
$$;

DROP FUNCTION provisioning.create_tenant(uuid, text);

-- A tenant's role in cell p_cell and its empty schema, inside the caller's transaction.
-- Returns the role's name.
CREATE FUNCTION provisioning.create_tenant(p_tenant uuid, p_schema text, p_cell integer) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  role_name text := 'tenant_' || replace(p_tenant::text, '-', '');
  cell_group text;
BEGIN
  IF p_tenant IS NULL OR p_schema IS NULL OR p_schema !~ '^t_[a-z0-9](?:[a-z0-9]|_(?!_))*[a-z0-9]$'
     OR length(p_schema) > 42 THEN
    RAISE EXCEPTION 'not a tenant id and schema name: %, %', p_tenant, p_schema USING ERRCODE = '22023';
  END IF;
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

REVOKE ALL ON FUNCTION provisioning.create_tenant(uuid, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION provisioning.least_filled_cell(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION provisioning.create_tenant(uuid, text, integer) TO clinicore_platform;
GRANT EXECUTE ON FUNCTION provisioning.least_filled_cell(integer) TO clinicore_platform;
