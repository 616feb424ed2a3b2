#pragma once

#include <memory>

#include "platform/modules/route_table.hpp"
#include "tenants/clinics/clinics_service.hpp"

namespace clinicore::clinics {

// Parses and validates each request (every refusal a 400 naming its field), calls one
// service function, and serializes the answer. No SQL, no business rules.
class ClinicsHandler {
 public:
  explicit ClinicsHandler(std::shared_ptr<ClinicsService> service) : service_(std::move(service)) {}

  core::Result<http::Response> CreateClinic(modules::Call& call);
  core::Result<http::Response> ListClinics(modules::Call& call);
  core::Result<http::Response> GetClinic(modules::Call& call);
  core::Result<http::Response> UpdateClinic(modules::Call& call);
  core::Result<http::Response> DeleteClinic(modules::Call& call);
  core::Result<http::Response> RestoreClinic(modules::Call& call);
  core::Result<http::Response> AddClosure(modules::Call& call);
  core::Result<http::Response> ListClosures(modules::Call& call);
  core::Result<http::Response> AddService(modules::Call& call);
  core::Result<http::Response> ListServices(modules::Call& call);
  core::Result<http::Response> UpdateService(modules::Call& call);
  core::Result<http::Response> DeleteService(modules::Call& call);
  core::Result<http::Response> AddPractitioner(modules::Call& call);
  core::Result<http::Response> ListPractitioners(modules::Call& call);
  core::Result<http::Response> AddTimeOff(modules::Call& call);
  core::Result<http::Response> AddResource(modules::Call& call);
  core::Result<http::Response> ListResources(modules::Call& call);
  core::Result<http::Response> AddStaff(modules::Call& call);
  core::Result<http::Response> RemoveStaff(modules::Call& call);
  core::Result<http::Response> ListStaff(modules::Call& call);

 private:
  std::shared_ptr<ClinicsService> service_;
};

}  // namespace clinicore::clinics
