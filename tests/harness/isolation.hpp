#pragma once

#include <string>
#include <vector>

#include "platform/db/database.hpp"

namespace clinicore::testing {

// Inserts one row carrying `marker` into EVERY table of the scope's schema, as the tenant's
// own role. Tables are read from the catalog, so tables added by later migrations are
// covered without touching the tests. Values are generated per column type; a foreign key
// takes a row of the referenced table (tables are retried until their references exist).
// Returns the tables filled; fails the calling test when a table cannot be filled.
std::vector<std::string> FillEveryTable(db::Database& database, const db::TenantScope& scope,
                                        const std::string& marker);

// Tables of the scope's schema holding `marker` anywhere in a row (row::text LIKE).
std::vector<std::string> TablesContaining(db::Database& database, const db::TenantScope& scope,
                                          const std::string& marker);

std::vector<std::string> TablesOf(db::Database& database, const db::TenantScope& scope);

// Tables FillEveryTable can put the marker text into: those with a text, JSON or bytea column
// that is not a foreign key. (A table of ids and instants only, such as a membership, holds
// the marker nowhere; its rows are still covered by the permission checks.)
std::vector<std::string> MarkableTablesOf(db::Database& database, const db::TenantScope& scope);

}  // namespace clinicore::testing
