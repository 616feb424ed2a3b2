#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace clinicore::core::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// Sets up one JSON-lines logger on stdout. Safe to call again (tests, subcommands).
void Init(std::string_view level);

// Writes {"ts":…,"level":…,"event":<event>, …fields}. `fields` must be a JSON object.
// Fields that identify a tenant must be named "tenant_id" so log pipelines can split by it.
void Write(Level level, std::string_view event, const nlohmann::json& fields);

bool Enabled(Level level);

inline void Debug(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kDebug, event, fields);
}
inline void Info(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kError, event, fields);
}

}  // namespace clinicore::core::log
