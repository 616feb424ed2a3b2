// Tenancy against real PostgreSQL and Redis: onboarding (atomic, idempotent, parallel),
// the lifecycle, isolation of every table, and migrating every tenant.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/tenancy/cell_registry.hpp"
#include "platform/tenancy/tenant_migrator.hpp"
#include "platform/tenancy/tenant_repository.hpp"
#include "platform/tenancy/tenant_service.hpp"
#include "tests/harness/harness.hpp"
#include "tests/harness/isolation.hpp"

namespace clinicore::tenancy {
namespace {

using core::ErrorCode;
using core::Result;

class TenancyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    core::log::Init("off");
    database_ = new testing::TestDatabase();
  }
  static void TearDownTestSuite() { delete database_; }

  void SetUp() override {
    core::DatabaseConfig config;
    config.url = database_->url();
    config.pool_size = 8;
    // Twenty parallel onboardings share eight connections: each must wait its turn however
    // slow the machine is, so the wait is bounded by the test timeout, not by a guess.
    config.pool_wait = std::chrono::minutes(2);
    db_ = std::make_unique<db::Database>(config, metrics_);
    TenantRepository::RegisterStatements(*db_);
    core::RedisConfig redis_config = testing::TestRedisConfig();
    redis_ = std::make_shared<cache::RedisClient>(redis_config, metrics_);
    auto platform = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/platform");
    ASSERT_TRUE(platform.ok());
    ASSERT_TRUE(migrations::MigrationRunner(*db_).Apply({"platform", ""}, *platform).ok());
    ASSERT_TRUE(tenancy::EnsureCells(*db_, database_->runtime_config()).ok());
    tenant_files_ = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/tenant").value();
    directory_ = std::make_shared<TenantDirectory>(*db_, redis_, std::chrono::seconds(30));
    service_ = std::make_unique<TenantService>(*db_, tenant_files_, directory_);
  }

  Tenant Onboard(const std::string& slug) {
    auto result = service_->Onboard({slug, "Clinic " + slug, "Europe/Athens", "en", nlohmann::json::object()}, actor_,
                                    std::nullopt);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().detail + " " + result.error().internal);
    return result.ok() ? result->tenant : Tenant{};
  }

  // Read as the provisioner, which may read every schema (the service's transactions run as
  // the platform's or one tenant's role).
  long long Count(const std::string& sql) {
    pqxx::connection connection(database_->url());
    pqxx::read_transaction tx(connection);
    return tx.exec(sql)[0][0].as<long long>();
  }

  // Everything onboarding may create, counted across the cluster's catalog and the registry.
  static testing::TestDatabase* database_;
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  std::unique_ptr<db::Database> db_;
  std::shared_ptr<cache::RedisClient> redis_;
  std::vector<migrations::MigrationFile> tenant_files_;
  std::shared_ptr<TenantDirectory> directory_;
  std::unique_ptr<TenantService> service_;
  Actor actor_{"test", "req-test"};
};
testing::TestDatabase* TenancyTest::database_ = nullptr;

TEST_F(TenancyTest, OnboardingCreatesRoleSchemaTablesAndAudit) {
  Tenant tenant = Onboard("onboard-basic");
  EXPECT_EQ(tenant.schema_name, "t_onboard_basic");
  EXPECT_EQ(tenant.schema_version, tenant_files_.back().version);
  // The schema is the provisioner's (onboarding never asks PostgreSQL whether the provisioner
  // may act as the new role, docs/decisions/0012); the tenant's role may use it and create in
  // it, and owns every table.
  EXPECT_EQ(Count("SELECT count(*) FROM pg_namespace n JOIN pg_database d ON d.datdba = n.nspowner "
                  "WHERE d.datname = current_database() AND nspname = 't_onboard_basic'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) WHERE has_schema_privilege('" + tenant.role_name +
                  "', 't_onboard_basic', 'USAGE') AND has_schema_privilege('" + tenant.role_name +
                  "', 't_onboard_basic', 'CREATE')"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_roles WHERE rolname = '" + tenant.role_name + "' AND NOT rolcanlogin"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM t_onboard_basic.schema_migrations"),
            static_cast<long long>(tenant_files_.size()));
  EXPECT_EQ(Count("SELECT count(*) FROM pg_tables WHERE schemaname = 't_onboard_basic' AND tableowner = '" +
                  tenant.role_name + "'"),
            Count("SELECT count(*) FROM pg_tables WHERE schemaname = 't_onboard_basic'"));
  EXPECT_EQ(Count("SELECT count(*) FROM platform.console_audit WHERE action = 'tenant.onboard' AND tenant_id = '" +
                  tenant.id + "'"),
            1);
}

