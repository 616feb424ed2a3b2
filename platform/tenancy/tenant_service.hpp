#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/result.hpp"
#include "platform/db/database.hpp"
#include "platform/kit/page.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/tenancy/tenant.hpp"
#include "platform/tenancy/tenant_directory.hpp"

namespace clinicore::tenancy {

// Who asked, for the console audit trail.
struct Actor {
  std::string name;        // "console:bootstrap", "cli:root"
  std::string request_id;  // empty outside HTTP
};

struct OnboardRequest {
  std::string slug;
  std::string display_name;
  std::string time_zone = "UTC";
  std::string locale = "en";
  nlohmann::json limits = nlohmann::json::object();
  // The first account, handed to the onboarding extension (the users module) unread here.
  nlohmann::json owner = nullptr;
};

struct ProfilePatch {
  std::optional<std::string> display_name;
  std::optional<std::string> time_zone;
  std::optional<std::string> locale;
  std::optional<nlohmann::json> limits;
};

struct OnboardResult {
  Tenant tenant;
  bool replayed = false;           // answered from an earlier request with the same Idempotency-Key
  bool from_spare = false;         // took a ready spare's role and schema (RefillSpares)
  nlohmann::json owner = nullptr;  // what the extension made (not repeated on a replay)
};

// How a tenant module joins onboarding without the platform knowing it: `validate` checks
// the request's owner before anything is written; `provision` runs inside the onboarding
// transaction as the new tenant (its role and schema), so the owner account commits with
// the schema or not at all.
struct OnboardExtension {
  std::function<core::Status(const nlohmann::json& owner)> validate;
  std::function<core::Result<nlohmann::json>(db::Transaction& tx, const Tenant& tenant, const nlohmann::json& owner)>
      provision;
};

inline constexpr const char* kTenantList = "console.tenants";

struct TenantPage {
  std::vector<Tenant> items;
  std::optional<std::string> next_cursor;
};

// The console's list of tenants, by slug. `page.list` is the cursors' list (kTenantList plus
// the filters, as kit::ParseListQuery makes it).
struct ListQuery {
  std::optional<std::string> status;
  std::optional<std::string> search;
  kit::PageRequest page = {.list = kTenantList};
};

struct TenantDetail {
  Tenant tenant;
  int pending_migrations = 0;
  std::map<std::string, long long> row_counts;  // table → rows, in the tenant's schema
};

struct TenantMigrations {
  std::vector<migrations::AppliedMigration> applied;
  std::vector<std::string> pending;
};

// Steps of onboarding, named so tests can inject a failure at each one.
enum class OnboardStep { kClaimSpare, kCreateRole, kCreateSchema, kMigrate, kRegister };
// Given the tenant being onboarded, so a test can look for exactly its role and schema (role
// names are cluster-wide, and other test databases onboard tenants at the same time).
using FaultInjector = std::function<void(OnboardStep, const Tenant&)>;

struct SpareReport {
  int created = 0;
  int dropped = 0;  // older than this binary's tenant migrations, or beyond the number asked for
};

struct ExportReport {
  std::string location;  // the folder written
  int tables = 0;
  long long rows = 0;
};

struct TenancyOptions {
  int retention_hours = 24 * 30;  // offboarding → drop, after the export exists
};

// Business rules of the tenant lifecycle; every change is one transaction with its audit
// row, and every change tells the directory (and through it, other replicas).
class TenantService {
 public:
  TenantService(db::Database& database, std::vector<migrations::MigrationFile> tenant_migrations,
                std::shared_ptr<TenantDirectory> directory, TenancyOptions options = {});

