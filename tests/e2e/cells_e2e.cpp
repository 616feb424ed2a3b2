// Cells through the real binaries (docs/tenancy.md, "Cells"): `clinicore migrate` registers two
// cells and makes the second cell's login; onboarding places tenants in the least filled cell;
// `serve` answers each tenant through its own cell's login.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

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

}  // namespace
}  // namespace clinicore
