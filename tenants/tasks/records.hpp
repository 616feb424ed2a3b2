#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

// The records of the tasks module as the API shows them.
namespace clinicore::tasks {

inline constexpr std::string_view kTaskTypes[] = {"call", "follow_up", "reminder", "other"};
inline constexpr std::string_view kTaskStatuses[] = {"open", "done", "cancelled"};

struct Task {
  std::string id;
  std::string title;
  std::string type;
  std::string status = "open";
  std::string due_at;
  std::string assignee_id;
  std::optional<std::string> lead_id;
  std::optional<std::string> appointment_id;
  std::string notes;
  std::optional<std::string> created_by;
  std::optional<std::string> completed_at;
  std::string created_at;
  std::string updated_at;
  std::string due_key;  // due_at at full precision: the list's keyset position
};

nlohmann::json ToJson(const Task& task);

}  // namespace clinicore::tasks