  core::Result<OnboardResult> Onboard(const OnboardRequest& request, const Actor& actor,
                                      const std::optional<std::string>& idempotency_key);
  core::Result<TenantPage> List(const ListQuery& query);
  core::Result<TenantDetail> Get(const std::string& key);
  core::Result<Tenant> UpdateProfile(const std::string& key, const ProfilePatch& patch, const Actor& actor);
  core::Result<Tenant> Suspend(const std::string& key, const std::optional<std::string>& reason, const Actor& actor);
  core::Result<Tenant> Resume(const std::string& key, const Actor& actor);
  core::Result<Tenant> Offboard(const std::string& key, const Actor& actor);
  core::Result<TenantMigrations> Migrations(const std::string& key);

  // Writes every table of the tenant's schema as JSON lines (one file per table, plus a
  // manifest) into a new folder under `directory`, read as the tenant's own role, and
  // records the export. Offboarding requires one before the schema may be dropped.
  core::Result<ExportReport> Export(const std::string& key, const std::string& directory, const Actor& actor);
  // Drops an offboarding tenant's schema and role and removes it from the registry, once its
  // retention has passed and an export exists. One transaction; audited.
  core::Result<Tenant> Purge(const std::string& key, const Actor& actor);
  // Purges every tenant that is due; returns the slugs purged and why others were skipped.
  core::Result<std::vector<std::pair<std::string, std::string>>> PurgeDue(const Actor& actor);

  // Keeps `per_cell` spares ready in each cell this node serves: a tenant's role and schema,
  // migrated to latest_version(), that onboarding claims instead of provisioning while the
  // client waits (docs/decisions/0013-tenant-spares.md). Drops older spares and extras, then
  // provisions the missing ones, one transaction each on the cell's login. Workers may run it
  // at the same time: each cell's refills take turns.
  core::Result<SpareReport> RefillSpares(int per_cell);

  const std::vector<migrations::MigrationFile>& tenant_migrations() const { return tenant_migrations_; }
  int latest_version() const;

  void SetFaultInjector(FaultInjector injector) { fault_ = std::move(injector); }
  // Onboarding hooks of the modules, run in the order added. Each may validate the request's
  // `owner` object and seed its tables in the onboarding transaction, as the new tenant; the
  // objects they return are merged into the answer's `owner`.
  void AddOnboardExtension(OnboardExtension extension) { extensions_.push_back(std::move(extension)); }

 private:
  core::Result<Tenant> Transition(const std::string& key, const std::string& to,
                                  std::initializer_list<std::string_view> allowed_from,
                                  const std::optional<std::string>& reason, const Actor& actor,
                                  const std::string& audit_action, const std::string& action);
  core::Result<nlohmann::json> ProvisionAsTenant(db::Transaction& tx, const Tenant& tenant,
                                                 const nlohmann::json& owner);
  // Gives `tenant` (id, role) a role and a migrated schema in its cell: a spare's, renamed,
  // when one is ready, else made now. Returns whether it was a spare.
  core::Result<bool> ProvisionObjects(db::Transaction& tx, Tenant& tenant);
  // After an onboarding that made its role in line: the grant once more, in a later
  // transaction, so no backend keeps a membership list without it (migrations/platform/0012).
  void AnnounceRole(const Tenant& tenant);
  core::Result<int> DropSurplusSpares(int per_cell);
  // One spare more in `cell` unless it has `per_cell`; false when it had them.
  core::Result<bool> AddSpare(int cell, int per_cell);
  void Step(OnboardStep step, const Tenant& tenant) const {
    if (fault_) fault_(step, tenant);
  }

  db::Database& database_;
  std::vector<migrations::MigrationFile> tenant_migrations_;
  std::shared_ptr<TenantDirectory> directory_;
  TenancyOptions options_;
  FaultInjector fault_;
  std::vector<OnboardExtension> extensions_;
};

// Validation shared by the console handler and the CLI (field errors name the JSON field).
core::Status ValidateOnboardRequest(const OnboardRequest& request);
core::Status ValidateTimeZone(const std::string& time_zone);
core::Status ValidateLocale(const std::string& locale);
core::Status ValidateLimits(const nlohmann::json& limits);

}  // namespace clinicore::tenancy
