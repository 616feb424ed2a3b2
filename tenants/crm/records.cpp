#include "tenants/crm/records.hpp"

#include <algorithm>
#include <cctype>

namespace clinicore::crm {
namespace {

nlohmann::json OrNull(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

int Rank(std::string_view status) {
  const auto* it = std::find(std::begin(kStatuses), std::end(kStatuses), status);
  return static_cast<int>(it - std::begin(kStatuses));
}

}  // namespace

bool IsStatus(std::string_view status) {
  return std::find(std::begin(kStatuses), std::end(kStatuses), status) != std::end(kStatuses);
}

core::Status CheckTransition(std::string_view from, std::string_view to) {
  const bool allowed = (to == "lost" && from != "won" && from != "lost") || (from == "lost" && to == "contacted") ||
                       (from != "lost" && to != "lost" && Rank(to) == Rank(from) + 1);
  if (allowed) return core::Ok();
  return core::Error::Conflict("A lead cannot move from " + std::string(from) + " to " + std::string(to) + ".",
                               {{"status", "cannot move from " + std::string(from) + " to " + std::string(to)}});
}

nlohmann::json ToJson(const Consent& c) {
  return {{"marketing", c.marketing}, {"contact", c.contact}, {"given_at", c.given_at}, {"method", c.method}};
}

nlohmann::json ToJson(const Lead& l) {
  return {{"id", l.id},
          {"first_name", l.first_name},
          {"last_name", l.last_name},
          {"email", OrNull(l.email)},
          {"phone", OrNull(l.phone)},
          {"source", l.source},
          {"external_id", OrNull(l.external_id)},
          {"campaign", l.campaign},
          {"clinic_id", OrNull(l.clinic_id)},
          {"service_id", OrNull(l.service_id)},
          {"status", l.status},
          {"lost_reason", OrNull(l.lost_reason)},
          {"owner_id", OrNull(l.owner_id)},
          {"tags", l.tags},
          {"consent", l.consent ? ToJson(*l.consent) : nlohmann::json(nullptr)},
          {"last_activity_at", l.last_activity_at},
          {"created_at", l.created_at},
          {"updated_at", l.updated_at}};
}

nlohmann::json ToJson(const Activity& a) {
  return {{"id", a.id},
          {"kind", a.kind},
          {"actor_id", OrNull(a.actor_id)},
          {"details", a.details},
          {"created_at", a.created_at}};
}

nlohmann::json ToJson(const Tag& t) {
  return {
      {"id", t.id}, {"name", t.name}, {"color", t.color}, {"created_at", t.created_at}, {"updated_at", t.updated_at}};
}

nlohmann::json ToJson(const CrmSettings& s) {
  return {{"dedupe_window_days", s.dedupe_window_days},
          {"salesperson_sees_all", s.salesperson_sees_all},
          {"assignment", s.assignment},
          {"stale_after_hours", s.stale_after_hours}};
}

std::string PhoneDigits(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  }
  return digits;
}

std::string SearchTerm(std::string_view text) {
  const bool phone_like = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' ||
           c == '.';
  });
  std::string digits = PhoneDigits(text);
  if (phone_like && digits.size() >= 3) return digits;
  // Trimmed: a term typed with a trailing space still matches.
  const auto first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) return "";
  return std::string(text.substr(first, text.find_last_not_of(' ') - first + 1));
}

}  // namespace clinicore::crm
