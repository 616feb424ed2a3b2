#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/result.hpp"
#include "platform/http/request.hpp"

// Pagination, one way for every list: `?limit=` (1-100, default 20) and `?cursor=`, answered
// as {items, next_cursor}. A cursor is opaque and tamper-evident: base64url of the position
// (the sort keys of the last row) and of a MAC over it and the list's name, so a cursor the
// API did not mint, or one minted for another list, is a 400 naming `cursor` and never
// reaches SQL. Keyset positions only: no OFFSET.
namespace clinicore::kit {

// `serve` derives the MAC key from its signing key, so every replica accepts the cursors of
// the others; until then a random per-process key is used. Call before serving.
void SetCursorSecret(std::string_view secret);

// `list` names the list ("clinics", "services:<clinic id>"); `position` is a JSON array.
std::string EncodeCursor(std::string_view list, const nlohmann::json& position);
core::Result<nlohmann::json> DecodeCursor(std::string_view list, std::string_view cursor);

inline constexpr int kDefaultPageLimit = 20;

struct PageRequest {
  int limit = kDefaultPageLimit;
  std::optional<nlohmann::json> after = {};  // the decoded position, when a cursor was given
  std::string list = {};                     // the list its cursors belong to (see ListQuery)
};
core::Result<PageRequest> ParsePageRequest(const http::RequestContext& context, std::string_view list);

// The `index`th sort key of the page's position when it has that type, else nullopt (the first
// page). Cursors are MAC'd, so a wrong shape only comes from a list whose keys changed between
// releases: such a cursor restarts the list instead of reaching SQL.
std::optional<std::string> PositionText(const PageRequest& page, size_t index);
std::optional<long long> PositionNumber(const PageRequest& page, size_t index);

// Keyset pagination of rows fetched with LIMIT limit + 1: drops the extra row and returns
// the cursor of the last row kept, or nullopt on the last page.
template <typename Row, typename PositionOf>
std::optional<std::string> TrimPage(std::vector<Row>& rows, int limit, std::string_view list, PositionOf position_of) {
  if (rows.size() <= static_cast<size_t>(limit)) return std::nullopt;
  rows.resize(static_cast<size_t>(limit));
  return EncodeCursor(list, position_of(rows.back()));
}

nlohmann::json PageJson(nlohmann::json items, const std::optional<std::string>& next_cursor);

// The same answer from items already rendered as JSON (by PostgreSQL, for lists whose rows
// would otherwise be built into JSON trees only to be printed).
std::string RenderedPageBody(const std::vector<std::string>& items, const std::optional<std::string>& next_cursor);

// One page of records and the cursor of the next, as services hand it to handlers.
template <typename Record>
struct Page {
  std::vector<Record> items;
  std::optional<std::string> next_cursor;
};

// The page of `rows` fetched with LIMIT page.limit + 1 (see TrimPage).
template <typename Record, typename PositionOf>
Page<Record> MakePage(std::vector<Record> rows, const PageRequest& page, PositionOf position_of) {
  Page<Record> out;
  out.next_cursor = TrimPage(rows, page.limit, page.list, position_of);
  out.items = std::move(rows);
  return out;
}

// Records as a JSON array, each through the ToJson of its own module (found by ADL).
template <typename Record>
nlohmann::json ToJsonArray(const std::vector<Record>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& record : records) out.push_back(ToJson(record));
  return out;
}

template <typename Record>
nlohmann::json PageJson(const Page<Record>& page) {
  return PageJson(ToJsonArray(page.items), page.next_cursor);
}

}  // namespace clinicore::kit
