#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace clinicore::sdk::host {

// The JSON Schema subset plugin configs are written in (documented in docs/plugin-guide.md):
//   type (one name or a list of: object, array, string, integer, number, boolean, null),
//   properties, required, additionalProperties (true/false), items (one schema), minItems,
//   maxItems, uniqueItems, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
//   minLength, maxLength (in code points), pattern (POSIX extended syntax plus the \d \w \s
//   shorthands, unanchored like JSON Schema);
//   annotations: title, description, default, examples, format (not checked), $schema,
//   $comment, deprecated, readOnly, writeOnly, any "x-…" keyword; "x-secret": true or
//   "writeOnly": true marks a secret string (stored encrypted, never returned).
// Anything else is refused when the plugin is loaded, so an author never relies on a keyword
// the platform silently ignores.

struct FieldIssue {
  std::string field;  // "config.url", "config.headers[2]"; for schema issues the schema path
  std::string message;
  bool operator==(const FieldIssue&) const = default;
};

inline constexpr int kMaxSchemaDepth = 32;

// Is `schema` written in the subset? The top level must be {"type":"object",...}. Issues name
// the path inside the schema ("properties.url.pattern").
std::vector<FieldIssue> CheckSchema(const nlohmann::json& schema);

// Validates `value` against a schema that passed CheckSchema. Issues name the field from
// `root` ("config" → "config.url"; "" → "url"), in document order, all of them (capped at 100).
std::vector<FieldIssue> Validate(const nlohmann::json& schema, const nlohmann::json& value,
                                 const std::string& root = "config");

// Dotted paths of the secret properties ("api_key", "auth.token").
std::vector<std::string> SecretFields(const nlohmann::json& schema);

// Splits a config into what may be stored and shown, and the secrets (same nesting).
std::pair<nlohmann::json, nlohmann::json> SplitSecrets(const nlohmann::json& schema, const nlohmann::json& config);
// Deep-merges objects: `overlay` wins.
nlohmann::json MergeObjects(const nlohmann::json& base, const nlohmann::json& overlay);

}  // namespace clinicore::sdk::host
