#include "tests/harness/isolation.hpp"

#include <gtest/gtest.h>

#include <random>
#include <regex>

namespace clinicore::testing {
namespace {

struct Column {
  std::string name;
  std::string type;
  bool not_null;
  bool has_default;
  // "table(column)" when a foreign key, else empty. A column of a composite key takes its
  // part of the same referenced row (each table holds one row when referenced here).
  std::string reference;
  std::string check;      // the CHECK constraint on this column alone, if any
  bool always_generated;  // GENERATED ALWAYS (identity or expression): only DEFAULT goes in
};

std::vector<Column> ColumnsOf(db::Transaction& tx, const std::string& table) {
  std::vector<Column> columns;
  const auto rows = tx.ExecScript(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      "a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', "
      "coalesce((SELECT quote_ident(rc.relname) || '(' || quote_ident(ra.attname) || ')' FROM pg_constraint k "
      "  JOIN pg_class rc ON rc.oid = k.confrelid "
      "  JOIN pg_attribute ra ON ra.attrelid = k.confrelid "
      "   AND ra.attnum = k.confkey[array_position(k.conkey, a.attnum)] "
      "  WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND a.attnum = ANY (k.conkey) "
      "  ORDER BY cardinality(k.conkey) DESC LIMIT 1), ''), "
      "coalesce((SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conrelid = a.attrelid "
      "  AND k.contype = 'c' AND k.conkey = ARRAY[a.attnum] LIMIT 1), ''), "
      "a.attidentity = 'a' OR a.attgenerated <> '' "
      "FROM pg_attribute a WHERE a.attrelid = (quote_ident(current_schema()) || '.' || " +
      tx.Quote(tx.QuoteName(table)) + ")::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
  for (const auto& row : rows) {
    columns.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<bool>(), row[3].as<bool>(),
                       row[4].as<std::string>(), row[5].as<std::string>(), row[6].as<bool>()});
  }
  return columns;
}

// `position` is the column's place in its table: later timestamps are later, so a table's
// own check that one instant follows another (ends_at > starts_at) holds.
std::string ValueFor(db::Transaction& tx, const Column& column, const std::string& marker, long long number,
                     size_t position) {
  if (!column.reference.empty()) {
    auto open = column.reference.find('(');
    return "(SELECT " + column.reference.substr(open + 1, column.reference.size() - open - 2) + " FROM " +
           column.reference.substr(0, open) + " LIMIT 1)";
  }
  if (column.always_generated) return "DEFAULT";
  const std::string& type = column.type;
  const std::string text = tx.Quote(marker);
  if (type == "text" || type.rfind("character", 0) == 0) {
    // A column limited to a list of values gets the first of them; one limited by a pattern
    // stays NULL when it may (the marker goes into the row's other text columns).
    for (const char* opening : {"ARRAY['", " = '"}) {
      const auto list = column.check.find(opening);
      if (list == std::string::npos) continue;
      const auto start = list + std::string_view(opening).size();
      return tx.Quote(column.check.substr(start, column.check.find('\'', start) - start));
    }
    // Patterns a NOT NULL column must match get a sample of the pattern.
    if (column.not_null && column.check.find("[A-Z]{3}") != std::string::npos) return tx.Quote("EUR");
    if (column.check.find(" ~ ") != std::string::npos && column.has_default) return "DEFAULT";
    if (column.check.find(" ~ ") != std::string::npos && !column.not_null) return "NULL";
    return text;
  }
  if (type == "integer" || type == "bigint" || type == "smallint" || type.rfind("numeric", 0) == 0) {
    // A bounded number (a duration, a price) gets 1, which every such bound here admits.
    if (!column.check.empty()) return "1";
    return std::to_string(number % 30000 + 1);
  }
  if (type == "uuid") return "gen_random_uuid()";
  if (type.rfind("timestamp", 0) == 0 || type == "date") {
    return "now() + interval '" + std::to_string(position) + " minutes'";
  }
  if (type == "boolean") return "true";
  if (type == "jsonb" || type == "json") return tx.Quote(nlohmann::json({{"marker", marker}}).dump());
  if (type == "bytea") {
    // A column of a fixed length (CHECK (length(c) = N), a key or a secret) gets the marker
    // padded with zero bytes to that length (the marker's own bytes stay findable).
    std::smatch fixed;
    if (std::regex_search(column.check, fixed, std::regex(R"(length\(\w+\) = (\d+))"))) {
      return "substring(convert_to(" + text + ", 'UTF8') || decode(repeat('00', " + fixed[1].str() +
             "), 'hex') FROM 1 FOR " + fixed[1].str() + ")";
    }
    return "convert_to(" + text + ", 'UTF8')";
  }
  if (type == "text[]") return "ARRAY[" + text + "]";
  if (type == "tstzrange") return "tstzrange(now(), now() + interval '1 hour')";
  if (type == "inet") return "'127.0.0.1'";
  if (column.has_default) return "DEFAULT";
  if (!column.not_null) return "NULL";
  ADD_FAILURE() << "isolation filler: no value for column " << column.name << " of type " << type
                << " (extend tests/harness/isolation.cpp)";
  return "NULL";
}

}  // namespace

