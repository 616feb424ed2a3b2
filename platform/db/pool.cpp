#include "platform/db/pool.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include "platform/core/log.hpp"

namespace clinicore::db {

PooledConnection::PooledConnection(ConnectionPool* pool, std::unique_ptr<Session> session)
    : pool_(pool), session_(std::move(session)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), session_(std::move(other.session_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

PooledConnection::~PooledConnection() {
  if (pool_ && session_) pool_->Release(std::move(session_), broken_);
}

std::string BuildConnectionString(const core::DatabaseConfig& config, const std::string& url) {
  const long long seconds = std::max<long long>(1, config.connect_timeout.count() / 1000);
  const char separator = url.find('?') == std::string::npos ? '?' : '&';
  return url + separator + "connect_timeout=" + std::to_string(seconds) + "&application_name=clinicore";
}

ConnectionPool::ConnectionPool(core::DatabaseConfig config, const std::string& url, int size)
    : config_(std::move(config)), connection_string_(BuildConnectionString(config_, url)), size_(size) {}

void ConnectionPool::RegisterStatement(const std::string& name, const std::string& sql) {
  std::lock_guard lock(mutex_);
  // Connections prepare the registry when they open; a later registration would be missing
  // on them, so it is a start-up bug and fails loudly.
  if (ever_opened_) throw std::logic_error("statement " + name + " registered after the pool opened a connection");
  statements_[name] = sql;
}

void ConnectionPool::PrepareStatements(pqxx::connection& connection) {
  std::map<std::string, std::string> statements;
  {
    std::lock_guard lock(mutex_);
    statements = statements_;
  }
  // libpqxx 6 prepares lazily: this records definitions, the server sees them on first use.
  for (const auto& [name, sql] : statements) connection.prepare(name, sql);
}

core::Result<std::unique_ptr<Session>> ConnectionPool::Open() {
  try {
    auto session = std::make_unique<Session>(connection_string_);
    pqxx::connection& connection = session->connection;
    pqxx::nontransaction setup(connection);
    setup.exec("SET statement_timeout = " + std::to_string(config_.statement_timeout.count()));
    setup.commit();
    PrepareStatements(connection);
    return session;
  } catch (const std::exception& e) {
    core::log::Warn("db_connect_failed", {{"what", e.what()}});
    return core::Error::Unavailable("The database is unavailable; retry shortly.", e.what());
  }
}

core::Result<PooledConnection> ConnectionPool::Acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + config_.pool_wait;
  ++waiting_;
  const bool got_slot = available_.wait_until(lock, deadline, [this] { return !idle_.empty() || open_ < size_; });
  --waiting_;
  if (!got_slot) {
    ++timeouts_;
    return core::Error::Unavailable("All database connections are busy; retry shortly.", "pool wait timeout");
  }
  ++in_use_;
  if (!idle_.empty()) {
    auto session = std::move(idle_.back());
    idle_.pop_back();
    return PooledConnection(this, std::move(session));
  }
  ++open_;
  ever_opened_ = true;
  lock.unlock();  // connecting can take a while; never hold the lock across it
  auto opened = Open();
  if (!opened) {
    lock.lock();
    --open_;
    --in_use_;
    available_.notify_one();
    return std::move(opened).error();
  }
  return PooledConnection(this, std::move(opened).value());
}

bool ConnectionPool::Worn(const Session& session) const {
  if (session.retire) return true;
  const int tenants = config_.tenants_per_connection;
  if (tenants > 0 && static_cast<int>(session.tenants_entered.size()) >= tenants) return true;
  const auto lifetime = config_.connection_lifetime;
  return lifetime.count() > 0 && std::chrono::steady_clock::now() - session.opened_at >= lifetime;
}

void ConnectionPool::Release(std::unique_ptr<Session> session, bool broken) {
  const bool worn = !broken && Worn(*session);
  const bool reusable = !broken && !worn && session->connection.is_open();
  if (!reusable) session.reset();  // close outside the lock
  std::lock_guard lock(mutex_);
  --in_use_;
  if (worn) ++retired_;
  if (reusable) {
    idle_.push_back(std::move(session));
  } else {
    --open_;
  }
  available_.notify_one();
}

PoolStats ConnectionPool::Stats() const {
  std::lock_guard lock(mutex_);
  return {open_, in_use_, waiting_, timeouts_, retired_};
}

}  // namespace clinicore::db