TEST_F(TenancyTest, DuplicateSlugIsAlreadyExistsNamingSlug) {
  Onboard("dup-slug");
  auto again = service_->Onboard({"dup-slug", "Other", "UTC", "en", nlohmann::json::object()}, actor_, std::nullopt);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().fields.at(0).field, "slug");
}

TEST_F(TenancyTest, IdempotencyKeyReplaysAndRefusesADifferentBody) {
  OnboardRequest request{"idem-clinic", "Idem", "UTC", "en", nlohmann::json::object()};
  auto first = service_->Onboard(request, actor_, "key-1");
  ASSERT_TRUE(first.ok()) << first.error().internal;
  auto replay = service_->Onboard(request, actor_, "key-1");
  ASSERT_TRUE(replay.ok()) << replay.error().internal;
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->tenant.id, first->tenant.id);
  request.display_name = "Changed";
  auto misuse = service_->Onboard(request, actor_, "key-1");
  ASSERT_FALSE(misuse.ok());
  EXPECT_EQ(misuse.error().code, ErrorCode::kConflict);
  EXPECT_EQ(misuse.error().fields.at(0).field, "Idempotency-Key");
  EXPECT_EQ(Count("SELECT count(*) FROM platform.tenants WHERE slug = 'idem-clinic'"), 1);
}

TEST_F(TenancyTest, AFailureAtAnyOnboardingStepLeavesNothingBehind) {
  for (OnboardStep failing :
       {OnboardStep::kCreateRole, OnboardStep::kCreateSchema, OnboardStep::kMigrate, OnboardStep::kRegister}) {
    const auto before = Count("SELECT count(*) FROM platform.tenants");
    Tenant attempted;
    service_->SetFaultInjector([failing, &attempted](OnboardStep step, const Tenant& tenant) {
      attempted = tenant;
      if (step == failing) throw std::runtime_error("injected failure");
    });
    auto result =
        service_->Onboard({"fault-clinic", "Fault", "UTC", "en", nlohmann::json::object()}, actor_, "fault-key");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kInternal);
    ASSERT_FALSE(attempted.role_name.empty());
    // This attempt's own role and schema: other test databases of the cluster onboard meanwhile.
    EXPECT_EQ(Count("SELECT count(*) FROM pg_roles WHERE rolname = '" + attempted.role_name + "'"), 0)
        << "step " << static_cast<int>(failing);
    EXPECT_EQ(Count("SELECT count(*) FROM pg_namespace WHERE nspname = '" + attempted.schema_name + "'"), 0)
        << "step " << static_cast<int>(failing);
    EXPECT_EQ(Count("SELECT count(*) FROM platform.tenants"), before) << "step " << static_cast<int>(failing);
    EXPECT_EQ(Count("SELECT count(*) FROM platform.idempotency_keys WHERE key = 'fault-key'"), 0);
  }
  service_->SetFaultInjector({});
  Onboard("fault-clinic");  // and the slug is still free
}

// Spares (docs/tenancy.md, "Spares"). Each test ends with none, so the others provision in line.
class SpareTest : public TenancyTest {
 protected:
  void TearDown() override {
    service_->SetFaultInjector({});
    auto none = service_->RefillSpares(0);
    EXPECT_TRUE(none.ok()) << (none.ok() ? "" : none.error().internal);
    EXPECT_EQ(Count("SELECT count(*) FROM provisioning.spares"), 0);
  }

