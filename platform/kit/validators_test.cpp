#include "platform/kit/validators.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clinicore::kit {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;
using namespace std::chrono_literals;
using namespace date::literals;

// The refusal's field, after checking it is a 400 with exactly one field error.
template <typename T>
std::string FieldOf(const core::Result<T>& result) {
  EXPECT_FALSE(result.ok());
  if (result.ok()) return "";
  EXPECT_EQ(result.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().fields.size(), 1u);
  return result.error().fields.empty() ? "" : result.error().fields[0].field;
}

system_clock::time_point Utc(date::year_month_day day, std::chrono::seconds time_of_day = 0s) {
  return date::sys_days(day) + time_of_day;
}

TEST(ValidateLengthTest, CountsCodePointsNotBytes) {
  EXPECT_TRUE(ValidateLength("a", "name", 1, 200).ok());
  EXPECT_TRUE(ValidateLength(std::string(200, 'a'), "name", 1, 200).ok());
  EXPECT_TRUE(ValidateLength("Ελένη", "name", 5, 5).ok());  // 10 bytes, 5 code points
  EXPECT_EQ(FieldOf(ValidateLength("Ελένη", "name", 1, 4)), "name");
  EXPECT_TRUE(ValidateLength("\xF0\x9F\x98\x80", "name", 1, 1).ok());  // one four-byte code point
  EXPECT_TRUE(ValidateLength("", "note", 0, 10).ok());
}

TEST(ValidateLengthTest, RefusesEmptyAndOverlongNamingTheRange) {
  auto empty = ValidateLength("", "display_name", 1, 200);
  EXPECT_EQ(FieldOf(empty), "display_name");
  EXPECT_EQ(empty.error().fields[0].message, "must be 1 to 200 characters");
  EXPECT_EQ(empty.error().detail, "display_name must be 1 to 200 characters.");
  EXPECT_EQ(FieldOf(ValidateLength(std::string(201, 'a'), "display_name", 1, 200)), "display_name");
  EXPECT_EQ(ValidateLength("abc", "code", 2, 2).error().fields[0].message, "must be 2 characters");
  EXPECT_EQ(ValidateLength("ab", "flag", 0, 1).error().fields[0].message, "must be at most 1 character");
}

TEST(ValidateLengthTest, RefusesBrokenUtf8AndControlsWithoutEchoingThem) {
  for (const std::string& bad :
       std::vector<std::string>{"\xFF", "abc\xC3", "\xC0\xAF", "\xED\xA0\x80", std::string("a\0b", 3), "line\nbreak",
                                "tab\there", "\x7f", "\x1b[31m"}) {
    auto status = ValidateLength(bad, "name", 0, 200);
    ASSERT_EQ(FieldOf(status), "name") << bad;
    EXPECT_EQ(status.error().fields[0].message, "must be UTF-8 text without control characters");
    EXPECT_EQ(status.error().detail.find(bad), std::string::npos);
  }
}

TEST(ValidateEmailTest, AcceptsOrdinaryAddresses) {
  for (const std::string& good :
       std::vector<std::string>{"ann@example.com", "a.b+tag@clinic.gr", "x@sub.domain.co.uk", "ANN@EXAMPLE.COM",
                                "a@b.co", "o'brien@example.ie", "x@xn--80ak6aa92e.com", "a@1-2.example"}) {
    EXPECT_TRUE(ValidateEmail(good).ok()) << good;
  }
}

TEST(ValidateEmailTest, LimitsAreInBytesAndLabels) {
  const std::string label63(63, 'd');
  const std::string email254 = std::string(64, 'l') + "@" + label63 + "." + label63 + "." + std::string(61, 'd');
  ASSERT_EQ(email254.size(), 254u);
  EXPECT_TRUE(ValidateEmail(email254).ok());
  EXPECT_FALSE(ValidateEmail(email254 + "d").ok());
  EXPECT_TRUE(ValidateEmail("a@" + label63 + ".com").ok());
  EXPECT_FALSE(ValidateEmail("a@" + label63 + "d.com").ok());
  auto long_local = ValidateEmail(std::string(65, 'a') + "@example.com");
  EXPECT_EQ(long_local.error().fields[0].message, "has a local part longer than 64 characters");
  EXPECT_EQ(ValidateEmail("").error().detail, "email must be 3 to 254 characters.");
}

