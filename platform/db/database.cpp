#include "platform/db/database.hpp"

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

core::Status Database::Ping() {
  return ReadOnce([](Transaction& tx) -> core::Status {
    tx.ExecScript("SELECT 1");
    return core::Ok();
  });
}

}  // namespace clinicore::db
