#include "platform/db/database.hpp"

namespace clinicore::db {

void Database::EnterScope(Transaction& tx, const std::optional<TenantScope>& scope) {
  if (!scope) return;
  // Both settings end with the transaction, so a pooled connection never carries a tenant
  // into the next borrower's work. The values are quoted identifiers from the registry.
  tx.ExecScript("SELECT set_config('role', " + tx.Quote(scope->role) + ", true), set_config('search_path', " +
                tx.Quote(tx.QuoteName(scope->schema)) + ", true)");
}

core::Status Database::Ping() {
  return ReadOnce([](Transaction& tx) -> core::Status {
    tx.ExecScript("SELECT 1");
    return core::Ok();
  });
}

}  // namespace clinicore::db
