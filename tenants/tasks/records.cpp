#include "tenants/tasks/records.hpp"

namespace clinicore::tasks {

nlohmann::json ToJson(const Task& t) {
  auto or_null = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"id", t.id},
          {"title", t.title},
          {"type", t.type},
          {"status", t.status},
          {"due_at", t.due_at},
          {"assignee_id", t.assignee_id},
          {"lead_id", or_null(t.lead_id)},
          {"appointment_id", or_null(t.appointment_id)},
          {"notes", t.notes},
          {"created_by", or_null(t.created_by)},
          {"completed_at", or_null(t.completed_at)},
          {"created_at", t.created_at},
          {"updated_at", t.updated_at}};
}

}  // namespace clinicore::tasks
