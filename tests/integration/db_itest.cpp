// The libpqxx pool and transaction runner against the real PostgreSQL from the harness.
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <thread>

#include "platform/db/database.hpp"
#include "tests/harness/harness.hpp"
#include "tests/harness/wait.hpp"

namespace clinicore::db {
namespace {

using core::ErrorCode;
using core::Result;

class DatabaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_ = new testing::TestDatabase();
    // Database's transactions run as the platform role; these tests make their tables in the
    // throwaway database's public schema.
    Provision([](pqxx::work& tx) { tx.exec("GRANT USAGE, CREATE ON SCHEMA public TO clinicore_platform"); });
  }
  // Runs `fn` as the provisioner (the database's owner), for what no service role may do.
  template <typename Fn>
  static void Provision(Fn&& fn) {
    pqxx::connection connection(database_->url());
    pqxx::work tx(connection);
    fn(tx);
    tx.commit();
  }
  static void TearDownTestSuite() { delete database_; }

  core::DatabaseConfig Config(int pool_size = 2) {
    core::DatabaseConfig config;
    config.url = database_->url();
    config.pool_size = pool_size;
    config.pool_wait = std::chrono::milliseconds(200);
    return config;
  }

  static testing::TestDatabase* database_;
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
};
testing::TestDatabase* DatabaseTest::database_ = nullptr;

TEST_F(DatabaseTest, CommitsOnlyWhenAsked) {
  Database db(Config(), metrics_);
  ASSERT_TRUE(db.Write([](Transaction& tx) -> core::Status {
                  tx.ExecScript("CREATE TABLE IF NOT EXISTS commit_probe (id int PRIMARY KEY)");
                  tx.Commit();
                  return core::Ok();
                }).ok());
  // Returning an error rolls back.
  auto failed = db.Write([](Transaction& tx) -> core::Status {
    tx.ExecScript("INSERT INTO commit_probe VALUES (1)");
    return core::Error::InvalidArgument("changed my mind");
  });
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalidArgument);
  // Success without Commit() is a loud internal error, and nothing is written.
  auto forgot = db.Write([](Transaction& tx) -> core::Status {
    tx.ExecScript("INSERT INTO commit_probe VALUES (2)");
    return core::Ok();
  });
  ASSERT_FALSE(forgot.ok());
  EXPECT_EQ(forgot.error().code, ErrorCode::kInternal);
  auto count = db.Read([](Transaction& tx) -> Result<int> {
    return tx.ExecScript("SELECT count(*) FROM commit_probe")[0][0].as<int>();
  });
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);
}

TEST_F(DatabaseTest, ReadTransactionsAreReadOnly) {
  Database db(Config(), metrics_);
  auto attempt = db.Read([](Transaction& tx) -> core::Status {
    tx.ExecScript("CREATE TABLE read_only_probe (id int)");
    return core::Ok();
  });
  ASSERT_FALSE(attempt.ok());
  EXPECT_EQ(attempt.error().code, ErrorCode::kInternal);
  EXPECT_EQ(attempt.error().detail.find("read_only_probe"), std::string::npos) << "SQL must not reach the client";
}

TEST_F(DatabaseTest, ReadOnceRunsOneStatementWithoutATransaction) {
  Database db(Config(), metrics_);
  // Read() opens a READ ONLY transaction; ReadOnce() sends the statement alone.
  auto read_only = [](Transaction& tx) -> Result<std::string> {
    return tx.ExecScript("SELECT current_setting('transaction_read_only')")[0][0].as<std::string>();
  };
  EXPECT_EQ(*db.Read(read_only), "on");
  EXPECT_EQ(*db.ReadOnce(read_only), "off");
  auto failed = db.ReadOnce([](Transaction& tx) -> Result<int> { return tx.ExecScript("SELECT 1/0")[0][0].as<int>(); });
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(db.Ping().ok()) << "the connection is usable after a failed single read";
}