  std::string OldestSpare() {
    pqxx::connection connection(database_->url());
    pqxx::read_transaction tx(connection);
    const auto rows = tx.exec("SELECT tenant_id::text FROM provisioning.spares ORDER BY created_at, tenant_id LIMIT 1");
    return rows.empty() ? "" : rows[0][0].as<std::string>();
  }

  SpareReport Refill(TenantService& service, int per_cell) {
    auto report = service.RefillSpares(per_cell);
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().internal);
    return report.ok() ? *report : SpareReport{};
  }
};

TEST_F(SpareTest, OnboardingTakesTheOldestSpareAndTheRefillReplacesIt) {
  EXPECT_EQ(Refill(*service_, 2).created, 2);
  EXPECT_EQ(Refill(*service_, 2).created, 0);  // already there
  const std::string spare = OldestSpare();
  const std::string spare_schema = SpareSchemaNameFor(spare);
  EXPECT_EQ(Count("SELECT count(*) FROM " + spare_schema + ".schema_migrations"),
            static_cast<long long>(tenant_files_.size()));

  auto result =
      service_->Onboard({"spare-clinic", "Spare", "UTC", "en", nlohmann::json::object()}, actor_, std::nullopt);
  ASSERT_TRUE(result.ok()) << result.error().internal;
  EXPECT_TRUE(result->from_spare);
  const Tenant& tenant = result->tenant;
  EXPECT_EQ(tenant.id, spare);
  EXPECT_EQ(tenant.role_name, RoleNameFor(spare));
  EXPECT_EQ(tenant.schema_name, "t_spare_clinic");
  EXPECT_EQ(tenant.schema_version, tenant_files_.back().version);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_namespace WHERE nspname = '" + spare_schema + "'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM provisioning.tenant_objects WHERE tenant_id = '" + spare +
                  "' AND schema_name = 't_spare_clinic'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM provisioning.spares"), 1);
  // The tenant's own role reads and writes its renamed schema.
  auto version = db_->WriteInTenant(tenant.Scope(), [](db::Transaction& tx) -> Result<int> {
    tx.ExecScript("UPDATE settings SET value = value");
    const int applied = tx.ExecScript("SELECT max(version) FROM schema_migrations")[0][0].as<int>();
    tx.Commit();
    return applied;
  });
  ASSERT_TRUE(version.ok()) << version.error().internal;
  EXPECT_EQ(*version, tenant_files_.back().version);

  EXPECT_EQ(Refill(*service_, 2).created, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM provisioning.spares"), 2);
  // Fewer asked for: the newest go.
  const auto trimmed = Refill(*service_, 1);
  EXPECT_EQ(trimmed.dropped, 1);
  EXPECT_EQ(trimmed.created, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM provisioning.spares"), 1);
}

TEST_F(SpareTest, ASpareOfOlderMigrationsIsNeverTakenAndTheRefillDropsIt) {
  auto older_files = tenant_files_;
  older_files.pop_back();
  TenantService older(*db_, older_files, directory_);
  EXPECT_EQ(Refill(older, 1).created, 1);
  const std::string stale = OldestSpare();

  Tenant tenant = Onboard("after-upgrade");
  EXPECT_NE(tenant.id, stale);
  EXPECT_EQ(Count("SELECT schema_version FROM platform.tenants WHERE slug = 'after-upgrade'"),
            tenant_files_.back().version);

  const auto report = Refill(*service_, 1);
  EXPECT_EQ(report.dropped, 1);
  EXPECT_EQ(report.created, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_namespace WHERE nspname = '" + SpareSchemaNameFor(stale) + "'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_roles WHERE rolname = '" + RoleNameFor(stale) + "'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM provisioning.tenant_objects WHERE tenant_id = '" + stale + "'"), 0);
  // The older binary leaves the newer spare alone.
  EXPECT_EQ(Refill(older, 1).dropped, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM provisioning.spares WHERE schema_version = " +
                  std::to_string(tenant_files_.back().version)),
            1);
}

TEST_F(SpareTest, AFailedOnboardingLeavesItsSpareReady) {
  EXPECT_EQ(Refill(*service_, 1).created, 1);
  const std::string spare = OldestSpare();
  service_->SetFaultInjector([](OnboardStep step, const Tenant&) {
    if (step == OnboardStep::kRegister) throw std::runtime_error("injected failure");
  });
  auto failed =
      service_->Onboard({"spare-fault", "Fault", "UTC", "en", nlohmann::json::object()}, actor_, std::nullopt);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(OldestSpare(), spare);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_namespace WHERE nspname = '" + SpareSchemaNameFor(spare) + "'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_namespace WHERE nspname = 't_spare_fault'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM platform.tenants WHERE slug = 'spare-fault'"), 0);

  service_->SetFaultInjector({});
  EXPECT_EQ(Onboard("spare-fault").id, spare);
}

TEST_F(SpareTest, ParallelRefillsAndOnboardingsNeverShareASpareNorOvershoot) {
  constexpr int kPerCell = 3;
  std::vector<std::thread> threads;
  std::vector<std::string> ids(4);
  for (int i = 0; i < 3; ++i) threads.emplace_back([&] { Refill(*service_, kPerCell); });
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto result = service_->Onboard(
          {"spare-race-" + std::to_string(i), "Race", "UTC", "en", nlohmann::json::object()}, actor_, std::nullopt);
      if (result.ok()) {
        ids[static_cast<size_t>(i)] = result->tenant.id;
      } else {
        ADD_FAILURE() << "spare-race-" << i << ": " << result.error().internal;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(Count("SELECT count(*) FROM provisioning.spares"), kPerCell);
  EXPECT_EQ(Count("SELECT count(DISTINCT id) FROM platform.tenants WHERE slug LIKE 'spare-race-%'"), 4);
  for (const std::string& id : ids) {
    EXPECT_EQ(Count("SELECT count(*) FROM provisioning.spares WHERE tenant_id = '" + id + "'"), 0) << id;
  }
  Refill(*service_, kPerCell);
  EXPECT_EQ(Count("SELECT count(*) FROM provisioning.spares"), kPerCell);
}

TEST_F(TenancyTest, TwentyTenantsOnboardInParallel) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      auto result = service_->Onboard({"parallel-" + std::to_string(i), "P", "UTC", "en", nlohmann::json::object()},
                                      actor_, std::nullopt);
      if (result.ok()) {
        ++ok;
      } else {
        ADD_FAILURE() << "parallel-" << i << ": " << result.error().detail << " / " << result.error().internal;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(Count("SELECT count(*) FROM platform.tenants WHERE slug LIKE 'parallel-%'"), 20);
  EXPECT_EQ(Count("SELECT count(DISTINCT role_name) FROM platform.tenants WHERE slug LIKE 'parallel-%'"), 20);
}

TEST_F(TenancyTest, LifecycleTransitionsAndRefusals) {
  Tenant tenant = Onboard("life-clinic");
  auto resume_active = service_->Resume(tenant.slug, actor_);
  ASSERT_FALSE(resume_active.ok());
  EXPECT_EQ(resume_active.error().code, ErrorCode::kFailedPrecondition);

  auto suspended = service_->Suspend(tenant.id, std::string("unpaid invoice"), actor_);
  ASSERT_TRUE(suspended.ok());
  EXPECT_EQ(suspended->status, "suspended");
  EXPECT_EQ(suspended->status_reason, "unpaid invoice");
  EXPECT_EQ(directory_->Resolve(tenant.slug)->status, "suspended");

  auto resumed = service_->Resume(tenant.slug, actor_);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->status, "active");
  EXPECT_FALSE(resumed->status_reason.has_value());

  auto offboarded = service_->Offboard(tenant.slug, actor_);
  ASSERT_TRUE(offboarded.ok());
  EXPECT_EQ(offboarded->status, "offboarding");
  EXPECT_TRUE(offboarded->purge_after.has_value());
  EXPECT_EQ(service_->Suspend(tenant.slug, std::nullopt, actor_).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(service_->Offboard(tenant.slug, actor_).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(service_->UpdateProfile(tenant.slug, {std::string("New"), {}, {}, {}}, actor_).error().code,
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Count("SELECT count(*) FROM platform.console_audit WHERE tenant_id = '" + tenant.id + "'"), 4);

  EXPECT_EQ(service_->Suspend("no-such-tenant", std::nullopt, actor_).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service_->Get("00000000-0000-4000-8000-000000000000").error().code, ErrorCode::kNotFound);
}

TEST_F(TenancyTest, ListPaginatesFiltersAndSearches) {
  for (const char* slug : {"list-a", "list-b", "list-c", "list-d"}) Onboard(slug);
  ASSERT_TRUE(service_->Suspend("list-c", std::nullopt, actor_).ok());
  ListQuery query{std::nullopt, std::string("list-"), {.limit = 3, .list = kTenantList}};
  auto first = service_->List(query);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 3u);
  ASSERT_TRUE(first->next_cursor.has_value());
  query.page.after = kit::DecodeCursor(kTenantList, *first->next_cursor).value();
  auto second = service_->List(query);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].slug, "list-d");
  EXPECT_FALSE(second->next_cursor.has_value());
  auto suspended = service_->List({std::string("suspended"), std::string("list-")});
  ASSERT_EQ(suspended->items.size(), 1u);
  EXPECT_EQ(suspended->items[0].slug, "list-c");
  EXPECT_EQ(service_->List({std::nullopt, std::string("100%_\\")})->items.size(), 0u);
  EXPECT_EQ(service_->List({std::string("deleted"), std::nullopt}).error().fields[0].field, "status");
  EXPECT_EQ(service_->List({std::nullopt, std::nullopt, {.limit = 0}}).error().fields[0].field, "limit");
}

