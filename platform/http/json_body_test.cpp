#include "platform/http/json_body.hpp"

#include <gtest/gtest.h>

#include <random>

namespace clinicore::http {
namespace {

TEST(JsonBodyTest, ParsesValidJson) {
  auto parsed = ParseJsonBody(R"({"a": [1, 2, {"b": null}]})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at("a").size(), 3u);
}

TEST(JsonBodyTest, NamesTheByteOffset) {
  auto parsed = ParseJsonBody(R"({"a": tru})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.error().detail.find("byte 10"), std::string::npos) << parsed.error().detail;
  ASSERT_EQ(parsed.error().fields.size(), 1u);
  EXPECT_EQ(parsed.error().fields[0].field, "body");
}

TEST(JsonBodyTest, TruncatedAndEmptyInputsFail) {
  for (const char* body : {"{", "{\"a\":", "[1,2", "\"open", "", "nul", "{}}"}) {
    EXPECT_FALSE(ParseJsonBody(body).ok()) << body;
  }
}

TEST(JsonBodyTest, OutOfRangeNumbersAreRefusedNotThrown) {
  // Found by json_body_fuzz: nlohmann throws out_of_range, not parse_error, for these.
  for (const char* body : {"2e2233", "[1e9999]", "{\"a\": -1e400}"}) {
    auto parsed = ParseJsonBody(body);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_EQ(parsed.error().fields.at(0).field, "body");
  }
}

TEST(JsonBodyTest, RefusesDeepNestingWithoutCrashing) {
  const std::string bomb = std::string(100000, '[') + std::string(100000, ']');
  auto parsed = ParseJsonBody(bomb);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().detail.find("nests deeper"), std::string::npos);
  const std::string allowed = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJsonBody(allowed).ok());
}

TEST(JsonBodyTest, RandomBytesNeverThrow) {
  std::mt19937 engine(42);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string input(static_cast<size_t>(round % 64), '\0');
    for (char& c : input) c = static_cast<char>(byte(engine));
    EXPECT_NO_THROW((void)ParseJsonBody(input));
  }
}

TEST(JsonBodyTest, RecognisesJsonContentTypes) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("application/merge-patch+json"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType("application/jsonp"));
  EXPECT_FALSE(IsJsonContentType(""));
}

}  // namespace
}  // namespace clinicore::http
