#include "platform/kit/list_query.hpp"

#include <algorithm>

#include "platform/core/utf8.hpp"
#include "platform/kit/validators.hpp"

namespace clinicore::kit {
namespace {

core::Error BadFilter(const std::string& name, std::string message) {
  return core::Error::InvalidArgument("The query parameter " + name + " " + message + ".", {{name, message}});
}

core::Result<std::string> Normalized(const FilterRule& rule, const std::string& value) {
  switch (rule.kind) {
    case FilterRule::Kind::kText:
      if (value.size() > rule.max_length) {
        return BadFilter(rule.name, "must be at most " + std::to_string(rule.max_length) + " bytes");
      }
      if (!core::IsPrintableUtf8(value)) return BadFilter(rule.name, "must be printable text");
      return value;
    case FilterRule::Kind::kUuid:
      return ParseUuid(value, rule.name);
    case FilterRule::Kind::kBool:
      if (value != "true" && value != "false") return BadFilter(rule.name, "must be true or false");
      return value;
    case FilterRule::Kind::kOneOf: {
      if (std::find(rule.values.begin(), rule.values.end(), value) != rule.values.end()) return value;
      std::string choices;
      for (const auto& choice : rule.values) choices += (choices.empty() ? "" : ", ") + choice;
      return BadFilter(rule.name, "must be one of " + choices);
    }
    case FilterRule::Kind::kInstant: {
      CLINICORE_TRY(const auto instant, ParseInstant(value, rule.name));
      return FormatInstant(instant);
    }
    case FilterRule::Kind::kSort: {
      const std::string key = value.starts_with('-') ? value.substr(1) : value;
      if (std::find(rule.values.begin(), rule.values.end(), key) != rule.values.end()) return value;
      std::string choices;
      for (const auto& choice : rule.values) choices += (choices.empty() ? "" : ", ") + choice + ", -" + choice;
      return BadFilter(rule.name, "must be one of " + choices);
    }
  }
  return BadFilter(rule.name, "is not understood");
}

}  // namespace

std::optional<std::string> ListQuery::Filter(const std::string& name) const {
  const auto it = filters.find(name);
  if (it == filters.end()) return std::nullopt;
  return it->second;
}

std::optional<bool> ListQuery::BoolFilter(const std::string& name) const {
  const auto value = Filter(name);
  if (!value) return std::nullopt;
  return *value == "true";
}

ListQuery::Order ListQuery::SortOrder(const Order& fallback) const {
  const auto value = Filter("sort");
  if (!value) return fallback;
  if (value->starts_with('-')) return {value->substr(1), true};
  return {*value, false};
}

core::Result<ListQuery> ParseListQuery(const http::RequestContext& context, std::string_view list,
                                       const std::vector<FilterRule>& rules) {
  ListQuery query;
  for (const auto& [key, value] : context.raw.query) {
    const std::string& name = key;  // a lambda may not capture a structured binding (clang)
    if (name == "limit" || name == "cursor") continue;
    const auto rule = std::find_if(rules.begin(), rules.end(), [&](const FilterRule& r) { return r.name == name; });
    if (rule == rules.end()) return BadFilter(name, "is not a parameter of this list");
    CLINICORE_TRY(query.filters[name], Normalized(*rule, value));
  }
  query.list = std::string(list);
  for (const auto& [name, value] : query.filters) query.list += "&" + name + "=" + value;  // sorted by name
  CLINICORE_TRY(query.page, ParsePageRequest(context, query.list));
  return query;
}

std::string ContainsPattern(std::string_view text) {
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  return pattern + "%";
}

}  // namespace clinicore::kit
