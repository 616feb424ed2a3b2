// Cells through the real binaries (docs/tenancy.md, "Cells"): `clinicore migrate` registers two
// cells and makes the second cell's login; onboarding places tenants in the least filled cell;
// `serve` answers each tenant through its own cell's login. `work` keeps spares ready in each
// cell, and onboarding takes one (docs/tenancy.md, "Spares").
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>

#include "tests/harness/api_server.hpp"

namespace clinicore {
namespace {

TEST(CellsE2eTest, TenantsOfTwoCellsAreServedThroughTheirOwnCellsLogin) {
  testing::ApiServer server(std::map<std::string, std::string>{{"CLINICORE_DB_CELLS", "2"}});
  server.CreateTenant("cells-first");   // both cells empty: the lower one
  server.CreateTenant("cells-second");  // then the emptier one

  pqxx::connection connection(server.database_url());
  {
    pqxx::read_transaction tx(connection);
    const auto rows = tx.exec(
        "SELECT t.slug, t.cell, o.cell, c.login_role FROM platform.tenants t "
        "JOIN provisioning.tenant_objects o ON o.tenant_id = t.id JOIN provisioning.cells c ON c.cell = t.cell "
        "WHERE t.slug LIKE 'cells-%' ORDER BY t.slug");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0][0].as<std::string>(), "cells-first");
    EXPECT_EQ(rows[0][1].as<int>(), 0);
    EXPECT_EQ(rows[0][2].as<int>(), 0);
    EXPECT_EQ(rows[1][1].as<int>(), 1);
    EXPECT_EQ(rows[1][2].as<int>(), 1);
    EXPECT_EQ(rows[1][3].as<std::string>(), rows[0][3].as<std::string>() + "_c1");
  }

  for (const char* slug : {"cells-first", "cells-second"}) {
    const auto status = server.TenantCall(slug, "GET", "/v1/tenant/status");
    EXPECT_EQ(status.status, 200) << slug << ": " << status.body;
  }
  // The second tenant's request ran on a backend of the second cell's login.
  pqxx::read_transaction tx(connection);
  EXPECT_GE(tx.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'clinicore' AND usename = (SELECT login_role FROM provisioning.cells "
                    "WHERE cell = 1)")[0][0]
                .as<int>(),
            1);
}

// Ready spares per cell, as "<cell>:<count>" joined by spaces, cells in order.
std::string SparesPerCell(const std::string& database_url) {
  pqxx::connection connection(database_url);
  pqxx::read_transaction tx(connection);
  std::string counts;
  for (const auto& row :
       tx.exec("SELECT c.cell, count(s.tenant_id) FROM provisioning.cells c "
               "LEFT JOIN provisioning.spares s ON s.cell = c.cell GROUP BY c.cell ORDER BY c.cell")) {
    counts += (counts.empty() ? "" : " ") + row[0].as<std::string>() + ":" + row[1].as<std::string>();
  }
  return counts;
}

TEST(CellsE2eTest, TheWorkerKeepsASpareInEachCellAndOnboardingTakesIt) {
  testing::ApiServer server(std::map<std::string, std::string>{{"CLINICORE_DB_CELLS", "2"}});
  auto env = server.env();
  env["CLINICORE_TENANT_SPARES"] = "1";
  env["CLINICORE_WORK_SPARES_INTERVAL_MS"] = "200";
  testing::ServerProcess worker({"work"}, env);
  const auto one_each = [&] { return SparesPerCell(server.database_url()) == "0:1 1:1"; };
  ASSERT_TRUE(testing::WaitFor(one_each, std::chrono::seconds(120), std::chrono::milliseconds(100)))
      << SparesPerCell(server.database_url()) << "\n"
      << worker.Output();

  std::string spare;
  {
    pqxx::connection connection(server.database_url());
    pqxx::read_transaction tx(connection);
    spare = tx.exec("SELECT tenant_id::text FROM provisioning.spares WHERE cell = 0")[0][0].as<std::string>();
  }
  server.CreateTenant("spare-taker");
  {
    pqxx::connection connection(server.database_url());
    pqxx::read_transaction tx(connection);
    EXPECT_EQ(tx.exec("SELECT id::text FROM platform.tenants WHERE slug = 'spare-taker'")[0][0].as<std::string>(),
              spare);
  }
  const auto status = server.TenantCall("spare-taker", "GET", "/v1/tenant/status");
  EXPECT_EQ(status.status, 200) << status.body;
  const auto owner = server.Login("spare-taker", "owner@spare-taker.test");
  EXPECT_TRUE(owner.contains("access_token")) << owner.dump();
  // The next firing replaces what onboarding took.
  EXPECT_TRUE(testing::WaitFor(one_each, std::chrono::seconds(120), std::chrono::milliseconds(100)))
      << SparesPerCell(server.database_url()) << "\n"
      << worker.Output();
}

}  // namespace
}  // namespace clinicore