TEST(ValidateEmailTest, RefusesMalformedAddressesNamingTheField) {
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "a@b",
                                                         "plain",
                                                         "@example.com",
                                                         "a@",
                                                         "a@@example.com",
                                                         "a@b@example.com",
                                                         "a b@example.com",
                                                         "a@example..com",
                                                         "a@.example.com",
                                                         "a@-example.com",
                                                         "a@example-.com",
                                                         "a@example.com.",
                                                         "a@exa_mple.com",
                                                         "a@example.com ",
                                                         "<a>@example.com",
                                                         "\"a\"@example.com",
                                                         "a\\b@example.com",
                                                         "\xC3\xA9@example.com",
                                                         "a@\xC3\xA9xample.com",
                                                         std::string("a\0b@example.com", 15),
                                                         "a\n@example.com",
                                                         std::string(65, 'a') + "@example.com",
                                                         "a@" + std::string(260, 'b') + ".com"}) {
    EXPECT_EQ(FieldOf(ValidateEmail(bad)), "email") << bad;
  }
  EXPECT_EQ(FieldOf(ValidateEmail("nope", "owner.email")), "owner.email");
}

TEST(ValidatePhoneTest, AcceptsE164From7To15Digits) {
  for (const char* good : {"+306912345678", "+14155552671", "+2904123", "+123456789012345"}) {
    EXPECT_TRUE(ValidatePhone(good).ok()) << good;
  }
}

TEST(ValidatePhoneTest, RefusesEverythingElse) {
  for (const std::string& bad : std::vector<std::string>{
           "", "+", "6912345678", "00306912345678", "+0691234567", "+30 691 234 5678", "+30-691-234-5678", "+1234",
           "+123456", "+1234567890123456", "+30abc", "+306912345678\n", " +306912345678",
           std::string("+3069\0"
                       "12345678",
                       14),
           "++306912345678", "+３０6912345678"}) {
    EXPECT_EQ(FieldOf(ValidatePhone(bad)), "phone") << bad;
  }
  auto status = ValidatePhone("nope", "contact.phone");
  EXPECT_EQ(FieldOf(status), "contact.phone");
  EXPECT_EQ(status.error().detail, "contact.phone must be an E.164 number like +306912345678.");
}

TEST(ValidateTimeZoneTest, AcceptsIanaZonesAndLinks) {
  for (const char* good : {"UTC", "Europe/Athens", "America/Argentina/ComodRivadavia", "Etc/GMT+5", "Etc/GMT-14",
                           "America/Port-au-Prince", "US/Eastern", "GMT", "Asia/Calcutta"}) {
    EXPECT_TRUE(ValidateTimeZone(good).ok()) << good;
  }
}

TEST(ValidateTimeZoneTest, AcceptsEveryZoneDateTzKnowsButTheHostFiles) {
  int accepted = 0;
  for (const auto& zone : date::get_tzdb().zones) {
    const std::string name(zone.name());
    const bool host_file = name == "localtime" || name == "posixrules" || name == "Factory" ||
                           name.rfind("posix/", 0) == 0 || name.rfind("right/", 0) == 0;
    EXPECT_EQ(ValidateTimeZone(name).ok(), !host_file) << name;
    accepted += host_file ? 0 : 1;
  }
  EXPECT_GT(accepted, 300);
}

TEST(ValidateTimeZoneTest, RefusesNonZonesWithoutEchoingThem) {
  for (const std::string& bad : std::vector<std::string>{
           "", "Mars/Olympus", "europe/athens", "Europe", "localtime", "posixrules", "Factory", "posix/Europe/Athens",
           "right/UTC", "Europe/Athens ", "../zoneinfo/UTC", "Europe/../UTC", "/etc/localtime", "zone.tab", "tzdata.zi",
           std::string("UTC\0", 4), "Europe/Ath\xC3\xA9ns", "\xFF", std::string(200, 'A')}) {
    auto status = ValidateTimeZone(bad);
    ASSERT_EQ(FieldOf(status), "time_zone") << bad;
    EXPECT_EQ(status.error().fields[0].message, "must be an IANA time zone such as Europe/Athens");
    EXPECT_EQ(status.error().detail, "time_zone must be an IANA time zone such as Europe/Athens.");
  }
  EXPECT_EQ(FieldOf(ValidateTimeZone("Nowhere/City", "clinic.time_zone")), "clinic.time_zone");
}

