#include "tenants/tasks/tasks_module.hpp"

#include "tenants/tasks/tasks_handler.hpp"

namespace clinicore::tasks {
namespace {

class TasksModule final : public modules::Module {
 public:
  explicit TasksModule(const modules::ModuleServices& services)
      : service_(std::make_shared<TasksService>(services.database, services.jobs)) {}

  std::string_view Name() const override { return "tasks"; }
  void RegisterStatements(db::Database& database) override { TaskStore::RegisterStatements(database); }
  void RegisterRoutes(modules::RouteTable& routes) override {
    RegisterTasksRoutes(routes, std::make_shared<TasksHandler>(service_));
  }
  void RegisterJobs(jobs::JobRegistry& registry) override {
    auto service = service_;
    registry.Register(kTaskDueKind, [service](jobs::JobContext& context) { return service->RaiseDue(context); });
  }
  std::vector<modules::EventSubscription> Subscriptions() override {
    auto service = service_;
    auto follow_up = [service](jobs::JobContext& context, const modules::Event& event) {
      return service->CreateFollowUp(context, event);
    };
    return {{"", "lead.created", follow_up}, {"", "lead.stale", follow_up}};
  }
  modules::PersonalDataMap PersonalData() const override {
    using modules::Erasure;
    return {{"tasks",
             "assignee_id",
             {"title", "type", "status", "due_at", "notes", "created_at"},
             Erasure::kRetain,
             "the clinic's work record; an admin reassigns the open ones when the person leaves"}};
  }

 private:
  std::shared_ptr<TasksService> service_;
};

}  // namespace

std::unique_ptr<modules::Module> MakeTasksModule(const modules::ModuleServices& services) {
  return std::make_unique<TasksModule>(services);
}

}  // namespace clinicore::tasks
