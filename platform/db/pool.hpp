#pragma once

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
};

// A bounded pool: at most `pool_size` connections, opened on demand. A borrower waits at
// most `pool_wait`, then gets Unavailable (503) instead of hanging.
class ConnectionPool {
 public:
  ConnectionPool(core::DatabaseConfig config, std::shared_ptr<core::Metrics> metrics);
  ~ConnectionPool();

  core::Result<PooledConnection> Acquire();
  PoolStats Stats() const;

  // Statements every connection prepares before first use ("module.verb_noun" → SQL).
  void RegisterStatement(const std::string& name, const std::string& sql);

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<Session> session, bool broken);
  core::Result<std::unique_ptr<Session>> Open();
  void PrepareStatements(pqxx::connection& connection);

  core::DatabaseConfig config_;
  std::string connection_string_;
  std::shared_ptr<core::Metrics> metrics_;

  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Session>> idle_;
  int open_ = 0;  // idle + in use + being opened
  int in_use_ = 0;
  int waiting_ = 0;
  long long timeouts_ = 0;
  std::map<std::string, std::string> statements_;
  bool ever_opened_ = false;
};

// Adds connect_timeout and application_name to a postgresql:// URL.
std::string BuildConnectionString(const core::DatabaseConfig& config);

}  // namespace clinicore::db
