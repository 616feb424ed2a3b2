#pragma once

#include <memory>

#include "platform/modules/route_table.hpp"
#include "tenants/crm/crm_service.hpp"

namespace clinicore::crm {

// Parses and validates each request (every refusal a 400 naming its field), calls one
// service function, and serializes the answer. No SQL, no business rules.
class CrmHandler {
 public:
  explicit CrmHandler(std::shared_ptr<CrmService> service) : service_(std::move(service)) {}

  core::Result<http::Response> GetSettings(modules::Call& call);
  core::Result<http::Response> UpdateSettings(modules::Call& call);
  core::Result<http::Response> CreateLead(modules::Call& call);
  core::Result<http::Response> ListLeads(modules::Call& call);
  core::Result<http::Response> GetLead(modules::Call& call);
  core::Result<http::Response> ListActivities(modules::Call& call);
  core::Result<http::Response> UpdateLead(modules::Call& call);
  core::Result<http::Response> AssignLead(modules::Call& call);
  core::Result<http::Response> AddNote(modules::Call& call);
  core::Result<http::Response> DeleteLead(modules::Call& call);
  core::Result<http::Response> CreateTag(modules::Call& call);
  core::Result<http::Response> ListTags(modules::Call& call);
  core::Result<http::Response> UpdateTag(modules::Call& call);
  core::Result<http::Response> DeleteTag(modules::Call& call);
  core::Result<http::Response> AttachTag(modules::Call& call);
  core::Result<http::Response> DetachTag(modules::Call& call);

 private:
  std::shared_ptr<CrmService> service_;
};

}  // namespace clinicore::crm
