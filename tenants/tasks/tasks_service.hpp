#pragma once

#include <memory>

#include "platform/jobs/enqueue.hpp"
#include "platform/jobs/job.hpp"
#include "platform/kit/page.hpp"
#include "platform/modules/events.hpp"
#include "platform/modules/route_table.hpp"
#include "tenants/tasks/task_store.hpp"

namespace clinicore::tasks {

// The job that raises task.due at a task's due time.
inline constexpr const char* kTaskDueKind = "tasks.due";

// Tasks and their automatic follow-ups. Every change runs in one tenant transaction with its
// audit row and event ("task.created"); each open task has a job at its due time that raises
// "task.due".
class TasksService {
 public:
  TasksService(db::Database& database, std::shared_ptr<jobs::JobClient> jobs)
      : database_(database), jobs_(std::move(jobs)) {}

  core::Result<Task> CreateTask(const modules::Call& call, Task draft);
  core::Result<kit::Page<Task>> ListTasks(const modules::Call& call, const kit::PageRequest& page, TaskFilter filter);
  core::Result<Task> GetTask(const modules::Call& call, const std::string& id);
  core::Result<Task> UpdateTask(const modules::Call& call, const std::string& id, const TaskPatch& patch);

  // `work`: a follow-up for a new lead (lead.created) or a quiet one (lead.stale).
  jobs::Outcome CreateFollowUp(jobs::JobContext& context, const modules::Event& event);
  // `work`: the kTaskDueKind job.
  jobs::Outcome RaiseDue(jobs::JobContext& context);

 private:
  db::Database& database_;
  std::shared_ptr<jobs::JobClient> jobs_;
};

}  // namespace clinicore::tasks
