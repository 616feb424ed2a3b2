#include "tenants/clinics/clinics_service.hpp"

#include <algorithm>

#include "platform/modules/audit.hpp"
#include "platform/modules/events.hpp"

namespace clinicore::clinics {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;
using modules::Call;

Error NoSuchClinic() {
  return Error::NotFound("No such clinic.");
}
Error NoSuchService() {
  return Error::NotFound("No such service.");
}

bool IsClient(const Call& call) {
  return call.HasRole("client");
}

// The keyset position a cursor carries: [key, id] (or [key] for lists ordered by one id).
After AfterOf(const kit::PageRequest& page) {
  After after;
  if (!page.after) return after;
  const auto& position = *page.after;
  if (!position.empty() && position[0].is_string()) after.key = position[0].get<std::string>();
  if (position.size() > 1 && position[1].is_string()) after.id = position[1].get<std::string>();
  return after;
}

// A clinic the caller may see: live, within their scope, active unless they are staff.
Result<Clinic> VisibleClinic(db::Transaction& tx, const Call& call, const std::string& id, bool for_update = false) {
  if (!call.SeesClinic(id)) return NoSuchClinic();
  auto clinic = ClinicStore::FindClinic(tx, id, for_update);
  if (!clinic || (IsClient(call) && !clinic->active)) return NoSuchClinic();
  return *clinic;
}

// Memberships name accounts of this tenant that may work, in one of `roles`.
Result<AccountFacts> RequireAccount(db::Transaction& tx, const std::string& user_id,
                                    const std::vector<std::string>& roles, const std::string& field,
                                    const std::string& what) {
  const auto account = ClinicStore::FindAccount(tx, user_id);
  if (!account || !account->can_work) {
    return Error::InvalidArgument("No active user '" + user_id + "' exists in this tenant.",
                                  {{field, "is not an active user of this tenant"}});
  }
  if (std::find(roles.begin(), roles.end(), account->role) == roles.end()) {
    return Error::InvalidArgument("This user is a " + account->role + ", not " + what + ".",
                                  {{field, "must be " + what}});
  }
  return *account;
}

nlohmann::json ServicePosition(const Service& service) {
  return nlohmann::json{service.name, service.id};
}

template <typename Record>
std::string PageBody(const kit::Page<Record>& page) {
  return kit::PageJson(page).dump();
}

// One page of a clinic's services, in memory, exactly as the database pages them: by (name,
// id) in byte order (queries.hpp sorts with COLLATE "C").
kit::Page<Service> ServicesPage(const std::vector<Service>& services, bool only_active, const kit::PageRequest& page,
                                const ServiceFilter& filter = {}) {
  const After after = AfterOf(page);
  std::vector<Service> rows;
  for (const auto& service : services) {
    if ((only_active && !service.active) || !filter.Matches(service)) continue;
    if (after.key && after.id && std::tie(service.name, service.id) <= std::tie(*after.key, *after.id)) continue;
    rows.push_back(service);
    if (rows.size() > static_cast<size_t>(page.limit)) break;
  }
  return kit::MakePage(std::move(rows), page, ServicePosition);
}

}  // namespace

ClinicsService::ClinicsService(db::Database& database, std::shared_ptr<jobs::JobClient> jobs,
                               std::shared_ptr<CatalogueCache> catalogue)
    : database_(database), jobs_(std::move(jobs)), catalogue_(std::move(catalogue)) {}

template <typename Fn>
auto ClinicsService::Change(const Call& call, const std::string& clinic_id, Fn&& fn) {
  auto result = jobs_->WriteInTenant(call.tenant.Scope(), std::forward<Fn>(fn));
  // Our own next read must see the change before PostgreSQL's notice reaches the cache.
  if (result) catalogue_->Forget(CatalogueCache::KeyOf(call.tenant.schema_name, clinic_id));
  return result;
}

