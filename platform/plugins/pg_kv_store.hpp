#pragma once

#include <functional>

#include "clinicore/sdk/host/services.hpp"
#include "platform/db/database.hpp"

namespace clinicore::plugins {

// The plugins' key-value host service on PostgreSQL (platform.plugin_kv), keyed by tenant and
// plugin name taken from the call, never from the plugin: a plugin cannot name another tenant.
class PgKeyValueStore : public sdk::host::KeyValueStore {
 public:
  explicit PgKeyValueStore(db::Database& database) : database_(database) {}

  sdk::host::Expected<std::optional<std::string>> Get(const sdk::host::CallIdentity& who,
                                                      const std::string& key) override;
  sdk::host::Expected<sdk::host::Unit> Put(const sdk::host::CallIdentity& who, const std::string& key,
                                           const std::string& value, int64_t ttl_seconds) override;
  sdk::host::Expected<sdk::host::Unit> Delete(const sdk::host::CallIdentity& who, const std::string& key) override;

  // Deletes expired entries of every tenant, `batch` rows per transaction, until none are left
  // or `keep_going` says stop; returns how many it deleted.
  static core::Result<long long> SweepExpired(db::Database& database, int batch,
                                              const std::function<bool()>& keep_going);

 private:
  db::Database& database_;
};

}  // namespace clinicore::plugins