TEST_F(DatabaseTest, UniqueViolationIsAlreadyExists) {
  Database db(Config(), metrics_);
  auto insert_twice = db.Write([](Transaction& tx) -> core::Status {
    tx.ExecScript("CREATE TABLE IF NOT EXISTS unique_probe (id int PRIMARY KEY)");
    tx.ExecScript("INSERT INTO unique_probe VALUES (1), (1)");
    tx.Commit();
    return core::Ok();
  });
  ASSERT_FALSE(insert_twice.ok());
  EXPECT_EQ(insert_twice.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(DatabaseTest, SerializationFailuresAreRetriedBoundedly) {
  auto config = Config();
  config.max_transaction_retries = 2;
  Database db(config, metrics_);
  int attempts = 0;
  auto result = db.Write([&](Transaction& tx) -> core::Status {
    ++attempts;
    tx.ExecScript("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
    tx.Commit();
    return core::Ok();
  });
  EXPECT_EQ(attempts, 3);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kAborted);

  int deadlock_attempts = 0;
  auto recovered = db.Write([&](Transaction& tx) -> core::Status {
    if (++deadlock_attempts == 1) tx.ExecScript("DO $$ BEGIN RAISE EXCEPTION 'dl' USING ERRCODE = '40P01'; END $$");
    tx.Commit();
    return core::Ok();
  });
  EXPECT_TRUE(recovered.ok());
  EXPECT_EQ(deadlock_attempts, 2);
}

TEST_F(DatabaseTest, BrokenConnectionIsReplaced) {
  Database db(Config(1), metrics_);
  int attempts = 0;
  auto result = db.Read([&](Transaction& tx) -> Result<int> {
    // As the session user (the platform role may not signal the session user's backend).
    if (++attempts == 1) tx.ExecScript("RESET ROLE; SELECT pg_terminate_backend(pg_backend_pid())");
    return tx.ExecScript("SELECT 7")[0][0].as<int>();
  });
  ASSERT_TRUE(result.ok()) << result.error().internal;
  EXPECT_EQ(*result, 7);
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(db.pool().Stats().size, 1);
}

TEST_F(DatabaseTest, SingleStatementTenantReadsStayInTheirTenant) {
  Database db(Config(1), metrics_);  // one connection: both tenants share the session
  db.RegisterStatement("test.marker_above", "SELECT string_agg(id::text, ',' ORDER BY id) FROM marker WHERE id > $1");
  std::vector<TenantScope> scopes;
  for (const char* name : {"one", "two"}) {
    const std::string role = database_->name() + "_single_" + name;
    const std::string schema = std::string("t_single_") + name;
    Provision([&](pqxx::work& tx) {
      tx.exec("CREATE ROLE " + tx.quote_name(role) + " NOLOGIN");
      tx.exec("GRANT " + tx.quote_name(role) + " TO CURRENT_USER");
      tx.exec("CREATE SCHEMA " + schema + " AUTHORIZATION " + tx.quote_name(role));
      tx.exec("CREATE TABLE " + schema + ".marker (id int)");
      tx.exec("ALTER TABLE " + schema + ".marker OWNER TO " + tx.quote_name(role));
      tx.exec("INSERT INTO " + schema + ".marker VALUES " + (std::string(name) == "one" ? "(1), (11)" : "(2), (22)"));
    });
    scopes.push_back({role, schema});
  }
  auto read = [&](const TenantScope& scope, int above) {
    return db.ReadOnceInTenant(scope, [&](Transaction& tx) -> Result<std::string> {
      return tx.Exec("test.marker_above", above)[0][0].as<std::string>();
    });
  };
  // First use prepares under the tenant's search_path; later uses are one message each; a
  // prepared statement re-parses when the next tenant's search_path differs.
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(*read(scopes[0], 0), "1,11");
    EXPECT_EQ(*read(scopes[1], 0), "2,22");
    EXPECT_EQ(*read(scopes[0], 5), "11");
    EXPECT_EQ(*read(scopes[1], 5), "22");
  }
  auto optional_param = db.ReadOnceInTenant(scopes[1], [](Transaction& tx) -> Result<bool> {
    return tx.Exec("test.marker_above", std::optional<int>())[0][0].is_null();
  });
  ASSERT_TRUE(optional_param.ok()) << optional_param.error().internal;
  EXPECT_TRUE(*optional_param) << "NULL parameter: no row is above NULL";
  auto twice = db.ReadOnceInTenant(scopes[0], [](Transaction& tx) -> Result<int> {
    tx.ExecScript("SELECT 1");
    return tx.ExecScript("SELECT 2")[0][0].as<int>();
  });
  EXPECT_FALSE(twice.ok()) << "a second statement must be refused";
  auto after = db.Read([](Transaction& tx) -> Result<std::string> {
    return tx.ExecScript("SELECT current_user || '|' || current_setting('search_path')")[0][0].as<std::string>();
  });
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->find("single"), std::string::npos) << *after;
}

TEST_F(DatabaseTest, LateStatementRegistrationFailsLoudly) {
  Database db(Config(1), metrics_);
  db.RegisterStatement("test.early", "SELECT 1");
  ASSERT_TRUE(db.Ping().ok());
  EXPECT_THROW(db.RegisterStatement("test.late", "SELECT 2"), std::logic_error);
}

