// The database roles (docs/tenancy.md, "Database roles") against real PostgreSQL: what the
// runtime login can and cannot do on its own, inside the platform's role, and through the
// provisioning functions; and that serve's start-up check tells the runtime from the
// provisioner.
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <thread>

#include "platform/core/log.hpp"
#include "platform/db/cells.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/tenancy/cell_registry.hpp"
#include "platform/tenancy/tenant_repository.hpp"
#include "platform/tenancy/tenant_service.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::tenancy {
namespace {

constexpr const char* kInsufficientPrivilege = "42501";
constexpr const char* kEnterPlatform = "SELECT set_config('role', 'clinicore_platform', true)";

class DatabaseRolesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    core::log::Init("off");
    database_ = new testing::TestDatabase();
    core::DatabaseConfig provisioner;
    provisioner.url = database_->url();
    db::Database migrator(provisioner, std::make_shared<core::Metrics>());
    auto platform = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/platform");
    ASSERT_TRUE(platform.ok());
    ASSERT_TRUE(migrations::MigrationRunner(migrator).Apply({"platform", ""}, *platform).ok());
    ASSERT_TRUE(tenancy::EnsureCells(migrator, database_->runtime_config()).ok());
  }
  static void TearDownTestSuite() { delete database_; }

  void SetUp() override {
    core::DatabaseConfig runtime;
    runtime.url = database_->runtime_url();
    runtime.pool_size = 2;
    db_ = std::make_unique<db::Database>(runtime, metrics_);
    TenantRepository::RegisterStatements(*db_);
    auto redis = std::make_shared<cache::RedisClient>(testing::TestRedisConfig(), metrics_);
    auto files = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/tenant").value();
    service_ =
        std::make_unique<TenantService>(*db_, files, std::make_shared<TenantDirectory>(*db_, redis, core::Millis(1)));
  }

  Tenant Onboard(const std::string& slug) {
    auto result = service_->Onboard({slug, "Clinic " + slug, "UTC", "en", nlohmann::json::object()}, {"test", "req"},
                                    std::nullopt);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().detail + " " + result.error().internal);
    return result.ok() ? result->tenant : Tenant{};
  }

  // How `sql` fails when the runtime login runs it after `prefix` in one transaction: "" when
  // it succeeds, kInsufficientPrivilege for SQLSTATE 42501, else PostgreSQL's message
  // (libpqxx 6 keeps the SQLSTATE only in the exception's type).
  static std::string RuntimeFailure(const std::string& sql, const std::string& prefix = "") {
    pqxx::connection connection(database_->runtime_url());
    try {
      pqxx::work tx(connection);
      if (!prefix.empty()) tx.exec(prefix);
      tx.exec(sql);
      tx.commit();
      return "";
    } catch (const pqxx::insufficient_privilege&) {
      return kInsufficientPrivilege;
    } catch (const pqxx::sql_error& e) {
      return e.what();
    }
  }
  static bool FailsWith(const std::string& sql, const std::string& prefix, const std::string& message) {
    const std::string failure = RuntimeFailure(sql, prefix);
    return failure.find(message) != std::string::npos;
  }

  static testing::TestDatabase* database_;
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<TenantService> service_;
};
testing::TestDatabase* DatabaseRolesTest::database_ = nullptr;

TEST_F(DatabaseRolesTest, TheRuntimeLoginHoldsNothingOutsideARole) {
  const Tenant tenant = Onboard("roles-outside");
  const std::string users = "SELECT count(*) FROM " + tenant.schema_name + ".users";
  EXPECT_EQ(RuntimeFailure("SELECT count(*) FROM platform.tenants"), kInsufficientPrivilege);
  // (PUBLIC may insert jobs and read a few columns, under row policies that match only a
  // tenant's role: tenants enqueue in their own transactions.)
  EXPECT_EQ(RuntimeFailure("SELECT payload FROM queue.jobs"), kInsufficientPrivilege);
  EXPECT_EQ(RuntimeFailure(users), kInsufficientPrivilege);
  // RESET ROLE ends whatever role a transaction entered: nothing is left.
  EXPECT_EQ(RuntimeFailure("SELECT count(*) FROM platform.tenants", std::string(kEnterPlatform) + "; RESET ROLE"),
            kInsufficientPrivilege);
  EXPECT_EQ(RuntimeFailure(users, "SET LOCAL ROLE " + tenant.role_name + "; RESET ROLE"), kInsufficientPrivilege);
  // Inside the roles, their own rows and nothing across.
  EXPECT_EQ(RuntimeFailure("SELECT count(*) FROM platform.tenants", kEnterPlatform), "");
  EXPECT_EQ(RuntimeFailure(users, "SET LOCAL ROLE " + tenant.role_name), "");
  EXPECT_EQ(RuntimeFailure(users, kEnterPlatform), kInsufficientPrivilege);
  EXPECT_EQ(RuntimeFailure("SELECT count(*) FROM platform.tenants", "SET LOCAL ROLE " + tenant.role_name),
            kInsufficientPrivilege);
}

