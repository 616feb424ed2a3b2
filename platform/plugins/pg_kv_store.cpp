#include "platform/plugins/pg_kv_store.hpp"

#include "platform/core/crypto.hpp"
#include "platform/plugins/queries.hpp"

namespace clinicore::plugins {
namespace {

using sdk::host::Failure;
using sdk::host::FailureKind;

Failure StorageFailure(const core::Error& error) {
  return Failure{FailureKind::kPluginError, "plugin key-value storage failed: " + error.detail};
}

}  // namespace

sdk::host::Expected<std::optional<std::string>> PgKeyValueStore::Get(const sdk::host::CallIdentity& who,
                                                                     const std::string& key) {
  auto value = database_.ReadOnce([&](db::Transaction& tx) -> core::Result<std::optional<std::string>> {
    auto rows = tx.Exec(queries::kKvGet, who.tenant_id, who.plugin_name, core::HexEncode(key));
    if (rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(core::HexDecode(rows[0][0].as<std::string>()).value());
  });
  if (!value) return StorageFailure(value.error());
  return *value;
}

sdk::host::Expected<sdk::host::Unit> PgKeyValueStore::Put(const sdk::host::CallIdentity& who, const std::string& key,
                                                          const std::string& value, int64_t ttl_seconds) {
  auto stored = database_.Write([&](db::Transaction& tx) -> core::Status {
    tx.Exec(queries::kKvPut, who.tenant_id, who.plugin_name, core::HexEncode(key), core::HexEncode(value), ttl_seconds);
    tx.Commit();
    return core::Ok();
  });
  if (!stored) return StorageFailure(stored.error());
  return sdk::host::Unit{};
}

sdk::host::Expected<sdk::host::Unit> PgKeyValueStore::Delete(const sdk::host::CallIdentity& who,
                                                             const std::string& key) {
  auto deleted = database_.Write([&](db::Transaction& tx) -> core::Status {
    tx.Exec(queries::kKvDelete, who.tenant_id, who.plugin_name, core::HexEncode(key));
    tx.Commit();
    return core::Ok();
  });
  if (!deleted) return StorageFailure(deleted.error());
  return sdk::host::Unit{};
}

core::Result<long long> PgKeyValueStore::SweepExpired(db::Database& database, int batch,
                                                      const std::function<bool()>& keep_going) {
  long long deleted = 0;
  while (keep_going()) {
    auto rows = database.Write([&](db::Transaction& tx) -> core::Result<long long> {
      const auto result = tx.Exec(queries::kKvSweep, batch);
      tx.Commit();
      return static_cast<long long>(result.affected_rows());
    });
    if (!rows) return std::move(rows).error();
    deleted += *rows;
    if (*rows < batch) break;
  }
  return deleted;
}

}  // namespace clinicore::plugins
