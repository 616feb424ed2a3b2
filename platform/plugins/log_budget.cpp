#include "platform/plugins/log_budget.hpp"

namespace clinicore::plugins {

LogBudget::LogBudget(std::shared_ptr<sdk::host::LogSink> inner, int lines_per_second, Clock clock)
    : inner_(std::move(inner)), lines_per_second_(lines_per_second), clock_(std::move(clock)) {}

void LogBudget::Write(const sdk::host::CallIdentity& who, int level, std::string_view message,
                      const nlohmann::json& fields) {
  const long long second = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  long long suppressed_before = 0;
  {
    std::lock_guard lock(mutex_);
    const std::string key = who.tenant_id + '\x1f' + who.plugin_name;
    auto it = windows_.find(key);
    if (it == windows_.end()) {
      if (windows_.size() >= kMaxTracked) {
        // Forget windows of past seconds first; only then, everything (a count may be lost).
        for (auto old = windows_.begin(); old != windows_.end();) {
          old = old->second.second < second && old->second.suppressed == 0 ? windows_.erase(old) : std::next(old);
        }
        if (windows_.size() >= kMaxTracked) windows_.clear();
      }
      it = windows_.emplace(key, Window{}).first;
    }
    Window& window = it->second;
    if (window.second != second) {
      suppressed_before = window.suppressed;
      window = Window{second, 0, 0};
    }
    if (window.lines >= lines_per_second_) {
      ++window.suppressed;
      return;
    }
    ++window.lines;
  }
  if (suppressed_before > 0) {
    inner_->Write(who, 2 /* warn */, "plugin_log_suppressed",
                  {{"suppressed_lines", suppressed_before},
                   {"limit_per_second", lines_per_second_},
                   {"why", "the plugin logged more lines in one second than its budget"}});
  }
  inner_->Write(who, level, message, fields);
}

}  // namespace clinicore::plugins
