#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "platform/auth/access_policy.hpp"
#include "platform/auth/account_cache.hpp"
#include "platform/auth/auth_service.hpp"
#include "platform/cache/redis_client.hpp"
#include "platform/core/config.hpp"
#include "platform/core/metrics.hpp"
#include "platform/db/database.hpp"
#include "platform/jobs/enqueue.hpp"
#include "platform/jobs/registry.hpp"
#include "platform/modules/events.hpp"
#include "platform/modules/route_table.hpp"
#include "platform/tenancy/tenant_service.hpp"

// The module seam (docs/modules.md, docs/decisions/0010-module-seam.md): every clinic module
// under tenants/ implements Module, and one list (tenants/modules.cpp) names them all.
// `serve`, `work` and the CLI build that list and ask each module for its part; nothing in
// platform/ names a module.
namespace clinicore::modules {

// What the platform lends every module, built once per process.
struct ModuleServices {
  const core::Config& config;
  db::Database& database;
  std::shared_ptr<cache::RedisClient> redis;
  std::shared_ptr<core::Metrics> metrics;
  // Enqueues jobs and events in the caller's transaction and wakes the workers on commit.
  std::shared_ptr<jobs::JobClient> jobs;
  std::shared_ptr<auth::AuthService> auth;
  std::shared_ptr<auth::AccountCache> accounts;
};

// How a column that holds a person's data is erased when that person asks (GDPR art. 17).
enum class Erasure {
  kDeleteRow,  // the row goes (memberships, tokens)
  kAnonymize,  // the columns are overwritten, the row stays for the records that point at it
  kRetain,     // kept under a legal duty (audit trail); `basis` says which
};

// What a table's subject column identifies the person by.
enum class Subject {
  kUser,   // a user id (staff and clients with an account)
  kEmail,  // a normalized (lower-case) email: people without an account, such as leads
  kPhone,  // an E.164 phone number
  kLead,   // a lead id: rows about a lead, found through the lead's email or phone
};

// One table's share of a person's data: the compliance module iterates every module's map
// for export and erasure, so a module that holds personal data cannot be forgotten.
struct PersonalDataTable {
  std::string table;                 // in the tenant's schema
  std::string subject_column;        // the column identifying the person (see `subject`)
  std::vector<std::string> columns;  // what an export carries
  Erasure erasure = Erasure::kDeleteRow;
  std::string basis = {};  // why it is kept (kRetain) or what anonymizing writes (kAnonymize)
  Subject subject = Subject::kUser;
};
using PersonalDataMap = std::vector<PersonalDataTable>;

class Module {
 public:
  virtual ~Module() = default;

  // Lower case, one word: the prefix of its statements ("clinics.insert_clinic"), job kinds
  // ("clinics.<name>") and event subscriptions.
  virtual std::string_view Name() const = 0;
  // Called before the pool opens its first connection, in every process.
  virtual void RegisterStatements(db::Database& database) = 0;
  // Its routes, each with its access row (`serve` and `clinicore auth policy`).
  virtual void RegisterRoutes(RouteTable& routes) = 0;
  // Its job kinds and recurring schedules (`work`).
  virtual void RegisterJobs(jobs::JobRegistry& registry) { (void)registry; }
  // The domain events of other modules it acts on (`work`, through the event fan-out).
  virtual std::vector<EventSubscription> Subscriptions() { return {}; }
  // Run in the onboarding transaction, as the new tenant, in list order.
  virtual std::vector<tenancy::OnboardExtension> OnboardingHooks() { return {}; }
  // The per-clinic row scope other modules' rules declare; at most one module answers it.
  virtual std::shared_ptr<auth::ClinicScopeSource> ClinicScope() { return nullptr; }
  // `serve` calls these once its routes are registered and when it stops (listeners of
  // caches, background refreshers); other processes never do.
  virtual void StartServing() {}
  virtual void StopServing() {}
  // Every table and column where it keeps a person's data; empty only when it keeps none.
  virtual PersonalDataMap PersonalData() const = 0;
};

using ModuleList = std::vector<std::unique_ptr<Module>>;

}  // namespace clinicore::modules
