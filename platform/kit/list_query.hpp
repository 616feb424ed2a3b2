#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/kit/page.hpp"

namespace clinicore::kit {

// One query parameter a list accepts besides limit and cursor.
struct FilterRule {
  enum class Kind {
    kText,     // free text up to max_length bytes of printable UTF-8 (a search)
    kUuid,     // normalized to lower case
    kBool,     // "true" or "false"
    kOneOf,    // one of `values`
    kInstant,  // an RFC 3339 instant, normalized to the API's format
    kSort,     // a sort key of `values`, "-" first for descending: "created_at", "-created_at"
  };
  std::string name;
  Kind kind = Kind::kText;
  std::vector<std::string> values = {};
  size_t max_length = 100;
};

// A list request: its page and its filters, read by one parser for every list. A parameter the
// list does not declare is a 400 naming it (a typo must not silently list everything), and so
// is a bad value. The cursor is bound to the list and to its filters: a cursor minted under one
// filter is refused under another.
struct ListQuery {
  PageRequest page;
  std::map<std::string, std::string> filters;  // normalized values of the filters given
  std::string list;                            // the cursor's list: name plus filters

  std::optional<std::string> Filter(const std::string& name) const;
  std::optional<bool> BoolFilter(const std::string& name) const;
  // The list's order (the kSort rule named "sort"), or `fallback` when none was asked for.
  struct Order {
    std::string key;
    bool descending = false;
  };
  Order SortOrder(const Order& fallback) const;
};

core::Result<ListQuery> ParseListQuery(const http::RequestContext& context, std::string_view list,
                                       const std::vector<FilterRule>& rules = {});

// A SQL LIKE pattern matching `text` anywhere, with %, _ and \ escaped.
std::string ContainsPattern(std::string_view text);

}  // namespace clinicore::kit
