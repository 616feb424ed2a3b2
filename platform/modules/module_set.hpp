#pragma once

#include <memory>
#include <string>
#include <vector>

#include "platform/auth/access_policy.hpp"
#include "platform/http/router.hpp"
#include "platform/modules/idempotency.hpp"
#include "platform/modules/module.hpp"

namespace clinicore::modules {

// The recurring job that drops each tenant's expired Idempotency-Key answers.
inline constexpr const char* kIdempotencyPurgeKind = "modules.idempotency-purge";

// Builds the one list of modules (defined by tenants/modules.cpp: the only place that names
// them). Every process calls it with the same services.
ModuleList MakeModules(const ModuleServices& services);

// The list, asked for each part a process needs. Start-up mistakes (two modules of one name,
// two answering the clinic scope) throw std::logic_error.
class ModuleSet {
 public:
  explicit ModuleSet(ModuleList modules);

  // The modules' statements and the request kit's (audit, Idempotency-Key).
  void RegisterStatements(db::Database& database) const;
  // Registers every module's routes on `router` and returns their access rows. `keys` must
  // outlive the router.
  std::vector<auth::AccessRule> RegisterRoutes(http::Router& router, const IdempotencyKeys& keys) const;
  // Job kinds, schedules, the event fan-out with every module's subscriptions, and the
  // request kit's own (the Idempotency-Key purge).
  void RegisterJobs(jobs::JobRegistry& registry) const;
  void JoinOnboarding(tenancy::TenantService& tenants) const;
  void StartServing() const;
  void StopServing() const;
  std::shared_ptr<auth::ClinicScopeSource> ClinicScope() const { return clinic_scope_; }
  // Every module's personal-data map, each entry tagged with its module.
  std::vector<std::pair<std::string, PersonalDataTable>> PersonalData() const;
  const ModuleList& modules() const { return modules_; }

 private:
  ModuleList modules_;
  std::shared_ptr<auth::ClinicScopeSource> clinic_scope_;
};

}  // namespace clinicore::modules
