-- No tenant role may create temporary tables. PostgreSQL searches pg_temp first unless the
-- search_path names it, so a temporary table could shadow a tenant's own table for the rest of
-- a pooled session; the tenant scope names pg_temp last as well (db::Database::EnterScopeSql).
-- Tenant roles hold TEMPORARY only through PUBLIC; the service role owns the database and keeps
-- it (nothing in clinicore uses temporary tables).
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
