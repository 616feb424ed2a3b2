#include "platform/kit/page.hpp"

#include <gtest/gtest.h>

namespace clinicore::kit {
namespace {

http::RawRequest RequestWith(std::map<std::string, std::string> query) {
  http::RawRequest raw;
  raw.query = std::move(query);
  return raw;
}

std::string RefusedField(const core::Result<PageRequest>& page) {
  return page ? "(accepted)" : page.error().fields.at(0).field;
}

TEST(Cursor, RoundTripsAPositionForItsOwnListOnly) {
  const nlohmann::json position = {"Botox", "9f0c2b1e-0000-4000-8000-000000000001"};
  const std::string cursor = EncodeCursor("services:a", position);
  EXPECT_EQ(DecodeCursor("services:a", cursor).value(), position);
  EXPECT_FALSE(DecodeCursor("services:b", cursor));  // another list's cursor
  EXPECT_FALSE(DecodeCursor("clinics", cursor));
}

TEST(Cursor, RefusesWhatItDidNotMint) {
  const std::string cursor = EncodeCursor("clinics", {"A", "b"});
  std::string tampered = cursor;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string(""), std::string("."), std::string("abc"), tampered, cursor + "x",
                                 std::string(2000, 'a'), std::string("\xff\xfe"), std::string("e30.AAAA")}) {
    auto decoded = DecodeCursor("clinics", bad);
    ASSERT_FALSE(decoded) << bad;
    EXPECT_EQ(decoded.error().fields.at(0).field, "cursor");
  }
}

TEST(Cursor, ASecretSetLaterInvalidatesOldCursorsAndIsSharedByReplicas) {
  const std::string before = EncodeCursor("clinics", {"A"});
  SetCursorSecret("replica-shared-signing-key");
  EXPECT_FALSE(DecodeCursor("clinics", before));
  const std::string minted = EncodeCursor("clinics", {"A"});
  SetCursorSecret("replica-shared-signing-key");  // another replica derives the same key
  EXPECT_TRUE(DecodeCursor("clinics", minted));
}

TEST(PageRequest, ReadsLimitAndCursor) {
  auto raw = RequestWith({});
  http::RequestContext context{raw, "id"};
  auto page = ParsePageRequest(context, "clinics");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->limit, 20);
  EXPECT_FALSE(page->after);

  auto with = RequestWith({{"limit", "5"}, {"cursor", EncodeCursor("clinics", {"x", "y"})}});
  http::RequestContext paged{with, "id"};
  page = ParsePageRequest(paged, "clinics");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->limit, 5);
  EXPECT_EQ((*page->after)[0], "x");

  for (const char* limit : {"0", "101", "-1", "abc", "5.0"}) {
    auto bad = RequestWith({{"limit", limit}});
    http::RequestContext refused{bad, "id"};
    EXPECT_EQ(RefusedField(ParsePageRequest(refused, "clinics")), "limit") << limit;
  }
  auto forged = RequestWith({{"cursor", "forged"}});
  http::RequestContext refused{forged, "id"};
  EXPECT_EQ(RefusedField(ParsePageRequest(refused, "clinics")), "cursor");
}

TEST(PageRequest, PositionKeysAreReadByTypeAndAWrongShapeIsTheFirstPage) {
  const PageRequest page{.limit = 20, .after = nlohmann::json{"slug-a", 42}, .list = "l"};
  EXPECT_EQ(PositionText(page, 0), "slug-a");
  EXPECT_EQ(PositionNumber(page, 1), 42);
  EXPECT_EQ(PositionNumber(page, 0), std::nullopt);
  EXPECT_EQ(PositionText(page, 1), std::nullopt);
  EXPECT_EQ(PositionText(page, 2), std::nullopt);
  EXPECT_EQ(PositionText(PageRequest{}, 0), std::nullopt);
  EXPECT_EQ(PositionText({.limit = 20, .after = nlohmann::json{{"k", "v"}}, .list = "l"}, 0), std::nullopt);
}

TEST(TrimPage, DropsTheExtraRowAndMintsTheCursorOfTheLastKept) {
  std::vector<std::string> rows = {"a", "b", "c"};
  auto next = TrimPage(rows, 2, "letters", [](const std::string& row) { return nlohmann::json{row}; });
  ASSERT_TRUE(next);
  EXPECT_EQ(rows, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(DecodeCursor("letters", *next).value(), nlohmann::json({"b"}));
  std::vector<std::string> last = {"a"};
  EXPECT_FALSE(TrimPage(last, 2, "letters", [](const std::string& row) { return nlohmann::json{row}; }));
}

TEST(RenderedPageBody, IsThePageJsonOfTheSameItems) {
  const std::vector<std::string> items = {R"({"id":"a","n":1})", R"({"id":"b"})"};
  const auto body = nlohmann::json::parse(RenderedPageBody(items, std::string("cur\"sor")));
  EXPECT_EQ(body, PageJson(nlohmann::json::array({{{"id", "a"}, {"n", 1}}, {{"id", "b"}}}), std::string("cur\"sor")));
  EXPECT_EQ(RenderedPageBody({}, std::nullopt), R"({"items":[],"next_cursor":null})");
}

}  // namespace
}  // namespace clinicore::kit
