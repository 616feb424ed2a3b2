#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "platform/db/transaction.hpp"
#include "platform/modules/route_table.hpp"

namespace clinicore::modules {

// One row of the tenant's audit trail. `before`/`after` are the record's JSON; the row keeps
// only the fields that changed (a creation keeps every field of `after`, a deletion every
// field of `before`), with secrets masked.
struct AuditEntry {
  std::string action;     // "<entity>.<verb>": "clinic.created", "service.updated"
  std::string entity;     // "clinic"
  std::string entity_id;  // the record's id
  nlohmann::json before = nullptr;
  nlohmann::json after = nullptr;
  std::string subject_id = {};  // the person the record is about, when there is one
};

// The actor of changes a worker makes on an event's behalf (no person, role "system").
inline Actor SystemActor() {
  return {"", "system", "", ""};
}

// Writes the entry in `tx` (a tenant transaction), so the trail holds a change if and only if
// the change committed. Every module writes its changes through this.
void Audit(db::Transaction& tx, const Actor& actor, const AuditEntry& entry);

// The diff Audit stores: {"changed": {field: {"from": x, "to": y}}} for updates, the whole
// record for creations and deletions; keys that name secrets (password, token, secret, key,
// hash) are replaced by "***". Exposed for tests.
nlohmann::json AuditDetails(const nlohmann::json& before, const nlohmann::json& after);

void RegisterAuditStatements(db::Database& database);

}  // namespace clinicore::modules
