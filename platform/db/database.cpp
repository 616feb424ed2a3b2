#include "platform/db/database.hpp"

#include <stdexcept>
#include <vector>

#include "platform/db/cells.hpp"

namespace clinicore::db {
namespace {

// The pools' figures, summed over the cells.
struct PoolGauge {
  const char* name;
  const char* help;
  double (*read)(const PoolStats&);
};
constexpr PoolGauge kPoolGauges[] = {
    {"clinicore_db_pool_in_use", "Database connections borrowed right now.",
     [](const PoolStats& s) { return static_cast<double>(s.in_use); }},
    {"clinicore_db_pool_waiting", "Requests waiting for a database connection.",
     [](const PoolStats& s) { return static_cast<double>(s.waiting); }},
    {"clinicore_db_pool_size", "Open database connections.",
     [](const PoolStats& s) { return static_cast<double>(s.size); }},
    {"clinicore_db_pool_timeouts", "Borrowers that gave up waiting (monotonic).",
     [](const PoolStats& s) { return static_cast<double>(s.timeouts); }},
    {"clinicore_db_pool_retired", "Connections closed for the tenants they entered or their age (monotonic).",
     [](const PoolStats& s) { return static_cast<double>(s.retired); }},
};

}  // namespace

Database::Database(core::DatabaseConfig config, std::shared_ptr<core::Metrics> metrics)
    : config_(std::move(config)), metrics_(std::move(metrics)) {
  for (int cell = 0; cell < std::max(1, config_.cells); ++cell) {
    auto url = CellUrl(config_.url, cell);
    if (!url) throw std::invalid_argument(url.error().detail);
    pools_.push_back(
        std::make_unique<ConnectionPool>(config_, *url, cell == 0 ? config_.pool_size : config_.cell_pool_size));
  }
  for (const auto& gauge : kPoolGauges) {
    metrics_->AddSampledGauge(gauge.name, gauge.help, [this, read = gauge.read] { return read(Stats()); });
  }
}

Database::~Database() {
  // The metrics registry may outlive the pools: stop it from sampling dead objects.
  for (const auto& gauge : kPoolGauges) metrics_->AddSampledGauge(gauge.name, "", [] { return 0.0; });
}

PoolStats Database::Stats() const {
  PoolStats total;
  for (const auto& pool : pools_) {
    const PoolStats stats = pool->Stats();
    total.size += stats.size;
    total.in_use += stats.in_use;
    total.waiting += stats.waiting;
    total.timeouts += stats.timeouts;
    total.retired += stats.retired;
  }
  return total;
}

core::Result<ConnectionPool*> Database::PoolOf(int cell) {
  if (cell >= 0 && cell < static_cast<int>(pools_.size())) return pools_[static_cast<size_t>(cell)].get();
  return core::Error::Unavailable(
      "This tenant is served by another node's database cell.",
      "no pool for cell " + std::to_string(cell) + " (CLINICORE_DB_CELLS=" + std::to_string(pools_.size()) + ")");
}

std::string Database::EnterScopeSql(pqxx::connection_base& connection, const TenantScope& scope) {
  // Both settings end with the transaction (set_config's third argument), so a pooled
  // connection never carries a tenant into the next borrower's work. The values are quoted
  // identifiers from the registry.
  // Tenant statements are planned once per session (generic plans): every list carries
  // optional filters as "$n IS NULL OR ...", which PostgreSQL would otherwise re-plan on every
  // call (a custom plan costs ~1 ms for a list statement, more than running it), because its
  // generic estimate under LIMIT looks dearer than it is.
  // pg_temp is named last: unnamed, PostgreSQL would search it first (tenant roles cannot
  // create temporary tables either: migrations/platform/0007).
  return "SELECT set_config('role', " + connection.quote(scope.role) + ", true), set_config('search_path', " +
         connection.quote(connection.quote_name(scope.schema) + ", pg_temp") +
         ", true), set_config('plan_cache_mode', 'force_generic_plan', true)";
}

namespace {

// The problems of one cell's login (empty: none), and its name.
core::Status CheckCellLogin(const core::DatabaseConfig& config, int cell) {
  std::vector<std::string> problems;
  std::string role;
  try {
    auto url = CellUrl(config.url, cell);
    if (!url) return std::move(url).error();
    pqxx::connection connection(BuildConnectionString(config, *url));
    pqxx::nontransaction tx(connection);
    const auto row = tx.exec_params(
        "SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, "
        "r.rolinherit, pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER') "
        "OR pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER') "
        "OR pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER'), "
        "EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = current_database() AND d.datdba = r.oid), "
        "EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.proowner = r.oid), "
        "NOT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "WHERE m.member = r.oid AND g.rolname = $1) "
        "FROM pg_roles r WHERE r.rolname = session_user",
        CellGroupRole(cell))[0];
    role = row[0].as<std::string>();
    const char* what[] = {"is a superuser",
                          "has CREATEROLE",
                          "has CREATEDB",
                          "has REPLICATION",
                          "has BYPASSRLS",
                          "inherits the privileges of its roles (make it NOINHERIT)",
                          "is a member of pg_execute_server_program, pg_read_server_files or pg_write_server_files",
                          "owns the database",
                          "owns objects in the database",
                          "is not a member of its cell's group (run migrate with this CLINICORE_DB_CELLS)"};
    for (int column = 1; column <= 10; ++column) {
      if (row[column].as<bool>()) problems.emplace_back(what[column - 1]);
    }
  } catch (const std::exception& e) {
    return core::Error::Unavailable(std::string("cannot check the database role of cell ") + std::to_string(cell) +
                                    ": " + e.what());
  }
  if (problems.empty()) return core::Ok();
  std::string detail =
      "the database role '" + role + "' of CLINICORE_DATABASE_URL (cell " + std::to_string(cell) + ") ";
  for (size_t i = 0; i < problems.size(); ++i) detail += (i == 0 ? "" : ", ") + problems[i];
  detail +=
      ": serve and work need NOINHERIT roles that own nothing, members of clinicore_runtime and of one cell "
      "each; the provisioner belongs in CLINICORE_MIGRATE_DATABASE_URL (docs/tenancy.md)";
  return core::Error{core::ErrorCode::kFailedPrecondition, detail, {}, {}};
}

}  // namespace

core::Status CheckRuntimeLogin(const core::DatabaseConfig& config) {
  for (int cell = 0; cell < std::max(1, config.cells); ++cell) {
    if (auto checked = CheckCellLogin(config, cell); !checked) return checked;
  }
  return core::Ok();
}

void Database::EnterPlatformRole(Session& session) {
  if (session.in_platform_role) return;
  pqxx::nontransaction(session.connection).exec(kEnterPlatformRoleSql);
  session.in_platform_role = true;
}

core::Result<PooledConnection> Database::Acquire() {
  auto connection = pool().Acquire();
  if (!connection || !connection->session().in_platform_role) return connection;
  try {
    pqxx::nontransaction(connection->get()).exec("RESET ROLE");
    connection->session().in_platform_role = false;
  } catch (const std::exception& e) {
    connection->MarkBroken();
    return Classify(e).error;
  }
  return connection;
}

core::Status Database::Ping() {
  return ReadOnce([](Transaction& tx) -> core::Status {
    tx.ExecScript("SELECT 1");
    return core::Ok();
  });
}

}  // namespace clinicore::db
