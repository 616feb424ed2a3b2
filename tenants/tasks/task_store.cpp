#include "tenants/tasks/task_store.hpp"

#include "platform/db/rows.hpp"
#include "platform/db/sql.hpp"

namespace clinicore::tasks {
namespace {

using db::OptionalText;

#define CLINICORE_TASK_COLUMNS \
  "id::text, title, type, status, " CLINICORE_SQL_INSTANT("due_at") ", assignee_id::text, lead_id::text, "          \
  "appointment_id::text, notes, created_by::text, " CLINICORE_SQL_INSTANT("completed_at") ", " CLINICORE_SQL_INSTANT( \
      "created_at") ", " CLINICORE_SQL_INSTANT("updated_at") ", " CLINICORE_SQL_SORT_KEY("due_at")

constexpr const char* kInsertTask = "tasks.insert_task";
constexpr const char* kInsertTaskSql =
    "INSERT INTO tasks (title, type, due_at, assignee_id, lead_id, appointment_id, notes, created_by, event_id) "
    "VALUES ($1, $2, $3::timestamptz, $4::uuid, $5::uuid, $6::uuid, $7, $8::uuid, $9::uuid) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING " CLINICORE_TASK_COLUMNS;

constexpr const char* kSelectTask = "tasks.select_task";
constexpr const char* kSelectTaskSql = "SELECT " CLINICORE_TASK_COLUMNS " FROM tasks WHERE id = $1::uuid";

constexpr const char* kSelectTaskForUpdate = "tasks.select_task_for_update";
constexpr const char* kSelectTaskForUpdateSql =
    "SELECT " CLINICORE_TASK_COLUMNS " FROM tasks WHERE id = $1::uuid FOR UPDATE";

// Each of $2.. NULL leaves its column; completed_at follows the status.
constexpr const char* kUpdateTask = "tasks.update_task";
constexpr const char* kUpdateTaskSql =
    "UPDATE tasks SET title = COALESCE($2, title), status = COALESCE($3, status), "
    "due_at = COALESCE($4::timestamptz, due_at), assignee_id = COALESCE($5::uuid, assignee_id), "
    "notes = COALESCE($6, notes), completed_at = CASE WHEN $3::text IS NULL THEN completed_at "
    "WHEN $3 = 'open' THEN NULL ELSE COALESCE(completed_at, clock_timestamp()) END, updated_at = clock_timestamp() "
    "WHERE id = $1::uuid RETURNING " CLINICORE_TASK_COLUMNS;

// $1 visible to (NULL: all), $2 assignee, $3 status, $4 type, $5 lead, $6/$7 due from/to,
// $8/$9 after (due_at, id; the first page starts at -infinity), $10 limit.
constexpr const char* kListTasks = "tasks.list_tasks";
constexpr const char* kListTasksSql =
    "SELECT " CLINICORE_TASK_COLUMNS
    " FROM tasks WHERE ($1::uuid IS NULL OR assignee_id = $1::uuid OR created_by = $1::uuid) "
    "AND ($2::uuid IS NULL OR assignee_id = $2::uuid) AND ($3::text IS NULL OR status = $3) "
    "AND ($4::text IS NULL OR type = $4) AND ($5::uuid IS NULL OR lead_id = $5::uuid) "
    "AND ($6::timestamptz IS NULL OR due_at >= $6::timestamptz) AND ($7::timestamptz IS NULL OR due_at < "
    "$7::timestamptz) "
    "AND (due_at, id) > ($8::timestamptz, $9::uuid) ORDER BY due_at, id LIMIT $10";

// Claims the task.due of the task's current due time ($2 the due time the job was set for):
// no row when the task is closed, was moved, or had its event raised already.
constexpr const char* kClaimDueEvent = "tasks.claim_due_event";
constexpr const char* kClaimDueEventSql =
    "UPDATE tasks SET due_event_for = due_at WHERE id = $1::uuid AND status = 'open' AND due_at = $2::timestamptz "
    "AND due_event_for IS DISTINCT FROM due_at RETURNING " CLINICORE_TASK_COLUMNS;

constexpr const char* kWorkerRole = "tasks.worker_role";
constexpr const char* kWorkerRoleSql = "SELECT role FROM users WHERE id = $1::uuid AND active AND deleted_at IS NULL";

// The CRM's published rule (migrations/tenant/0006, lead_visible_to), on a live lead.
constexpr const char* kLeadVisible = "tasks.lead_visible";
constexpr const char* kLeadVisibleSql =
    "SELECT EXISTS (SELECT 1 FROM leads WHERE id = $1::uuid AND deleted_at IS NULL "
    "AND COALESCE(lead_visible_to(clinic_id, owner_id, $2::uuid[], $3::uuid, (SELECT crm_salesperson_sees_all())), "
    "false))";

Task TaskOf(const pqxx::row& row) {
  Task t;
  t.id = row[0].as<std::string>();
  t.title = row[1].as<std::string>();
  t.type = row[2].as<std::string>();
  t.status = row[3].as<std::string>();
  t.due_at = row[4].as<std::string>();
  t.assignee_id = row[5].as<std::string>();
  t.lead_id = OptionalText(row[6]);
  t.appointment_id = OptionalText(row[7]);
  t.notes = row[8].as<std::string>();
  t.created_by = OptionalText(row[9]);
  t.completed_at = OptionalText(row[10]);
  t.created_at = row[11].as<std::string>();
  t.updated_at = row[12].as<std::string>();
  t.due_key = row[13].as<std::string>();
  return t;
}

}  // namespace

void TaskStore::RegisterStatements(db::Database& database) {
  const std::pair<const char*, const char*> statements[] = {
      {kInsertTask, kInsertTaskSql},
      {kSelectTask, kSelectTaskSql},
      {kSelectTaskForUpdate, kSelectTaskForUpdateSql},
      {kUpdateTask, kUpdateTaskSql},
      {kListTasks, kListTasksSql},
      {kWorkerRole, kWorkerRoleSql},
      {kLeadVisible, kLeadVisibleSql},
      {kClaimDueEvent, kClaimDueEventSql},
  };
  for (const auto& [name, sql] : statements) database.RegisterStatement(name, sql);
}

std::optional<Task> TaskStore::Insert(db::Transaction& tx, const Task& t, const std::optional<std::string>& event_id) {
  return db::FirstRow<Task>(tx.Exec(kInsertTask, t.title, t.type, t.due_at, t.assignee_id, t.lead_id, t.appointment_id,
                                    t.notes, t.created_by, event_id),
                            TaskOf);
}

std::optional<Task> TaskStore::Find(db::Transaction& tx, const std::string& id, bool for_update) {
  return db::FirstRow<Task>(tx.Exec(for_update ? kSelectTaskForUpdate : kSelectTask, id), TaskOf);
}

std::optional<Task> TaskStore::Update(db::Transaction& tx, const std::string& id, const TaskPatch& p) {
  return db::FirstRow<Task>(tx.Exec(kUpdateTask, id, p.title, p.status, p.due_at, p.assignee_id, p.notes), TaskOf);
}

std::vector<Task> TaskStore::List(db::Transaction& tx, const TaskFilter& f, const std::optional<std::string>& after_key,
                                  const std::optional<std::string>& after_id, int limit) {
  return db::AllRows<Task>(
      tx.Exec(kListTasks, f.visible_to, f.assignee_id, f.status, f.type, f.lead_id, f.due_from, f.due_to,
              after_key.value_or("-infinity"), after_id.value_or("00000000-0000-0000-0000-000000000000"), limit),
      TaskOf);
}

std::optional<Task> TaskStore::ClaimDueEvent(db::Transaction& tx, const std::string& id, const std::string& due_key) {
  return db::FirstRow<Task>(tx.Exec(kClaimDueEvent, id, due_key), TaskOf);
}

std::optional<std::string> TaskStore::WorkerRole(db::Transaction& tx, const std::string& user_id) {
  const auto rows = tx.Exec(kWorkerRole, user_id);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

bool TaskStore::LeadVisible(db::Transaction& tx, const std::string& lead_id, const LeadViewer& viewer) {
  std::optional<std::string> clinics;
  if (viewer.clinic_ids) clinics = db::UuidArray(*viewer.clinic_ids);
  return tx.Exec(kLeadVisible, lead_id, clinics, viewer.salesperson_id)[0][0].as<bool>();
}

}  // namespace clinicore::tasks
