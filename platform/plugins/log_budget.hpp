#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "clinicore/sdk/host/services.hpp"

namespace clinicore::plugins {

// A plugin may log, but not flood the platform's log (and whatever ships it): each tenant's
// instance of a plugin gets at most `lines_per_second` lines a second. Lines over the budget
// are dropped and counted; the first line of a later second is preceded by one
// `plugin_log_suppressed` line (level warn) with the count. In-process and bounded.
class LogBudget : public sdk::host::LogSink {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  LogBudget(std::shared_ptr<sdk::host::LogSink> inner, int lines_per_second,
            Clock clock = std::chrono::steady_clock::now);

  void Write(const sdk::host::CallIdentity& who, int level, std::string_view message,
             const nlohmann::json& fields) override;

 private:
  struct Window {
    long long second = -1;
    int lines = 0;
    long long suppressed = 0;
  };
  static constexpr size_t kMaxTracked = 10'000;

  std::shared_ptr<sdk::host::LogSink> inner_;
  int lines_per_second_;
  Clock clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;  // "<tenant>\x1f<plugin>"
};

}  // namespace clinicore::plugins