std::vector<std::string> TablesOf(db::Database& database, const db::TenantScope& scope) {
  auto tables = database.ReadInTenant(scope, [](db::Transaction& tx) -> core::Result<std::vector<std::string>> {
    std::vector<std::string> names;
    for (const auto& row : tx.ExecScript("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                         "c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN "
                                         "('r', 'p') ORDER BY c.relname")) {
      names.push_back(row[0].as<std::string>());
    }
    return names;
  });
  EXPECT_TRUE(tables.ok()) << tables.error().internal;
  return tables.ok() ? *tables : std::vector<std::string>{};
}

std::vector<std::string> MarkableTablesOf(db::Database& database, const db::TenantScope& scope) {
  std::vector<std::string> markable;
  for (const auto& table : TablesOf(database, scope)) {
    auto holds = database.ReadInTenant(scope, [&](db::Transaction& tx) -> core::Result<bool> {
      for (const auto& column : ColumnsOf(tx, table)) {
        const auto& type = column.type;
        const bool texty = type == "text" || type.rfind("character", 0) == 0 || type == "jsonb" || type == "json" ||
                           type == "bytea" || type == "text[]";
        if (texty && column.reference.empty() && !column.always_generated) return true;
      }
      return false;
    });
    if (holds.ok() && *holds) markable.push_back(table);
  }
  return markable;
}

std::vector<std::string> FillEveryTable(db::Database& database, const db::TenantScope& scope,
                                        const std::string& marker) {
  std::vector<std::string> pending = TablesOf(database, scope);
  std::vector<std::string> filled;
  std::mt19937_64 random{std::random_device{}()};
  std::string last_error;
  for (int pass = 0; pass < 8 && !pending.empty(); ++pass) {
    std::vector<std::string> still_pending;
    for (const auto& table : pending) {
      auto inserted = database.WriteInTenant(scope, [&](db::Transaction& tx) -> core::Status {
        std::string names;
        std::string values;
        const auto columns = ColumnsOf(tx, table);
        for (size_t i = 0; i < columns.size(); ++i) {
          names += (names.empty() ? "" : ", ") + tx.QuoteName(columns[i].name);
          values += (values.empty() ? "" : ", ") +
                    ValueFor(tx, columns[i], marker, 1'000'000 + static_cast<long long>(random() % 1'000'000), i);
        }
        tx.ExecScript("INSERT INTO " + tx.QuoteName(table) + " (" + names + ") VALUES (" + values + ")");
        tx.Commit();
        return core::Ok();
      });
      if (inserted) {
        filled.push_back(table);
      } else {
        still_pending.push_back(table);
        last_error = table + ": " + inserted.error().internal;
      }
    }
    pending = std::move(still_pending);
  }
  EXPECT_TRUE(pending.empty()) << "could not put a marker row into every table; last error: " << last_error;
  return filled;
}

std::vector<std::string> TablesContaining(db::Database& database, const db::TenantScope& scope,
                                          const std::string& marker) {
  std::vector<std::string> found;
  for (const auto& table : TablesOf(database, scope)) {
    auto count = database.ReadInTenant(scope, [&](db::Transaction& tx) -> core::Result<long long> {
      return tx
          // bytea columns print as hex, so the marker is looked for in both spellings.
          .ExecScript("SELECT count(*) FROM " + tx.QuoteName(table) + " t WHERE t::text LIKE " +
                      tx.Quote("%" + marker + "%") + " OR t::text LIKE '%' || encode(convert_to(" + tx.Quote(marker) +
                      ", 'UTF8'), 'hex') || '%'")[0][0]
          .as<long long>();
    });
    EXPECT_TRUE(count.ok()) << table << ": " << count.error().internal;
    if (count.ok() && *count > 0) found.push_back(table);
  }
  return found;
}

}  // namespace clinicore::testing
