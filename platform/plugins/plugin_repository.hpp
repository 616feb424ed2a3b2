#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/db/database.hpp"

namespace clinicore::plugins {

// A plugin file's descriptor as recorded in platform.plugin_installs.
struct InstalledPlugin {
  std::string name;
  std::string version;
  std::string kind;  // channel | lead_source | loyalty_rule
  std::string description;
  int abi_major = 0;
  int abi_minor = 0;
  nlohmann::json build_flags = nlohmann::json::array();
  nlohmann::json config_schema = nlohmann::json::object();
  nlohmann::json secret_fields = nlohmann::json::array();  // dotted paths
  nlohmann::json limits = nlohmann::json::object();
  bool has_check_config = false;
  std::string file_name;
  std::string file_sha256;
  std::string installed_by;
  std::string installed_at;

  nlohmann::json ConsoleJson() const;
};

// Consecutive failures and quarantine of one plugin for one tenant.
struct PluginHealth {
  int consecutive_failures = 0;
  std::optional<std::string> last_failure_at;
  std::optional<std::string> last_failure;
  std::optional<std::string> last_success_at;
  std::optional<std::string> quarantined_at;
  std::optional<std::string> quarantine_reason;
  std::optional<std::string> released_at;
  std::optional<std::string> released_by;

  bool quarantined() const { return quarantined_at.has_value(); }
  nlohmann::json ConsoleJson() const;
};

// One tenant's enabled plugin. `config` holds no secret: they are in `sealed_secrets`.
struct TenantPlugin {
  std::string tenant_id;
  std::string name;
  std::string version;
  std::string kind;
  std::string description;
  nlohmann::json config = nlohmann::json::object();
  std::optional<std::string> sealed_secrets;               // raw bytes
  nlohmann::json secret_fields = nlohmann::json::array();  // names of the secret fields that are set
  std::string config_hash;
  std::string check_status;  // pending | passed | failed | not_offered | error
  nlohmann::json check_detail;
  std::optional<std::string> checked_at;
  std::string enabled_by;
  std::string enabled_at;
  std::string updated_at;
  PluginHealth health;

  // For platform admins: everything but secret values.
  nlohmann::json ConsoleJson() const;
  // For the tenant's own admins: what is enabled and whether it works.
  nlohmann::json TenantJson() const;
};

// SQL only, inside the caller's transaction. Statement names are in queries.hpp.
// One tenant plugin's sealed secret fields, as `clinicore plugin rekey` reads them.
struct SealedSecrets {
  std::string tenant_id;
  std::string plugin_name;
  std::string sealed;  // SecretBox output (raw bytes)
};

class PluginRepository {
 public:
  static void RegisterStatements(db::Database& database);

  // Records a descriptor. nullopt: this name + version is already recorded from another file.
  static std::optional<InstalledPlugin> UpsertInstall(db::Transaction& tx, const InstalledPlugin& plugin);
  static std::optional<InstalledPlugin> FindInstall(db::Transaction& tx, const std::string& name,
                                                    const std::string& version);
  static std::optional<InstalledPlugin> LatestInstall(db::Transaction& tx, const std::string& name);
  static std::vector<InstalledPlugin> ListInstalls(db::Transaction& tx);

  static void UpsertTenantPlugin(db::Transaction& tx, const TenantPlugin& plugin);
  // The removed row's version, or nullopt when there was none.
  // Rekey: a page of sealed rows after (after_tenant_id, after_plugin) in key order, and a
  // compare-and-swap of one row's sealed value (false when it changed since it was read).
  static std::vector<SealedSecrets> ListSealed(db::Transaction& tx, const std::string& after_tenant_id,
                                               const std::string& after_plugin, int limit);
  static bool ReplaceSealed(db::Transaction& tx, const SealedSecrets& current, const std::string& resealed);
  static std::optional<std::string> DeleteTenantPlugin(db::Transaction& tx, const std::string& tenant_id,
                                                       const std::string& name);
  static std::optional<TenantPlugin> FindTenantPlugin(db::Transaction& tx, const std::string& tenant_id,
                                                      const std::string& name);
  static std::vector<TenantPlugin> ListTenantPlugins(db::Transaction& tx, const std::string& tenant_id);
  static bool RecordCheck(db::Transaction& tx, const std::string& tenant_id, const std::string& name,
                          const std::string& config_hash, const std::string& status, const nlohmann::json& detail);

  // Returns the consecutive failures after this one.
  static int RecordFailure(db::Transaction& tx, const std::string& tenant_id, const std::string& name,
                           const std::string& message);
  // True when this call quarantined it (it reached `threshold` and was not quarantined yet).
  static bool Quarantine(db::Transaction& tx, const std::string& tenant_id, const std::string& name, int threshold,
                         const std::string& reason);
  static void RecordSuccess(db::Transaction& tx, const std::string& tenant_id, const std::string& name);
  // False when it was not quarantined.
  static bool Release(db::Transaction& tx, const std::string& tenant_id, const std::string& name,
                      const std::string& actor);
};

}  // namespace clinicore::plugins
