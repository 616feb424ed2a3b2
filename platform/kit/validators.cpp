#include "platform/kit/validators.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <exception>

#include "platform/core/utf8.hpp"

namespace clinicore::kit {
namespace {

using core::Error;

// One refusal: "<field> <message>." for the detail, {field, message} for `errors`.
Error Refuse(std::string_view field, std::string_view message) {
  std::string name(field);
  std::string text(message);
  return Error::InvalidArgument(name + " " + text + ".", {{name, text}});
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of text[at, at + count) when all of it is ASCII digits, else -1.
int Digits(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return -1;
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (!IsDigit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// "YYYY-MM-DD" at the start of `text`, years 0001–9999 (PostgreSQL has no year 0).
bool ParseDatePart(std::string_view text, date::year_month_day& out) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return false;
  const int year = Digits(text, 0, 4);
  const int month = Digits(text, 5, 2);
  const int day = Digits(text, 8, 2);
  if (year < 1 || month < 1 || day < 1) return false;
  out = date::year{year} / date::month{static_cast<unsigned>(month)} / date::day{static_cast<unsigned>(day)};
  return out.ok();
}

// A DNS name of two or more labels, each 1–63 of [A-Za-z0-9-] not starting or ending with '-'.
bool IsDomain(std::string_view domain) {
  size_t labels = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || !IsAlnum(label.front()) || !IsAlnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return IsAlnum(c) || c == '-'; })) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

bool IsLocalPartChar(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != '(' && c != ')' && c != ',' && c != ':' && c != ';' && c != '<' &&
         c != '>' && c != '[' && c != ']' && c != '\\';
}

std::string CharactersMessage(size_t min_chars, size_t max_chars) {
  auto count = [](size_t n) { return std::to_string(n) + (n == 1 ? " character" : " characters"); };
  if (min_chars == max_chars) return "must be " + count(max_chars);
  if (min_chars == 0) return "must be at most " + count(max_chars);
  return "must be " + std::to_string(min_chars) + " to " + count(max_chars);
}

// ISO 4217 list one, the currencies in use at the end of 2026, sorted. Left out: codes withdrawn
// since 2023 (HRK, SLL, ZWL, ANG, BGN) and codes that are not money (XAG, XAU, XPD, XPT,
// XBA–XBD, XDR, XSU, XUA, the testing code XTS, "no currency" XXX). Fund codes a price may be
// quoted in (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW) stay.
constexpr std::array<std::string_view, 164> kCurrencies = {
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD", "BIF", "BMD",
    "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT",
    "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
    "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD",
    "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
    "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
};
static_assert(std::is_sorted(kCurrencies.begin(), kCurrencies.end()));
static_assert(std::adjacent_find(kCurrencies.begin(), kCurrencies.end()) == kCurrencies.end());

constexpr std::string_view kUuidMessage = "must be a UUID such as 7c43a5e9-94ff-4cba-8026-282732d74772";
constexpr std::string_view kInstantMessage = "must be an RFC 3339 date-time such as 2026-12-01T09:30:00Z";

}  // namespace

core::Status ValidateLength(std::string_view value, std::string_view field, size_t min_chars, size_t max_chars) {
  if (!core::IsPrintableUtf8(value)) return Refuse(field, "must be UTF-8 text without control characters");
  // Valid UTF-8: every byte that is not a continuation byte (10xxxxxx) starts a code point.
  const auto chars = static_cast<size_t>(
      std::count_if(value.begin(), value.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  if (chars < min_chars || chars > max_chars) return Refuse(field, CharactersMessage(min_chars, max_chars));
  return core::Ok();
}

core::Status ValidateEmail(const std::string& email, std::string_view field) {
  constexpr std::string_view kShape = "must be an email address like name@example.com";
  if (email.size() < 3 || email.size() > 254) return Refuse(field, "must be 3 to 254 characters");
  const size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos) return Refuse(field, kShape);
  if (at > 64) return Refuse(field, "has a local part longer than 64 characters");
  if (!IsDomain(std::string_view(email).substr(at + 1))) return Refuse(field, kShape);
  if (!std::all_of(email.begin(), email.begin() + static_cast<std::ptrdiff_t>(at),
                   [](char c) { return IsLocalPartChar(static_cast<unsigned char>(c)); })) {
    return Refuse(field, kShape);
  }
  return core::Ok();
}

core::Status ValidatePhone(const std::string& phone, std::string_view field) {
  const bool ok = phone.size() >= 8 && phone.size() <= 16 && phone[0] == '+' && phone[1] >= '1' && phone[1] <= '9' &&
                  std::all_of(phone.begin() + 2, phone.end(), IsDigit);
  if (ok) return core::Ok();
  return Refuse(field, "must be an E.164 number like +306912345678");
}

core::Status ValidateTimeZone(const std::string& zone, std::string_view field) {
  auto refuse = [field] { return Refuse(field, "must be an IANA time zone such as Europe/Athens"); };
  // The longest IANA name is 32 characters; every one is drawn from these.
  if (zone.empty() || zone.size() > 64) return refuse();
  const bool clean = std::all_of(zone.begin(), zone.end(),
                                 [](char c) { return IsAlnum(c) || c == '/' || c == '_' || c == '-' || c == '+'; });
  if (!clean) return refuse();
  // With USE_OS_TZDB, date/tz lists what it finds under /usr/share/zoneinfo, which on Debian
  // includes these host files: they are not IANA zones and may change with the host.
  const std::string_view name(zone);
  if (name == "localtime" || name == "posixrules" || name == "Factory" || name.starts_with("posix/") ||
      name.starts_with("right/")) {
    return refuse();
  }
  try {
    (void)date::locate_zone(name);
    return core::Ok();
  } catch (const std::exception&) {
    return refuse();
  }
}

core::Status ValidateCurrency(const std::string& code, std::string_view field) {
  if (std::binary_search(kCurrencies.begin(), kCurrencies.end(), std::string_view(code))) return core::Ok();
  return Refuse(field, "must be an ISO 4217 currency code such as EUR");
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (HexValue(text[i]) < 0) {
      return false;
    }
  }
  return true;
}

core::Result<std::string> ParseUuid(std::string_view text, std::string_view field) {
  if (!IsUuid(text)) return Refuse(field, kUuidMessage);
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c; });
  return lower;
}

