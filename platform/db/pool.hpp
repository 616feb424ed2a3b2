#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <unordered_set>
#include <vector>

#include "platform/core/config.hpp"
#include "platform/core/metrics.hpp"
#include "platform/core/result.hpp"

namespace clinicore::db {

class ConnectionPool;

// One server session: the libpqxx connection plus what this session has already prepared
// under a tenant's search_path (so single-statement tenant reads can EXECUTE it directly).
struct Session {
  explicit Session(const std::string& connection_string) : connection(connection_string) {}
  pqxx::connection connection;
  std::unordered_set<std::string> prepared_in_scope;
  // The session runs as the platform role (Database::Run sets it once per connection).
  bool in_platform_role = false;
  // The tenant schemas this session has entered, and when it opened: the pool retires it
  // past core::DatabaseConfig::tenants_per_connection or connection_lifetime.
  std::unordered_set<std::string> tenants_entered;
  std::chrono::steady_clock::time_point opened_at = std::chrono::steady_clock::now();
  bool retire = false;  // close it when it comes back (Database::WriteInCellAndRetire)
};

// A connection borrowed from the pool; returns itself on destruction. A connection marked
// broken is closed instead of returned, so the next borrower gets a fresh one.
class PooledConnection {
 public:
  PooledConnection(ConnectionPool* pool, std::unique_ptr<Session> session);
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&&) = delete;
  PooledConnection(const PooledConnection&) = delete;
  ~PooledConnection();

  pqxx::connection& get() { return session_->connection; }
  Session& session() { return *session_; }
  void MarkBroken() { broken_ = true; }

 private:
  ConnectionPool* pool_;
  std::unique_ptr<Session> session_;
  bool broken_ = false;
};

struct PoolStats {
  int size = 0;
  int in_use = 0;
  int waiting = 0;
  long long timeouts = 0;
  long long retired = 0;  // connections closed for their tenant count or age
};

// A bounded pool: at most `size` connections to `url`, opened on demand. A borrower waits at
// most `pool_wait`, then gets Unavailable (503) instead of hanging. A connection that has
// entered too many tenants or lived too long is closed when it comes back (retired), so no
// PostgreSQL backend's caches grow with the number of tenants.
class ConnectionPool {
 public:
  ConnectionPool(core::DatabaseConfig config, const std::string& url, int size);

  core::Result<PooledConnection> Acquire();
  PoolStats Stats() const;

  // Statements every connection prepares before first use ("module.verb_noun" → SQL).
  void RegisterStatement(const std::string& name, const std::string& sql);

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<Session> session, bool broken);
  core::Result<std::unique_ptr<Session>> Open();
  void PrepareStatements(pqxx::connection& connection);
  bool Worn(const Session& session) const;

  core::DatabaseConfig config_;
  std::string connection_string_;
  int size_;

  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Session>> idle_;
  int open_ = 0;  // idle + in use + being opened
  int in_use_ = 0;
  int waiting_ = 0;
  long long timeouts_ = 0;
  long long retired_ = 0;
  std::map<std::string, std::string> statements_;
  bool ever_opened_ = false;
};

// Adds connect_timeout and application_name to a postgresql:// URL.
std::string BuildConnectionString(const core::DatabaseConfig& config, const std::string& url);
inline std::string BuildConnectionString(const core::DatabaseConfig& config) {
  return BuildConnectionString(config, config.url);
}

}  // namespace clinicore::db
