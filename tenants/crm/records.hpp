#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/result.hpp"

// The records of the CRM module as the API shows them. Instants are RFC 3339 UTC strings,
// ids lower-case UUIDs.
namespace clinicore::crm {

// new → contacted → qualified → booked → won; lost (with a reason) from any state before
// won; lost → contacted reopens.
inline constexpr std::string_view kStatuses[] = {"new", "contacted", "qualified", "booked", "won", "lost"};
bool IsStatus(std::string_view status);
// Ok when `from` may move to `to`; otherwise a 409 naming `status`.
core::Status CheckTransition(std::string_view from, std::string_view to);

struct Consent {
  bool marketing = false;
  bool contact = false;
  std::string given_at;  // when the answer was given (RFC 3339)
  std::string method;    // how: "web_form", "phone", "in_person", "import", a plugin's name
};

struct Lead {
  std::string id;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::string source;
  std::optional<std::string> external_id;
  nlohmann::json campaign = nlohmann::json::object();
  std::optional<std::string> clinic_id;
  std::optional<std::string> service_id;
  std::string status = "new";
  std::optional<std::string> lost_reason;
  std::optional<std::string> owner_id;
  std::vector<std::string> tags;  // tag ids
  std::optional<Consent> consent;
  std::string last_activity_at;
  std::string created_at;
  std::string updated_at;
  // Keyset positions of the list orders, at full precision (created_at is milliseconds).
  std::string created_key;
  std::string updated_key;
};

struct Activity {
  std::string id;
  std::string lead_id;
  std::string kind;  // created, merged, updated, status_changed, assigned, note, tagged, ...
  std::optional<std::string> actor_id;
  nlohmann::json details = nlohmann::json::object();
  std::string created_at;
  std::string created_key;
};

struct Tag {
  std::string id;
  std::string name;
  std::string color;  // "#rrggbb"
  std::string created_at;
  std::string updated_at;
};

// How leads that arrive without an owner are given one (setting crm.assignment).
inline constexpr std::string_view kAssignmentModes[] = {"none", "round_robin", "least_open"};

// The tenant's CRM settings (rows of its `settings` table, defaults when absent).
struct CrmSettings {
  int dedupe_window_days = 90;
  bool salesperson_sees_all = false;
  std::string assignment = "none";
  int stale_after_hours = 48;
};

nlohmann::json ToJson(const Consent& consent);
nlohmann::json ToJson(const Lead& lead);
nlohmann::json ToJson(const Activity& activity);
nlohmann::json ToJson(const Tag& tag);
nlohmann::json ToJson(const CrmSettings& settings);

// Searchable text the way the database folds it is done in SQL (extensions.search_fold); what
// the API decides is whether a search term is a phone number: then only its digits are kept
// ("+30 691-234" → "30691234"), so partial numbers match however they are written.
std::string SearchTerm(std::string_view text);
// The digits of an E.164 number, as leads.search_text holds them.
std::string PhoneDigits(std::string_view phone);

}  // namespace clinicore::crm
