#include "tenants/clinics/clinics_routes.hpp"

namespace clinicore::clinics {

void RegisterClinicsRoutes(modules::RouteTable& routes, std::shared_ptr<ClinicsHandler> handler) {
  using auth::EveryRole;
  using auth::ManagerRoles;
  using auth::RolesMay;
  using auth::ScopedRoles;
  using auth::ScopedToClinics;
  using auth::StaffRoles;
  using http::Method;
  using modules::Bind;
  const http::RouteOptions json{.json_body = true};
  const std::vector<std::string> owners = {"clinic_owner"};
  // Rows scoped per clinic: `ScopedRoles()` see only their own clinics; "id" names the clinic.
  auto scoped = [](auth::AccessRule rule, std::vector<std::string> roles) {
    return ScopedToClinics(std::move(rule), std::move(roles), "id");
  };

  routes.AddIdempotent(RolesMay(Method::kPost, "/v1/clinics", ManagerRoles(), {},
                                "a clinic owner creates clinics they own; Idempotency-Key"),
                       Bind(handler, &ClinicsHandler::CreateClinic), json);
  routes.Add(ScopedToClinics(RolesMay(Method::kGet, "/v1/clinics", EveryRole(), {},
                                      "staff: their clinics; clients: active clinics"),
                             ScopedRoles()),
             Bind(handler, &ClinicsHandler::ListClinics));
  routes.Add(
      scoped(RolesMay(Method::kGet, "/v1/clinics/{id}", EveryRole(), {}, "clients: active clinics"), ScopedRoles()),
      Bind(handler, &ClinicsHandler::GetClinic));
  routes.Add(scoped(RolesMay(Method::kPatch, "/v1/clinics/{id}", ManagerRoles(), {}, "owner_id: admins only"), owners),
             Bind(handler, &ClinicsHandler::UpdateClinic), json);
  routes.Add(scoped(RolesMay(Method::kDelete, "/v1/clinics/{id}", ManagerRoles(), {}, "soft delete"), owners),
             Bind(handler, &ClinicsHandler::DeleteClinic));
  routes.Add(RolesMay(Method::kPost, "/v1/clinics/{id}/restore", {"admin"}, {}, "undoes a soft delete"),
             Bind(handler, &ClinicsHandler::RestoreClinic));

  routes.AddIdempotent(scoped(RolesMay(Method::kPost, "/v1/clinics/{id}/closures", ManagerRoles()), owners),
                       Bind(handler, &ClinicsHandler::AddClosure), json);
  routes.Add(scoped(RolesMay(Method::kGet, "/v1/clinics/{id}/closures", StaffRoles()), ScopedRoles()),
             Bind(handler, &ClinicsHandler::ListClosures));

  routes.AddIdempotent(scoped(RolesMay(Method::kPost, "/v1/clinics/{id}/services", ManagerRoles()), owners),
                       Bind(handler, &ClinicsHandler::AddService), json);
  routes.Add(scoped(RolesMay(Method::kGet, "/v1/clinics/{id}/services", EveryRole(), {},
                             "clients: active services of active clinics"),
                    ScopedRoles()),
             Bind(handler, &ClinicsHandler::ListServices));
  // The service's clinic is known only after reading it: the handler applies the scope.
  routes.Add(ScopedToClinics(RolesMay(Method::kPatch, "/v1/services/{id}", ManagerRoles(), {},
                                      "clinic owners: services of their clinics"),
                             owners),
             Bind(handler, &ClinicsHandler::UpdateService), json);
  routes.Add(ScopedToClinics(RolesMay(Method::kDelete, "/v1/services/{id}", ManagerRoles(), {},
                                      "soft delete; clinic owners: services of their clinics"),
                             owners),
             Bind(handler, &ClinicsHandler::DeleteService));

  routes.AddIdempotent(
      scoped(RolesMay(Method::kPost, "/v1/clinics/{id}/practitioners", ManagerRoles(), {}, "the user must be a doctor"),
             owners),
      Bind(handler, &ClinicsHandler::AddPractitioner), json);
  routes.Add(scoped(RolesMay(Method::kGet, "/v1/clinics/{id}/practitioners", StaffRoles()), ScopedRoles()),
             Bind(handler, &ClinicsHandler::ListPractitioners));
  auto time_off = RolesMay(Method::kPost, "/v1/clinics/{id}/practitioners/{user_id}/time-off",
                           {"admin", "clinic_owner", "secretariat", "doctor"}, {"doctor"}, "doctors: their own");
  time_off.own_param = "user_id";
  routes.AddIdempotent(scoped(std::move(time_off), {"clinic_owner", "secretariat", "doctor"}),
                       Bind(handler, &ClinicsHandler::AddTimeOff), json);

  routes.AddIdempotent(scoped(RolesMay(Method::kPost, "/v1/clinics/{id}/resources", ManagerRoles()), owners),
                       Bind(handler, &ClinicsHandler::AddResource), json);
  routes.Add(scoped(RolesMay(Method::kGet, "/v1/clinics/{id}/resources", StaffRoles()), ScopedRoles()),
             Bind(handler, &ClinicsHandler::ListResources));

  routes.Add(scoped(RolesMay(Method::kGet, "/v1/clinics/{id}/staff", StaffRoles()), ScopedRoles()),
             Bind(handler, &ClinicsHandler::ListStaff));
  routes.Add(scoped(RolesMay(Method::kPost, "/v1/clinics/{id}/staff/{user_id}", ManagerRoles(), {},
                             "doctors, secretariat and salespeople"),
                    owners),
             Bind(handler, &ClinicsHandler::AddStaff));
  routes.Add(scoped(RolesMay(Method::kDelete, "/v1/clinics/{id}/staff/{user_id}", ManagerRoles()), owners),
             Bind(handler, &ClinicsHandler::RemoveStaff));
}

}  // namespace clinicore::clinics
