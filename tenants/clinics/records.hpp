#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/kit/weekly_hours.hpp"

// The records of the clinics module as the API shows them. Instants are RFC 3339 UTC
// strings, dates YYYY-MM-DD, ids lower-case UUIDs.
namespace clinicore::clinics {

// Opening and working hours are the kit's weekly hours.
using kit::FirstDayOutside;
using kit::kDayNames;
using kit::ParseWeeklyHours;
using kit::WeeklyHours;
using kit::WeeklyHoursJson;

struct Clinic {
  std::string id;
  std::string name;
  std::string address;
  std::optional<std::string> phone;
  std::optional<std::string> email;
  std::string time_zone;
  std::string currency;
  WeeklyHours opening_hours;
  std::optional<std::string> owner_id;
  bool active = true;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> deleted_at;
};

struct Closure {
  std::string id;
  std::string clinic_id;
  std::string start_date;
  std::string end_date;
  std::string reason;
  std::string created_at;
};

struct Service {
  std::string id;
  std::string clinic_id;
  std::string name;
  std::string category;
  int duration_minutes = 0;
  int buffer_before_minutes = 0;
  int buffer_after_minutes = 0;
  int64_t price_minor = 0;
  std::string currency;
  std::vector<std::string> resource_kinds;
  bool active = true;
  std::string created_at;
  std::string updated_at;
};

struct Practitioner {
  std::string clinic_id;
  std::string user_id;
  std::string full_name;
  std::vector<std::string> service_ids;
  WeeklyHours working_hours;
  std::string created_at;
};

struct TimeOff {
  std::string id;
  std::string clinic_id;
  std::string user_id;
  std::string start;
  std::string end;
  std::string reason;
  std::string created_at;
};

struct Resource {
  std::string id;
  std::string clinic_id;
  std::string name;
  std::string kind;  // "room" | "device"
  std::string created_at;
};

struct StaffMember {
  std::string clinic_id;
  std::string user_id;
  std::string full_name;
  std::string role;
  std::string created_at;
};

nlohmann::json ToJson(const Clinic& clinic);
nlohmann::json ToJson(const Closure& closure);
nlohmann::json ToJson(const Service& service);
nlohmann::json ToJson(const Practitioner& practitioner);
nlohmann::json ToJson(const TimeOff& time_off);
nlohmann::json ToJson(const Resource& resource);
nlohmann::json ToJson(const StaffMember& member);

}  // namespace clinicore::clinics
