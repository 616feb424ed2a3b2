// libFuzzer target: request bodies. Any bytes must give a value or a 400 error, never a
// crash, a hang on deep nesting, or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "platform/http/json_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = clinicore::http::ParseJsonBody(body);
  if (!parsed.ok() && parsed.error().fields.empty()) __builtin_trap();  // every refusal names the field
  (void)clinicore::http::IsJsonContentType(body);
  return 0;
}