core::Result<std::chrono::system_clock::time_point> ParseInstant(std::string_view text, std::string_view field) {
  using std::chrono::seconds;
  using std::chrono::system_clock;
  // "YYYY-MM-DDTHH:MM:SS", at least one more character for the offset.
  date::year_month_day day;
  if (text.size() < 20 || !ParseDatePart(text, day) || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return Refuse(field, kInstantMessage);
  }
  const int hour = Digits(text, 11, 2);
  const int minute = Digits(text, 14, 2);
  const int second = Digits(text, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return Refuse(field, kInstantMessage);
  }
  size_t at = 19;
  std::int64_t nanos = 0;
  if (text[at] == '.') {
    const size_t first = ++at;
    while (at < text.size() && IsDigit(text[at])) ++at;
    const size_t count = at - first;
    if (count == 0 || count > 9) return Refuse(field, kInstantMessage);
    for (size_t i = 0; i < 9; ++i) nanos = nanos * 10 + (i < count ? text[first + i] - '0' : 0);
  }
  std::int64_t offset_seconds = 0;
  if (at + 1 == text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    // UTC
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    const int offset_hours = Digits(text, at + 1, 2);
    const int offset_minutes = Digits(text, at + 4, 2);
    if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59) {
      return Refuse(field, kInstantMessage);
    }
    offset_seconds = (text[at] == '+' ? 1 : -1) * (offset_hours * 3600LL + offset_minutes * 60LL);
  } else {
    return Refuse(field, kInstantMessage);
  }
  // Local time minus its offset is UTC; years 1–9999 fit easily in 64-bit seconds.
  const std::int64_t utc_seconds = date::sys_days(day).time_since_epoch().count() * 86400LL + hour * 3600LL +
                                   minute * 60LL + second - offset_seconds;
  const auto max_seconds = std::chrono::floor<seconds>(system_clock::time_point::max()).time_since_epoch().count();
  const auto min_seconds = std::chrono::ceil<seconds>(system_clock::time_point::min()).time_since_epoch().count();
  if (utc_seconds >= max_seconds || utc_seconds <= min_seconds) {
    return Refuse(field, "is outside the range of supported dates");
  }
  return system_clock::time_point(seconds(utc_seconds)) +
         std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(nanos));
}

std::string FormatInstant(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const auto days = std::chrono::floor<date::days>(ms);
  const date::year_month_day ymd(days);
  const date::hh_mm_ss<std::chrono::milliseconds> time(ms - days);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  return text;
}

core::Result<date::year_month_day> ParseLocalDate(std::string_view text, std::string_view field) {
  date::year_month_day day;
  if (text.size() != 10 || !ParseDatePart(text, day)) return Refuse(field, "must be a date such as 2026-12-01");
  return day;
}

std::string FormatLocalDate(date::year_month_day day) {
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                static_cast<unsigned>(day.day()));
  return text;
}

core::Result<int> ParseClockTime(std::string_view text, std::string_view field, bool allow_end_of_day) {
  const int hours = text.size() == 5 && text[2] == ':' ? Digits(text, 0, 2) : -1;
  const int minutes = hours < 0 ? -1 : Digits(text, 3, 2);
  if (hours >= 0 && hours <= 23 && minutes >= 0 && minutes <= 59) return hours * 60 + minutes;
  if (allow_end_of_day && hours == 24 && minutes == 0) return 24 * 60;
  return Refuse(field, allow_end_of_day ? "must be a time HH:MM from 00:00 to 24:00"
                                        : "must be a time HH:MM from 00:00 to 23:59");
}

std::string FormatClockTime(int minutes) {
  assert(minutes >= 0 && minutes <= 24 * 60);
  char text[32];
  std::snprintf(text, sizeof text, "%02d:%02d", minutes / 60, minutes % 60);
  return text;
}

}  // namespace clinicore::kit
