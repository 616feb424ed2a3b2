#pragma once

// Every statement of the plugins component, by name. Registered with the pool at start-up.
namespace clinicore::plugins::queries {

#define CLINICORE_INSTALL_COLUMNS                                                                    \
  "name, version, kind, description, abi_major, abi_minor, build_flags::text, config_schema::text, " \
  "secret_fields::text, limits::text, has_check_config, file_name, file_sha256, installed_by, "      \
  "to_char(installed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define CLINICORE_UTC(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// tenant_plugins joined with its install and its health row (which may be missing).
#define CLINICORE_TENANT_PLUGIN_COLUMNS \
  "tp.tenant_id::text, tp.plugin_name, tp.plugin_version, tp.config::text, encode(tp.sealed_secrets, 'hex'), " \
  "tp.secret_fields::text, tp.config_hash, tp.check_status, tp.check_detail::text, " CLINICORE_UTC(             \
      "tp.checked_at") ", tp.enabled_by, " CLINICORE_UTC("tp.enabled_at") ", " CLINICORE_UTC(                  \
      "tp.updated_at") ", pi.kind, pi.description, coalesce(h.consecutive_failures, 0), " CLINICORE_UTC(       \
      "h.last_failure_at") ", h.last_failure, " CLINICORE_UTC("h.last_success_at") ", " CLINICORE_UTC(         \
      "h.quarantined_at") ", h.quarantine_reason, " CLINICORE_UTC("h.released_at") ", h.released_by"

#define CLINICORE_TENANT_PLUGIN_FROM                                                                 \
  " FROM platform.tenant_plugins tp "                                                                \
  "JOIN platform.plugin_installs pi ON pi.name = tp.plugin_name AND pi.version = tp.plugin_version " \
  "LEFT JOIN platform.plugin_health h ON h.tenant_id = tp.tenant_id AND h.plugin_name = tp.plugin_name "

// $1 name .. $14 installed_by. A name + version already recorded from another file is not
// touched (the caller compares the returned sha256).
inline constexpr const char* kUpsertInstall = "plugins.upsert_install";
inline constexpr const char* kUpsertInstallSql =
    "INSERT INTO platform.plugin_installs (name, version, kind, description, abi_major, abi_minor, build_flags, "
    "config_schema, secret_fields, limits, has_check_config, file_name, file_sha256, installed_by) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb, $11, $12, $13, $14) "
    "ON CONFLICT (name, version) DO UPDATE SET last_seen_at = now() "
    "WHERE platform.plugin_installs.file_sha256 = EXCLUDED.file_sha256 "
    "RETURNING " CLINICORE_INSTALL_COLUMNS;

inline constexpr const char* kSelectInstall = "plugins.select_install";
inline constexpr const char* kSelectInstallSql =
    "SELECT " CLINICORE_INSTALL_COLUMNS " FROM platform.plugin_installs WHERE name = $1 AND version = $2";

// The newest version of a plugin: highest semantic version (numeric major.minor.patch).
inline constexpr const char* kSelectLatestInstall = "plugins.select_latest_install";
inline constexpr const char* kSelectLatestInstallSql =
    "SELECT " CLINICORE_INSTALL_COLUMNS
    " FROM platform.plugin_installs WHERE name = $1 "
    "ORDER BY (string_to_array(split_part(split_part(version, '-', 1), '+', 1), '.'))::int[] DESC, version DESC "
    "LIMIT 1";

inline constexpr const char* kListInstalls = "plugins.list_installs";
inline constexpr const char* kListInstallsSql =
    "SELECT " CLINICORE_INSTALL_COLUMNS
    " FROM platform.plugin_installs "
    "ORDER BY name, (string_to_array(split_part(split_part(version, '-', 1), '+', 1), '.'))::int[], version";

// $1 tenant, $2 plugin, $3 version, $4 config, $5 sealed secrets (hex or NULL), $6 secret
// field names, $7 config hash, $8 check status, $9 actor.
inline constexpr const char* kUpsertTenantPlugin = "plugins.upsert_tenant_plugin";
inline constexpr const char* kUpsertTenantPluginSql =
    "INSERT INTO platform.tenant_plugins (tenant_id, plugin_name, plugin_version, config, sealed_secrets, "
    "secret_fields, config_hash, check_status, enabled_by) "
    "VALUES ($1::uuid, $2, $3, $4::jsonb, decode($5, 'hex'), $6::jsonb, $7, $8, $9) "
    "ON CONFLICT (tenant_id, plugin_name) DO UPDATE SET plugin_version = EXCLUDED.plugin_version, "
    "config = EXCLUDED.config, sealed_secrets = EXCLUDED.sealed_secrets, secret_fields = EXCLUDED.secret_fields, "
    "config_hash = EXCLUDED.config_hash, check_status = EXCLUDED.check_status, check_detail = NULL, "
    "checked_at = NULL, enabled_by = EXCLUDED.enabled_by, updated_at = now()";

inline constexpr const char* kDeleteTenantPlugin = "plugins.delete_tenant_plugin";
inline constexpr const char* kDeleteTenantPluginSql =
    "DELETE FROM platform.tenant_plugins WHERE tenant_id = $1::uuid AND plugin_name = $2 "
    "RETURNING plugin_version, config_hash";

inline constexpr const char* kSelectTenantPlugin = "plugins.select_tenant_plugin";
inline constexpr const char* kSelectTenantPluginSql =
    "SELECT " CLINICORE_TENANT_PLUGIN_COLUMNS CLINICORE_TENANT_PLUGIN_FROM
    "WHERE tp.tenant_id = $1::uuid AND tp.plugin_name = $2";

inline constexpr const char* kListTenantPlugins = "plugins.list_tenant_plugins";
inline constexpr const char* kListTenantPluginsSql =
    "SELECT " CLINICORE_TENANT_PLUGIN_COLUMNS CLINICORE_TENANT_PLUGIN_FROM
    "WHERE tp.tenant_id = $1::uuid ORDER BY tp.plugin_name";

// Records the outcome of the plugin's own live check, unless the config changed meanwhile.
// Rekey: the sealed rows after a (tenant_id, plugin_name) position, in key order; $3 page size.
inline constexpr const char* kListSealed = "plugins.list_sealed";
inline constexpr const char* kListSealedSql =
    "SELECT tenant_id::text, plugin_name, encode(sealed_secrets, 'hex') FROM platform.tenant_plugins "
    "WHERE sealed_secrets IS NOT NULL AND (tenant_id, plugin_name) > ($1::uuid, $2) "
    "ORDER BY tenant_id, plugin_name LIMIT $3";
// Swaps one row's sealed value only while it still holds the value that was read ($3): a config
// saved meanwhile was sealed under the current key already and is left alone. The config hash
// stays: the plaintext behind it did not change.
inline constexpr const char* kReplaceSealed = "plugins.replace_sealed";
inline constexpr const char* kReplaceSealedSql =
    "UPDATE platform.tenant_plugins SET sealed_secrets = decode($4, 'hex') "
    "WHERE tenant_id = $1::uuid AND plugin_name = $2 AND sealed_secrets = decode($3, 'hex')";

inline constexpr const char* kRecordCheck = "plugins.record_check";
inline constexpr const char* kRecordCheckSql =
    "UPDATE platform.tenant_plugins SET check_status = $4, check_detail = $5::jsonb, checked_at = now() "
    "WHERE tenant_id = $1::uuid AND plugin_name = $2 AND config_hash = $3";

// One more consecutive failure; returns the count and whether the plugin is quarantined.
inline constexpr const char* kRecordFailure = "plugins.record_failure";
inline constexpr const char* kRecordFailureSql =
    "INSERT INTO platform.plugin_health AS h (tenant_id, plugin_name, consecutive_failures, last_failure_at, "
    "last_failure) VALUES ($1::uuid, $2, 1, now(), $3) "
    "ON CONFLICT (tenant_id, plugin_name) DO UPDATE SET consecutive_failures = h.consecutive_failures + 1, "
    "last_failure_at = now(), last_failure = EXCLUDED.last_failure "
    "RETURNING consecutive_failures, quarantined_at IS NOT NULL";

// Quarantines when the count reached the threshold ($3); returns a row only when it did now.
inline constexpr const char* kQuarantine = "plugins.quarantine";
inline constexpr const char* kQuarantineSql =
    "UPDATE platform.plugin_health SET quarantined_at = now(), quarantine_reason = $4 "
    "WHERE tenant_id = $1::uuid AND plugin_name = $2 AND consecutive_failures >= $3 AND quarantined_at IS NULL "
    "RETURNING consecutive_failures";

inline constexpr const char* kRecordSuccess = "plugins.record_success";
inline constexpr const char* kRecordSuccessSql =
    "UPDATE platform.plugin_health SET consecutive_failures = 0, last_success_at = now() "
    "WHERE tenant_id = $1::uuid AND plugin_name = $2 AND consecutive_failures > 0";

inline constexpr const char* kRelease = "plugins.release";
inline constexpr const char* kReleaseSql =
    "UPDATE platform.plugin_health SET quarantined_at = NULL, quarantine_reason = NULL, consecutive_failures = 0, "
    "released_at = now(), released_by = $3 "
    "WHERE tenant_id = $1::uuid AND plugin_name = $2 AND quarantined_at IS NOT NULL "
    "RETURNING consecutive_failures";

inline constexpr const char* kKvGet = "plugins.kv_get";
inline constexpr const char* kKvGetSql =
    "SELECT encode(value, 'hex') FROM platform.plugin_kv WHERE tenant_id = $1::uuid AND plugin_name = $2 "
    "AND key = decode($3, 'hex') AND (expires_at IS NULL OR expires_at > now())";

inline constexpr const char* kKvPut = "plugins.kv_put";
inline constexpr const char* kKvPutSql =
    "INSERT INTO platform.plugin_kv (tenant_id, plugin_name, key, value, expires_at) "
    "VALUES ($1::uuid, $2, decode($3, 'hex'), decode($4, 'hex'), "
    "CASE WHEN $5::bigint > 0 THEN now() + make_interval(secs => $5::bigint) END) "
    "ON CONFLICT (tenant_id, plugin_name, key) DO UPDATE SET value = EXCLUDED.value, "
    "expires_at = EXCLUDED.expires_at, updated_at = now()";

inline constexpr const char* kKvDelete = "plugins.kv_delete";
inline constexpr const char* kKvDeleteSql =
    "DELETE FROM platform.plugin_kv WHERE tenant_id = $1::uuid AND plugin_name = $2 AND key = decode($3, 'hex')";

// Expired key-value entries, a batch at a time (reads already ignore them; this frees the rows).
inline constexpr const char* kKvSweep = "plugins.kv_sweep";
inline constexpr const char* kKvSweepSql =
    "DELETE FROM platform.plugin_kv WHERE ctid IN (SELECT ctid FROM platform.plugin_kv "
    "WHERE expires_at <= now() LIMIT $1::int)";

}  // namespace clinicore::plugins::queries
