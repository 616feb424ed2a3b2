#include "platform/db/database.hpp"

#include <vector>

namespace clinicore::db {

std::string Database::EnterScopeSql(pqxx::connection_base& connection, const TenantScope& scope) {
  // Both settings end with the transaction (set_config's third argument), so a pooled
  // connection never carries a tenant into the next borrower's work. The values are quoted
  // identifiers from the registry.
  // Tenant statements are planned once per session (generic plans): every list carries
  // optional filters as "$n IS NULL OR ...", which PostgreSQL would otherwise re-plan on every
  // call (a custom plan costs ~1 ms for a list statement, more than running it), because its
  // generic estimate under LIMIT looks dearer than it is.
  // pg_temp is named last: unnamed, PostgreSQL would search it first (tenant roles cannot
  // create temporary tables either: migrations/platform/0007).
  return "SELECT set_config('role', " + connection.quote(scope.role) + ", true), set_config('search_path', " +
         connection.quote(connection.quote_name(scope.schema) + ", pg_temp") +
         ", true), set_config('plan_cache_mode', 'force_generic_plan', true)";
}

core::Status CheckRuntimeLogin(const core::DatabaseConfig& config) {
  std::vector<std::string> problems;
  std::string role;
  try {
    pqxx::connection connection(BuildConnectionString(config));
    pqxx::nontransaction tx(connection);
    const auto row = tx.exec(
        "SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, "
        "r.rolinherit, pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER') "
        "OR pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER') "
        "OR pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER'), "
        "EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = current_database() AND d.datdba = r.oid), "
        "EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.proowner = r.oid) "
        "FROM pg_roles r WHERE r.rolname = session_user")[0];
    role = row[0].as<std::string>();
    const char* what[] = {"is a superuser",
                          "has CREATEROLE",
                          "has CREATEDB",
                          "has REPLICATION",
                          "has BYPASSRLS",
                          "inherits the privileges of its roles (make it NOINHERIT)",
                          "is a member of pg_execute_server_program, pg_read_server_files or pg_write_server_files",
                          "owns the database",
                          "owns objects in the database"};
    for (int column = 1; column <= 9; ++column) {
      if (row[column].as<bool>()) problems.emplace_back(what[column - 1]);
    }
  } catch (const std::exception& e) {
    return core::Error::Unavailable(std::string("cannot check the database role: ") + e.what());
  }
  if (problems.empty()) return core::Ok();
  std::string detail = "the database role '" + role + "' of CLINICORE_DATABASE_URL ";
  for (size_t i = 0; i < problems.size(); ++i) detail += (i == 0 ? "" : ", ") + problems[i];
  detail +=
      ": serve and work need a NOINHERIT role that owns nothing and is a member of clinicore_runtime; "
      "the provisioner belongs in CLINICORE_MIGRATE_DATABASE_URL (docs/tenancy.md)";
  return core::Error{core::ErrorCode::kFailedPrecondition, detail, {}, {}};
}

void Database::EnterPlatformRole(Session& session) {
  if (session.in_platform_role) return;
  pqxx::nontransaction(session.connection).exec(kEnterPlatformRoleSql);
  session.in_platform_role = true;
}

core::Result<PooledConnection> Database::Acquire() {
  auto connection = pool_.Acquire();
  if (!connection || !connection->session().in_platform_role) return connection;
  try {
    pqxx::nontransaction(connection->get()).exec("RESET ROLE");
    connection->session().in_platform_role = false;
  } catch (const std::exception& e) {
    connection->MarkBroken();
    return Classify(e).error;
  }
  return connection;
}

core::Status Database::Ping() {
  return ReadOnce([](Transaction& tx) -> core::Status {
    tx.ExecScript("SELECT 1");
    return core::Ok();
  });
}

}  // namespace clinicore::db
