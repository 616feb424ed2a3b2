#include "tenants/tasks/tasks_service.hpp"

#include <chrono>

#include "platform/kit/validators.hpp"
#include "platform/modules/audit.hpp"

namespace clinicore::tasks {
namespace {

using core::Error;
using core::Result;
using modules::Call;

// A new lead is called back within the hour; a quiet one at once.
constexpr auto kNewLeadFollowUp = std::chrono::hours(1);

Error NoSuchTask() {
  return Error::NotFound("No such task.");
}
Error BadField(const std::string& field, const std::string& message) {
  return Error::InvalidArgument("The field " + field + " " + message + ".", {{field, message}});
}

// Admins and clinic owners see every task; other staff the ones assigned to them or made by them.
bool SeesAll(const Call& call) {
  return call.HasRole("admin") || call.HasRole("clinic_owner");
}
bool Sees(const Call& call, const Task& task) {
  return SeesAll(call) || task.assignee_id == call.actor.id || task.created_by == call.actor.id;
}

// The caller's view of leads, as the CRM scopes it: admins every lead; salespeople their own
// and their clinics' unowned ones; clinic owners and secretariat their clinics'; doctors none.
LeadViewer ViewerOf(const Call& call) {
  LeadViewer viewer;
  if (call.HasRole("admin")) return viewer;
  viewer.clinic_ids = std::vector<std::string>{};
  if (call.HasRole("doctor")) return viewer;
  viewer.clinic_ids = call.clinic_scope().value_or(std::vector<std::string>{});
  if (call.HasRole("salesperson")) viewer.salesperson_id = call.actor.id;
  return viewer;
}

core::Status CheckAssignee(db::Transaction& tx, const std::string& assignee_id) {
  const auto role = TaskStore::WorkerRole(tx, assignee_id);
  if (!role) return BadField("assignee_id", "is not an active user of this tenant");
  if (*role == "client") return BadField("assignee_id", "must be a member of staff");
  return core::Ok();
}

nlohmann::json EventPayload(const Task& task) {
  auto json = ToJson(task);
  json["task_id"] = task.id;
  for (const char* key : {"id", "notes", "created_at", "updated_at", "completed_at", "created_by"}) json.erase(key);
  return json;
}

// The task.created event and the job that raises task.due at the due time (one per due time:
// a moved task gets a new job, the old one finds the time changed and does nothing).
core::Status Announce(jobs::JobTx& jobs, const Task& task, bool created) {
  if (created) modules::Emit(jobs, "task.created", EventPayload(task));
  if (task.status != "open") return core::Ok();
  CLINICORE_TRY(const auto due_at, kit::ParseInstant(task.due_key, "due_at"));
  CLINICORE_TRY_STATUS(jobs.Enqueue(kTaskDueKind, {{"task_id", task.id}, {"due_key", task.due_key}},
                                    {.run_at = due_at, .idempotency_key = "due:" + task.id + ":" + task.due_key}));
  return core::Ok();
}

}  // namespace

Result<Task> TasksService::CreateTask(const Call& call, Task draft) {
  draft.created_by = call.actor.id;
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Task> {
    CLINICORE_TRY_STATUS(CheckAssignee(tx, draft.assignee_id));
    if (draft.lead_id && !TaskStore::LeadVisible(tx, *draft.lead_id, ViewerOf(call))) {
      return BadField("lead_id", "is not a lead you can see");
    }
    auto task = TaskStore::Insert(tx, draft);
    modules::Audit(tx, call.actor, {"task.created", "task", task->id, nullptr, ToJson(*task)});
    CLINICORE_TRY_STATUS(Announce(jobs, *task, /*created=*/true));
    tx.Commit();
    return *task;
  });
}

Result<kit::Page<Task>> TasksService::ListTasks(const Call& call, const kit::PageRequest& page, TaskFilter filter) {
  if (!SeesAll(call)) filter.visible_to = call.actor.id;
  std::optional<std::string> after_key, after_id;
  if (page.after && page.after->size() == 2 && (*page.after)[0].is_string() && (*page.after)[1].is_string()) {
    after_key = (*page.after)[0].get<std::string>();
    after_id = (*page.after)[1].get<std::string>();
  }
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<kit::Page<Task>> {
    return kit::MakePage(TaskStore::List(tx, filter, after_key, after_id, page.limit + 1), page, [](const Task& t) {
      return nlohmann::json{t.due_key, t.id};
    });
  });
}