Result<Clinic> ClinicsService::CreateClinic(const Call& call, Clinic draft) {
  if (call.HasRole("clinic_owner")) {
    if (draft.owner_id && *draft.owner_id != call.actor.id) {
      return Error::PermissionDenied("Clinic owners create clinics they own themselves.");
    }
    draft.owner_id = call.actor.id;
  }
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Clinic> {
    if (draft.owner_id) {
      CLINICORE_TRY_STATUS(RequireAccount(tx, *draft.owner_id, {"clinic_owner"}, "owner_id", "a clinic_owner"));
    }
    Clinic clinic = ClinicStore::InsertClinic(tx, draft);
    modules::Audit(tx, call.actor, {"clinic.created", "clinic", clinic.id, nullptr, ToJson(clinic)});
    modules::Emit(jobs, "clinic.created", {{"clinic_id", clinic.id}, {"owner_id", ToJson(clinic)["owner_id"]}});
    tx.Commit();
    return clinic;
  });
}

Result<Page<Clinic>> ClinicsService::ListClinics(const Call& call, const kit::PageRequest& page,
                                                 const ClinicFilter& filter) {
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Page<Clinic>> {
    auto rows =
        ClinicStore::ListClinics(tx, IsClient(call), call.clinic_scope(), AfterOf(page), page.limit + 1, filter);
    return kit::MakePage(std::move(rows), page, [](const Clinic& c) { return nlohmann::json{c.name, c.id}; });
  });
}

Result<Clinic> ClinicsService::GetClinic(const Call& call, const std::string& id) {
  return database_.ReadOnceInTenant(call.tenant.Scope(),
                                    [&](db::Transaction& tx) { return VisibleClinic(tx, call, id); });
}

Result<Clinic> ClinicsService::UpdateClinic(const Call& call, const std::string& id, const ClinicPatch& patch) {
  if (patch.owner_id && !call.HasRole("admin")) {
    return Error::PermissionDenied("Only tenant admins may give a clinic to another owner.");
  }
  return Change(call, id, [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Clinic> {
    CLINICORE_TRY(const Clinic before, VisibleClinic(tx, call, id, /*for_update=*/true));
    if (patch.owner_id) {
      CLINICORE_TRY_STATUS(RequireAccount(tx, *patch.owner_id, {"clinic_owner"}, "owner_id", "a clinic_owner"));
    }
    auto after = ClinicStore::UpdateClinic(tx, id, patch);
    if (!after) return NoSuchClinic();
    modules::Audit(tx, call.actor, {"clinic.updated", "clinic", id, ToJson(before), ToJson(*after)});
    modules::Emit(jobs, "clinic.updated", {{"clinic_id", id}});
    tx.Commit();
    return *after;
  });
}

core::Status ClinicsService::DeleteClinic(const Call& call, const std::string& id) {
  return Change(call, id, [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, id, /*for_update=*/true));
    auto deleted = ClinicStore::SoftDeleteClinic(tx, id);
    if (!deleted) return NoSuchClinic();
    modules::Audit(tx, call.actor, {"clinic.deleted", "clinic", id, ToJson(*deleted), nullptr});
    modules::Emit(jobs, "clinic.deleted", {{"clinic_id", id}});
    tx.Commit();
    return core::Ok();
  });
}

Result<Clinic> ClinicsService::RestoreClinic(const Call& call, const std::string& id) {
  return Change(call, id, [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Clinic> {
    auto restored = ClinicStore::RestoreClinic(tx, id);
    if (!restored) return Error::NotFound("No deleted clinic has this id.");
    modules::Audit(tx, call.actor, {"clinic.restored", "clinic", id, nullptr, ToJson(*restored)});
    modules::Emit(jobs, "clinic.restored", {{"clinic_id", id}});
    tx.Commit();
    return *restored;
  });
}

Result<Closure> ClinicsService::AddClosure(const Call& call, const std::string& clinic_id, Closure draft) {
  draft.clinic_id = clinic_id;
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Closure> {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    Closure closure = ClinicStore::InsertClosure(tx, draft);
    modules::Audit(tx, call.actor, {"closure.created", "closure", closure.id, nullptr, ToJson(closure)});
    modules::Emit(jobs, "clinic.closure_added",
                  {{"clinic_id", clinic_id}, {"start_date", closure.start_date}, {"end_date", closure.end_date}});
    tx.Commit();
    return closure;
  });
}

Result<Page<Closure>> ClinicsService::ListClosures(const Call& call, const std::string& clinic_id,
                                                   const kit::PageRequest& page) {
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Page<Closure>> {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    auto rows = ClinicStore::ListClosures(tx, clinic_id, AfterOf(page), page.limit + 1);
    return kit::MakePage(std::move(rows), page, [](const Closure& c) { return nlohmann::json{c.start_date, c.id}; });
  });
}

