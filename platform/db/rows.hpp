#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

// Rows become records in a module's store, and every store converts them the same way.
namespace clinicore::db {

template <typename Record, typename Convert>
std::vector<Record> AllRows(const pqxx::result& rows, Convert convert) {
  std::vector<Record> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(convert(row));
  return out;
}

template <typename Record, typename Convert>
std::optional<Record> FirstRow(const pqxx::result& rows, Convert convert) {
  if (rows.empty()) return std::nullopt;
  return convert(rows[0]);
}

inline std::optional<std::string> OptionalText(const pqxx::field& field) {
  return field.is_null() ? std::nullopt : std::optional<std::string>(field.as<std::string>());
}

// A PostgreSQL array literal of ids already validated as UUIDs ("{a,b}"), for $n::uuid[].
inline std::string UuidArray(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (const auto& id : ids) out += (out.size() > 1 ? "," : "") + id;
  return out + "}";
}

}  // namespace clinicore::db
