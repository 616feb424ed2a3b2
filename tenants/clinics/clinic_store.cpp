#include "tenants/clinics/clinic_store.hpp"

#include "platform/db/rows.hpp"
#include "tenants/clinics/queries.hpp"

namespace clinicore::clinics {
namespace {

using namespace queries;  // NOLINT(google-build-using-namespace): the statements of this store
using db::OptionalText;
using db::UuidArray;

std::vector<std::string> StringList(const std::string& json_text) {
  std::vector<std::string> out;
  auto parsed = nlohmann::json::parse(json_text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

// Stored hours were validated on the way in; a row edited by hand that no longer parses
// reads as closed rather than failing every read of its clinic.
WeeklyHours StoredHours(const std::string& json_text) {
  auto parsed = ParseWeeklyHours(nlohmann::json::parse(json_text, nullptr, false), "hours");
  return parsed ? *parsed : WeeklyHours{};
}

std::string HoursText(const WeeklyHours& hours) {
  return WeeklyHoursJson(hours).dump();
}

Clinic ClinicOf(const pqxx::row& row) {
  Clinic c;
  c.id = row[0].as<std::string>();
  c.name = row[1].as<std::string>();
  c.address = row[2].as<std::string>();
  c.phone = OptionalText(row[3]);
  c.email = OptionalText(row[4]);
  c.time_zone = row[5].as<std::string>();
  c.currency = row[6].as<std::string>();
  c.opening_hours = StoredHours(row[7].as<std::string>());
  c.owner_id = OptionalText(row[8]);
  c.active = row[9].as<bool>();
  c.created_at = row[10].as<std::string>();
  c.updated_at = row[11].as<std::string>();
  c.deleted_at = OptionalText(row[12]);
  return c;
}

Service ServiceOf(const pqxx::row& row) {
  Service s;
  s.id = row[0].as<std::string>();
  s.clinic_id = row[1].as<std::string>();
  s.name = row[2].as<std::string>();
  s.category = row[3].as<std::string>();
  s.duration_minutes = row[4].as<int>();
  s.buffer_before_minutes = row[5].as<int>();
  s.buffer_after_minutes = row[6].as<int>();
  s.price_minor = row[7].as<int64_t>();
  s.currency = row[8].as<std::string>();
  s.resource_kinds = StringList(row[9].as<std::string>());
  s.active = row[10].as<bool>();
  s.created_at = row[11].as<std::string>();
  s.updated_at = row[12].as<std::string>();
  return s;
}

Closure ClosureOf(const pqxx::row& row) {
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
          row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>()};
}

Resource ResourceOf(const pqxx::row& row) {
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
          row[4].as<std::string>()};
}

}  // namespace

void ClinicStore::RegisterStatements(db::Database& database) {
  const std::pair<const char*, const char*> statements[] = {
      {kInsertClinic, kInsertClinicSql},
      {kSelectClinic, kSelectClinicSql},
      {kSelectClinicForUpdate, kSelectClinicForUpdateSql},
      {kListClinics, kListClinicsSql},
      {kUpdateClinic, kUpdateClinicSql},
      {kSoftDeleteClinic, kSoftDeleteClinicSql},
      {kRestoreClinic, kRestoreClinicSql},
      {kInsertClosure, kInsertClosureSql},
      {kListClosures, kListClosuresSql},
      {kInsertService, kInsertServiceSql},
      {kSelectService, kSelectServiceSql},
      {kListServices, kListServicesSql},
      {kUpdateService, kUpdateServiceSql},
      {kSoftDeleteService, kSoftDeleteServiceSql},
      {kCountClinicServices, kCountClinicServicesSql},
      {kInsertPractitioner, kInsertPractitionerSql},
      {kInsertPractitionerServices, kInsertPractitionerServicesSql},
      {kSelectPractitioner, kSelectPractitionerSql},
      {kListPractitioners, kListPractitionersSql},
      {kInsertTimeOff, kInsertTimeOffSql},
      {kInsertResource, kInsertResourceSql},
      {kListResources, kListResourcesSql},
      {kInsertStaff, kInsertStaffSql},
      {kDeleteStaff, kDeleteStaffSql},
      {kListStaff, kListStaffSql},
      {kClinicsOfUser, kClinicsOfUserSql},
      {kSelectAccount, kSelectAccountSql},
  };
  for (const auto& [name, sql] : statements) database.RegisterStatement(name, sql);
}

Clinic ClinicStore::InsertClinic(db::Transaction& tx, const Clinic& c) {
  return ClinicOf(tx.Exec(kInsertClinic, c.name, c.address, c.phone, c.email, c.time_zone, c.currency,
                          HoursText(c.opening_hours), c.owner_id, c.active)[0]);
}

std::optional<Clinic> ClinicStore::FindClinic(db::Transaction& tx, const std::string& id, bool for_update) {
  return db::FirstRow<Clinic>(tx.Exec(for_update ? kSelectClinicForUpdate : kSelectClinic, id), ClinicOf);
}

std::vector<Clinic> ClinicStore::ListClinics(db::Transaction& tx, bool only_active,
                                             const std::optional<std::vector<std::string>>& ids, const After& after,
                                             int limit, const ClinicFilter& filter) {
  std::optional<std::string> id_array;
  if (ids) id_array = UuidArray(*ids);
  return db::AllRows<Clinic>(
      tx.Exec(kListClinics, only_active, id_array, after.key, after.id, limit, filter.active, filter.name_pattern),
      ClinicOf);
}

std::optional<Clinic> ClinicStore::UpdateClinic(db::Transaction& tx, const std::string& id, const ClinicPatch& p) {
  std::optional<std::string> hours;
  if (p.opening_hours) hours = HoursText(*p.opening_hours);
  return db::FirstRow<Clinic>(
      tx.Exec(kUpdateClinic, id, p.name, p.address, p.phone.has_value(), p.phone.value_or(std::nullopt),
              p.email.has_value(), p.email.value_or(std::nullopt), p.time_zone, p.currency, hours, p.owner_id,
              p.active),
      ClinicOf);
}

std::optional<Clinic> ClinicStore::SoftDeleteClinic(db::Transaction& tx, const std::string& id) {
  return db::FirstRow<Clinic>(tx.Exec(kSoftDeleteClinic, id), ClinicOf);
}

std::optional<Clinic> ClinicStore::RestoreClinic(db::Transaction& tx, const std::string& id) {
  return db::FirstRow<Clinic>(tx.Exec(kRestoreClinic, id), ClinicOf);
}

Closure ClinicStore::InsertClosure(db::Transaction& tx, const Closure& c) {
  return ClosureOf(tx.Exec(kInsertClosure, c.clinic_id, c.start_date, c.end_date, c.reason)[0]);
}

std::vector<Closure> ClinicStore::ListClosures(db::Transaction& tx, const std::string& clinic_id, const After& after,
                                               int limit) {
  return db::AllRows<Closure>(tx.Exec(kListClosures, clinic_id, after.key, after.id, limit), ClosureOf);
}

Service ClinicStore::InsertService(db::Transaction& tx, const Service& s) {
  return ServiceOf(tx.Exec(kInsertService, s.clinic_id, s.name, s.category, s.duration_minutes, s.buffer_before_minutes,
                           s.buffer_after_minutes, s.price_minor, s.currency, nlohmann::json(s.resource_kinds).dump(),
                           s.active)[0]);
}

std::optional<Service> ClinicStore::FindService(db::Transaction& tx, const std::string& id) {
  return db::FirstRow<Service>(tx.Exec(kSelectService, id), ServiceOf);
}

std::vector<Service> ClinicStore::ListServices(db::Transaction& tx, const std::string& clinic_id, bool only_active,
                                               const After& after, int limit, const ServiceFilter& filter) {
  return db::AllRows<Service>(
      tx.Exec(kListServices, clinic_id, only_active, after.key, after.id, limit, filter.active, filter.category),
      ServiceOf);
}

std::optional<Service> ClinicStore::UpdateService(db::Transaction& tx, const std::string& id, const ServicePatch& p) {
  std::optional<std::string> kinds;
  if (p.resource_kinds) kinds = nlohmann::json(*p.resource_kinds).dump();
  return db::FirstRow<Service>(
      tx.Exec(kUpdateService, id, p.name, p.category, p.duration_minutes, p.buffer_before_minutes,
              p.buffer_after_minutes, p.price_minor, p.currency, kinds, p.active),
      ServiceOf);
}

std::optional<Service> ClinicStore::SoftDeleteService(db::Transaction& tx, const std::string& id) {
  return db::FirstRow<Service>(tx.Exec(kSoftDeleteService, id), ServiceOf);
}

long long ClinicStore::CountClinicServices(db::Transaction& tx, const std::string& clinic_id,
                                           const std::vector<std::string>& service_ids) {
  return tx.Exec(kCountClinicServices, clinic_id, UuidArray(service_ids))[0][0].as<long long>();
}

std::optional<std::string> ClinicStore::InsertPractitioner(db::Transaction& tx, const std::string& clinic_id,
                                                           const std::string& user_id, const WeeklyHours& hours,
                                                           const std::vector<std::string>& service_ids) {
  const auto inserted = tx.Exec(kInsertPractitioner, clinic_id, user_id, HoursText(hours));
  if (inserted.empty()) return std::nullopt;
  tx.Exec(kInsertPractitionerServices, clinic_id, user_id, UuidArray(service_ids));
  return inserted[0][0].as<std::string>();
}

bool ClinicStore::IsPractitioner(db::Transaction& tx, const std::string& clinic_id, const std::string& user_id) {
  return !tx.Exec(kSelectPractitioner, clinic_id, user_id).empty();
}

std::vector<Practitioner> ClinicStore::ListPractitioners(db::Transaction& tx, const std::string& clinic_id,
                                                         const After& after, int limit) {
  return db::AllRows<Practitioner>(tx.Exec(kListPractitioners, clinic_id, after.key, limit), [](const pqxx::row& row) {
    return Practitioner{row[0].as<std::string>(),
                        row[1].as<std::string>(),
                        row[2].as<std::string>(),
                        StringList(row[4].as<std::string>()),
                        StoredHours(row[3].as<std::string>()),
                        row[5].as<std::string>()};
  });
}

TimeOff ClinicStore::InsertTimeOff(db::Transaction& tx, const TimeOff& t) {
  const auto row = tx.Exec(kInsertTimeOff, t.clinic_id, t.user_id, t.start, t.end, t.reason)[0];
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
          row[4].as<std::string>(), row[5].as<std::string>(), row[6].as<std::string>()};
}