TEST_F(TenancyTest, NoTenantSeesAnotherTenantsRows) {
  Tenant a = Onboard("iso-a");
  Tenant b = Onboard("iso-b");
  const std::string marker = "marker_iso_a_only";
  const auto filled = testing::FillEveryTable(*db_, a.Scope(), marker);
  EXPECT_EQ(filled.size(), testing::TablesOf(*db_, a.Scope()).size());
  EXPECT_EQ(testing::TablesContaining(*db_, a.Scope(), marker), testing::MarkableTablesOf(*db_, a.Scope()));

  // B's transactions see none of A's rows, in any of B's tables.
  EXPECT_TRUE(testing::TablesContaining(*db_, b.Scope(), marker).empty());

  // B's role cannot read A's schema even with qualified names. (SET ROLE is checked against
  // the session user, which belongs to every tenant role: see docs/tenancy.md.)
  for (const auto& table : filled) {
    auto peek = db_->ReadInTenant(b.Scope(), [&](db::Transaction& tx) -> Result<long long> {
      return tx.ExecScript("SELECT count(*) FROM " + tx.QuoteName(a.schema_name) + "." + tx.QuoteName(table))[0][0]
          .as<long long>();
    });
    ASSERT_FALSE(peek.ok()) << "B read " << table << " of A";
    EXPECT_NE(peek.error().internal.find("permission denied"), std::string::npos) << peek.error().internal;
    EXPECT_EQ(peek.error().code, ErrorCode::kPermissionDenied) << peek.error().internal;
  }
  auto platform = db_->ReadInTenant(b.Scope(), [&](db::Transaction& tx) -> Result<long long> {
    return tx.ExecScript("SELECT count(*) FROM platform.tenants")[0][0].as<long long>();
  });
  EXPECT_FALSE(platform.ok()) << "a tenant role must not read the registry";

  // Nor shadow a table with a temporary one: pg_temp comes last and TEMPORARY is revoked.
  auto path = db_->ReadInTenant(b.Scope(), [&](db::Transaction& tx) -> Result<std::string> {
    return tx.ExecScript("SHOW search_path")[0][0].as<std::string>();
  });
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, "\"" + b.schema_name + "\", pg_temp");
  auto shadow = db_->WriteInTenant(b.Scope(), [&](db::Transaction& tx) -> core::Status {
    tx.ExecScript("CREATE TEMPORARY TABLE users (id int)");
    tx.Commit();
    return core::Ok();
  });
  ASSERT_FALSE(shadow.ok()) << "a tenant role created a temporary table";
  EXPECT_EQ(shadow.error().code, ErrorCode::kPermissionDenied) << shadow.error().internal;
}

