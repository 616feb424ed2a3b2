#pragma once

#include <date/date.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "platform/core/result.hpp"

// The request kit's validators: one implementation of each field rule the handlers share.
// Every refusal is core::Error::InvalidArgument(detail, {{field, message}}), a 400
// problem+json naming the field. Messages are short, safe to show a client, and never
// repeat the value that was sent.
namespace clinicore::kit {

// Printable UTF-8 (core::IsPrintableUtf8: no NUL, no control characters, no tab) of
// `min_chars` to `max_chars` code points.
core::Status ValidateLength(std::string_view value, std::string_view field, size_t min_chars, size_t max_chars);

// An address a person can receive mail at: 3–254 bytes, one '@', a local part of 1–64
// printable ASCII characters without spaces or ()<>[]\,;:", and a domain of two or more
// dot-separated labels of 1–63 letters, digits or inner hyphens.
core::Status ValidateEmail(const std::string& email, std::string_view field = "email");

// E.164: '+' then 7 to 15 digits in all, the first (the country code's) not 0. Seven, not
// eight: Saint Helena (+290), Niue (+683) and Tokelau (+690) have 4-digit subscriber numbers.
core::Status ValidatePhone(const std::string& phone, std::string_view field = "phone");

// A zone of the IANA database as date/tz knows it (date::locate_zone), links such as
// "US/Eastern" included. Names the host's zoneinfo folder adds ("localtime", "posixrules",
// "Factory", "posix/…", "right/…") are refused: they are not IANA zones.
core::Status ValidateTimeZone(const std::string& zone, std::string_view field = "time_zone");

// An active ISO 4217 alphabetic code of a currency (upper case only: "EUR", not "eur"). The
// codes that are not money — precious metals (XAU…), bond-market units (XBA…), XDR, XSU,
// XUA, the testing code XTS and "no currency" XXX — are refused.
core::Status ValidateCurrency(const std::string& code, std::string_view field = "currency");

// A UUID in the canonical 8-4-4-4-12 hex form, any case; returned in lower case. Braces,
// "urn:uuid:" and missing dashes are refused.
core::Result<std::string> ParseUuid(std::string_view text, std::string_view field = "id");
bool IsUuid(std::string_view text);

// An RFC 3339 date-time: "2026-12-01T09:30:00Z", "2026-12-01T11:30:00.5+02:00". 'T' and 'Z'
// may be lower case; a fraction has 1–9 digits; the offset is Z or ±HH:MM. Calendar dates
// are checked (no Feb 30), seconds run 00–59 (leap seconds are refused), years 0001–9999
// within what system_clock holds (about 1678–2262 with libstdc++).
core::Result<std::chrono::system_clock::time_point> ParseInstant(std::string_view text, std::string_view field);
// The one timestamp format of the API: UTC, milliseconds, "2026-12-01T09:30:00.123Z"
// (sub-millisecond parts are truncated toward the past).
std::string FormatInstant(std::chrono::system_clock::time_point t);

// A calendar date "YYYY-MM-DD", years 0001–9999, the day existing in that month.
core::Result<date::year_month_day> ParseLocalDate(std::string_view text, std::string_view field);
std::string FormatLocalDate(date::year_month_day day);

// A wall-clock time "HH:MM", 00:00–23:59; with `allow_end_of_day` also "24:00" (a closing
// time). Returns minutes since midnight (0–1439, or 1440 for "24:00").
core::Result<int> ParseClockTime(std::string_view text, std::string_view field, bool allow_end_of_day = false);
// "HH:MM" for 0–1440 minutes (1440 is "24:00").
std::string FormatClockTime(int minutes);

}  // namespace clinicore::kit