Result<Service> ClinicsService::AddService(const Call& call, const std::string& clinic_id, Service draft) {
  draft.clinic_id = clinic_id;
  return Change(call, clinic_id, [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Service> {
    CLINICORE_TRY(const Clinic clinic, VisibleClinic(tx, call, clinic_id));
    if (draft.currency.empty()) draft.currency = clinic.currency;
    Service service = ClinicStore::InsertService(tx, draft);
    modules::Audit(tx, call.actor, {"service.created", "service", service.id, nullptr, ToJson(service)});
    modules::Emit(jobs, "service.created", {{"clinic_id", clinic_id}, {"service_id", service.id}});
    tx.Commit();
    return service;
  });
}

Result<std::string> ClinicsService::ListServices(const Call& call, const std::string& clinic_id,
                                                 const kit::PageRequest& page, const ServiceFilter& filter) {
  if (!call.SeesClinic(clinic_id)) return NoSuchClinic();
  const bool only_active = IsClient(call);
  const bool filtered = filter.active || filter.category;
  auto catalogue = catalogue_->ReadThrough(CatalogueCache::KeyOf(call.tenant.schema_name, clinic_id),
                                           [&] { return LoadCatalogue(call, clinic_id); });
  if (!catalogue) return std::move(catalogue).error();
  if (!*catalogue || (only_active && !(**catalogue)->clinic.active)) return NoSuchClinic();
  const Catalogue& entry = ***catalogue;
  if (!page.after && page.limit == kit::kDefaultPageLimit && !filtered) {
    return only_active ? entry.first_page_active : entry.first_page_all;
  }
  if (entry.services.size() > static_cast<size_t>(CatalogueCache::kMaxServices)) {
    // Too big to page in memory: the database pages it.
    return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<std::string> {
      return PageBody(
          kit::MakePage(ClinicStore::ListServices(tx, clinic_id, only_active, AfterOf(page), page.limit + 1, filter),
                        page, ServicePosition));
    });
  }
  return PageBody(ServicesPage(entry.services, only_active, page, filter));
}

Result<std::optional<std::shared_ptr<const Catalogue>>> ClinicsService::LoadCatalogue(const Call& call,
                                                                                      const std::string& clinic_id) {
  using Loaded = std::optional<std::shared_ptr<const Catalogue>>;
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Loaded> {
    auto clinic = ClinicStore::FindClinic(tx, clinic_id);
    if (!clinic) return Loaded();
    auto entry = std::make_shared<Catalogue>();
    entry->clinic = std::move(*clinic);
    entry->services = ClinicStore::ListServices(tx, clinic_id, false, {}, CatalogueCache::kMaxServices + 1, {});
    const kit::PageRequest first{kit::kDefaultPageLimit, std::nullopt, ServicesListName(clinic_id)};
    entry->first_page_all = PageBody(ServicesPage(entry->services, false, first));
    entry->first_page_active = PageBody(ServicesPage(entry->services, true, first));
    return Loaded(std::move(entry));
  });
}

Result<Service> ClinicsService::UpdateService(const Call& call, const std::string& id, const ServicePatch& patch) {
  std::string clinic_id;
  auto updated =
      jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Service> {
        auto before = ClinicStore::FindService(tx, id);
        if (!before || !call.SeesClinic(before->clinic_id)) return NoSuchService();
        clinic_id = before->clinic_id;
        auto after = ClinicStore::UpdateService(tx, id, patch);
        if (!after) return NoSuchService();
        modules::Audit(tx, call.actor, {"service.updated", "service", id, ToJson(*before), ToJson(*after)});
        modules::Emit(jobs, "service.updated", {{"clinic_id", clinic_id}, {"service_id", id}});
        tx.Commit();
        return *after;
      });
  if (updated) catalogue_->Forget(CatalogueCache::KeyOf(call.tenant.schema_name, clinic_id));
  return updated;
}

