#include "platform/tenancy/cell_registry.hpp"

#include <pqxx/pqxx>

#include "platform/db/cells.hpp"
#include "platform/db/errors.hpp"

namespace clinicore::tenancy {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The password of scheme://user:password@host..., percent-decoded; empty when there is none.
std::string UrlPassword(const std::string& url) {
  const auto [begin, end] = core::DatabaseUrlUserSpan(url);
  if (begin == end || end >= url.size() || url[end] != ':') return "";
  const size_t at = url.find('@', end);
  std::string password;
  for (size_t i = end + 1; i < at; ++i) {
    const int high = i + 2 < at && url[i] == '%' ? HexValue(url[i + 1]) : -1;
    const int low = high >= 0 ? HexValue(url[i + 2]) : -1;
    if (low >= 0) {
      password += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      password += url[i];
    }
  }
  return password;
}

// One cell, in one transaction. Creating a role or a membership that a concurrent migration
// of another database made meanwhile is tolerated, as in migrations/platform/0009.
std::string EnsureCellSql(pqxx::transaction_base& tx, int cell, const std::string& login, const std::string& password) {
  const std::string group = db::CellGroupRole(cell);
  return "DO $cell$\n"
         "DECLARE\n"
         "  grp text := " +
         tx.quote(group) +
         ";\n"
         "  login text := " +
         tx.quote(login) +
         ";\n"
         "  pw text := " +
         (password.empty() ? std::string("NULL") : tx.quote(password)) +
         ";\n"
         "  pair text[];\n"
         "BEGIN\n"
         "  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = grp) THEN\n"
         "    BEGIN\n"
         "      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN NOINHERIT', grp);\n"
         "    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;\n"
         "    END;\n"
         "  END IF;\n"
         "  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = login) THEN\n"
         "    BEGIN\n"
         "      EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN NOINHERIT', login)\n"
         "        || CASE WHEN pw IS NULL THEN '' ELSE pg_catalog.format(' PASSWORD %L', pw) END;\n"
         "    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;\n"
         "    END;\n"
         "  END IF;\n"
         "  FOREACH pair SLICE 1 IN ARRAY ARRAY[[grp, login], ['clinicore_runtime', login]] LOOP\n"
         "    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m\n"
         "                    JOIN pg_catalog.pg_roles g ON g.oid = m.roleid\n"
         "                    JOIN pg_catalog.pg_roles r ON r.oid = m.member\n"
         "                   WHERE g.rolname = pair[1] AND r.rolname = pair[2]) THEN\n"
         "      BEGIN\n"
         "        EXECUTE pg_catalog.format('GRANT %I TO %I', pair[1], pair[2]);\n"
         "      EXCEPTION WHEN unique_violation THEN NULL;\n"
         "      END;\n"
         "    END IF;\n"
         "  END LOOP;\n"
         "  INSERT INTO provisioning.cells (cell, group_role, login_role) VALUES (" +
         std::to_string(cell) +
         ", grp, login)\n"
         "    ON CONFLICT (cell) DO UPDATE SET login_role = EXCLUDED.login_role;\n"
         "END\n"
         "$cell$";
}

}  // namespace

core::Status EnsureCells(db::Database& provisioner, const core::DatabaseConfig& runtime) {
  CLINICORE_TRY(const std::string base_user, db::UrlUser(runtime.url));
  const std::string password = UrlPassword(runtime.url);
  CLINICORE_TRY(auto connection, provisioner.Acquire());
  try {
    for (int cell = 0; cell < std::max(1, runtime.cells); ++cell) {
      pqxx::work tx(connection.get());
      tx.exec(EnsureCellSql(tx, cell, db::CellLogin(base_user, cell), password));
      tx.commit();
    }
  } catch (const std::exception& e) {
    connection.MarkBroken();
    auto failure = db::Classify(e);
    if (failure.error.internal.empty()) failure.error.internal = e.what();
    return std::move(failure.error);
  }
  return core::Ok();
}

}  // namespace clinicore::tenancy
