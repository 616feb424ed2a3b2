#pragma once

#include <string>

#include "platform/core/result.hpp"

namespace clinicore::auth {

// ValidateEmail and ValidatePhone keep their auth names and delegate to the request kit
// (platform/kit/validators.hpp), the one implementation of both rules.
//
// An address a person can receive mail at: 3–254 bytes, one '@', a local part of at most
// 64 bytes, a dotted domain, no spaces or control characters. Errors name `field`.
core::Status ValidateEmail(const std::string& email, const std::string& field = "email");
// E.164: '+', a country code that does not start with 0, 7 to 15 digits in all.
core::Status ValidatePhone(const std::string& phone, const std::string& field = "phone");
core::Status ValidateFullName(const std::string& name, const std::string& field = "full_name");

}  // namespace clinicore::auth
