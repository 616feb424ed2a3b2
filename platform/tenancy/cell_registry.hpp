#pragma once

#include "platform/core/config.hpp"
#include "platform/core/result.hpp"
#include "platform/db/database.hpp"

namespace clinicore::tenancy {

// Registers cells 0 … runtime.cells - 1 (docs/decisions/0012-tenant-cells.md), as the
// provisioner (`clinicore migrate`, after the platform migrations): each cell's group role
// clinicore_cell_<k>, its runtime login (db::CellLogin of runtime.url's user; made when
// missing, LOGIN NOINHERIT with that URL's password, if it has one), the login's membership in
// its group and in clinicore_runtime, and the row in provisioning.cells that lets onboarding
// place tenants there. Idempotent, and safe beside the same step of another database of the
// cluster. Cells beyond runtime.cells stay registered: their tenants keep their cell.
core::Status EnsureCells(db::Database& provisioner, const core::DatabaseConfig& runtime);

}  // namespace clinicore::tenancy
