#include "platform/plugins/plugin_service.hpp"

#include <regex>

#include "clinicore/sdk/host/schema.hpp"
#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"
#include "platform/jobs/enqueue.hpp"
#include "platform/plugins/plugin_jobs.hpp"
#include "platform/tenancy/tenant_repository.hpp"

namespace clinicore::plugins {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;
using nlohmann::json;

Error FailedPrecondition(std::string detail) {
  Error error;
  error.code = ErrorCode::kFailedPrecondition;
  error.detail = std::move(detail);
  return error;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

const json* Lookup(const json& root, const std::string& path) {
  const json* node = &root;
  for (const auto& part : SplitPath(path)) {
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
  }
  return node;
}

// Puts `value` at `path`, creating objects on the way; false when a non-object is in the way.
bool Place(json& root, const std::string& path, const json& value) {
  json* node = &root;
  const auto parts = SplitPath(path);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->is_object()) return false;
    if (!node->contains(parts[i])) (*node)[parts[i]] = json::object();
    node = &(*node)[parts[i]];
  }
  if (!node->is_object()) return false;
  (*node)[parts.back()] = value;
  return true;
}

Result<tenancy::Tenant> FindTenant(db::Transaction& tx, const std::string& key) {
  auto tenant = tenancy::TenantRepository::FindByKey(tx, key);
  if (!tenant) return Error::NotFound("No tenant with this id or slug.");
  return *tenant;
}

Error NotEnabled(const std::string& plugin) {
  return Error::NotFound("Plugin " + plugin + " is not enabled for this tenant.");
}

}  // namespace

bool ValidPluginName(const std::string& name) {
  static const std::regex kName("^[a-z][a-z0-9-]{1,62}$");
  return std::regex_match(name, kName);
}

PluginService::PluginService(db::Database& database, std::optional<SecretBox> secrets, int quarantine_after)
    : database_(database), secrets_(std::move(secrets)), quarantine_after_(quarantine_after) {}

void PluginService::RegisterStatements(db::Database& database) {
  PluginRepository::RegisterStatements(database);
  jobs::RegisterJobStatements(database);  // Enable enqueues plugins.check-config (idempotent)
}

Result<InstalledPlugin> PluginService::RecordInstall(const sdk::host::PluginInfo& info, const std::string& file_sha256,
                                                     const std::string& actor) {
  InstalledPlugin record;
  const json described = info.ToJson();
  record.name = info.name;
  record.version = info.version;
  record.kind = sdk::host::KindName(info.kind);
  record.description = info.description;
  record.abi_major = info.abi_major;
  record.abi_minor = info.abi_minor;
  record.build_flags = described["build_flags"];
  record.config_schema = info.config_schema;
  record.secret_fields = sdk::host::SecretFields(info.config_schema);
  record.limits = described["limits"];
  record.has_check_config = info.has_check_config;
  record.file_name = info.file.substr(info.file.find_last_of('/') + 1);
  record.file_sha256 = file_sha256;
  record.installed_by = actor;
  return database_.Write([&](db::Transaction& tx) -> Result<InstalledPlugin> {
    auto stored = PluginRepository::UpsertInstall(tx, record);
    if (!stored) {
      auto existing = PluginRepository::FindInstall(tx, record.name, record.version);
      return Error::AlreadyExists("Plugin " + record.name + " " + record.version +
                                  " is already installed from a different file (sha256 " +
                                  (existing ? existing->file_sha256 : std::string("?")) +
                                  "); a version is immutable: give the new build a new version.");
    }
    tx.Commit();
    return *stored;
  });
}

Result<std::vector<InstalledPlugin>> PluginService::ListInstalled() {
  return database_.Read(
      [&](db::Transaction& tx) -> Result<std::vector<InstalledPlugin>> { return PluginRepository::ListInstalls(tx); });
}

