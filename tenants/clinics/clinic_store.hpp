#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/db/database.hpp"
#include "tenants/clinics/records.hpp"

namespace clinicore::clinics {

// A keyset position: the sort keys of the last row of the previous page.
struct After {
  std::optional<std::string> key;  // name, start date or user id
  std::optional<std::string> id;
};

// List filters (?active=, ?q= for clinics; ?active=, ?category= for services).
struct ClinicFilter {
  std::optional<bool> active;
  std::optional<std::string> name_pattern;  // a LIKE pattern (kit::ContainsPattern)
};
struct ServiceFilter {
  std::optional<bool> active;
  std::optional<std::string> category;
  bool Matches(const Service& service) const {
    return (!active || service.active == *active) && (!category || service.category == *category);
  }
};

struct ClinicPatch {
  std::optional<std::string> name;
  std::optional<std::string> address;
  std::optional<std::optional<std::string>> phone;  // set (maybe to null) when present
  std::optional<std::optional<std::string>> email;
  std::optional<std::string> time_zone;
  std::optional<std::string> currency;
  std::optional<WeeklyHours> opening_hours;
  std::optional<std::string> owner_id;
  std::optional<bool> active;
};

struct ServicePatch {
  std::optional<std::string> name;
  std::optional<std::string> category;
  std::optional<int> duration_minutes;
  std::optional<int> buffer_before_minutes;
  std::optional<int> buffer_after_minutes;
  std::optional<int64_t> price_minor;
  std::optional<std::string> currency;
  std::optional<std::vector<std::string>> resource_kinds;
  std::optional<bool> active;
};

struct AccountFacts {
  std::string role;
  bool can_work = false;  // active and not deleted
  std::string full_name;
};

// The clinics module's SQL, one named statement each (queries.hpp), inside the caller's
// tenant transaction. Rows become records here and nowhere else.
class ClinicStore {
 public:
  static void RegisterStatements(db::Database& database);

  static Clinic InsertClinic(db::Transaction& tx, const Clinic& clinic);
  static std::optional<Clinic> FindClinic(db::Transaction& tx, const std::string& id, bool for_update = false);
  static std::vector<Clinic> ListClinics(db::Transaction& tx, bool only_active,
                                         const std::optional<std::vector<std::string>>& ids, const After& after,
                                         int limit, const ClinicFilter& filter = {});
  static std::optional<Clinic> UpdateClinic(db::Transaction& tx, const std::string& id, const ClinicPatch& patch);
  static std::optional<Clinic> SoftDeleteClinic(db::Transaction& tx, const std::string& id);
  static std::optional<Clinic> RestoreClinic(db::Transaction& tx, const std::string& id);

  static Closure InsertClosure(db::Transaction& tx, const Closure& closure);
  static std::vector<Closure> ListClosures(db::Transaction& tx, const std::string& clinic_id, const After& after,
                                           int limit);

  static Service InsertService(db::Transaction& tx, const Service& service);
  static std::optional<Service> FindService(db::Transaction& tx, const std::string& id);
  static std::vector<Service> ListServices(db::Transaction& tx, const std::string& clinic_id, bool only_active,
                                           const After& after, int limit, const ServiceFilter& filter = {});
  static std::optional<Service> UpdateService(db::Transaction& tx, const std::string& id, const ServicePatch& patch);
  static std::optional<Service> SoftDeleteService(db::Transaction& tx, const std::string& id);
  static long long CountClinicServices(db::Transaction& tx, const std::string& clinic_id,
                                       const std::vector<std::string>& service_ids);

  // nullopt when the user already practises there.
  static std::optional<std::string> InsertPractitioner(db::Transaction& tx, const std::string& clinic_id,
                                                       const std::string& user_id, const WeeklyHours& hours,
                                                       const std::vector<std::string>& service_ids);
  static bool IsPractitioner(db::Transaction& tx, const std::string& clinic_id, const std::string& user_id);
  static std::vector<Practitioner> ListPractitioners(db::Transaction& tx, const std::string& clinic_id,
                                                     const After& after, int limit);
  static TimeOff InsertTimeOff(db::Transaction& tx, const TimeOff& time_off);

  static Resource InsertResource(db::Transaction& tx, const Resource& resource);
  static std::vector<Resource> ListResources(db::Transaction& tx, const std::string& clinic_id, const After& after,
                                             int limit);

  // nullopt when the user already belongs to the clinic.
  static std::optional<std::string> InsertStaff(db::Transaction& tx, const std::string& clinic_id,
                                                const std::string& user_id);
  static bool DeleteStaff(db::Transaction& tx, const std::string& clinic_id, const std::string& user_id);
  static std::vector<StaffMember> ListStaff(db::Transaction& tx, const std::string& clinic_id, const After& after,
                                            int limit);

  static std::vector<std::string> ClinicsOfUser(db::Transaction& tx, const std::string& user_id);
  static std::optional<AccountFacts> FindAccount(db::Transaction& tx, const std::string& user_id);
};

}  // namespace clinicore::clinics