Resource ClinicStore::InsertResource(db::Transaction& tx, const Resource& r) {
  return ResourceOf(tx.Exec(kInsertResource, r.clinic_id, r.name, r.kind)[0]);
}

std::vector<Resource> ClinicStore::ListResources(db::Transaction& tx, const std::string& clinic_id, const After& after,
                                                 int limit) {
  return db::AllRows<Resource>(tx.Exec(kListResources, clinic_id, after.key, after.id, limit), ResourceOf);
}

std::optional<std::string> ClinicStore::InsertStaff(db::Transaction& tx, const std::string& clinic_id,
                                                    const std::string& user_id) {
  const auto inserted = tx.Exec(kInsertStaff, clinic_id, user_id);
  if (inserted.empty()) return std::nullopt;
  return inserted[0][0].as<std::string>();
}

bool ClinicStore::DeleteStaff(db::Transaction& tx, const std::string& clinic_id, const std::string& user_id) {
  return !tx.Exec(kDeleteStaff, clinic_id, user_id).empty();
}

std::vector<StaffMember> ClinicStore::ListStaff(db::Transaction& tx, const std::string& clinic_id, const After& after,
                                                int limit) {
  return db::AllRows<StaffMember>(tx.Exec(kListStaff, clinic_id, after.key, limit), [](const pqxx::row& row) {
    return StaffMember{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                       row[3].as<std::string>(), row[4].as<std::string>()};
  });
}

std::vector<std::string> ClinicStore::ClinicsOfUser(db::Transaction& tx, const std::string& user_id) {
  return db::AllRows<std::string>(tx.Exec(kClinicsOfUser, user_id),
                                  [](const pqxx::row& row) { return row[0].as<std::string>(); });
}

std::optional<AccountFacts> ClinicStore::FindAccount(db::Transaction& tx, const std::string& user_id) {
  return db::FirstRow<AccountFacts>(tx.Exec(kSelectAccount, user_id), [](const pqxx::row& row) {
    return AccountFacts{row[0].as<std::string>(), row[1].as<bool>(), row[2].as<std::string>()};
  });
}

}  // namespace clinicore::clinics