Result<TenantPlugin> PluginService::Enable(const std::string& tenant_key, const std::string& plugin,
                                           const EnableRequest& request, const tenancy::Actor& actor) {
  if (!ValidPluginName(plugin)) return Error::NotFound("No plugin named " + plugin + " is installed.");
  if (!request.config.is_object()) {
    return Error::InvalidArgument("config must be a JSON object.", {{"config", "must be an object"}});
  }
  return database_.Write([&](db::Transaction& tx) -> Result<TenantPlugin> {
    auto tenant = FindTenant(tx, tenant_key);
    if (!tenant) return std::move(tenant).error();
    if (tenant->status == "offboarding") return FailedPrecondition("The tenant is being offboarded.");
    auto install = request.version ? PluginRepository::FindInstall(tx, plugin, *request.version)
                                   : PluginRepository::LatestInstall(tx, plugin);
    if (!install) {
      return Error::NotFound("Plugin " + plugin + (request.version ? " " + *request.version : std::string()) +
                             " is not installed.");
    }
    json config = request.config;
    auto existing = PluginRepository::FindTenantPlugin(tx, tenant->id, plugin);
    // A secret field left out keeps the value stored for it (secrets are never sent back, so a
    // client editing other fields cannot resend them).
    if (existing && existing->sealed_secrets && !secrets_) {
      return FailedPrecondition(
          "The stored secret fields cannot be kept: CLINICORE_PLUGIN_SECRET_KEY is not configured on this server.");
    }
    if (existing && existing->sealed_secrets) {
      auto opened = secrets_->Open(*existing->sealed_secrets, SecretBox::Binding(tenant->id, plugin));
      if (!opened) return std::move(opened).error();
      const json stored = json::parse(*opened, nullptr, false);
      for (const auto& field : install->secret_fields) {
        const std::string path = field.get<std::string>();
        const json* kept = Lookup(stored, path);
        if (kept != nullptr && Lookup(config, path) == nullptr) Place(config, path, *kept);
      }
    }
    if (auto issues = sdk::host::Validate(install->config_schema, config, "config"); !issues.empty()) {
      std::vector<core::FieldError> fields;
      for (auto& issue : issues) fields.push_back({issue.field, issue.message});
      return Error::InvalidArgument(
          "The config does not match the schema of plugin " + plugin + " " + install->version + ".", std::move(fields));
    }
    auto [open, secret] = sdk::host::SplitSecrets(install->config_schema, config);
    TenantPlugin row;
    row.tenant_id = tenant->id;
    row.name = plugin;
    row.version = install->version;
    row.config = open;
    row.secret_fields = json::array();
    for (const auto& field : install->secret_fields) {
      if (Lookup(secret, field.get<std::string>()) != nullptr) row.secret_fields.push_back(field);
    }
    if (!secret.empty()) {
      if (!secrets_) {
        return FailedPrecondition(
            "Secret config fields cannot be stored: CLINICORE_PLUGIN_SECRET_KEY is not configured on this server.");
      }
      row.sealed_secrets = secrets_->Seal(secret.dump(), SecretBox::Binding(tenant->id, plugin));
    }
    // Keys the worker's instance: a new version or any new config (a re-seal included) is a
    // new hash, so a new instance. Secrets enter it only sealed (no offline guessing).
    row.config_hash = core::Sha256Hex(row.version + "\n" + open.dump() + "\n" + row.sealed_secrets.value_or(""));
    row.check_status = install->has_check_config ? "pending" : "not_offered";
    row.enabled_by = actor.name;
    PluginRepository::UpsertTenantPlugin(tx, row);
    // The live check runs in a worker (the only process that loads plugin code), enqueued in
    // this transaction: it exists if and only if the new config does.
    if (install->has_check_config) {
      auto check = jobs::Enqueue(tx, kCheckConfigKind, {{"plugin", plugin}}, {.tenant_id = tenant->id});
      if (!check) return std::move(check).error();
    }
    tenancy::TenantRepository::Audit(tx, actor.name, existing ? "plugin.reconfigure" : "plugin.enable", tenant->id,
                                     actor.request_id,
                                     {{"plugin", plugin},
                                      {"version", row.version},
                                      {"previous_version", existing ? json(existing->version) : json(nullptr)},
                                      {"config_hash", row.config_hash},
                                      {"secret_fields_set", row.secret_fields}});
    auto stored = PluginRepository::FindTenantPlugin(tx, tenant->id, plugin);
    tx.Commit();
    if (!stored) return Error::Internal("enabled plugin row not found after upsert");
    return *stored;
  });
}

