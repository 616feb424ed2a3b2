#include "platform/core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace clinicore::core::log {
namespace {

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger;
  return logger;
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::once_flag g_init_once;

}  // namespace

void Init(std::string_view level) {
  std::call_once(g_init_once, [] {
    auto logger = std::make_shared<spdlog::logger>("clinicore", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    // The pattern writes the envelope; Write() supplies the rest of the JSON object.
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v)", spdlog::pattern_time_type::utc));
    logger->flush_on(spdlog::level::info);
    Logger() = logger;
  });
  auto parsed = spdlog::level::from_str(std::string(level));
  Logger()->set_level(level == "off" ? spdlog::level::off : parsed);
}

bool Enabled(Level level) {
  auto& logger = Logger();
  return logger && logger->should_log(ToSpd(level));
}

void Write(Level level, std::string_view event, const nlohmann::json& fields) {
  if (!Enabled(level)) return;
  std::string line = "\"event\":" + nlohmann::json(event).dump();
  if (fields.is_object() && !fields.empty()) {
    std::string rest = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += ',';
    line.append(rest, 1, std::string::npos);  // drop the object's opening brace
  } else {
    line += '}';
  }
  Logger()->log(ToSpd(level), "{}", line);
}

}  // namespace clinicore::core::log
