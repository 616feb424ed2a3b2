#include "tenants/crm/crm_module.hpp"

#include "tenants/crm/crm_routes.hpp"

namespace clinicore::crm {
namespace {

// Hourly: staleness is counted in hours, and one cheap indexed scan per tenant and hour keeps
// a node of many tenants quiet.
constexpr const char* kFlagQuietLeadsKind = "crm.flag-quiet-leads";
// Pages of the lead list kept per process; notices keep them current, the TTL bounds how long
// a lost notice could matter.
constexpr size_t kPageEntries = 10'000;
constexpr core::Millis kPageTtl{60 * 1000};

class CrmModule final : public modules::Module {
 public:
  explicit CrmModule(const modules::ModuleServices& services)
      : database_config_(services.config.database),
        pages_(std::make_shared<LeadPageCache>(kPageTtl, kPageEntries, services.metrics)),
        service_(std::make_shared<CrmService>(services.database, services.jobs, pages_)) {}

  std::string_view Name() const override { return "crm"; }
  void RegisterStatements(db::Database& database) override { LeadStore::RegisterStatements(database); }
  void RegisterRoutes(modules::RouteTable& routes) override {
    RegisterCrmRoutes(routes, std::make_shared<CrmHandler>(service_));
  }

  void RegisterJobs(jobs::JobRegistry& registry) override {
    auto service = service_;
    registry.Register(kFlagQuietLeadsKind,
                      [service](jobs::JobContext& context) { return service->FlagQuietLeads(context); });
    registry.AddSchedule({.name = kFlagQuietLeadsKind,
                          .kind = kFlagQuietLeadsKind,
                          .spec = jobs::ScheduleSpec::Every(std::chrono::hours(1)),
                          .max_attempts = 3});
  }

  // Only `serve` reads pages: only it hears PostgreSQL's notices of changes to leads.
  void StartServing() override { pages_->StartListening(database_config_); }
  void StopServing() override { pages_->StopListening(); }

  std::vector<modules::EventSubscription> Subscriptions() override {
    auto service = service_;
    auto timeline = [service](const std::string& kind) {
      return [service, kind](jobs::JobContext& context, const modules::Event& event) {
        return service->RecordOnTimeline(context, event, kind);
      };
    };
    return {
        {"", "task.created", timeline("task")},
        {"", "task.due", timeline("task_due")},
        {"", "appointment.booked",
         [service](jobs::JobContext& context, const modules::Event& event) {
           return service->MarkBooked(context, event);
         }},
    };
  }

  modules::PersonalDataMap PersonalData() const override {
    using modules::Erasure;
    using modules::Subject;
    const std::vector<std::string> lead_columns = {"first_name", "last_name", "email",  "phone",
                                                   "campaign",   "consent",   "status", "created_at"};
    const std::string anonymized =
        "names, email, phone, external_id and campaign are cleared; status and dates stay for reports";
    return {
        {"leads", "email_normalized", lead_columns, Erasure::kAnonymize, anonymized, Subject::kEmail},
        {"leads", "phone", lead_columns, Erasure::kAnonymize, anonymized, Subject::kPhone},
        {"lead_activities", "lead_id", {"kind", "details", "created_at"}, Erasure::kDeleteRow, {}, Subject::kLead},
        {"lead_tags", "lead_id", {"tag_id", "created_at"}, Erasure::kDeleteRow, {}, Subject::kLead},
        {"leads",
         "owner_id",
         {"id", "status"},
         Erasure::kAnonymize,
         "owner_id becomes null: the lead returns to its clinic's unowned leads",
         Subject::kUser},
    };
  }

 private:
  core::DatabaseConfig database_config_;
  std::shared_ptr<LeadPageCache> pages_;
  std::shared_ptr<CrmService> service_;
};

}  // namespace

std::unique_ptr<modules::Module> MakeCrmModule(const modules::ModuleServices& services) {
  return std::make_unique<CrmModule>(services);
}

}  // namespace clinicore::crm
