#include "clinicore/sdk/host/schema.hpp"

#include <gtest/gtest.h>

namespace clinicore::sdk::host {
namespace {

using nlohmann::json;

const json kSchema = json::parse(R"({
  "type": "object",
  "additionalProperties": false,
  "required": ["url", "secret"],
  "properties": {
    "url": {"type": "string", "pattern": "^https?://", "maxLength": 100, "description": "where to POST"},
    "secret": {"type": "string", "minLength": 8, "x-secret": true},
    "mode": {"type": "string", "enum": ["floor", "round", "ceil"], "default": "floor"},
    "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
    "code": {"type": "string", "pattern": "^[A-Z]{3}\\d?$"},
    "auth": {"type": "object", "properties": {"user": {"type": "string"},
                                              "token": {"type": "string", "writeOnly": true}}},
    "tiers": {"type": "array", "maxItems": 3, "uniqueItems": true,
              "items": {"type": "object", "required": ["name"], "additionalProperties": false,
                        "properties": {"name": {"type": "string", "minLength": 1},
                                       "min_points": {"type": ["integer", "null"], "minimum": 0}}}},
    "x": {"type": "boolean", "x-ui": "toggle"}
  }
})");

std::vector<std::string> Fields(const std::vector<FieldIssue>& issues) {
  std::vector<std::string> fields;
  for (const auto& issue : issues) fields.push_back(issue.field);
  return fields;
}

TEST(SchemaTest, AcceptsTheDocumentedSubset) {
  EXPECT_TRUE(CheckSchema(kSchema).empty());
}

TEST(SchemaTest, RefusesWhatIsOutsideTheSubsetNamingThePath) {
  auto first = [](const char* text) {
    auto issues = CheckSchema(json::parse(text));
    return issues.empty() ? FieldIssue{"", "(accepted)"} : issues[0];
  };
  EXPECT_EQ(first(R"({"type":"string"})").field, "type");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"oneOf":[]}}})"),
            (FieldIssue{"properties.a.oneOf",
                        "unsupported keyword \"oneOf\" (see the schema subset in docs/plugin-guide.md)"}));
  EXPECT_EQ(first(R"({"type":"object","required":["missing"]})").message,
            "names \"missing\", which is not in properties");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"string","pattern":"(a)\\1"}}})").message,
            "is not a supported pattern: back-references are not supported");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"string","pattern":"a{1,1000}"}}})").field,
            "properties.a.pattern");
  // Nested bounds multiply when glibc expands them: refused before they cost seconds to compile.
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"string","pattern":"((a{255}){255}){255}"}}})").message,
            "is not a supported pattern: too large once its repetitions are expanded (nested {n,m} multiply); "
            "simplify it");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"string","pattern":"^(\\d{3}-){2}\\d{4}$"}}})").message,
            "(accepted)");
  // Found by plugin_schema_fuzz: glibc duplicates the tree for every stacked +, so a+++…+ is 2^n.
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"string","pattern":"[a-z]++++"}}})").message,
            "is not a supported pattern: a quantifier cannot follow another quantifier (lazy quantifiers like +? "
            "are not supported)");
  EXPECT_EQ(
      first(
          R"({"type":"object","properties":{"a":{"type":"string","pattern":"((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+"}}})")
          .message,
      "is not a supported pattern: too large once its repetitions are expanded (nested {n,m} multiply); "
      "simplify it");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"integer","x-secret":true}}})").message,
            "secrets must be string properties");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string","x-secret":true}}}})")
                .message,
            "secrets inside arrays are not supported");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"string","minLength":5,"maxLength":2}}})").field,
            "properties.a.minLength");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"integer","maximum":3,"default":7}}})").message,
            "does not match its own schema: must be at most 3");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a.b":{"type":"string"}}})").field, "properties.a.b");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"type":"strng"}}})").message, "unknown type \"strng\"");
  EXPECT_EQ(first(R"({"type":"object","properties":{"a":{"items":[{"type":"string"}]}}})").message,
            "must be one schema (the tuple form is not supported)");

  json deep = {{"type", "object"}};
  for (int i = 0; i < 40; ++i) deep = {{"type", "object"}, {"properties", {{"a", deep}}}};
  EXPECT_FALSE(CheckSchema(deep).empty());
}

TEST(SchemaTest, ValidConfigPasses) {
  const json config = {
      {"url", "https://hooks.example.com/x"},
      {"secret", "0123456789"},
      {"mode", "round"},
      {"rate", 0.5},
      {"retries", 3.0},
      {"code", "EUR1"},
      {"auth", {{"user", "u"}, {"token", "t"}}},
      {"tiers", {{{"name", "gold"}, {"min_points", 100}}, {{"name", "silver"}, {"min_points", nullptr}}}}};
  EXPECT_EQ(Validate(kSchema, config), std::vector<FieldIssue>{});
}