core::Status PluginService::Disable(const std::string& tenant_key, const std::string& plugin,
                                    const tenancy::Actor& actor) {
  if (!ValidPluginName(plugin)) return NotEnabled(plugin);
  return database_.Write([&](db::Transaction& tx) -> core::Status {
    auto tenant = FindTenant(tx, tenant_key);
    if (!tenant) return std::move(tenant).error();
    auto removed = PluginRepository::DeleteTenantPlugin(tx, tenant->id, plugin);
    if (!removed) return NotEnabled(plugin);
    tenancy::TenantRepository::Audit(tx, actor.name, "plugin.disable", tenant->id, actor.request_id,
                                     {{"plugin", plugin}, {"version", *removed}});
    tx.Commit();
    return core::Ok();
  });
}

Result<std::vector<TenantPlugin>> PluginService::ListForTenant(const std::string& tenant_key) {
  return database_.Read([&](db::Transaction& tx) -> Result<std::vector<TenantPlugin>> {
    auto tenant = FindTenant(tx, tenant_key);
    if (!tenant) return std::move(tenant).error();
    return PluginRepository::ListTenantPlugins(tx, tenant->id);
  });
}

Result<TenantPlugin> PluginService::Release(const std::string& tenant_key, const std::string& plugin,
                                            const tenancy::Actor& actor) {
  if (!ValidPluginName(plugin)) return NotEnabled(plugin);
  return database_.Write([&](db::Transaction& tx) -> Result<TenantPlugin> {
    auto tenant = FindTenant(tx, tenant_key);
    if (!tenant) return std::move(tenant).error();
    auto before = PluginRepository::FindTenantPlugin(tx, tenant->id, plugin);
    if (!before) return NotEnabled(plugin);
    if (!PluginRepository::Release(tx, tenant->id, plugin, actor.name)) {
      return FailedPrecondition("Plugin " + plugin + " is not quarantined for this tenant.");
    }
    tenancy::TenantRepository::Audit(
        tx, actor.name, "plugin.release", tenant->id, actor.request_id,
        {{"plugin", plugin}, {"quarantine_reason", before->health.quarantine_reason.value_or("")}});
    auto after = PluginRepository::FindTenantPlugin(tx, tenant->id, plugin);
    tx.Commit();
    return *after;
  });
}

Result<CallConfig> PluginService::ConfigForCall(const std::string& tenant_id, const std::string& plugin) {
  auto row = database_.Read([&](db::Transaction& tx) -> Result<std::optional<TenantPlugin>> {
    return PluginRepository::FindTenantPlugin(tx, tenant_id, plugin);
  });
  if (!row) return std::move(row).error();
  if (!row->has_value()) return FailedPrecondition("Plugin " + plugin + " is not enabled for this tenant.");
  const TenantPlugin& found = **row;
  CallConfig call{found.version, found.config, found.config_hash, found.health};
  if (found.sealed_secrets) {
    if (!secrets_) {
      return FailedPrecondition("Plugin " + plugin +
                                " has secret config fields, but CLINICORE_PLUGIN_SECRET_KEY is not configured here.");
    }
    auto opened = secrets_->Open(*found.sealed_secrets, SecretBox::Binding(tenant_id, plugin));
    if (!opened) return std::move(opened).error();
    call.config = sdk::host::MergeObjects(call.config, json::parse(*opened));
  }
  return call;
}

namespace {
constexpr const char* kRekeyActor = "cli:plugin-rekey";
}  // namespace

