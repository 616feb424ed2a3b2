#include "tenants/booking/records.hpp"

namespace clinicore::booking {
namespace {

int Bounded(const nlohmann::json& value, int fallback, int low, int high) {
  if (!value.is_number_integer()) return fallback;
  const auto number = value.get<long long>();
  return number < low || number > high ? fallback : static_cast<int>(number);
}

nlohmann::json OrNull(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

BookingSettings SettingsFrom(const nlohmann::json& rows) {
  BookingSettings s;
  if (!rows.is_object()) return s;
  auto at = [&](const char* key) { return rows.contains(key) ? rows.at(key) : nlohmann::json(); };
  s.slot_step_minutes = Bounded(at("booking.slot_step_minutes"), s.slot_step_minutes, 5, 240);
  s.min_notice_minutes = Bounded(at("booking.min_notice_minutes"), s.min_notice_minutes, 0, 43'200);
  s.horizon_days = Bounded(at("booking.horizon_days"), s.horizon_days, 1, 730);
  s.hold_minutes = Bounded(at("booking.hold_minutes"), s.hold_minutes, 1, 60);
  s.cancel_window_hours = Bounded(at("booking.cancel_window_hours"), s.cancel_window_hours, 0, 720);
  const auto second = at("booking.second_reminder_hours");
  if (second.is_number_integer()) {
    const int hours = Bounded(second, -1, 1, 720);
    if (hours > 0) s.second_reminder_hours = hours;
  }
  return s;
}

nlohmann::json ToJson(const BookingSettings& s) {
  return {{"slot_step_minutes", s.slot_step_minutes},
          {"min_notice_minutes", s.min_notice_minutes},
          {"horizon_days", s.horizon_days},
          {"hold_minutes", s.hold_minutes},
          {"cancel_window_hours", s.cancel_window_hours},
          {"second_reminder_hours", s.second_reminder_hours ? nlohmann::json(*s.second_reminder_hours) : nullptr}};
}

nlohmann::json ToJson(const Hold& h) {
  return {{"id", h.id},
          {"clinic_id", h.clinic_id},
          {"service_id", h.service_id},
          {"practitioner_id", h.practitioner_id},
          {"held_by", h.held_by},
          {"start", h.start},
          {"end", h.end},
          {"expires_at", h.expires_at},
          {"resource_ids", h.resource_ids},
          {"created_at", h.created_at}};
}

nlohmann::json ToJson(const Appointment& a) {
  return {{"id", a.id},
          {"clinic_id", a.clinic_id},
          {"service_id", a.service_id},
          {"practitioner_id", a.practitioner_id},
          {"client_id", a.client_id},
          {"start", a.start},
          {"end", a.end},
          {"resource_ids", a.resource_ids},
          {"status", a.status},
          {"notes", a.notes},
          {"cancel_reason", OrNull(a.cancel_reason)},
          {"amount_paid_minor", a.amount_paid_minor ? nlohmann::json(*a.amount_paid_minor) : nullptr},
          {"currency", OrNull(a.currency)},
          {"hold_id", OrNull(a.hold_id)},
          {"booked_by", OrNull(a.booked_by)},
          {"series_id", OrNull(a.series_id)},
          {"created_at", a.created_at},
          {"updated_at", a.updated_at}};
}

nlohmann::json ToJson(const Series& s) {
  auto occurrences = nlohmann::json::array();
  for (const auto& o : s.occurrences) {
    occurrences.push_back({{"index", o.index},
                           {"start", o.start},
                           {"status", o.status},
                           {"appointment_id", OrNull(o.appointment_id)},
                           {"conflict", o.conflict}});
  }
  return {{"id", s.id},
          {"clinic_id", s.clinic_id},
          {"service_id", s.service_id},
          {"practitioner_id", s.practitioner_id},
          {"client_id", s.client_id},
          {"every_weeks", s.every_weeks},
          {"notes", s.notes},
          {"created_by", OrNull(s.created_by)},
          {"created_at", s.created_at},
          {"occurrences", std::move(occurrences)}};
}

}  // namespace clinicore::booking
