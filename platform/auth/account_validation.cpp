#include "platform/auth/account_validation.hpp"

#include <algorithm>

#include "platform/kit/validators.hpp"

namespace clinicore::auth {

core::Status ValidateEmail(const std::string& email, const std::string& field) {
  return kit::ValidateEmail(email, field);
}

core::Status ValidatePhone(const std::string& phone, const std::string& field) {
  return kit::ValidatePhone(phone, field);
}

core::Status ValidateFullName(const std::string& name, const std::string& field) {
  const bool has_control = std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  if (name.empty() || name.size() > 200 || has_control) {
    return core::Error::InvalidArgument(field + " must be 1 to 200 characters without control characters.",
                                        {{field, "must be 1 to 200 characters without control characters"}});
  }
  return core::Ok();
}

}  // namespace clinicore::auth