TEST(SchemaTest, EveryProblemNamesItsField) {
  const json config = {{"url", "ftp://x"},
                       {"mode", "sideways"},
                       {"rate", 0},
                       {"retries", 2.5},
                       {"code", "eur"},
                       {"auth", {{"user", 7}}},
                       {"tiers", {{{"name", ""}}, {{"name", "b"}, {"min_points", -1}, {"extra", true}}}},
                       {"unknown", 1}};
  const auto issues = Validate(kSchema, config);
  EXPECT_EQ(Fields(issues),
            (std::vector<std::string>{"config.secret", "config.auth.user", "config.code", "config.mode", "config.rate",
                                      "config.retries", "config.tiers[0].name", "config.tiers[1].extra",
                                      "config.tiers[1].min_points", "config.unknown", "config.url"}));
  auto message = [&](const std::string& field) {
    for (const auto& issue : issues) {
      if (issue.field == field) return issue.message;
    }
    return std::string("(none)");
  };
  EXPECT_EQ(message("config.secret"), "is required");
  EXPECT_EQ(message("config.url"), "must match the pattern ^https?://");
  EXPECT_EQ(message("config.mode"), "must be one of: \"floor\", \"round\", \"ceil\"");
  EXPECT_EQ(message("config.rate"), "must be greater than 0");
  EXPECT_EQ(message("config.retries"), "must be an integer");
  EXPECT_EQ(message("config.auth.user"), "must be a string");
  EXPECT_EQ(message("config.tiers[0].name"), "must be at least 1 characters");
  EXPECT_EQ(message("config.tiers[1].min_points"), "must be at least 0");
  EXPECT_EQ(message("config.tiers[1].extra"), "is not a known field");
  EXPECT_EQ(message("config.unknown"), "is not a known field");
}

TEST(SchemaTest, LengthsCountCharactersAndArraysCountItems) {
  const json schema = {{"type", "object"},
                       {"properties",
                        {{"s", {{"type", "string"}, {"maxLength", 2}}},
                         {"a", {{"type", "array"}, {"minItems", 1}, {"uniqueItems", true}}}}}};
  EXPECT_TRUE(Validate(schema, {{"s", "ωω"}}).empty());  // 4 bytes, 2 characters
  EXPECT_EQ(Validate(schema, {{"s", "ωωω"}})[0].message, "must be at most 2 characters");
  EXPECT_EQ(Validate(schema, {{"a", json::array()}})[0].message, "must have at least 1 items");
  EXPECT_EQ(Validate(schema, {{"a", {1, 2, 1}}})[0],
            (FieldIssue{"config.a[2]", "repeats item 0 (items must be unique)"}));
  EXPECT_EQ(Validate(schema, json::array(), "")[0], (FieldIssue{"(root)", "must be an object"}));
}

TEST(SchemaTest, PatternsUsePosixSyntaxWithShorthands) {
  auto matches = [](const char* pattern, const std::string& text) {
    const json schema = {{"type", "object"}, {"properties", {{"v", {{"type", "string"}, {"pattern", pattern}}}}}};
    EXPECT_TRUE(CheckSchema(schema).empty()) << pattern;
    return Validate(schema, {{"v", text}}).empty();
  };
  EXPECT_TRUE(matches("^\\d{3}-\\d{4}$", "555-1234"));
  EXPECT_FALSE(matches("^\\d{3}-\\d{4}$", "555-12345"));
  EXPECT_TRUE(matches("^[\\w.+-]+@[\\w-]+\\.[a-z]{2,}$", "a.b+c@mail-x.com"));
  EXPECT_TRUE(matches("b", "abc"));  // unanchored, like JSON Schema
  EXPECT_TRUE(matches("^whsec_[A-Za-z0-9+/=]{32,}$", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  EXPECT_TRUE(matches("^a\\.b$", "a.b"));
  EXPECT_FALSE(matches("^a\\.b$", "axb"));
  EXPECT_TRUE(matches("^\\S+\\s\\S+$", "two words"));
  EXPECT_TRUE(matches("^x{2}$", "xx"));
  EXPECT_TRUE(matches("^[^\\d]+$", "abc"));
  EXPECT_FALSE(matches("^[^\\d]+$", "a1"));
}

TEST(SchemaTest, SecretsAreFoundSplitAndMergedBack) {
  EXPECT_EQ(SecretFields(kSchema), (std::vector<std::string>{"auth.token", "secret"}));
  const json config = {{"url", "https://x"}, {"secret", "s3cret!!"}, {"auth", {{"user", "u"}, {"token", "t"}}}};
  auto [open, secret] = SplitSecrets(kSchema, config);
  EXPECT_EQ(open, (json{{"url", "https://x"}, {"auth", {{"user", "u"}}}}));
  EXPECT_EQ(secret, (json{{"secret", "s3cret!!"}, {"auth", {{"token", "t"}}}}));
  EXPECT_EQ(MergeObjects(open, secret), config);
}

}  // namespace
}  // namespace clinicore::sdk::host
