// libFuzzer target: the plugin config-schema subset. The input is "<schema JSON>\0<config JSON>".
// Any bytes must give issues or a pass, never a crash, a hang (patterns are bounded) or an
// exception; every issue names a field; splitting out secrets and merging them back is lossless.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clinicore/sdk/host/schema.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  namespace host = clinicore::sdk::host;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string_view schema_text = input.substr(0, split);
  const std::string_view value_text = split == std::string_view::npos ? "{}" : input.substr(split + 1);
  const json schema = json::parse(schema_text, nullptr, false);
  if (schema.is_discarded()) return 0;
  const auto schema_issues = host::CheckSchema(schema);
  for (const auto& issue : schema_issues) {
    if (issue.message.empty()) __builtin_trap();
  }
  if (!schema_issues.empty()) return 0;
  const json value = json::parse(value_text, nullptr, false);
  if (value.is_discarded()) return 0;
  for (const auto& issue : host::Validate(schema, value)) {
    if (issue.field.empty() || issue.message.empty()) __builtin_trap();
  }
  (void)host::SecretFields(schema);
  if (value.is_object()) {
    auto [open, secret] = host::SplitSecrets(schema, value);
    if (host::MergeObjects(open, secret) != value) __builtin_trap();
  }
  return 0;
}
