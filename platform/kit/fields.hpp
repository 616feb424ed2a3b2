#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "platform/http/json_fields.hpp"
#include "platform/http/request.hpp"
#include "platform/kit/validators.hpp"

// Body fields and path parameters that every module reads the same way; each refusal is a
// 400 naming the part, recorded in the JsonFields so one answer lists every bad field.
namespace clinicore::kit {

// A path parameter that must be a UUID (lower-cased).
inline core::Result<std::string> PathUuid(const http::RequestContext& context, const std::string& name) {
  return ParseUuid(context.PathParam(name), name);
}

// A string field parsed by a kit parser (a UUID, a date, an instant): nullopt when absent or
// refused, the refusal recorded in `fields`.
template <typename Parse>
auto ParsedField(http::JsonFields& fields, const std::string& name, bool required, size_t max_length, Parse parse)
    -> std::optional<std::decay_t<decltype(parse(std::string_view{}, std::string_view{}).value())>> {
  auto text = fields.String(name, {.required = required, .max_length = max_length});
  if (!text) return std::nullopt;
  auto parsed = parse(*text, name);
  if (!parsed) {
    fields.Check(std::move(parsed).error());
    return std::nullopt;
  }
  return std::move(parsed).value();
}

inline std::optional<std::string> UuidField(http::JsonFields& fields, const std::string& name, bool required) {
  return ParsedField(fields, name, required, 64, ParseUuid);
}

// A UUID field that may be sent as null to clear it: nullopt when absent.
inline std::optional<std::optional<std::string>> NullableUuidField(http::JsonFields& fields, const std::string& name) {
  auto text = fields.NullableString(name, {.max_length = 64});
  if (!text || !*text) return text;
  auto id = ParseUuid(**text, name);
  if (!id) {
    fields.Check(std::move(id).error());
    return std::nullopt;
  }
  return std::optional<std::string>(*id);
}

// Runs a validator (ValidateEmail, ValidateTimeZone, ...) over a field when it was sent.
inline void CheckIfPresent(http::JsonFields& fields, const std::optional<std::string>& value,
                           core::Status (*validate)(const std::string&, std::string_view), std::string_view field) {
  if (value) fields.Check(validate(*value, field));
}

}  // namespace clinicore::kit