Result<Task> TasksService::GetTask(const Call& call, const std::string& id) {
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Task> {
    auto task = TaskStore::Find(tx, id);
    if (!task || !Sees(call, *task)) return NoSuchTask();
    return *task;
  });
}

Result<Task> TasksService::UpdateTask(const Call& call, const std::string& id, const TaskPatch& patch) {
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Task> {
    auto before = TaskStore::Find(tx, id, /*for_update=*/true);
    if (!before || !Sees(call, *before)) return NoSuchTask();
    if (patch.assignee_id) CLINICORE_TRY_STATUS(CheckAssignee(tx, *patch.assignee_id));
    auto after = TaskStore::Update(tx, id, patch);
    if (!after) return NoSuchTask();
    modules::Audit(tx, call.actor, {"task.updated", "task", id, ToJson(*before), ToJson(*after)});
    const bool rescheduled = after->due_key != before->due_key || (after->status == "open" && before->status != "open");
    if (rescheduled) CLINICORE_TRY_STATUS(Announce(jobs, *after, /*created=*/false));
    if (after->status != before->status) {
      modules::Emit(
          jobs, "task.status_changed",
          {{"task_id", id}, {"from", before->status}, {"to", after->status}, {"lead_id", ToJson(*after)["lead_id"]}});
    }
    tx.Commit();
    return *after;
  });
}

jobs::Outcome TasksService::CreateFollowUp(jobs::JobContext& context, const modules::Event& event) {
  const auto lead_id = modules::PayloadString(event.payload, "lead_id");
  const auto assignee_id = modules::PayloadString(event.payload, "follow_up_assignee_id");
  // No one to give it to (a tenant without a secretariat or admin): nothing to create.
  if (!lead_id || !assignee_id || context.tenant() == nullptr) return jobs::Outcome::Done();
  const bool fresh = event.name == "lead.created";
  Task draft;
  draft.title = fresh ? "Follow up a new lead" : "Follow up a lead that has gone quiet";
  draft.type = "follow_up";
  draft.lead_id = lead_id;
  draft.assignee_id = *assignee_id;
  draft.due_at = kit::FormatInstant(
      std::chrono::system_clock::now() +
      (fresh ? std::chrono::duration_cast<std::chrono::seconds>(kNewLeadFollowUp) : std::chrono::seconds(0)));
  auto created = context.jobs().WriteInTenant(
      context.tenant()->Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
        // Nothing to make for a lead gone or an assignee who left; nor twice for one event.
        if (TaskStore::LeadVisible(tx, *lead_id, {}) && CheckAssignee(tx, *assignee_id).ok()) {
          if (auto task = TaskStore::Insert(tx, draft, event.id)) {
            modules::Audit(tx, modules::SystemActor(), {"task.created", "task", task->id, nullptr, ToJson(*task)});
            CLINICORE_TRY_STATUS(Announce(jobs, *task, /*created=*/true));
          }
        }
        tx.Commit();
        return core::Ok();
      });
  if (!created) return jobs::Outcome::FromError(created.error());
  return jobs::Outcome::Done();
}

jobs::Outcome TasksService::RaiseDue(jobs::JobContext& context) {
  const auto& payload = context.job().payload;
  const auto task_id = modules::PayloadString(payload, "task_id");
  const auto due_key = modules::PayloadString(payload, "due_key");
  if (!task_id || !due_key || context.tenant() == nullptr) return jobs::Outcome::Fail("task_id and due_key required");
  auto raised = context.jobs().WriteInTenant(context.tenant()->Scope(),
                                             [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
                                               // None when closed, moved or raised already.
                                               if (auto task = TaskStore::ClaimDueEvent(tx, *task_id, *due_key)) {
                                                 modules::Emit(jobs, "task.due", EventPayload(*task));
                                               }
                                               tx.Commit();
                                               return core::Ok();
                                             });
  if (!raised) return jobs::Outcome::FromError(raised.error());
  return jobs::Outcome::Done();
}

}  // namespace clinicore::tasks
