#include "tenants/clinics/clinics_module.hpp"

#include "tenants/clinics/catalogue_cache.hpp"
#include "tenants/clinics/clinic_store.hpp"
#include "tenants/clinics/clinics_routes.hpp"

namespace clinicore::clinics {
namespace {

constexpr size_t kCatalogueEntries = 10'000;
// Notices keep entries current; the TTL only bounds how long a lost notice could matter.
constexpr core::Millis kCatalogueTtl{5 * 60 * 1000};

class ClinicsModule final : public modules::Module {
 public:
  explicit ClinicsModule(const modules::ModuleServices& services)
      : database_config_(services.config.database),
        catalogue_(std::make_shared<CatalogueCache>(kCatalogueTtl, kCatalogueEntries, services.metrics)),
        service_(std::make_shared<ClinicsService>(services.database, services.jobs, catalogue_)) {}

  std::string_view Name() const override { return "clinics"; }
  void RegisterStatements(db::Database& database) override { ClinicStore::RegisterStatements(database); }

  void RegisterRoutes(modules::RouteTable& routes) override {
    RegisterClinicsRoutes(routes, std::make_shared<ClinicsHandler>(service_));
  }
  // Only `serve` reads the catalogue: only it hears PostgreSQL's notices of changes to it.
  void StartServing() override { catalogue_->StartListening(database_config_); }
  void StopServing() override { catalogue_->StopListening(); }

  std::shared_ptr<auth::ClinicScopeSource> ClinicScope() override { return MakeClinicScope(service_); }

  modules::PersonalDataMap PersonalData() const override {
    using modules::Erasure;
    return {
        {"clinic_staff", "user_id", {"clinic_id", "created_at"}, Erasure::kDeleteRow},
        {"practitioners", "user_id", {"clinic_id", "working_hours", "created_at"}, Erasure::kDeleteRow},
        {"practitioner_services", "user_id", {"clinic_id", "service_id"}, Erasure::kDeleteRow},
        {"practitioner_time_off",
         "user_id",
         {"clinic_id", "starts_at", "ends_at", "reason", "created_at"},
         Erasure::kDeleteRow},
        {"clinics",
         "owner_id",
         {"id", "name"},
         Erasure::kAnonymize,
         "owner_id becomes null: the clinic stays, without an owner, until an admin gives it one"},
    };
  }

 private:
  core::DatabaseConfig database_config_;
  std::shared_ptr<CatalogueCache> catalogue_;
  std::shared_ptr<ClinicsService> service_;
};

}  // namespace

std::unique_ptr<modules::Module> MakeClinicsModule(const modules::ModuleServices& services) {
  return std::make_unique<ClinicsModule>(services);
}

}  // namespace clinicore::clinics