TEST_F(DatabaseRolesTest, TheRuntimeCannotMakeRolesGrantServerRightsOrChangeStructure) {
  for (const std::string& prefix : {std::string(), std::string(kEnterPlatform)}) {
    SCOPED_TRACE(prefix.empty() ? "as the login" : "as the platform role");
    EXPECT_EQ(RuntimeFailure("CREATE ROLE roles_probe_" + database_->name(), prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("GRANT pg_execute_server_program TO CURRENT_USER", prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("GRANT clinicore_platform TO CURRENT_USER", prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("CREATE TEMP TABLE roles_probe (x int)", prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("CREATE SCHEMA roles_probe", prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("CREATE TABLE platform.roles_probe (x int)", prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("DROP TABLE platform.tenants", prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("ALTER TABLE queue.jobs DISABLE ROW LEVEL SECURITY", prefix), kInsufficientPrivilege);
    EXPECT_EQ(RuntimeFailure("SELECT count(*) FROM provisioning.tenant_objects", prefix), kInsufficientPrivilege);
  }
  // The provisioning functions are the platform role's only: the bare login may not call them.
  EXPECT_EQ(RuntimeFailure("SELECT provisioning.create_tenant(gen_random_uuid(), 't_roles_probe', 0)"),
            kInsufficientPrivilege);
}

TEST_F(DatabaseRolesTest, TheProvisioningFunctionsTakeOnlyTenantIdsAndSchemaNames) {
  const std::string call = "SELECT provisioning.create_tenant(gen_random_uuid(), ";
  for (const std::string& bad :
       std::vector<std::string>{"'platform'", "'public'", "'t_'", "'t_x; DROP TABLE platform.tenants'", "'T_upper'",
                                "'t__double'", "'t_trailing_'", "NULL", "'t_" + std::string(41, 'a') + "'"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(FailsWith(call + bad + ", 0)", kEnterPlatform, "not a tenant id and schema name"));
  }
  for (const char* cell : {"-1", "4096", "NULL"}) {
    SCOPED_TRACE(cell);
    EXPECT_TRUE(FailsWith(call + "'t_roles_no_cell', " + cell + ")", kEnterPlatform, "no registered cell"));
  }
  // A registered tenant is never dropped; an id nothing was provisioned for is refused.
  const Tenant tenant = Onboard("roles-registered");
  EXPECT_TRUE(FailsWith("SELECT provisioning.drop_tenant('" + tenant.id + "')", kEnterPlatform, "is still registered"));
  EXPECT_TRUE(FailsWith("SELECT provisioning.drop_tenant(gen_random_uuid())", kEnterPlatform, "no provisioned tenant"));
  // Made and dropped in one go (the registry row never existed): nothing is left.
  EXPECT_EQ(RuntimeFailure("SELECT provisioning.drop_tenant('00000000-0000-0000-0000-00000000abcd')",
                           std::string(kEnterPlatform) +
                               "; SELECT provisioning.create_tenant('00000000-0000-0000-0000-00000000abcd', "
                               "'t_roles_made_and_dropped', 0)"),
            "");
  pqxx::connection connection(database_->url());
  pqxx::read_transaction tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM pg_namespace WHERE nspname = 't_roles_made_and_dropped'")[0][0].as<int>(), 0);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM pg_roles WHERE rolname = 'tenant_0000000000000000000000000000abcd'")[0][0]
                .as<int>(),
            0);
}

TEST_F(DatabaseRolesTest, TheStartUpCheckRefusesTheProvisionerAndAcceptsTheRuntime) {
  core::DatabaseConfig runtime;
  runtime.url = database_->runtime_url();
  const auto accepted = db::CheckRuntimeLogin(runtime);
  EXPECT_TRUE(accepted.ok()) << (accepted.ok() ? "" : accepted.error().detail);
  core::DatabaseConfig provisioner;
  provisioner.url = database_->url();
  const auto refused = db::CheckRuntimeLogin(provisioner);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kFailedPrecondition);
  for (const char* reason : {"has CREATEROLE", "has CREATEDB", "owns the database", "owns objects"}) {
    EXPECT_NE(refused.error().detail.find(reason), std::string::npos) << refused.error().detail;
  }
}

TEST_F(DatabaseRolesTest, EachCellsLoginReachesOnlyItsOwnCellsTenants) {
  const Tenant in_cell_zero = Onboard("roles-cell-zero");  // this fixture's service has one cell
  ASSERT_EQ(in_cell_zero.cell, 0);
  // Cell 1 registered beside it: the least filled, so the next onboarding lands there.
  core::DatabaseConfig runtime = database_->runtime_config();
  runtime.cells = 2;
  runtime.pool_size = 2;
  {
    core::DatabaseConfig provisioner;
    provisioner.url = database_->url();
    db::Database migrator(provisioner, metrics_);
    ASSERT_TRUE(EnsureCells(migrator, runtime).ok());
  }
  const auto checked = db::CheckRuntimeLogin(runtime);
  ASSERT_TRUE(checked.ok()) << checked.error().detail;
  db::Database two_cells(runtime, metrics_);
  TenantRepository::RegisterStatements(two_cells);
  auto redis = std::make_shared<cache::RedisClient>(testing::TestRedisConfig(), metrics_);
  TenantService service(two_cells, migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/tenant").value(),
                        std::make_shared<TenantDirectory>(two_cells, redis, core::Millis(1)));
  auto onboarded = service.Onboard({"roles-cell-one", "Clinic", "UTC", "en", nlohmann::json::object()}, {"test", "req"},
                                   std::nullopt);
  ASSERT_TRUE(onboarded.ok()) << onboarded.error().detail << " " << onboarded.error().internal;
  const Tenant in_cell_one = onboarded->tenant;
  EXPECT_EQ(in_cell_one.cell, 1);
  {
    pqxx::connection connection(database_->url());
    pqxx::read_transaction tx(connection);
    EXPECT_EQ(
        tx.exec_params("SELECT cell FROM provisioning.tenant_objects WHERE tenant_id = $1::uuid", in_cell_one.id)[0][0]
            .as<int>(),
        1);
  }

  // Its transactions run on cell 1's login, inside its role.
  auto who = two_cells.ReadInTenant(in_cell_one.Scope(), [](db::Transaction& tx) -> core::Result<std::string> {
    return tx.ExecScript("SELECT session_user || ' ' || current_user")[0][0].as<std::string>();
  });
  ASSERT_TRUE(who.ok()) << who.error().internal;
  const std::string cell_one_login = db::CellLogin(db::UrlUser(database_->runtime_url()).value(), 1);
  EXPECT_EQ(*who, cell_one_login + " " + in_cell_one.role_name);

  // Neither login reaches the other cell's tenant: PostgreSQL refuses the role.
  const auto enters = [](const std::string& url, const std::string& role) {
    pqxx::connection connection(url);
    try {
      pqxx::work tx(connection);
      tx.exec("SET LOCAL ROLE " + tx.quote_name(role));
      return true;
    } catch (const pqxx::sql_error&) {
      return false;
    }
  };
  const std::string cell_one_url = db::CellUrl(database_->runtime_url(), 1).value();
  EXPECT_TRUE(enters(cell_one_url, in_cell_one.role_name));
  EXPECT_FALSE(enters(cell_one_url, in_cell_zero.role_name));
  EXPECT_TRUE(enters(database_->runtime_url(), in_cell_zero.role_name));
  EXPECT_FALSE(enters(database_->runtime_url(), in_cell_one.role_name));
  // A scope routed to the wrong cell fails the transaction, and nothing else.
  db::TenantScope misrouted = in_cell_one.Scope();
  misrouted.cell = 0;
  EXPECT_FALSE(two_cells.ReadInTenant(misrouted, [](db::Transaction&) -> core::Status { return core::Ok(); }).ok());
  db::TenantScope unknown = in_cell_one.Scope();
  unknown.cell = 7;
  const auto unserved = two_cells.ReadInTenant(unknown, [](db::Transaction&) -> core::Status { return core::Ok(); });
  ASSERT_FALSE(unserved.ok());
  EXPECT_EQ(unserved.error().code, core::ErrorCode::kUnavailable);
}

TEST_F(DatabaseRolesTest, PurgingDropsTheTenantsRoleAndSchemaThroughTheFunction) {
  const Tenant tenant = Onboard("roles-purged");
  pqxx::connection connection(database_->url());
  {
    pqxx::work tx(connection);
    // Offboarded long ago, exported: due for purging.
    tx.exec_params(
        "UPDATE platform.tenants SET status = 'offboarding', purge_after = now() - interval '1 day' WHERE id = $1",
        tenant.id);
    tx.exec_params(
        "INSERT INTO platform.tenant_exports (tenant_id, slug, location, tables, rows) "
        "VALUES ($1::uuid, $2, 'test', 0, 0)",
        tenant.id, tenant.slug);
    tx.commit();
  }
  auto purged = service_->Purge(tenant.id, {"test", "req"});
  ASSERT_TRUE(purged.ok()) << purged.error().detail << " " << purged.error().internal;
  pqxx::read_transaction tx(connection);
  EXPECT_EQ(tx.exec_params("SELECT count(*) FROM pg_roles WHERE rolname = $1", tenant.role_name)[0][0].as<int>(), 0);
  EXPECT_EQ(tx.exec_params("SELECT count(*) FROM pg_namespace WHERE nspname = $1", tenant.schema_name)[0][0].as<int>(),
            0);
  EXPECT_EQ(
      tx.exec_params("SELECT count(*) FROM provisioning.tenant_objects WHERE tenant_id = $1::uuid", tenant.id)[0][0]
          .as<int>(),
      0);
}

// A spare's role, granted in one transaction and entered by the onboarding that claims it in
// another, while other backends are rebuilding their membership lists (each spare's grant makes
// them all rebuild): PostgreSQL 15 can leave a grant that commits during a rebuild out of the
// rebuilt list until the next membership change, and SET ROLE is then refused. Without the
// claim announcing the role (migrations/platform/0012) this test failed in 3 runs of 3.
TEST_F(DatabaseRolesTest, ASpareGrantedWhileOthersRebuildTheirMembershipsIsAlwaysEnterable) {
  constexpr int kSpares = 150;
  constexpr int kClaimers = 2;
  constexpr int kVersion = 9999;  // no onboarding of this binary claims these
  const std::string enter_platform = std::string(kEnterPlatform) + "; ";
  std::atomic<bool> all_made{false};
  std::atomic<int> claimed{0};
  std::atomic<int> refused{0};
  std::thread maker([&] {
    try {
      pqxx::connection connection(database_->runtime_url());
      for (int i = 0; i < kSpares; ++i) {
        pqxx::work tx(connection);
        tx.exec(enter_platform + "SELECT provisioning.create_spare(gen_random_uuid(), 0, " + std::to_string(kVersion) +
                ")");
        tx.commit();
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "making spares: " << e.what();
    }
    all_made = true;
  });
  std::vector<std::thread> claimers;
  claimers.reserve(kClaimers);
  for (int c = 0; c < kClaimers; ++c) {
    claimers.emplace_back([&, c] {
      try {
        pqxx::connection connection(database_->runtime_url());
        for (int n = 0;; ++n) {
          const bool last_round = all_made.load();  // read before the claim: nothing is missed
          pqxx::work tx(connection);
          tx.exec(kEnterPlatform);
          const auto spare = tx.exec_params("SELECT provisioning.claim_spare(0, $1, $2)::text", kVersion,
                                            "t_roles_race_" + std::to_string(c) + "_" + std::to_string(n))[0][0];
          if (spare.is_null()) {
            if (last_round) return;
            continue;
          }
          ++claimed;
          tx.exec_params("SELECT set_config('role', $1, true)", RoleNameFor(spare.as<std::string>()));
          tx.commit();
        }
      } catch (const pqxx::insufficient_privilege& e) {
        ++refused;
        ADD_FAILURE() << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "claiming: " << e.what();
      }
    });
  }
  maker.join();
  for (auto& claimer : claimers) claimer.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(claimed.load(), kSpares);
  // Drop what this test made, claimed (never registered) or not.
  pqxx::connection connection(database_->url());
  pqxx::work tx(connection);
  tx.exec(
      "SELECT provisioning.drop_tenant(tenant_id) FROM provisioning.tenant_objects "
      "WHERE schema_name LIKE 't\\_roles\\_race\\_%' OR tenant_id IN (SELECT tenant_id FROM provisioning.spares "
      "WHERE schema_version = " +
      std::to_string(kVersion) + ")");
  tx.commit();
}

}  // namespace
}  // namespace clinicore::tenancy