Result<RekeyReport> PluginService::Rekey() {
  if (!secrets_)
    return FailedPrecondition("CLINICORE_PLUGIN_SECRET_KEY is not configured: there is no key to seal with.");
  RekeyReport report{secrets_->CurrentKeyId(), 0, 0, {}};
  constexpr int kPage = 200;
  std::string after_tenant = "00000000-0000-0000-0000-000000000000", after_plugin;
  for (;;) {
    auto page = database_.Read([&](db::Transaction& tx) -> Result<std::vector<SealedSecrets>> {
      return PluginRepository::ListSealed(tx, after_tenant, after_plugin, kPage);
    });
    if (!page) return std::move(page).error();
    for (const auto& row : *page) RekeyOne(row, report);
    if (static_cast<int>(page->size()) < kPage) break;
    after_tenant = page->back().tenant_id;
    after_plugin = page->back().plugin_name;
  }
  core::log::Info("plugin_secrets_rekeyed", {{"key_id", report.key_id},
                                             {"rekeyed", report.rekeyed},
                                             {"current", report.current},
                                             {"failed", report.failed.size()}});
  return report;
}

void PluginService::RekeyOne(SealedSecrets row, RekeyReport& report) {
  const std::string binding = SecretBox::Binding(row.tenant_id, row.plugin_name);
  // A save between the read and the swap makes the swap miss: read the row again and decide
  // anew (a process still sealing under an old key would otherwise be counted as current).
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (secrets_->SealedUnderCurrentKey(row.sealed)) {
      ++report.current;
      return;
    }
    auto opened = secrets_->Open(row.sealed, binding);
    if (!opened) {
      report.failed.push_back({row.tenant_id, row.plugin_name, opened.error().internal});
      return;
    }
    const std::string resealed = secrets_->Seal(*opened, binding);
    auto swapped = database_.Write([&](db::Transaction& tx) -> Result<std::optional<std::string>> {
      if (PluginRepository::ReplaceSealed(tx, row, resealed)) {
        tenancy::TenantRepository::Audit(tx, kRekeyActor, "plugin.rekey", row.tenant_id, "",
                                         {{"plugin", row.plugin_name}, {"key_id", report.key_id}});
        tx.Commit();
        return std::optional<std::string>();
      }
      auto now = PluginRepository::FindTenantPlugin(tx, row.tenant_id, row.plugin_name);
      tx.Commit();  // nothing written: ends the transaction
      return std::optional<std::string>(now && now->sealed_secrets ? *now->sealed_secrets : std::string());
    });
    if (!swapped) {
      const auto& error = swapped.error();
      report.failed.push_back({row.tenant_id, row.plugin_name, error.internal.empty() ? error.detail : error.internal});
      return;
    }
    if (!swapped->has_value()) {
      ++report.rekeyed;
      return;
    }
    if ((*swapped)->empty()) return;  // disabled meanwhile, or its secret fields cleared
    row.sealed = **swapped;
  }
  report.failed.push_back({row.tenant_id, row.plugin_name, "changed during every attempt; run rekey again"});
}

Result<bool> PluginService::RecordFailure(const std::string& tenant_id, const std::string& plugin,
                                          const std::string& message) {
  return database_.Write([&](db::Transaction& tx) -> Result<bool> {
    const int failures = PluginRepository::RecordFailure(tx, tenant_id, plugin, message);
    bool quarantined = false;
    if (failures >= quarantine_after_) {
      quarantined = PluginRepository::Quarantine(
          tx, tenant_id, plugin, quarantine_after_,
          std::to_string(failures) + " consecutive failures; the last: " + message.substr(0, 1500));
    }
    tx.Commit();
    return quarantined;
  });
}

core::Status PluginService::RecordSuccess(const std::string& tenant_id, const std::string& plugin) {
  return database_.Write([&](db::Transaction& tx) -> core::Status {
    PluginRepository::RecordSuccess(tx, tenant_id, plugin);
    tx.Commit();
    return core::Ok();
  });
}

core::Status PluginService::RecordCheck(const std::string& tenant_id, const std::string& plugin,
                                        const std::string& config_hash, const std::string& status, const json& detail) {
  return database_.Write([&](db::Transaction& tx) -> core::Status {
    PluginRepository::RecordCheck(tx, tenant_id, plugin, config_hash, status, detail);
    tx.Commit();
    return core::Ok();
  });
}

}  // namespace clinicore::plugins
