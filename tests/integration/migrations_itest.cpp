// The migration runner against real PostgreSQL: order, idempotence, checksum refusal,
// concurrent runners, a failing file.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "platform/core/crypto.hpp"
#include "platform/migrations/migrations.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::migrations {
namespace {

class MigrationRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = new testing::TestDatabase(); }
  static void TearDownTestSuite() { delete database_; }

  db::Database& Db() {
    if (!db_) {
      core::DatabaseConfig config;
      config.url = database_->url();
      config.pool_size = 4;
      db_ = std::make_unique<db::Database>(config, std::make_shared<core::Metrics>());
    }
    return *db_;
  }

  static MigrationFile File(int version, const std::string& name, const std::string& sql) {
    return {version, name, sql, core::Sha256Hex(sql)};
  }

  // Read as the provisioner, who owns what these migrations create (Database's transactions
  // run as the platform role, which holds rows of the platform's tables only).
  int Count(const std::string& sql) {
    pqxx::connection connection(database_->url());
    pqxx::read_transaction tx(connection);
    return tx.exec(sql)[0][0].as<int>();
  }

  static testing::TestDatabase* database_;
  std::unique_ptr<db::Database> db_;
};
testing::TestDatabase* MigrationRunnerTest::database_ = nullptr;

TEST_F(MigrationRunnerTest, AppliesInOrderOnceAndRecordsChecksums) {
  MigrationRunner runner(Db());
  std::vector<MigrationFile> files = {File(1, "0001_a.sql", "CREATE TABLE a (id int);"),
                                      File(2, "0002_b.sql", "CREATE TABLE b (a_id int); INSERT INTO a VALUES (1);")};
  auto first = runner.Apply({"mig_order", ""}, files);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_EQ(first->applied, (std::vector<std::string>{"0001_a.sql", "0002_b.sql"}));
  auto second = runner.Apply({"mig_order", ""}, files);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->already_applied, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM mig_order.a"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM mig_order.schema_migrations WHERE checksum = '" + files[1].checksum + "'"), 1);

  auto plan = runner.Plan({"mig_order", ""}, files);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->pending.empty());
  files.push_back(File(3, "0003_c.sql", "CREATE TABLE c (id int);"));
  plan = runner.Plan({"mig_order", ""}, files);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->pending.size(), 1u);
  EXPECT_EQ(plan->pending[0]->file_name, "0003_c.sql");
}

TEST_F(MigrationRunnerTest, RefusesAnEditedAppliedFileByName) {
  MigrationRunner runner(Db());
  ASSERT_TRUE(runner.Apply({"mig_edit", ""}, {File(1, "0001_init.sql", "CREATE TABLE t (id int);")}).ok());
  auto edited = runner.Apply({"mig_edit", ""}, {File(1, "0001_init.sql", "CREATE TABLE t (id bigint);")});
  ASSERT_FALSE(edited.ok());
  EXPECT_EQ(edited.error().code, core::ErrorCode::kFailedPrecondition);
  EXPECT_NE(edited.error().detail.find("0001_init.sql was edited"), std::string::npos) << edited.error().detail;
}

TEST_F(MigrationRunnerTest, FailingMigrationLeavesNothingAndNamesTheFile) {
  MigrationRunner runner(Db());
  auto result = runner.Apply({"mig_fail", ""}, {File(1, "0001_ok.sql", "CREATE TABLE ok (id int);"),
                                                File(2, "0002_bad.sql", "CREATE TABLE half (id int); SELEC broken;")});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().detail.find("0002_bad.sql"), std::string::npos);
  EXPECT_EQ(Count("SELECT count(*) FROM mig_fail.schema_migrations"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mig_fail' AND "
                  "table_name = 'half'"),
            0);
}

TEST_F(MigrationRunnerTest, ConcurrentRunnersApplyEachFileOnce) {
  std::vector<MigrationFile> files;
  for (int v = 1; v <= 5; ++v) {
    files.push_back(File(v, "000" + std::to_string(v) + "_step.sql",
                         "CREATE TABLE IF NOT EXISTS log (v int); INSERT INTO log VALUES (" + std::to_string(v) +
                             "); SELECT pg_sleep(0.05);"));
  }
  std::vector<std::thread> runners;
  std::atomic<int> failures{0};
  db::Database& database = Db();  // created once, before the threads share it
  for (int i = 0; i < 3; ++i) {
    runners.emplace_back([&] {
      MigrationRunner runner(database);
      if (!runner.Apply({"mig_race", ""}, files).ok()) ++failures;
    });
  }
  for (auto& thread : runners) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM mig_race.log"), 5);
  EXPECT_EQ(Count("SELECT count(*) FROM mig_race.schema_migrations"), 5);
}

TEST_F(MigrationRunnerTest, ShippedPlatformMigrationsApply) {
  auto files = LoadMigrationDir(testing::SourceRoot() + "/migrations/platform");
  ASSERT_TRUE(files.ok()) << files.error().detail;
  ASSERT_FALSE(files->empty());
  MigrationRunner runner(Db());
  auto report = runner.Apply({"platform", ""}, *files);
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_EQ(report->applied.size(), files->size());
}

}  // namespace
}  // namespace clinicore::migrations