TEST(ValidateCurrencyTest, AcceptsActiveCodesInUpperCaseOnly) {
  for (const char* good : {"EUR", "USD", "GBP", "JPY", "CHF", "AED", "ZWG", "XOF", "XAF", "XCD", "XCG", "XPF", "CLF"}) {
    EXPECT_TRUE(ValidateCurrency(good).ok()) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"", "XXX", "XTS", "XAU", "XDR", "usd", "Eur", "eur", "EURO",
                                                         "EU", "E R", " EUR", "EUR ", "HRK", "ABC", "\xE2\x82\xAC",
                                                         std::string("EU\0", 3), std::string("EUR\0", 4)}) {
    EXPECT_EQ(FieldOf(ValidateCurrency(bad)), "currency") << bad;
  }
  EXPECT_EQ(FieldOf(ValidateCurrency("usd", "price.currency")), "price.currency");
}

TEST(ParseUuidTest, NormalizesToLowerCase) {
  auto upper = ParseUuid("7C43A5E9-94FF-4CBA-8026-282732D74772");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, "7c43a5e9-94ff-4cba-8026-282732d74772");
  auto mixed = ParseUuid("7c43A5e9-94Ff-4cba-8026-282732d74772", "lead_id");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(*mixed, "7c43a5e9-94ff-4cba-8026-282732d74772");
  EXPECT_EQ(*ParseUuid("00000000-0000-0000-0000-000000000000"), "00000000-0000-0000-0000-000000000000");
}

TEST(ParseUuidTest, RefusesEveryOtherSpelling) {
  for (const std::string& bad :
       std::vector<std::string>{"", "{7c43a5e9-94ff-4cba-8026-282732d74772}",
                                "urn:uuid:7c43a5e9-94ff-4cba-8026-282732d74772", "7c43a5e994ff4cba8026282732d74772",
                                "7c43a5e9-94ff-4cba-8026-282732d7477", "7c43a5e9-94ff-4cba-8026-282732d747722",
                                "7c43a5e9x94ff-4cba-8026-282732d74772", "7c43a5e-994ff-4cba-8026-282732d74772",
                                "7c43a5e9-94ff-4cba-8026-282732d7477g", " 7c43a5e9-94ff-4cba-8026-282732d7477",
                                std::string("7c43a5e9-94ff-4cba-8026-282732d7477\0", 36), "north-clinic"}) {
    EXPECT_EQ(FieldOf(ParseUuid(bad)), "id") << bad;
    EXPECT_FALSE(IsUuid(bad)) << bad;
  }
  EXPECT_EQ(FieldOf(ParseUuid("nope", "lead_id")), "lead_id");
  EXPECT_TRUE(IsUuid("7C43A5E9-94ff-4cba-8026-282732d74772"));
}

TEST(ParseInstantTest, ReadsUtcAndOffsets) {
  const auto nine_thirty = Utc(2026_y / 12 / 1, 9h + 30min);
  EXPECT_EQ(*ParseInstant("2026-12-01T09:30:00Z", "at"), nine_thirty);
  EXPECT_EQ(*ParseInstant("2026-12-01t09:30:00z", "at"), nine_thirty);
  EXPECT_EQ(*ParseInstant("2026-12-01T11:30:00+02:00", "at"), nine_thirty);
  EXPECT_EQ(*ParseInstant("2026-12-01T04:00:00-05:30", "at"), nine_thirty);
  EXPECT_EQ(*ParseInstant("2026-12-01T09:30:00-00:00", "at"), nine_thirty);
  EXPECT_EQ(*ParseInstant("2026-01-01T00:00:00+14:00", "at"), Utc(2025_y / 12 / 31, 10h));
  EXPECT_EQ(*ParseInstant("2026-12-31T23:00:00-12:00", "at"), Utc(2027_y / 1 / 1, 11h));
  EXPECT_EQ(*ParseInstant("1970-01-01T00:00:00Z", "at"), system_clock::time_point{});
}

TEST(ParseInstantTest, ReadsFractionsUpToNanoseconds) {
  const auto base = Utc(2026_y / 12 / 1, 9h + 30min);
  EXPECT_EQ(*ParseInstant("2026-12-01T09:30:00.123Z", "at"), base + 123ms);
  EXPECT_EQ(*ParseInstant("2026-12-01T09:30:00.5+00:00", "at"), base + 500ms);
  EXPECT_EQ(*ParseInstant("2026-12-01T09:30:00.000000001Z", "at"),
            base + std::chrono::duration_cast<system_clock::duration>(1ns));
  EXPECT_EQ(*ParseInstant("2026-12-01T09:30:00.123456789Z", "at"),
            base + std::chrono::duration_cast<system_clock::duration>(123456789ns));
  EXPECT_EQ(*ParseInstant("1969-12-31T23:59:59.999Z", "at"), system_clock::time_point{} - 1ms);
}

