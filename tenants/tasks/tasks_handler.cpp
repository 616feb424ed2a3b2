#include "tenants/tasks/tasks_handler.hpp"

#include <algorithm>

#include "platform/http/json_fields.hpp"
#include "platform/kit/answers.hpp"
#include "platform/kit/fields.hpp"
#include "platform/kit/list_query.hpp"

namespace clinicore::tasks {
namespace {

using core::Error;
using core::Result;
using http::JsonFields;
using http::Response;
using modules::Call;
using Kind = kit::FilterRule::Kind;

constexpr size_t kMaxNotesChars = 10'000;

template <size_t N>
std::optional<std::string> OneOfField(JsonFields& fields, const std::string& name, bool required,
                                      const std::string_view (&values)[N]) {
  auto value = fields.String(name, {.required = required, .max_length = 20});
  if (value && std::find(std::begin(values), std::end(values), *value) == std::end(values)) {
    std::string choices;
    for (auto v : values) choices += (choices.empty() ? "" : ", ") + std::string(v);
    fields.Check(Error::InvalidArgument("", {{name, "must be one of " + choices}}));
  }
  return value;
}

std::optional<std::string> InstantField(JsonFields& fields, const std::string& name, bool required) {
  auto instant = kit::ParsedField(fields, name, required, 40, kit::ParseInstant);
  if (!instant) return std::nullopt;
  return kit::FormatInstant(*instant);
}

std::optional<std::string> TitleField(JsonFields& fields, bool required) {
  auto title = fields.String("title", {.required = required, .max_length = 800});
  if (title) fields.Check(kit::ValidateLength(*title, "title", 1, 200));
  return title;
}

std::optional<std::string> NotesField(JsonFields& fields) {
  auto notes = fields.String("notes", {.max_length = 4 * kMaxNotesChars});
  if (notes) fields.Check(kit::ValidateLength(*notes, "notes", 0, kMaxNotesChars));
  return notes;
}

const std::vector<kit::FilterRule>& TaskFilters() {
  static const std::vector<kit::FilterRule> rules = {
      {"assignee_id", Kind::kUuid},
      {"status", Kind::kOneOf, {"open", "done", "cancelled"}},
      {"type", Kind::kOneOf, {"call", "follow_up", "reminder", "other"}},
      {"lead_id", Kind::kUuid},
      {"due_from", Kind::kInstant},
      {"due_to", Kind::kInstant},
  };
  return rules;
}

}  // namespace

Result<Response> TasksHandler::CreateTask(Call& call) {
  JsonFields fields(call.body());
  Task draft;
  draft.title = TitleField(fields, true).value_or("");
  draft.type = OneOfField(fields, "type", true, kTaskTypes).value_or("");
  draft.due_at = InstantField(fields, "due_at", true).value_or("");
  draft.assignee_id = kit::UuidField(fields, "assignee_id", true).value_or("");
  draft.lead_id = kit::UuidField(fields, "lead_id", false);
  draft.appointment_id = kit::UuidField(fields, "appointment_id", false);
  draft.notes = NotesField(fields).value_or("");
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Task task, service_->CreateTask(call, std::move(draft)));
  return kit::Created(ToJson(task), "/v1/tasks/" + task.id);
}

Result<Response> TasksHandler::ListTasks(Call& call) {
  CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(call.http, "tasks", TaskFilters()));
  TaskFilter filter;
  filter.assignee_id = query.Filter("assignee_id");
  filter.status = query.Filter("status");
  filter.type = query.Filter("type");
  filter.lead_id = query.Filter("lead_id");
  filter.due_from = query.Filter("due_from");
  filter.due_to = query.Filter("due_to");
  CLINICORE_TRY(const auto page, service_->ListTasks(call, query.page, std::move(filter)));
  return kit::PageResponse(page);
}

Result<Response> TasksHandler::GetTask(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const Task task, service_->GetTask(call, id));
  return Response::Json(200, ToJson(task));
}

Result<Response> TasksHandler::UpdateTask(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  TaskPatch patch;
  patch.title = TitleField(fields, false);
  patch.status = OneOfField(fields, "status", false, kTaskStatuses);
  patch.due_at = InstantField(fields, "due_at", false);
  patch.assignee_id = kit::UuidField(fields, "assignee_id", false);
  patch.notes = NotesField(fields);
  CLINICORE_TRY_STATUS(fields.Finish());
  if (patch.Empty())
    return Error::InvalidArgument("Send at least one field to change.", {{"body", "no field to change"}});
  CLINICORE_TRY(const Task task, service_->UpdateTask(call, id, patch));
  return Response::Json(200, ToJson(task));
}

void RegisterTasksRoutes(modules::RouteTable& routes, std::shared_ptr<TasksHandler> handler) {
  using auth::RolesMay;
  using auth::StaffRoles;
  using http::Method;
  using modules::Bind;
  const http::RouteOptions json{.json_body = true};
  const std::string own = "staff: tasks assigned to or made by them; admins and clinic owners: all";
  // Scoped so the handler knows the caller's clinics: a task may name only a lead they see.
  routes.AddIdempotent(auth::ScopedToClinics(RolesMay(Method::kPost, "/v1/tasks", StaffRoles(), {},
                                                      "lead_id: a lead they see; Idempotency-Key"),
                                             auth::ScopedRoles()),
                       Bind(handler, &TasksHandler::CreateTask), json);
  routes.Add(RolesMay(Method::kGet, "/v1/tasks", StaffRoles(), {}, own), Bind(handler, &TasksHandler::ListTasks));
  routes.Add(RolesMay(Method::kGet, "/v1/tasks/{id}", StaffRoles(), {}, own), Bind(handler, &TasksHandler::GetTask));
  routes.Add(RolesMay(Method::kPatch, "/v1/tasks/{id}", StaffRoles(), {}, own),
             Bind(handler, &TasksHandler::UpdateTask), json);
}

}  // namespace clinicore::tasks
