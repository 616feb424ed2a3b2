#include "platform/plugins/plugin_repository.hpp"

#include "platform/core/crypto.hpp"
#include "platform/plugins/queries.hpp"

namespace clinicore::plugins {
namespace {

using nlohmann::json;

std::optional<std::string> OptionalText(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

json JsonField(const pqxx::field& field, json fallback) {
  if (field.is_null()) return fallback;
  return json::parse(field.as<std::string>());
}

InstalledPlugin InstallFromRow(const pqxx::row& row) {
  InstalledPlugin plugin;
  plugin.name = row[0].as<std::string>();
  plugin.version = row[1].as<std::string>();
  plugin.kind = row[2].as<std::string>();
  plugin.description = row[3].as<std::string>();
  plugin.abi_major = row[4].as<int>();
  plugin.abi_minor = row[5].as<int>();
  plugin.build_flags = JsonField(row[6], json::array());
  plugin.config_schema = JsonField(row[7], json::object());
  plugin.secret_fields = JsonField(row[8], json::array());
  plugin.limits = JsonField(row[9], json::object());
  plugin.has_check_config = row[10].as<bool>();
  plugin.file_name = row[11].as<std::string>();
  plugin.file_sha256 = row[12].as<std::string>();
  plugin.installed_by = row[13].as<std::string>();
  plugin.installed_at = row[14].as<std::string>();
  return plugin;
}

TenantPlugin TenantPluginFromRow(const pqxx::row& row) {
  TenantPlugin plugin;
  plugin.tenant_id = row[0].as<std::string>();
  plugin.name = row[1].as<std::string>();
  plugin.version = row[2].as<std::string>();
  plugin.config = JsonField(row[3], json::object());
  if (!row[4].is_null()) plugin.sealed_secrets = core::HexDecode(row[4].as<std::string>()).value();
  plugin.secret_fields = JsonField(row[5], json::array());
  plugin.config_hash = row[6].as<std::string>();
  plugin.check_status = row[7].as<std::string>();
  plugin.check_detail = JsonField(row[8], nullptr);
  plugin.checked_at = OptionalText(row[9]);
  plugin.enabled_by = row[10].as<std::string>();
  plugin.enabled_at = row[11].as<std::string>();
  plugin.updated_at = row[12].as<std::string>();
  plugin.kind = row[13].as<std::string>();
  plugin.description = row[14].as<std::string>();
  plugin.health.consecutive_failures = row[15].as<int>();
  plugin.health.last_failure_at = OptionalText(row[16]);
  plugin.health.last_failure = OptionalText(row[17]);
  plugin.health.last_success_at = OptionalText(row[18]);
  plugin.health.quarantined_at = OptionalText(row[19]);
  plugin.health.quarantine_reason = OptionalText(row[20]);
  plugin.health.released_at = OptionalText(row[21]);
  plugin.health.released_by = OptionalText(row[22]);
  return plugin;
}

json Nullable(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

json InstalledPlugin::ConsoleJson() const {
  return {{"name", name},
          {"version", version},
          {"kind", kind},
          {"description", description},
          {"abi", std::to_string(abi_major) + "." + std::to_string(abi_minor)},
          {"build_flags", build_flags},
          {"config_schema", config_schema},
          {"secret_fields", secret_fields},
          {"limits", limits},
          {"has_check_config", has_check_config},
          {"file_name", file_name},
          {"file_sha256", file_sha256},
          {"installed_by", installed_by},
          {"installed_at", installed_at}};
}

json PluginHealth::ConsoleJson() const {
  return {{"consecutive_failures", consecutive_failures}, {"quarantined", quarantined()},
          {"quarantined_at", Nullable(quarantined_at)},   {"quarantine_reason", Nullable(quarantine_reason)},
          {"last_failure_at", Nullable(last_failure_at)}, {"last_failure", Nullable(last_failure)},
          {"last_success_at", Nullable(last_success_at)}, {"released_at", Nullable(released_at)},
          {"released_by", Nullable(released_by)}};
}

json TenantPlugin::ConsoleJson() const {
  return {{"name", name},
          {"version", version},
          {"kind", kind},
          {"description", description},
          {"config", config},
          {"secret_fields_set", secret_fields},
          {"config_hash", config_hash},
          {"check", {{"status", check_status}, {"detail", check_detail}, {"checked_at", Nullable(checked_at)}}},
          {"health", health.ConsoleJson()},
          {"enabled_by", enabled_by},
          {"enabled_at", enabled_at},
          {"updated_at", updated_at}};
}

json TenantPlugin::TenantJson() const {
  return {{"name", name},
          {"version", version},
          {"kind", kind},
          {"description", description},
          {"config", config},
          {"secret_fields_set", secret_fields},
          {"check_status", check_status},
          {"quarantined", health.quarantined()},
          {"enabled_at", enabled_at}};
}

void PluginRepository::RegisterStatements(db::Database& database) {
  using namespace queries;
  for (const auto& [name, sql] :
       std::initializer_list<std::pair<const char*, const char*>>{{kUpsertInstall, kUpsertInstallSql},
                                                                  {kSelectInstall, kSelectInstallSql},
                                                                  {kSelectLatestInstall, kSelectLatestInstallSql},
                                                                  {kListInstalls, kListInstallsSql},
                                                                  {kUpsertTenantPlugin, kUpsertTenantPluginSql},
                                                                  {kDeleteTenantPlugin, kDeleteTenantPluginSql},
                                                                  {kSelectTenantPlugin, kSelectTenantPluginSql},
                                                                  {kListTenantPlugins, kListTenantPluginsSql},
                                                                  {kListSealed, kListSealedSql},
                                                                  {kReplaceSealed, kReplaceSealedSql},
                                                                  {kRecordCheck, kRecordCheckSql},
                                                                  {kRecordFailure, kRecordFailureSql},
                                                                  {kQuarantine, kQuarantineSql},
                                                                  {kRecordSuccess, kRecordSuccessSql},
                                                                  {kRelease, kReleaseSql},
                                                                  {kKvGet, kKvGetSql},
                                                                  {kKvPut, kKvPutSql},
                                                                  {kKvDelete, kKvDeleteSql},
                                                                  {kKvSweep, kKvSweepSql}}) {
    database.RegisterStatement(name, sql);
  }
}

std::optional<InstalledPlugin> PluginRepository::UpsertInstall(db::Transaction& tx, const InstalledPlugin& p) {
  auto rows = tx.Exec(queries::kUpsertInstall, p.name, p.version, p.kind, p.description, p.abi_major, p.abi_minor,
                      p.build_flags.dump(), p.config_schema.dump(), p.secret_fields.dump(), p.limits.dump(),
                      p.has_check_config, p.file_name, p.file_sha256, p.installed_by);
  if (rows.empty()) return std::nullopt;
  return InstallFromRow(rows[0]);
}

std::optional<InstalledPlugin> PluginRepository::FindInstall(db::Transaction& tx, const std::string& name,
                                                             const std::string& version) {
  auto rows = tx.Exec(queries::kSelectInstall, name, version);
  if (rows.empty()) return std::nullopt;
  return InstallFromRow(rows[0]);
}

std::optional<InstalledPlugin> PluginRepository::LatestInstall(db::Transaction& tx, const std::string& name) {
  auto rows = tx.Exec(queries::kSelectLatestInstall, name);
  if (rows.empty()) return std::nullopt;
  return InstallFromRow(rows[0]);
}

std::vector<InstalledPlugin> PluginRepository::ListInstalls(db::Transaction& tx) {
  std::vector<InstalledPlugin> plugins;
  for (const auto& row : tx.Exec(queries::kListInstalls)) plugins.push_back(InstallFromRow(row));
  return plugins;
}

void PluginRepository::UpsertTenantPlugin(db::Transaction& tx, const TenantPlugin& p) {
  const std::optional<std::string> sealed_hex =
      p.sealed_secrets ? std::optional<std::string>(core::HexEncode(*p.sealed_secrets)) : std::nullopt;
  tx.Exec(queries::kUpsertTenantPlugin, p.tenant_id, p.name, p.version, p.config.dump(), sealed_hex,
          p.secret_fields.dump(), p.config_hash, p.check_status, p.enabled_by);
}

std::vector<SealedSecrets> PluginRepository::ListSealed(db::Transaction& tx, const std::string& after_tenant_id,
                                                        const std::string& after_plugin, int limit) {
  std::vector<SealedSecrets> page;
  for (const auto& row : tx.Exec(queries::kListSealed, after_tenant_id, after_plugin, limit)) {
    page.push_back(
        {row[0].as<std::string>(), row[1].as<std::string>(), core::HexDecode(row[2].as<std::string>()).value()});
  }
  return page;
}

bool PluginRepository::ReplaceSealed(db::Transaction& tx, const SealedSecrets& current, const std::string& resealed) {
  return tx.Exec(queries::kReplaceSealed, current.tenant_id, current.plugin_name, core::HexEncode(current.sealed),
                 core::HexEncode(resealed))
             .affected_rows() == 1;
}

std::optional<std::string> PluginRepository::DeleteTenantPlugin(db::Transaction& tx, const std::string& tenant_id,
                                                                const std::string& name) {
  auto rows = tx.Exec(queries::kDeleteTenantPlugin, tenant_id, name);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

std::optional<TenantPlugin> PluginRepository::FindTenantPlugin(db::Transaction& tx, const std::string& tenant_id,
                                                               const std::string& name) {
  auto rows = tx.Exec(queries::kSelectTenantPlugin, tenant_id, name);
  if (rows.empty()) return std::nullopt;
  return TenantPluginFromRow(rows[0]);
}

std::vector<TenantPlugin> PluginRepository::ListTenantPlugins(db::Transaction& tx, const std::string& tenant_id) {
  std::vector<TenantPlugin> plugins;
  for (const auto& row : tx.Exec(queries::kListTenantPlugins, tenant_id)) plugins.push_back(TenantPluginFromRow(row));
  return plugins;
}

bool PluginRepository::RecordCheck(db::Transaction& tx, const std::string& tenant_id, const std::string& name,
                                   const std::string& config_hash, const std::string& status, const json& detail) {
  return tx.Exec(queries::kRecordCheck, tenant_id, name, config_hash, status, detail.dump()).affected_rows() > 0;
}

int PluginRepository::RecordFailure(db::Transaction& tx, const std::string& tenant_id, const std::string& name,
                                    const std::string& message) {
  return tx.Exec(queries::kRecordFailure, tenant_id, name, message.substr(0, 2000))[0][0].as<int>();
}

bool PluginRepository::Quarantine(db::Transaction& tx, const std::string& tenant_id, const std::string& name,
                                  int threshold, const std::string& reason) {
  return !tx.Exec(queries::kQuarantine, tenant_id, name, threshold, reason.substr(0, 2000)).empty();
}

void PluginRepository::RecordSuccess(db::Transaction& tx, const std::string& tenant_id, const std::string& name) {
  tx.Exec(queries::kRecordSuccess, tenant_id, name);
}

bool PluginRepository::Release(db::Transaction& tx, const std::string& tenant_id, const std::string& name,
                               const std::string& actor) {
  return !tx.Exec(queries::kRelease, tenant_id, name, actor).empty();
}

}  // namespace clinicore::plugins