core::Status ClinicsService::DeleteService(const Call& call, const std::string& id) {
  std::string clinic_id;
  auto deleted = jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
    auto before = ClinicStore::FindService(tx, id);
    if (!before || !VisibleClinic(tx, call, before->clinic_id)) return NoSuchService();
    clinic_id = before->clinic_id;
    if (!ClinicStore::SoftDeleteService(tx, id)) return NoSuchService();
    modules::Audit(tx, call.actor, {"service.deleted", "service", id, ToJson(*before), nullptr});
    modules::Emit(jobs, "service.deleted", {{"clinic_id", clinic_id}, {"service_id", id}});
    tx.Commit();
    return core::Ok();
  });
  if (deleted) catalogue_->Forget(CatalogueCache::KeyOf(call.tenant.schema_name, clinic_id));
  return deleted;
}

Result<Practitioner> ClinicsService::AddPractitioner(const Call& call, const std::string& clinic_id,
                                                     const NewPractitioner& request) {
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Practitioner> {
    CLINICORE_TRY(const Clinic clinic, VisibleClinic(tx, call, clinic_id, /*for_update=*/true));
    CLINICORE_TRY(const AccountFacts doctor, RequireAccount(tx, request.user_id, {"doctor"}, "user_id", "a doctor"));
    const WeeklyHours hours = request.working_hours.value_or(clinic.opening_hours);
    if (const auto day = FirstDayOutside(hours, clinic.opening_hours)) {
      const std::string field = "working_hours." + std::string(kDayNames[static_cast<size_t>(*day)]);
      return Error::InvalidArgument("Working hours must lie within the clinic's opening hours.",
                                    {{field, "is outside the clinic's opening hours"}});
    }
    if (ClinicStore::CountClinicServices(tx, clinic_id, request.service_ids) !=
        static_cast<long long>(request.service_ids.size())) {
      return Error::InvalidArgument("Every service must be a service of this clinic.",
                                    {{"service_ids", "must be services of this clinic"}});
    }
    auto created_at = ClinicStore::InsertPractitioner(tx, clinic_id, request.user_id, hours, request.service_ids);
    if (!created_at) {
      return Error{ErrorCode::kAlreadyExists,
                   "This doctor already practises at this clinic.",
                   {},
                   {{"user_id", "already practises at this clinic"}}};
    }
    (void)ClinicStore::InsertStaff(tx, clinic_id, request.user_id);  // practitioners belong to their clinic
    Practitioner practitioner{clinic_id, request.user_id, doctor.full_name, request.service_ids, hours, *created_at};
    std::sort(practitioner.service_ids.begin(), practitioner.service_ids.end());
    modules::Audit(tx, call.actor,
                   {"practitioner.added", "practitioner", clinic_id + ":" + request.user_id, nullptr,
                    ToJson(practitioner), request.user_id});
    modules::Emit(jobs, "clinic.practitioner_added", {{"clinic_id", clinic_id}, {"user_id", request.user_id}});
    tx.Commit();
    return practitioner;
  });
}

Result<Page<Practitioner>> ClinicsService::ListPractitioners(const Call& call, const std::string& clinic_id,
                                                             const kit::PageRequest& page) {
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Page<Practitioner>> {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    auto rows = ClinicStore::ListPractitioners(tx, clinic_id, AfterOf(page), page.limit + 1);
    return kit::MakePage(std::move(rows), page, [](const Practitioner& p) { return nlohmann::json{p.user_id}; });
  });
}

Result<TimeOff> ClinicsService::AddTimeOff(const Call& call, const std::string& clinic_id, TimeOff draft) {
  draft.clinic_id = clinic_id;
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<TimeOff> {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    if (!ClinicStore::IsPractitioner(tx, clinic_id, draft.user_id)) {
      return Error::NotFound("This user does not practise at this clinic.");
    }
    TimeOff time_off = ClinicStore::InsertTimeOff(tx, draft);
    modules::Audit(tx, call.actor,
                   {"time_off.created", "time_off", time_off.id, nullptr, ToJson(time_off), draft.user_id});
    modules::Emit(
        jobs, "clinic.time_off_added",
        {{"clinic_id", clinic_id}, {"user_id", draft.user_id}, {"start", time_off.start}, {"end", time_off.end}});
    tx.Commit();
    return time_off;
  });
}

