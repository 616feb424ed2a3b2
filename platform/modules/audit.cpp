#include "platform/modules/audit.hpp"

#include <array>
#include <string_view>

#include "platform/db/database.hpp"

namespace clinicore::modules {
namespace {

constexpr const char* kInsertAudit = "modules.insert_audit";

bool IsSecretKey(std::string_view key) {
  static constexpr std::array<std::string_view, 5> kSecretWords = {"password", "token", "secret", "key", "hash"};
  for (auto word : kSecretWords) {
    if (key.find(word) != std::string_view::npos) return true;
  }
  return false;
}

nlohmann::json Masked(const nlohmann::json& value) {
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[key] = IsSecretKey(key) ? nlohmann::json("***") : Masked(item);
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(Masked(item));
    return out;
  }
  return value;
}

}  // namespace

nlohmann::json AuditDetails(const nlohmann::json& before, const nlohmann::json& after) {
  if (before.is_null()) return {{"created", Masked(after)}};
  if (after.is_null()) return {{"deleted", Masked(before)}};
  nlohmann::json changed = nlohmann::json::object();
  const nlohmann::json masked_before = Masked(before);
  const nlohmann::json masked_after = Masked(after);
  for (const auto& [key, value] : masked_after.items()) {
    if (key == "updated_at") continue;  // changes with every change; says nothing
    const auto old = masked_before.find(key);
    const nlohmann::json from = old == masked_before.end() ? nlohmann::json(nullptr) : *old;
    if (from != value) changed[key] = {{"from", from}, {"to", value}};
  }
  return {{"changed", changed}};
}

void RegisterAuditStatements(db::Database& database) {
  database.RegisterStatement(
      kInsertAudit,
      "INSERT INTO audit_log (actor_id, actor_role, action, subject_id, entity, entity_id, ip, "
      "request_id, details) VALUES (NULLIF($1, '')::uuid, NULLIF($2, ''), $3, NULLIF($4, '')::uuid, $5, $6, "
      "NULLIF($7, ''), NULLIF($8, ''), $9::jsonb)");
}

void Audit(db::Transaction& tx, const Actor& actor, const AuditEntry& entry) {
  tx.Exec(kInsertAudit, actor.id, actor.role, entry.action, entry.subject_id, entry.entity, entry.entity_id, actor.ip,
          actor.request_id,
          AuditDetails(entry.before, entry.after).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace clinicore::modules