TEST_F(DatabaseTest, PoolWaitTimesOutAsUnavailable) {
  Database db(Config(1), metrics_);
  auto held = db.Acquire();
  ASSERT_TRUE(held.ok());
  const auto started = std::chrono::steady_clock::now();
  auto second = db.Acquire();
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_EQ(db.pool().Stats().timeouts, 1);
  EXPECT_NE(metrics_->RenderPrometheus().find("clinicore_db_pool_timeouts 1"), std::string::npos);
}

TEST_F(DatabaseTest, PoolNeverExceedsItsSize) {
  Database db(Config(3), metrics_);
  std::atomic<int> peak{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        auto value = db.Read([&](Transaction& tx) -> Result<int> {
          peak = std::max(peak.load(), db.pool().Stats().in_use);
          return tx.ExecScript("SELECT 1")[0][0].as<int>();
        });
        (void)value;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(peak.load(), 3);
  EXPECT_LE(db.pool().Stats().size, 3);
  EXPECT_EQ(db.pool().Stats().in_use, 0);
}

TEST_F(DatabaseTest, UnreachableDatabaseIsUnavailableQuickly) {
  core::DatabaseConfig config;
  config.url = "postgresql://clinicore@127.0.0.1:1/nowhere";
  Database db(config, metrics_);
  auto status = db.Ping();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(status.error().detail.find("127.0.0.1"), std::string::npos) << "no connection details to clients";
}

TEST_F(DatabaseTest, TenantScopeLastsOneTransaction) {
  Database db(Config(1), metrics_);
  const std::string role = database_->name() + "_probe";  // roles are cluster-wide
  Provision([&](pqxx::work& tx) {
    tx.exec("CREATE ROLE " + tx.quote_name(role) + " NOLOGIN");
    // Membership first: a non-superuser may only hand a schema to a role it belongs to.
    tx.exec("GRANT " + tx.quote_name(role) + " TO CURRENT_USER");
    tx.exec("CREATE SCHEMA t_scope_probe AUTHORIZATION " + tx.quote_name(role));
    tx.exec("CREATE TABLE t_scope_probe.marker (id int)");
    tx.exec("ALTER TABLE t_scope_probe.marker OWNER TO " + tx.quote_name(role));
  });

  TenantScope scope{role, "t_scope_probe"};
  auto inside = db.ReadInTenant(scope, [](Transaction& tx) -> Result<std::string> {
    auto row = tx.ExecScript(
        "SELECT current_user || '|' || current_setting('search_path') || '|' || "
        "(SELECT count(*) FROM marker)::text")[0];
    return row[0].as<std::string>();
  });
  ASSERT_TRUE(inside.ok()) << inside.error().internal;
  EXPECT_EQ(*inside, role + "|\"t_scope_probe\", pg_temp|0");

  // Writes commit only when asked; a failed statement rolls back and leaves the one pooled
  // connection clean; a tenant read stays read-only.
  ASSERT_TRUE(db.WriteInTenant(scope, [](Transaction& tx) -> core::Status {
                  tx.ExecScript("INSERT INTO marker VALUES (1)");
                  tx.Commit();
                  return core::Ok();
                }).ok());
  auto failed = db.WriteInTenant(scope, [](Transaction& tx) -> core::Status {
    tx.ExecScript("INSERT INTO marker VALUES (2)");
    tx.ExecScript("SELECT 1/0");
    tx.Commit();
    return core::Ok();
  });
  EXPECT_FALSE(failed.ok());
  auto uncommitted = db.WriteInTenant(scope, [](Transaction& tx) -> core::Status {
    tx.ExecScript("INSERT INTO marker VALUES (3)");
    return core::Error::InvalidArgument("changed my mind");
  });
  EXPECT_FALSE(uncommitted.ok());
  auto read_write = db.ReadInTenant(scope, [](Transaction& tx) -> core::Status {
    tx.ExecScript("INSERT INTO marker VALUES (4)");
    return core::Ok();
  });
  EXPECT_FALSE(read_write.ok());
  auto rows = db.ReadInTenant(scope, [](Transaction& tx) -> Result<std::string> {
    return tx.ExecScript("SELECT string_agg(id::text, ',' ORDER BY id) FROM marker")[0][0].as<std::string>();
  });
  ASSERT_TRUE(rows.ok()) << rows.error().internal;
  EXPECT_EQ(*rows, "1");

  // The same pooled connection afterwards is back to the platform role, out of the tenant.
  auto after = db.Read([](Transaction& tx) -> Result<std::string> {
    return tx.ExecScript("SELECT current_user || '|' || current_setting('search_path')")[0][0].as<std::string>();
  });
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->find(role), std::string::npos) << *after;
  EXPECT_EQ(after->find("t_scope_probe"), std::string::npos) << *after;

  // A scope that cannot be entered (a role that does not exist) fails the one transaction and
  // leaves no aborted transaction block on the pooled connection for the next borrower.
  for (const bool write : {true, false}) {
    const TenantScope missing{role + "_missing", "t_scope_probe"};
    auto refused = write ? db.WriteInTenant(missing,
                                            [](Transaction& tx) -> core::Status {
                                              tx.Commit();
                                              return core::Ok();
                                            })
                         : db.ReadInTenant(missing, [](Transaction&) -> core::Status { return core::Ok(); });
    EXPECT_FALSE(refused.ok());
    auto next = db.Read([](Transaction& tx) -> Result<int> { return tx.ExecScript("SELECT 7")[0][0].as<int>(); });
    ASSERT_TRUE(next.ok()) << "the next borrower inherited the failure: " << next.error().internal;
    EXPECT_EQ(*next, 7);
  }
}

