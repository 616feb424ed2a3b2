#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/core/result.hpp"

namespace clinicore::http {

// Reads a JSON request object field by field and collects every problem, so a client gets
// all of them in one 400 (each naming its field). Unknown fields are refused: a typo must
// not be silently ignored.
//
//   JsonFields fields(context.body);
//   auto slug = fields.String("slug", {.required = true, .max_length = 40});
//   if (auto status = fields.Finish(); !status) return status.error();
struct StringRule {
  bool required = false;
  size_t max_length = 1000;
};

struct IntegerRule {
  bool required = false;
  int64_t min = 0;
  int64_t max = 1'000'000'000;
};

class JsonFields {
 public:
  explicit JsonFields(const nlohmann::json& body, bool body_required = true);
  // Holds a reference to the body: a temporary would dangle.
  JsonFields(nlohmann::json&& body, bool body_required = true) = delete;

  std::optional<std::string> String(const std::string& name, StringRule rule = {});
  std::optional<nlohmann::json> Object(const std::string& name, bool required = false);
  std::optional<bool> Bool(const std::string& name, bool required = false);
  // A whole number within [rule.min, rule.max] (1.0 counts; 1.5 and "1" do not).
  std::optional<int64_t> Integer(const std::string& name, IntegerRule rule = {});
  // An array whose items are all strings of at most `max_length` bytes, at most `max_items`.
  std::optional<std::vector<std::string>> StringList(const std::string& name, size_t max_items, size_t max_length = 100,
                                                     bool required = false);
  // PATCH fields that may be cleared: absent → nullopt, null → an empty optional inside.
  std::optional<std::optional<std::string>> NullableString(const std::string& name, StringRule rule = {});
  // The raw value of a field whose shape is checked elsewhere (e.g. opening hours).
  const nlohmann::json* Raw(const std::string& name, bool required = false);
  // Adds the field errors of a validation done elsewhere (email, phone, password policy).
  void Check(const core::Status& status);

  // Errors for fields never read, then everything collected; Ok when the body was clean.
  core::Status Finish();

 private:
  const nlohmann::json* Field(const std::string& name, bool required);
  void Fail(const std::string& field, const std::string& message);

  const nlohmann::json& body_;
  std::vector<std::string> read_;
  std::vector<core::FieldError> errors_;
};

}  // namespace clinicore::http
