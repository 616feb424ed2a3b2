#include "tenants/booking/booking_module.hpp"

#include "tenants/booking/booking_handler.hpp"

namespace clinicore::booking {
namespace {

constexpr size_t kScheduleEntries = 10'000;
constexpr core::Millis kScheduleTtl{60 * 1000};

class BookingModule final : public modules::Module {
 public:
  explicit BookingModule(const modules::ModuleServices& services)
      : database_config_(services.config.database),
        schedules_(std::make_shared<ScheduleCache>(kScheduleTtl, kScheduleEntries, services.metrics)),
        service_(std::make_shared<BookingService>(services.database, services.jobs, schedules_)) {}

  std::string_view Name() const override { return "booking"; }
  void RegisterStatements(db::Database& database) override { BookingStore::RegisterStatements(database); }
  void RegisterRoutes(modules::RouteTable& routes) override {
    RegisterBookingRoutes(routes, std::make_shared<BookingHandler>(service_));
  }
  void RegisterJobs(jobs::JobRegistry& registry) override {
    auto service = service_;
    registry.Register(kReminderKind, [service](jobs::JobContext& context) { return service->RaiseReminder(context); });
    registry.Register(kBookSeriesKind, [service](jobs::JobContext& context) { return service->BookSeries(context); });
  }
  // Only `serve` reads availability: only it hears PostgreSQL's notices of schedule changes.
  void StartServing() override { schedules_->StartListening(database_config_); }
  void StopServing() override { schedules_->StopListening(); }
  modules::PersonalDataMap PersonalData() const override {
    using modules::Erasure;
    return {{"appointments",
             "client_id",
             {"notes", "cancel_reason"},
             Erasure::kRetain,
             "the clinic's medical and accounting record of a treatment; notes are kept with it"},
            {"appointment_series",
             "client_id",
             {"every_weeks", "notes", "created_at"},
             Erasure::kRetain,
             "the plan behind the retained appointments"},
            {"appointment_holds", "held_by", {"starts_at", "ends_at"}, Erasure::kDeleteRow}};
  }

 private:
  core::DatabaseConfig database_config_;
  std::shared_ptr<ScheduleCache> schedules_;
  std::shared_ptr<BookingService> service_;
};

}  // namespace

std::unique_ptr<modules::Module> MakeBookingModule(const modules::ModuleServices& services) {
  return std::make_unique<BookingModule>(services);
}

}  // namespace clinicore::booking
