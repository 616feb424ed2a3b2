#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "clinicore/sdk/host/loader.hpp"
#include "platform/core/result.hpp"
#include "platform/db/database.hpp"
#include "platform/plugins/plugin_repository.hpp"
#include "platform/plugins/secret_box.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::plugins {

struct EnableRequest {
  std::optional<std::string> version;  // default: the newest installed version
  nlohmann::json config = nlohmann::json::object();
};

// What a worker needs for one call: the version, the whole config (secrets opened) and the
// hash that, with the tenant, plugin and version, keys the plugin instance.
struct CallConfig {
  std::string version;
  nlohmann::json config;
  std::string config_hash;
  PluginHealth health;
};

// Per-tenant enablement and the bookkeeping around plugin calls. Runs in `serve` (console and
// tenant routes), in `clinicore plugin` and in `work`; it never loads or runs plugin code:
// configs are validated against the schema recorded in platform.plugin_installs.
// What `clinicore plugin rekey` did.
struct RekeyReport {
  std::string key_id;  // the current key's id (hex)
  int rekeyed = 0;     // re-sealed under the current key
  int current = 0;     // under the current key already
  struct Failure {
    std::string tenant_id, plugin_name, detail;
  };
  std::vector<Failure> failed;  // open under no configured key, or a database error
};

class PluginService {
 public:
  // `secrets`: the box from CLINICORE_PLUGIN_SECRET_KEY, if configured.
  PluginService(db::Database& database, std::optional<SecretBox> secrets, int quarantine_after);

  static void RegisterStatements(db::Database& database);

  // Records a loaded plugin's descriptor. AlreadyExists when this name + version was recorded
  // from a file with other contents (a version is immutable: bump it).
  core::Result<InstalledPlugin> RecordInstall(const sdk::host::PluginInfo& info, const std::string& file_sha256,
                                              const std::string& actor);
  core::Result<std::vector<InstalledPlugin>> ListInstalled();

  // Enables (or reconfigures) a plugin for a tenant: the config must pass the plugin's schema
  // (400 naming each field, e.g. "config.url"); secret fields are sealed; a secret field left
  // out keeps its stored value. Audited. The plugin's own live check runs later in a worker.
  core::Result<TenantPlugin> Enable(const std::string& tenant_key, const std::string& plugin,
                                    const EnableRequest& request, const tenancy::Actor& actor);
  // Disables a plugin for a tenant and forgets its config and secrets. Audited.
  core::Status Disable(const std::string& tenant_key, const std::string& plugin, const tenancy::Actor& actor);
  core::Result<std::vector<TenantPlugin>> ListForTenant(const std::string& tenant_key);
  // Ends a quarantine (FailedPrecondition when there is none). Audited.
  core::Result<TenantPlugin> Release(const std::string& tenant_key, const std::string& plugin,
                                     const tenancy::Actor& actor);

  // ----- worker side ----------------------------------------------------------------------
  // FailedPrecondition when the plugin is not enabled for the tenant.
  core::Result<CallConfig> ConfigForCall(const std::string& tenant_id, const std::string& plugin);
  // Counts a failure that is the plugin's fault; true when it quarantined the plugin now.
  core::Result<bool> RecordFailure(const std::string& tenant_id, const std::string& plugin, const std::string& message);
  core::Status RecordSuccess(const std::string& tenant_id, const std::string& plugin);
  // Stores the outcome of the plugin's live check for the config it ran on.
  core::Status RecordCheck(const std::string& tenant_id, const std::string& plugin, const std::string& config_hash,
                           const std::string& status, const nlohmann::json& detail);

  // ----- operators --------------------------------------------------------------------------
  // Re-seals every stored secret under the current key (`clinicore plugin rekey`), one row per
  // transaction, so serve and work keep running: each opens old and new values alike while the
  // previous key is still configured. A row saved meanwhile is left as saved. Rows that open
  // under no configured key are reported, not changed. FailedPrecondition without a key.
  core::Result<RekeyReport> Rekey();

  int quarantine_after() const { return quarantine_after_; }
  bool can_store_secrets() const { return secrets_.has_value(); }

 private:
  db::Database& database_;
  void RekeyOne(SealedSecrets row, RekeyReport& report);

  std::optional<SecretBox> secrets_;
  int quarantine_after_;
};

// The plugin name in a path: [a-z][a-z0-9-]{1,62}.
bool ValidPluginName(const std::string& name);

}  // namespace clinicore::plugins
