#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/db/database.hpp"
#include "tenants/tasks/records.hpp"

namespace clinicore::tasks {

struct TaskFilter {
  std::optional<std::string> visible_to;  // staff who see only their own: assigned or created
  std::optional<std::string> assignee_id, status, type, lead_id, due_from, due_to;
};

// Whose view of leads a check takes (the CRM's row scope): every lead when both are unset.
struct LeadViewer {
  std::optional<std::vector<std::string>> clinic_ids;  // nullopt: every clinic
  std::optional<std::string> salesperson_id;
};

struct TaskPatch {
  std::optional<std::string> title, status, due_at, assignee_id, notes;
  bool Empty() const { return !title && !status && !due_at && !assignee_id && !notes; }
};

// The tasks module's SQL (one named statement each), inside the caller's tenant transaction.
class TaskStore {
 public:
  static void RegisterStatements(db::Database& database);

  // nullopt when a task was made from this event already.
  static std::optional<Task> Insert(db::Transaction& tx, const Task& task,
                                    const std::optional<std::string>& event_id = std::nullopt);
  static std::optional<Task> Find(db::Transaction& tx, const std::string& id, bool for_update = false);
  static std::optional<Task> Update(db::Transaction& tx, const std::string& id, const TaskPatch& patch);
  // Ordered by due time, then id; `after` is [due_key, id] of the last row of the last page.
  static std::vector<Task> List(db::Transaction& tx, const TaskFilter& filter,
                                const std::optional<std::string>& after_key, const std::optional<std::string>& after_id,
                                int limit);

  // The open task whose task.due for `due_key` is still to be raised, marked raised.
  static std::optional<Task> ClaimDueEvent(db::Transaction& tx, const std::string& id, const std::string& due_key);
  // The role of an account that may work (active, not deleted).
  static std::optional<std::string> WorkerRole(db::Transaction& tx, const std::string& user_id);
  // Whether the lead is live and `viewer` may see it by the CRM's rule.
  static bool LeadVisible(db::Transaction& tx, const std::string& lead_id, const LeadViewer& viewer);
};

}  // namespace clinicore::tasks
