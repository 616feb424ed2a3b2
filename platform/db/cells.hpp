#pragma once

#include <string>

#include "platform/core/result.hpp"

namespace clinicore::db {

// Cells (docs/decisions/0012-tenant-cells.md): every tenant role belongs to one cell's group
// role, and each cell has its own runtime login, a member of that group only. PostgreSQL
// recomputes a login's role memberships after every role change in the cluster, in time that
// grows with the square of their number; a cell bounds that number for every login.

// The group role of cell `cell`: "clinicore_cell_<cell>".
std::string CellGroupRole(int cell);

// The user a postgresql:// URL names (percent-decoding is not needed: role names the platform
// makes are [a-z0-9_]). InvalidArgument when the URL names none.
core::Result<std::string> UrlUser(const std::string& url);

// The login of cell `cell` for the runtime `base_user`: the user itself for cell 0, so a
// one-cell deployment keeps its single login; "<base_user>_c<cell>" for the others.
std::string CellLogin(const std::string& base_user, int cell);

// `url` with its user replaced by cell `cell`'s login (password, host and options kept).
core::Result<std::string> CellUrl(const std::string& url, int cell);

}  // namespace clinicore::db