Result<Resource> ClinicsService::AddResource(const Call& call, const std::string& clinic_id, Resource draft) {
  draft.clinic_id = clinic_id;
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Resource> {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    Resource resource = ClinicStore::InsertResource(tx, draft);
    modules::Audit(tx, call.actor, {"resource.created", "resource", resource.id, nullptr, ToJson(resource)});
    modules::Emit(jobs, "clinic.resource_added", {{"clinic_id", clinic_id}, {"resource_id", resource.id}});
    tx.Commit();
    return resource;
  });
}

Result<Page<Resource>> ClinicsService::ListResources(const Call& call, const std::string& clinic_id,
                                                     const kit::PageRequest& page) {
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Page<Resource>> {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    auto rows = ClinicStore::ListResources(tx, clinic_id, AfterOf(page), page.limit + 1);
    return kit::MakePage(std::move(rows), page, [](const Resource& r) { return nlohmann::json{r.name, r.id}; });
  });
}

Result<std::pair<StaffMember, bool>> ClinicsService::AddStaff(const Call& call, const std::string& clinic_id,
                                                              const std::string& user_id) {
  return jobs_->WriteInTenant(
      call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<std::pair<StaffMember, bool>> {
        CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
        CLINICORE_TRY(const AccountFacts account, RequireAccount(tx, user_id, {"doctor", "secretariat", "salesperson"},
                                                                 "user_id", "a doctor, secretariat or salesperson"));
        const auto created_at = ClinicStore::InsertStaff(tx, clinic_id, user_id);
        StaffMember member{clinic_id, user_id, account.full_name, account.role, created_at.value_or("")};
        if (created_at) {
          modules::Audit(tx, call.actor,
                         {"staff.added", "clinic_staff", clinic_id + ":" + user_id, nullptr, ToJson(member), user_id});
          modules::Emit(jobs, "clinic.staff_added", {{"clinic_id", clinic_id}, {"user_id", user_id}});
        }
        tx.Commit();
        return std::pair<StaffMember, bool>(member, created_at.has_value());
      });
}

core::Status ClinicsService::RemoveStaff(const Call& call, const std::string& clinic_id, const std::string& user_id) {
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    if (!ClinicStore::DeleteStaff(tx, clinic_id, user_id)) {
      return Error::NotFound("This user does not belong to this clinic.");
    }
    modules::Audit(tx, call.actor,
                   {"staff.removed",
                    "clinic_staff",
                    clinic_id + ":" + user_id,
                    {{"clinic_id", clinic_id}, {"user_id", user_id}},
                    nullptr,
                    user_id});
    modules::Emit(jobs, "clinic.staff_removed", {{"clinic_id", clinic_id}, {"user_id", user_id}});
    tx.Commit();
    return core::Ok();
  });
}

Result<Page<StaffMember>> ClinicsService::ListStaff(const Call& call, const std::string& clinic_id,
                                                    const kit::PageRequest& page) {
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Page<StaffMember>> {
    CLINICORE_TRY_STATUS(VisibleClinic(tx, call, clinic_id));
    auto rows = ClinicStore::ListStaff(tx, clinic_id, AfterOf(page), page.limit + 1);
    return kit::MakePage(std::move(rows), page, [](const StaffMember& m) { return nlohmann::json{m.user_id}; });
  });
}

Result<std::vector<std::string>> ClinicsService::ClinicsOf(const auth::RealmContext& realm, const std::string& user_id,
                                                           const std::string&) {
  return realm.ReadOnce(database_, [&](db::Transaction& tx) -> Result<std::vector<std::string>> {
    return ClinicStore::ClinicsOfUser(tx, user_id);
  });
}

namespace {

class ClinicScope final : public auth::ClinicScopeSource {
 public:
  explicit ClinicScope(std::shared_ptr<ClinicsService> service) : service_(std::move(service)) {}
  Result<std::vector<std::string>> ClinicsOf(const auth::RealmContext& realm, const std::string& user_id,
                                             const std::string& role) override {
    return service_->ClinicsOf(realm, user_id, role);
  }

 private:
  std::shared_ptr<ClinicsService> service_;
};

}  // namespace

std::shared_ptr<auth::ClinicScopeSource> MakeClinicScope(std::shared_ptr<ClinicsService> service) {
  return std::make_shared<ClinicScope>(std::move(service));
}

}  // namespace clinicore::clinics
