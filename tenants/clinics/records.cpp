#include "tenants/clinics/records.hpp"

namespace clinicore::clinics {
namespace {

nlohmann::json OrNull(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json ToJson(const Clinic& c) {
  nlohmann::json out = {{"id", c.id},
                        {"name", c.name},
                        {"address", c.address},
                        {"phone", OrNull(c.phone)},
                        {"email", OrNull(c.email)},
                        {"time_zone", c.time_zone},
                        {"currency", c.currency},
                        {"opening_hours", WeeklyHoursJson(c.opening_hours)},
                        {"owner_id", OrNull(c.owner_id)},
                        {"active", c.active},
                        {"created_at", c.created_at},
                        {"updated_at", c.updated_at}};
  if (c.deleted_at) out["deleted_at"] = *c.deleted_at;
  return out;
}

nlohmann::json ToJson(const Closure& c) {
  return {{"id", c.id},         {"clinic_id", c.clinic_id},  {"start_date", c.start_date}, {"end_date", c.end_date},
          {"reason", c.reason}, {"created_at", c.created_at}};
}

nlohmann::json ToJson(const Service& s) {
  return {{"id", s.id},
          {"clinic_id", s.clinic_id},
          {"name", s.name},
          {"category", s.category},
          {"duration_minutes", s.duration_minutes},
          {"buffer_before_minutes", s.buffer_before_minutes},
          {"buffer_after_minutes", s.buffer_after_minutes},
          {"price_minor", s.price_minor},
          {"currency", s.currency},
          {"resource_kinds", s.resource_kinds},
          {"active", s.active},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at}};
}

nlohmann::json ToJson(const Practitioner& p) {
  return {{"clinic_id", p.clinic_id},
          {"user_id", p.user_id},
          {"full_name", p.full_name},
          {"service_ids", p.service_ids},
          {"working_hours", WeeklyHoursJson(p.working_hours)},
          {"created_at", p.created_at}};
}

nlohmann::json ToJson(const TimeOff& t) {
  return {{"id", t.id},   {"clinic_id", t.clinic_id}, {"user_id", t.user_id},      {"start", t.start},
          {"end", t.end}, {"reason", t.reason},       {"created_at", t.created_at}};
}

nlohmann::json ToJson(const Resource& r) {
  return {{"id", r.id}, {"clinic_id", r.clinic_id}, {"name", r.name}, {"kind", r.kind}, {"created_at", r.created_at}};
}

nlohmann::json ToJson(const StaffMember& m) {
  return {{"clinic_id", m.clinic_id},
          {"user_id", m.user_id},
          {"full_name", m.full_name},
          {"role", m.role},
          {"created_at", m.created_at}};
}

}  // namespace clinicore::clinics
