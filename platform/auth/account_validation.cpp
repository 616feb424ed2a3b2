#include "platform/auth/account_validation.hpp"

#include <algorithm>
#include <regex>

namespace clinicore::auth {

core::Status ValidateEmail(const std::string& email, const std::string& field) {
  auto refuse = [&field](const std::string& message) {
    return core::Error::InvalidArgument(field + " " + message + ".", {{field, message}});
  };
  if (email.size() < 3 || email.size() > 254) return refuse("must be 3 to 254 characters");
  const auto at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos) {
    return refuse("must be an email address like name@example.com");
  }
  if (at > 64) return refuse("has a local part longer than 64 characters");
  const std::string domain = email.substr(at + 1);
  static const std::regex kDomain(
      R"(^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$)");
  if (!std::regex_match(domain, kDomain)) return refuse("must be an email address like name@example.com");
  const bool clean = std::all_of(email.begin(), email.begin() + static_cast<long>(at), [](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != '(' && c != ')' && c != ',' && c != ':' && c != ';' && c != '<' &&
           c != '>' && c != '[' && c != ']' && c != '\\';
  });
  if (!clean) return refuse("must be an email address like name@example.com");
  return core::Ok();
}

core::Status ValidatePhone(const std::string& phone, const std::string& field) {
  static const std::regex kE164(R"(^\+[1-9][0-9]{6,14}$)");
  if (std::regex_match(phone, kE164)) return core::Ok();
  return core::Error::InvalidArgument(field + " must be an E.164 number like +306912345678.",
                                      {{field, "must be an E.164 number like +306912345678"}});
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