// Scopes of throwaway tenants (role and empty schema each) for the retirement tests.
std::vector<TenantScope> MakeScopes(testing::TestDatabase& database, const std::string& prefix, int count) {
  std::vector<TenantScope> scopes;
  for (int i = 0; i < count; ++i) {
    const std::string role = database.name() + "_" + prefix + std::to_string(i);  // roles are cluster-wide
    const std::string schema = "t_" + prefix + std::to_string(i);
    pqxx::connection connection(database.url());
    pqxx::work tx(connection);
    tx.exec("CREATE ROLE " + tx.quote_name(role) + " NOLOGIN");
    tx.exec("GRANT " + tx.quote_name(role) + " TO CURRENT_USER");
    tx.exec("CREATE SCHEMA " + schema + " AUTHORIZATION " + tx.quote_name(role));
    tx.commit();
    scopes.push_back({role, schema});
  }
  return scopes;
}

int BackendIn(Database& db, const std::optional<TenantScope>& scope) {
  auto pid = [](Transaction& tx) -> Result<int> { return tx.ExecScript("SELECT pg_backend_pid()")[0][0].as<int>(); };
  auto result = scope ? db.ReadInTenant(*scope, pid) : db.Read(pid);
  EXPECT_TRUE(result.ok()) << result.error().internal;
  return result.ok() ? *result : -1;
}

TEST_F(DatabaseTest, AConnectionIsRetiredOnceItHasEnteredItsShareOfTenants) {
  core::DatabaseConfig config = Config(1);  // one connection: every borrower gets the same one
  config.tenants_per_connection = 2;
  Database db(config, metrics_);
  const auto scopes = MakeScopes(*database_, "retire", 3);

  const int first = BackendIn(db, scopes[0]);
  EXPECT_EQ(BackendIn(db, scopes[0]), first) << "one tenant, entered twice, counts once";
  EXPECT_EQ(BackendIn(db, std::nullopt), first) << "platform work counts no tenant";
  EXPECT_EQ(BackendIn(db, scopes[1]), first) << "the second tenant is within the share; retired on return";
  EXPECT_EQ(db.pool().Stats().retired, 1);
  const int second = BackendIn(db, scopes[2]);
  EXPECT_NE(second, first) << "the next borrower gets a fresh backend";
  EXPECT_EQ(db.pool().Stats().size, 1) << "the retired connection was closed, not kept";
}

TEST_F(DatabaseTest, WriteInCellAndRetireClosesItsConnectionAndLifetimeEndsIdleOnes) {
  core::DatabaseConfig config = Config(1);
  Database db(config, metrics_);
  int seen = -1;
  ASSERT_TRUE(db.WriteInCellAndRetire(0, [&](Transaction& tx) -> core::Status {
                  seen = tx.ExecScript("SELECT pg_backend_pid()")[0][0].as<int>();
                  tx.Commit();
                  return core::Ok();
                }).ok());
  EXPECT_NE(BackendIn(db, std::nullopt), seen);
  EXPECT_EQ(db.pool().Stats().retired, 1);

  config.connection_lifetime = std::chrono::milliseconds(1);
  Database short_lived(config, metrics_);
  const int first = BackendIn(short_lived, std::nullopt);
  // A connection older than its lifetime is closed when it comes back: within a bounded wait
  // every borrower lands on a backend it has not seen.
  EXPECT_TRUE(
      testing::WaitFor([&] { return BackendIn(short_lived, std::nullopt) != first; }, std::chrono::seconds(10)));
  EXPECT_GE(short_lived.pool().Stats().retired, 1);
}

}  // namespace
}  // namespace clinicore::db
