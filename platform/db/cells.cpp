#include "platform/db/cells.hpp"

#include "platform/core/config.hpp"

namespace clinicore::db {

std::string CellGroupRole(int cell) {
  return "clinicore_cell_" + std::to_string(cell);
}

core::Result<std::string> UrlUser(const std::string& url) {
  const auto [begin, end] = core::DatabaseUrlUserSpan(url);
  if (begin == end) {
    return core::Error::InvalidArgument("the database URL names no user; cells derive their logins from it",
                                        {{"CLINICORE_DATABASE_URL", "must name its user"}});
  }
  return url.substr(begin, end - begin);
}

std::string CellLogin(const std::string& base_user, int cell) {
  return cell == 0 ? base_user : base_user + "_c" + std::to_string(cell);
}

core::Result<std::string> CellUrl(const std::string& url, int cell) {
  if (cell == 0) return url;
  CLINICORE_TRY(const std::string user, UrlUser(url));
  const auto [begin, end] = core::DatabaseUrlUserSpan(url);
  return url.substr(0, begin) + CellLogin(user, cell) + url.substr(end);
}

}  // namespace clinicore::db