// At its bound the directory evicts what was used least recently: a flood of unknown slugs
// cannot push out the tenants in use (it used to wipe everything).
TEST_F(TenancyTest, DirectoryEvictsTheLeastRecentlyUsedAtItsBound) {
  Tenant busy = Onboard("lru-busy");
  Tenant idle = Onboard("lru-idle");
  TenantDirectory directory(*db_, redis_, std::chrono::seconds(60), 20);
  ASSERT_TRUE(directory.Resolve(idle.slug).ok());
  ASSERT_TRUE(directory.Resolve(busy.slug).ok());
  // Behind the directory's back (no change published), both slugs are renamed: from now on
  // only a cached entry still answers to the old one, so any re-read shows.
  ASSERT_TRUE(db_->Write([&](db::Transaction& tx) -> core::Status {
                   tx.ExecScript("UPDATE platform.tenants SET slug = slug || '-x' WHERE id IN ('" + busy.id + "', '" +
                                 idle.id + "')");
                   tx.Commit();
                   return core::Ok();
                 })
                  .ok());
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(directory.Resolve("lru-unknown-" + std::to_string(i)).ok());
    ASSERT_TRUE(directory.Resolve(busy.slug).ok()) << "the tenant in use must stay cached through the flood: " << i;
  }
  EXPECT_FALSE(directory.Resolve(idle.slug).ok()) << "the idle one was evicted and read again";
}

