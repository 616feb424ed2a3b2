-- A tenant role's membership in its cell group, announced once more after it has committed
-- (docs/decisions/0013-tenant-spares.md, "Announcing a role").
--
-- PostgreSQL 15 keeps, in each backend, the list of roles its login is a member of, and
-- rebuilds it after any change to pg_auth_members. The rebuild walks every role of the cell
-- (and of clinicore_runtime: all of them, ~140 ms at 10,000 tenants) and reads the change
-- notices of other backends while it walks; a role whose grant commits during that walk can be
-- left out of the rebuilt list, which is then kept as current until the next membership change
-- anywhere in the cluster. A backend in that state refuses SET ROLE into the new tenant
-- ("permission denied to set role"): an onboarding that claimed the spare answered 403 once in
-- about 4,000 bulk onboardings, and a reproduction with pgbench (three backends entering the
-- newest of 300 roles while another commits 50 new ones a second) failed 304 times in 4,555.
--
-- Any membership change that commits after the grant makes every backend rebuild again, and a
-- rebuild that starts after the grant has committed sees it. So the role's own grant is
-- revoked and given again, in one transaction (nobody ever sees it missing): by the
-- onboarding that claims a spare, and after an onboarding that created its role in line.
-- The same pgbench reproduction, with the claim announcing the role, failed 0 times in 1,163.

CREATE FUNCTION provisioning.announce_tenant_role(p_tenant uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tenant_role text;
  cell_group text;
BEGIN
  SELECT o.role_name, c.group_role INTO tenant_role, cell_group
    FROM provisioning.tenant_objects o JOIN provisioning.cells c ON c.cell = o.cell
   WHERE o.tenant_id = p_tenant;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  EXECUTE format('REVOKE %I FROM %I', tenant_role, cell_group);
  EXECUTE format('GRANT %I TO %I', tenant_role, cell_group);
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION provisioning.announce_tenant_role(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION provisioning.announce_tenant_role(uuid) TO clinicore_platform;

-- As in 0011, and the claimed role announced: the spare was granted in another, earlier
-- transaction, which any backend may have missed.
CREATE OR REPLACE FUNCTION provisioning.claim_spare(p_cell integer, p_version integer, p_schema text) RETURNS uuid
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
  -- The spare's creating transaction has ended (create_spare holds this lock to its end), so
  -- the announcement below commits after the grant it repeats.
  PERFORM pg_advisory_xact_lock_shared(hashtext('clinicore.spare'), hashtext(claimed::text));
  DELETE FROM provisioning.spares WHERE tenant_id = claimed;
  SELECT schema_name INTO spare_schema FROM provisioning.tenant_objects WHERE tenant_id = claimed;
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', spare_schema, p_schema);
  UPDATE provisioning.tenant_objects SET schema_name = p_schema WHERE tenant_id = claimed;
  PERFORM provisioning.announce_tenant_role(claimed);
  RETURN claimed;
END
$$;
