#include "platform/modules/module_set.hpp"

#include <set>
#include <stdexcept>

#include "platform/modules/audit.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::modules {

ModuleSet::ModuleSet(ModuleList modules) : modules_(std::move(modules)) {
  std::set<std::string, std::less<>> names;
  for (const auto& module : modules_) {
    if (!names.insert(std::string(module->Name())).second) {
      throw std::logic_error("refusing to start: two modules are named '" + std::string(module->Name()) + "'");
    }
    if (auto scope = module->ClinicScope()) {
      if (clinic_scope_) throw std::logic_error("refusing to start: two modules answer the per-clinic scope");
      clinic_scope_ = std::move(scope);
    }
  }
}

void ModuleSet::RegisterStatements(db::Database& database) const {
  RegisterAuditStatements(database);
  IdempotencyKeys::RegisterStatements(database);
  for (const auto& module : modules_) module->RegisterStatements(database);
}

std::vector<auth::AccessRule> ModuleSet::RegisterRoutes(http::Router& router, const IdempotencyKeys& keys) const {
  RouteTable table(router, keys);
  for (const auto& module : modules_) module->RegisterRoutes(table);
  return table.rules();
}

void ModuleSet::RegisterJobs(jobs::JobRegistry& registry) const {
  std::vector<EventSubscription> subscriptions;
  for (const auto& module : modules_) {
    module->RegisterJobs(registry);
    for (auto& subscription : module->Subscriptions()) {
      subscription.subscriber = std::string(module->Name());
      subscriptions.push_back(std::move(subscription));
    }
  }
  RegisterEventKinds(registry, std::move(subscriptions));
  // Idempotency-Key answers are kept 24 hours; each tenant's expired ones go hourly.
  registry.Register(kIdempotencyPurgeKind, [](jobs::JobContext& context) -> jobs::Outcome {
    if (context.tenant() == nullptr) return jobs::Outcome::Done();
    auto purged = IdempotencyKeys(context.database()).PurgeExpired(context.tenant()->Scope());
    if (!purged) return jobs::Outcome::Retry(purged.error().detail);
    return jobs::Outcome::Done();
  });
  registry.AddSchedule({.name = kIdempotencyPurgeKind,
                        .kind = kIdempotencyPurgeKind,
                        .spec = jobs::ScheduleSpec::Every(std::chrono::hours(1)),
                        .max_attempts = 3});
}

void ModuleSet::JoinOnboarding(tenancy::TenantService& tenants) const {
  for (const auto& module : modules_) {
    for (auto& hook : module->OnboardingHooks()) tenants.AddOnboardExtension(std::move(hook));
  }
}

void ModuleSet::StartServing() const {
  for (const auto& module : modules_) module->StartServing();
}

void ModuleSet::StopServing() const {
  for (const auto& module : modules_) module->StopServing();
}

std::vector<std::pair<std::string, PersonalDataTable>> ModuleSet::PersonalData() const {
  std::vector<std::pair<std::string, PersonalDataTable>> all;
  for (const auto& module : modules_) {
    for (auto& table : module->PersonalData()) all.emplace_back(std::string(module->Name()), std::move(table));
  }
  return all;
}

}  // namespace clinicore::modules
