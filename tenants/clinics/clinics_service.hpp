#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/jobs/enqueue.hpp"
#include "platform/kit/page.hpp"
#include "platform/modules/route_table.hpp"
#include "tenants/clinics/catalogue_cache.hpp"
#include "tenants/clinics/clinic_store.hpp"

namespace clinicore::clinics {

// The list its cursors belong to when no filter is given (kit::ListQuery adds the filters).
inline std::string ServicesListName(const std::string& clinic_id) {
  return "services:" + clinic_id;
}

template <typename Record>
using Page = kit::Page<Record>;

struct NewPractitioner {
  std::string user_id;
  std::vector<std::string> service_ids;
  std::optional<WeeklyHours> working_hours;  // the clinic's opening hours when absent
};

// The business rules of clinics and their catalogue. Every change runs in one tenant
// transaction with its audit row and its domain event ("clinic.created", ...); reads honour
// the caller's per-clinic scope (Call::clinic_scope) and hide inactive records from clients.
class ClinicsService {
 public:
  ClinicsService(db::Database& database, std::shared_ptr<jobs::JobClient> jobs,
                 std::shared_ptr<CatalogueCache> catalogue);

  core::Result<Clinic> CreateClinic(const modules::Call& call, Clinic draft);
  core::Result<Page<Clinic>> ListClinics(const modules::Call& call, const kit::PageRequest& page,
                                         const ClinicFilter& filter);
  core::Result<Clinic> GetClinic(const modules::Call& call, const std::string& id);
  core::Result<Clinic> UpdateClinic(const modules::Call& call, const std::string& id, const ClinicPatch& patch);
  core::Status DeleteClinic(const modules::Call& call, const std::string& id);
  core::Result<Clinic> RestoreClinic(const modules::Call& call, const std::string& id);

  core::Result<Closure> AddClosure(const modules::Call& call, const std::string& clinic_id, Closure draft);
  core::Result<Page<Closure>> ListClosures(const modules::Call& call, const std::string& clinic_id,
                                           const kit::PageRequest& page);

  core::Result<Service> AddService(const modules::Call& call, const std::string& clinic_id, Service draft);
  // The page as its JSON answer ({items, next_cursor}), served from the catalogue cache while
  // it hears PostgreSQL's change notices; the first page at the default limit is pre-rendered.
  core::Result<std::string> ListServices(const modules::Call& call, const std::string& clinic_id,
                                         const kit::PageRequest& page, const ServiceFilter& filter);
  core::Result<Service> UpdateService(const modules::Call& call, const std::string& id, const ServicePatch& patch);
  core::Status DeleteService(const modules::Call& call, const std::string& id);

  core::Result<Practitioner> AddPractitioner(const modules::Call& call, const std::string& clinic_id,
                                             const NewPractitioner& request);
  core::Result<Page<Practitioner>> ListPractitioners(const modules::Call& call, const std::string& clinic_id,
                                                     const kit::PageRequest& page);
  core::Result<TimeOff> AddTimeOff(const modules::Call& call, const std::string& clinic_id, TimeOff draft);

  core::Result<Resource> AddResource(const modules::Call& call, const std::string& clinic_id, Resource draft);
  core::Result<Page<Resource>> ListResources(const modules::Call& call, const std::string& clinic_id,
                                             const kit::PageRequest& page);

  // True when the membership is new (201), false when it existed (200).
  core::Result<std::pair<StaffMember, bool>> AddStaff(const modules::Call& call, const std::string& clinic_id,
                                                      const std::string& user_id);
  core::Status RemoveStaff(const modules::Call& call, const std::string& clinic_id, const std::string& user_id);
  core::Result<Page<StaffMember>> ListStaff(const modules::Call& call, const std::string& clinic_id,
                                            const kit::PageRequest& page);

  // The clinics a user's per-clinic scope covers (auth::ClinicScopeSource).
  core::Result<std::vector<std::string>> ClinicsOf(const auth::RealmContext& realm, const std::string& user_id,
                                                   const std::string& role);

 private:
  core::Result<std::optional<std::shared_ptr<const Catalogue>>> LoadCatalogue(const modules::Call& call,
                                                                              const std::string& clinic_id);
  // Runs `fn(tx, jobs)` in a tenant transaction, then forgets the clinic's catalogue entry.
  template <typename Fn>
  auto Change(const modules::Call& call, const std::string& clinic_id, Fn&& fn);

  db::Database& database_;
  std::shared_ptr<jobs::JobClient> jobs_;
  std::shared_ptr<CatalogueCache> catalogue_;
};

// The per-clinic scope, answered by the clinics module for every module's rules.
std::shared_ptr<auth::ClinicScopeSource> MakeClinicScope(std::shared_ptr<ClinicsService> service);

}  // namespace clinicore::clinics