TEST(ParseInstantTest, ChecksTheCalendar) {
  EXPECT_TRUE(ParseInstant("2024-02-29T12:00:00Z", "at").ok());
  EXPECT_TRUE(ParseInstant("2000-02-29T12:00:00Z", "at").ok());
  for (const char* bad :
       {"2026-02-29T12:00:00Z", "2100-02-29T12:00:00Z", "2026-02-30T12:00:00Z", "2026-04-31T12:00:00Z",
        "2026-13-01T12:00:00Z", "2026-00-10T12:00:00Z", "2026-12-00T12:00:00Z", "0000-01-01T00:00:00Z",
        "2026-12-01T24:00:00Z", "2026-12-01T23:60:00Z", "2016-12-31T23:59:60Z"}) {
    EXPECT_EQ(FieldOf(ParseInstant(bad, "starts_at")), "starts_at") << bad;
  }
}

TEST(ParseInstantTest, RefusesOtherShapes) {
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "2026-12-01",
                                                         "2026-12-01T09:30:00",
                                                         "2026-12-01T09:30Z",
                                                         "2026-12-01 09:30:00Z",
                                                         "2026-12-01T9:30:00Z",
                                                         "2026-12-1T09:30:00Z",
                                                         "26-12-01T09:30:00Z",
                                                         "+2026-12-01T09:30:00Z",
                                                         "2026-12-01T09:30:00ZZ",
                                                         "2026-12-01T09:30:00Z ",
                                                         " 2026-12-01T09:30:00Z",
                                                         std::string("2026-12-01T09:30:00Z\0", 21),
                                                         "2026-12-01T09:30:00.Z",
                                                         "2026-12-01T09:30:00.1234567890Z",
                                                         "2026-12-01T09:30:00,5Z",
                                                         "2026-12-01T09:30:00+24:00",
                                                         "2026-12-01T09:30:00+05:60",
                                                         "2026-12-01T09:30:00+0530",
                                                         "2026-12-01T09:30:00+05",
                                                         "2026-12-01T09:30:00+5:30",
                                                         "2026-12-01T09:30:00UTC",
                                                         "2026-12-01T09:30:00\xC3\xA9",
                                                         "1764581400"}) {
    auto parsed = ParseInstant(bad, "at");
    EXPECT_EQ(FieldOf(parsed), "at") << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().fields[0].message, "must be an RFC 3339 date-time such as 2026-12-01T09:30:00Z");
    }
  }
}

TEST(ParseInstantTest, RefusesYearsTheClockCannotHold) {
  for (const char* far : {"0001-01-01T00:00:00Z", "1000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    auto parsed = ParseInstant(far, "at");
    ASSERT_EQ(FieldOf(parsed), "at") << far;
    EXPECT_EQ(parsed.error().fields[0].message, "is outside the range of supported dates");
  }
  EXPECT_TRUE(ParseInstant("1900-01-01T00:00:00Z", "at").ok());
  EXPECT_TRUE(ParseInstant("2200-01-01T00:00:00Z", "at").ok());
}

TEST(FormatInstantTest, WritesUtcMillisecondsTruncated) {
  const auto base = Utc(2026_y / 12 / 1, 9h + 30min);
  EXPECT_EQ(FormatInstant(base), "2026-12-01T09:30:00.000Z");
  EXPECT_EQ(FormatInstant(base + 123ms), "2026-12-01T09:30:00.123Z");
  EXPECT_EQ(FormatInstant(base + std::chrono::duration_cast<system_clock::duration>(1999999ns)),
            "2026-12-01T09:30:00.001Z");
  EXPECT_EQ(FormatInstant(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(system_clock::time_point{} - std::chrono::duration_cast<system_clock::duration>(1ns)),
            "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatInstant(Utc(2024_y / 2 / 29, 23h + 59min + 59s)), "2024-02-29T23:59:59.000Z");
}

TEST(FormatInstantTest, RoundTripsThroughParse) {
  for (const char* text : {"2026-12-01T09:30:00.123Z", "2024-02-29T00:00:00.000Z", "1999-12-31T23:59:59.999Z"}) {
    auto parsed = ParseInstant(text, "at");
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(FormatInstant(*parsed), text);
  }
  EXPECT_EQ(FormatInstant(*ParseInstant("2026-12-01T11:30:00.5+02:00", "at")), "2026-12-01T09:30:00.500Z");
}

TEST(ParseLocalDateTest, ReadsCalendarDates) {
  EXPECT_EQ(*ParseLocalDate("2026-12-01", "day"), 2026_y / 12 / 1);
  EXPECT_EQ(*ParseLocalDate("2024-02-29", "day"), 2024_y / 2 / 29);
  EXPECT_EQ(*ParseLocalDate("2000-02-29", "day"), 2000_y / 2 / 29);
  EXPECT_EQ(*ParseLocalDate("0001-01-01", "day"), 1_y / 1 / 1);
  EXPECT_EQ(*ParseLocalDate("9999-12-31", "day"), 9999_y / 12 / 31);
}

TEST(ParseLocalDateTest, RefusesImpossibleDatesAndOtherShapes) {
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "2026-02-29",
                                                         "1900-02-29",
                                                         "2026-02-30",
                                                         "2026-04-31",
                                                         "2026-13-01",
                                                         "2026-00-01",
                                                         "2026-01-00",
                                                         "0000-01-01",
                                                         "2026-2-01",
                                                         "2026-12-1",
                                                         "26-12-01",
                                                         "2026/12/01",
                                                         "20261201",
                                                         " 2026-12-01",
                                                         "2026-12-01 ",
                                                         "2026-12-01T00:00:00Z",
                                                         std::string("2026-12-01\0", 11),
                                                         "２０２６-12-01",
                                                         "+026-12-01",
                                                         "-026-12-01"}) {
    auto parsed = ParseLocalDate(bad, "birth_date");
    EXPECT_EQ(FieldOf(parsed), "birth_date") << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().fields[0].message, "must be a date such as 2026-12-01");
    }
  }
}

