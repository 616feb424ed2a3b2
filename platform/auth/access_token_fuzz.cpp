// libFuzzer target: arbitrary bytes as an access token. The verifier must refuse or
// accept without crashing, and never accept (no input can carry a valid signature).
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "platform/auth/access_token.hpp"

namespace {
const clinicore::auth::KeyRing& Keys() {
  static const clinicore::auth::KeyRing keys = [] {
    if (sodium_init() < 0) std::abort();
    return *clinicore::auth::KeyRing::Parse("fuzz:" + std::string(43, 'A'), "");
  }();
  return keys;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  auto verified = clinicore::auth::VerifyAccessToken(
      token, Keys(), {"clinicore", "clinicore-tenant", std::string("t"), 1'800'000'000, 30});
  if (verified.ok()) std::abort();
  (void)clinicore::auth::JsonNestingDepth(token);
  return 0;
}
