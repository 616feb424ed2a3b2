#include "platform/db/database.hpp"

namespace clinicore::db {

std::string Database::EnterScopeSql(pqxx::connection_base& connection, const TenantScope& scope) {
  // Both settings end with the transaction (set_config's third argument), so a pooled
  // connection never carries a tenant into the next borrower's work. The values are quoted
  // identifiers from the registry.
  return "SELECT set_config('role', " + connection.quote(scope.role) + ", true), set_config('search_path', " +
         connection.quote(connection.quote_name(scope.schema)) + ", true)";
}

core::Status Database::Ping() {
  return ReadOnce([](Transaction& tx) -> core::Status {
    tx.ExecScript("SELECT 1");
    return core::Ok();
  });
}

}  // namespace clinicore::db