TEST_F(TenancyTest, DirectoryCachesAndForgetsOnChange) {
  Tenant tenant = Onboard("cache-clinic");
  ASSERT_TRUE(directory_->Resolve(tenant.slug).ok());
  ASSERT_TRUE(directory_->Resolve(tenant.id).ok());
  // A change behind the service's back is not seen until the cache is told.
  ASSERT_TRUE(db_->Write([&](db::Transaction& tx) -> core::Status {
                   tx.ExecScript("UPDATE platform.tenants SET display_name = 'Renamed' WHERE id = '" + tenant.id + "'");
                   tx.Commit();
                   return core::Ok();
                 })
                  .ok());
  EXPECT_EQ(directory_->Resolve(tenant.slug)->display_name, "Clinic cache-clinic");
  directory_->PublishChange();
  EXPECT_EQ(directory_->Resolve(tenant.slug)->display_name, "Renamed");
  EXPECT_EQ(directory_->Resolve("never-onboarded").error().code, ErrorCode::kNotFound);
  for (const std::string& impossible : {std::string("Bad Key!"), std::string("admin"), std::string(500, 'x')}) {
    EXPECT_EQ(directory_->Resolve(impossible).error().code, ErrorCode::kNotFound) << impossible;
  }
}

TEST_F(TenancyTest, MigratingEveryTenantAppliesNewFilesAndReportsFailures) {
  Tenant good = Onboard("mig-good");
  Tenant broken = Onboard("mig-broken");
  // Break one tenant so the next migration fails there only.
  ASSERT_TRUE(db_->WriteInTenant(broken.Scope(),
                                 [](db::Transaction& tx) -> core::Status {
                                   tx.ExecScript("DROP TABLE settings");
                                   tx.Commit();
                                   return core::Ok();
                                 })
                  .ok());
  auto files = tenant_files_;
  const int next = files.back().version + 1;
  const std::string sql = "ALTER TABLE settings ADD COLUMN note text;";
  files.push_back({next, "9999_add_note.sql", sql, core::Sha256Hex(sql)});

  std::vector<MigrationProgress> progress;
  auto report = MigrateAllTenants(*db_, files, 4, [&](const MigrationProgress& p) { progress.push_back(p); });
  ASSERT_TRUE(report.ok());
  EXPECT_GE(report->migrated, 1);
  // Other tests' tenants share this database (one holds a foreign marker row in its
  // schema_migrations), so look at this test's two tenants by name.
  auto failed = [&](const std::string& slug) {
    return std::any_of(report->failures.begin(), report->failures.end(),
                       [&](const auto& f) { return f.first == slug; });
  };
  EXPECT_TRUE(failed("mig-broken"));
  EXPECT_FALSE(failed("mig-good"));
  EXPECT_EQ(progress.back().done, progress.back().total);
  EXPECT_EQ(Count("SELECT schema_version FROM platform.tenants WHERE slug = 'mig-good'"), next);
  EXPECT_EQ(Count("SELECT schema_version FROM platform.tenants WHERE slug = 'mig-broken'"), next - 1);
  EXPECT_EQ(Count("SELECT count(*) FROM information_schema.columns WHERE table_schema = 't_mig_good' AND "
                  "column_name = 'note'"),
            1);

  // A rerun touches only the tenants still behind: exactly those that failed.
  auto rerun = MigrateAllTenants(*db_, files, 4, {});
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(rerun->total_tenants, static_cast<int>(report->failures.size()));
  (void)good;
}

