#include "platform/http/json_fields.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

namespace clinicore::http {

JsonFields::JsonFields(const nlohmann::json& body, bool body_required) : body_(body) {
  if (body_.is_null()) {
    if (body_required) Fail("body", "a JSON object is required");
  } else if (!body_.is_object()) {
    Fail("body", "must be a JSON object");
  }
}

void JsonFields::Fail(const std::string& field, const std::string& message) {
  errors_.push_back({field, message});
}

const nlohmann::json* JsonFields::Field(const std::string& name, bool required) {
  read_.push_back(name);
  if (!body_.is_object()) return nullptr;
  auto it = body_.find(name);
  if (it == body_.end() || it->is_null()) {
    if (required) Fail(name, "is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> JsonFields::String(const std::string& name, StringRule rule) {
  const nlohmann::json* value = Field(name, rule.required);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    Fail(name, "must be a string");
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  if (text.size() > rule.max_length) {
    Fail(name, "must be at most " + std::to_string(rule.max_length) + " bytes");
    return std::nullopt;
  }
  if (rule.required && text.empty()) {
    Fail(name, "must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<nlohmann::json> JsonFields::Object(const std::string& name, bool required) {
  const nlohmann::json* value = Field(name, required);
  if (!value) return std::nullopt;
  if (!value->is_object()) {
    Fail(name, "must be an object");
    return std::nullopt;
  }
  return *value;
}

std::optional<bool> JsonFields::Bool(const std::string& name, bool required) {
  const nlohmann::json* value = Field(name, required);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) {
    Fail(name, "must be true or false");
    return std::nullopt;
  }
  return value->get<bool>();
}

std::optional<int64_t> JsonFields::Integer(const std::string& name, IntegerRule rule) {
  const nlohmann::json* value = Field(name, rule.required);
  if (!value) return std::nullopt;
  int64_t number = 0;
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      Fail(name, "must be at most " + std::to_string(rule.max));
      return std::nullopt;
    }
    number = value->get<int64_t>();
  } else if (value->is_number_float() &&
             value->get<double>() == static_cast<double>(static_cast<int64_t>(value->get<double>())) &&
             std::abs(value->get<double>()) < 9e15) {
    number = static_cast<int64_t>(value->get<double>());
  } else {
    Fail(name, "must be a whole number");
    return std::nullopt;
  }
  if (number < rule.min || number > rule.max) {
    Fail(name, "must be from " + std::to_string(rule.min) + " to " + std::to_string(rule.max));
    return std::nullopt;
  }
  return number;
}

std::optional<std::vector<std::string>> JsonFields::StringList(const std::string& name, size_t max_items,
                                                               size_t max_length, bool required) {
  const nlohmann::json* value = Field(name, required);
  if (!value) return std::nullopt;
  if (!value->is_array() || value->size() > max_items) {
    Fail(name, "must be a list of at most " + std::to_string(max_items) + " strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_string() || item.get_ref<const std::string&>().size() > max_length) {
      Fail(name + "[" + std::to_string(i) + "]",
           "must be a string of at most " + std::to_string(max_length) + " bytes");
      return std::nullopt;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::optional<std::string>> JsonFields::NullableString(const std::string& name, StringRule rule) {
  if (body_.is_object()) {
    auto it = body_.find(name);
    if (it != body_.end() && it->is_null()) {
      read_.push_back(name);
      return std::optional<std::string>();
    }
  }
  auto text = String(name, rule);
  if (!text) return std::nullopt;
  return std::optional<std::string>(std::move(*text));
}

const nlohmann::json* JsonFields::Raw(const std::string& name, bool required) {
  return Field(name, required);
}

void JsonFields::Check(const core::Status& status) {
  if (status.ok()) return;
  if (status.error().fields.empty()) {
    Fail("body", status.error().detail);
    return;
  }
  for (const auto& field : status.error().fields) Fail(field.field, field.message);
}

core::Status JsonFields::Finish() {
  if (body_.is_object()) {
    for (const auto& [key, value] : body_.items()) {
      if (std::find(read_.begin(), read_.end(), key) == read_.end()) Fail(key, "is not a known field");
    }
  }
  if (errors_.empty()) return core::Ok();
  std::string names;
  for (const auto& error : errors_) names += (names.empty() ? "" : ", ") + error.field;
  return core::Error::InvalidArgument("The request body has invalid fields: " + names + ".", errors_);
}

}  // namespace clinicore::http