TEST(FormatLocalDateTest, PadsEveryPart) {
  EXPECT_EQ(FormatLocalDate(2026_y / 1 / 5), "2026-01-05");
  EXPECT_EQ(FormatLocalDate(2024_y / 2 / 29), "2024-02-29");
  EXPECT_EQ(FormatLocalDate(1_y / 1 / 1), "0001-01-01");
  EXPECT_EQ(FormatLocalDate(*ParseLocalDate("2026-12-01", "day")), "2026-12-01");
}

TEST(ParseClockTimeTest, ReadsMinutesSinceMidnight) {
  EXPECT_EQ(*ParseClockTime("00:00", "opens_at"), 0);
  EXPECT_EQ(*ParseClockTime("09:30", "opens_at"), 570);
  EXPECT_EQ(*ParseClockTime("23:59", "opens_at"), 1439);
  EXPECT_EQ(*ParseClockTime("24:00", "closes_at", true), 1440);
  EXPECT_EQ(*ParseClockTime("00:00", "closes_at", true), 0);
}

TEST(ParseClockTimeTest, RefusesEndOfDayUnlessAllowedAndEveryOtherShape) {
  auto midnight = ParseClockTime("24:00", "opens_at");
  EXPECT_EQ(FieldOf(midnight), "opens_at");
  EXPECT_EQ(midnight.error().fields[0].message, "must be a time HH:MM from 00:00 to 23:59");
  for (const std::string& bad :
       std::vector<std::string>{"", "9:30", "09:3", "09:60", "24:01", "25:00", "99:99", "0930", "09.30", "09:30:00",
                                " 09:30", "09:30 ", "+9:30", "-1:00", "ab:cd", std::string("09:3\0", 5), "０9:30"}) {
    for (bool allow_end_of_day : {false, true}) {
      EXPECT_EQ(FieldOf(ParseClockTime(bad, "closes_at", allow_end_of_day)), "closes_at") << bad;
    }
  }
  EXPECT_EQ(ParseClockTime("24:01", "closes_at", true).error().fields[0].message,
            "must be a time HH:MM from 00:00 to 24:00");
}

TEST(FormatClockTimeTest, PadsAndRoundTrips) {
  EXPECT_EQ(FormatClockTime(0), "00:00");
  EXPECT_EQ(FormatClockTime(570), "09:30");
  EXPECT_EQ(FormatClockTime(1439), "23:59");
  EXPECT_EQ(FormatClockTime(1440), "24:00");
  for (int minutes = 0; minutes <= 1440; ++minutes) {
    auto parsed = ParseClockTime(FormatClockTime(minutes), "t", true);
    ASSERT_TRUE(parsed.ok()) << minutes;
    EXPECT_EQ(*parsed, minutes);
  }
}

}  // namespace
}  // namespace clinicore::kit