TEST_F(TenancyTest, OffboardedTenantIsExportedThenPurged) {
  TenantService immediate(*db_, tenant_files_, directory_, TenancyOptions{0});  // no retention wait
  Tenant kept = Onboard("purge-wait");
  Tenant tenant = Onboard("purge-me");
  testing::FillEveryTable(*db_, tenant.Scope(), "marker_purge_me");
  EXPECT_EQ(immediate.Purge(tenant.slug, actor_).error().fields.at(0).field, "status");
  ASSERT_TRUE(immediate.Offboard(tenant.slug, actor_).ok());
  ASSERT_TRUE(service_->Offboard(kept.slug, actor_).ok());  // 30 days of retention
  EXPECT_EQ(immediate.Purge(tenant.slug, actor_).error().fields.at(0).field, "export");

  const auto folder = std::filesystem::temp_directory_path() / ("clinicore-export-" + database_->name());
  auto exported = immediate.Export(tenant.slug, folder.string(), actor_);
  ASSERT_TRUE(exported.ok()) << exported.error().detail << exported.error().internal;
  EXPECT_EQ(exported->tables, static_cast<int>(testing::TablesOf(*db_, tenant.Scope()).size()));
  std::ifstream settings(std::filesystem::path(exported->location) / "settings.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(settings, line));
  EXPECT_NE(line.find("marker_purge_me"), std::string::npos) << line;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(exported->location) / "manifest.json"));

  ASSERT_TRUE(immediate.Export(kept.slug, folder.string(), actor_).ok());
  EXPECT_EQ(service_->Purge(kept.slug, actor_).error().fields.at(0).field, "purge_after");

  auto due = immediate.PurgeDue(actor_);
  ASSERT_TRUE(due.ok());
  bool purged = false;
  for (const auto& [slug, outcome] : *due) purged = purged || (slug == "purge-me" && outcome == "purged");
  EXPECT_TRUE(purged);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_namespace WHERE nspname = 't_purge_me'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_roles WHERE rolname = '" + tenant.role_name + "'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM platform.tenants WHERE slug = 'purge-me'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM platform.console_audit WHERE action = 'tenant.purge' AND tenant_id = '" +
                  tenant.id + "'"),
            1);
  EXPECT_EQ(directory_->Resolve("purge-me").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM platform.tenants WHERE slug = 'purge-wait'"), 1);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace clinicore::tenancy
