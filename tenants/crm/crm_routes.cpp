#include "tenants/crm/crm_routes.hpp"

namespace clinicore::crm {

void RegisterCrmRoutes(modules::RouteTable& routes, std::shared_ptr<CrmHandler> handler) {
  using auth::ManagerRoles;
  using auth::RolesMay;
  using auth::ScopedToClinics;
  using http::Method;
  using modules::Bind;
  const http::RouteOptions json{.json_body = true};
  // Who works leads, and who of them sees only their clinics' (the rest of the rule, a
  // salesperson's own and unowned leads, is the row scope in SQL: CLINICORE_LEAD_VISIBLE).
  const std::vector<std::string> workers = {"admin", "clinic_owner", "secretariat", "salesperson"};
  auto leads = [&](Method method, const char* path, std::vector<std::string> roles, std::string note = {}) {
    return ScopedToClinics(RolesMay(method, path, std::move(roles), {}, std::move(note)),
                           {"clinic_owner", "secretariat", "salesperson"});
  };
  const std::string visible = "their clinics' leads; salespeople: their own and their clinics' unowned ones";

  routes.AddIdempotent(leads(Method::kPost, "/v1/crm/leads", workers, "a duplicate merges (200); Idempotency-Key"),
                       Bind(handler, &CrmHandler::CreateLead), json);
  routes.Add(leads(Method::kGet, "/v1/crm/leads", workers, visible), Bind(handler, &CrmHandler::ListLeads));
  routes.Add(leads(Method::kGet, "/v1/crm/leads/{id}", workers, visible), Bind(handler, &CrmHandler::GetLead));
  routes.Add(leads(Method::kGet, "/v1/crm/leads/{id}/activities", workers, visible),
             Bind(handler, &CrmHandler::ListActivities));
  routes.Add(leads(Method::kPatch, "/v1/crm/leads/{id}", workers, visible), Bind(handler, &CrmHandler::UpdateLead),
             json);
  routes.Add(leads(Method::kPost, "/v1/crm/leads/{id}/assign", workers, "salespeople: themselves, to unowned leads"),
             Bind(handler, &CrmHandler::AssignLead), json);
  routes.AddIdempotent(leads(Method::kPost, "/v1/crm/leads/{id}/notes", workers, visible),
                       Bind(handler, &CrmHandler::AddNote), json);
  routes.Add(leads(Method::kDelete, "/v1/crm/leads/{id}", ManagerRoles(), "soft delete"),
             Bind(handler, &CrmHandler::DeleteLead));
  routes.Add(leads(Method::kPost, "/v1/crm/leads/{id}/tags/{tag_id}", workers, visible),
             Bind(handler, &CrmHandler::AttachTag));
  routes.Add(leads(Method::kDelete, "/v1/crm/leads/{id}/tags/{tag_id}", workers, visible),
             Bind(handler, &CrmHandler::DetachTag));

  routes.AddIdempotent(RolesMay(Method::kPost, "/v1/admin/tags", ManagerRoles(), {}, "a taken name is 409"),
                       Bind(handler, &CrmHandler::CreateTag), json);
  routes.Add(RolesMay(Method::kGet, "/v1/admin/tags", workers), Bind(handler, &CrmHandler::ListTags));
  routes.Add(RolesMay(Method::kPatch, "/v1/admin/tags/{id}", ManagerRoles()), Bind(handler, &CrmHandler::UpdateTag),
             json);
  routes.Add(RolesMay(Method::kDelete, "/v1/admin/tags/{id}", ManagerRoles(), {}, "leaves every lead it was on"),
             Bind(handler, &CrmHandler::DeleteTag));

  routes.Add(RolesMay(Method::kGet, "/v1/crm/settings", ManagerRoles()), Bind(handler, &CrmHandler::GetSettings));
  routes.Add(RolesMay(Method::kPatch, "/v1/crm/settings", {"admin"}), Bind(handler, &CrmHandler::UpdateSettings), json);
}

}  // namespace clinicore::crm
