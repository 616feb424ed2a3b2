#include "platform/kit/list_query.hpp"

#include <gtest/gtest.h>

namespace clinicore::kit {
namespace {

using Kind = FilterRule::Kind;

const std::vector<FilterRule> kRules = {
    {"active", Kind::kBool},    {"clinic_id", Kind::kUuid}, {"role", Kind::kOneOf, {"doctor", "client"}},
    {"q", Kind::kText, {}, 10}, {"from", Kind::kInstant},   {"sort", Kind::kSort, {"created_at", "name"}}};

core::Result<ListQuery> Parse(std::map<std::string, std::string> query) {
  static http::RawRequest raw;  // the context keeps a reference
  raw.query = std::move(query);
  http::RequestContext context{raw, "id"};
  return ParseListQuery(context, "things", kRules);
}

std::string RefusedField(const core::Result<ListQuery>& query) {
  return query ? "(accepted)" : query.error().fields.at(0).field;
}

TEST(ListQuery, ReadsDeclaredFiltersNormalized) {
  auto query = Parse({{"active", "true"}, {"clinic_id", "9F0C2B1E-0000-4000-8000-000000000001"}, {"limit", "3"}});
  ASSERT_TRUE(query);
  EXPECT_EQ(query->BoolFilter("active"), true);
  EXPECT_EQ(query->Filter("clinic_id"), "9f0c2b1e-0000-4000-8000-000000000001");
  EXPECT_FALSE(query->Filter("q"));
  EXPECT_EQ(query->page.limit, 3);
}

TEST(ListQuery, RefusesUnknownParametersAndBadValuesNamingThem) {
  EXPECT_EQ(RefusedField(Parse({{"actve", "true"}})), "actve");
  EXPECT_EQ(RefusedField(Parse({{"active", "yes"}})), "active");
  EXPECT_EQ(RefusedField(Parse({{"clinic_id", "42"}})), "clinic_id");
  EXPECT_EQ(RefusedField(Parse({{"role", "wizard"}})), "role");
  EXPECT_EQ(RefusedField(Parse({{"q", "far too long text"}})), "q");
  EXPECT_EQ(RefusedField(Parse({{"q", std::string("a\x01")}})), "q");
  EXPECT_EQ(RefusedField(Parse({{"limit", "500"}})), "limit");
}

TEST(ListQuery, ACursorBelongsToItsFilters) {
  auto first = Parse({{"role", "doctor"}});
  ASSERT_TRUE(first);
  const std::string cursor = EncodeCursor(first->page.list, {"x", "y"});
  EXPECT_TRUE(Parse({{"role", "doctor"}, {"cursor", cursor}}));
  EXPECT_EQ(RefusedField(Parse({{"role", "client"}, {"cursor", cursor}})), "cursor");
  EXPECT_EQ(RefusedField(Parse({{"cursor", cursor}})), "cursor");
}

TEST(ListQuery, ReadsInstantsAndTheSortOrder) {
  auto query = Parse({{"from", "2026-12-01T11:30:00.5+02:00"}, {"sort", "-created_at"}});
  ASSERT_TRUE(query);
  EXPECT_EQ(query->Filter("from"), "2026-12-01T09:30:00.500Z");
  EXPECT_EQ(query->SortOrder({"name", false}).key, "created_at");
  EXPECT_TRUE(query->SortOrder({"name", false}).descending);
  auto unsorted = Parse({});
  ASSERT_TRUE(unsorted);
  EXPECT_EQ(unsorted->SortOrder({"name", true}).key, "name");
  EXPECT_TRUE(unsorted->SortOrder({"name", true}).descending);
  EXPECT_EQ(RefusedField(Parse({{"sort", "updated_at"}})), "sort");
  EXPECT_EQ(RefusedField(Parse({{"sort", "--name"}})), "sort");
  EXPECT_EQ(RefusedField(Parse({{"from", "yesterday"}})), "from");
}

TEST(ContainsPattern, EscapesLikeWildcards) {
  EXPECT_EQ(ContainsPattern("glow"), "%glow%");
  EXPECT_EQ(ContainsPattern("100%_\\"), "%100\\%\\_\\\\%");
}

}  // namespace
}  // namespace clinicore::kit
