#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "clinicore/sdk/host/deadline.hpp"
#include "clinicore/sdk/host/expected.hpp"
#include "clinicore/sdk/host/loader.hpp"
#include "clinicore/sdk/host/services.hpp"

namespace clinicore::sdk::host {

enum class Operation { kSend, kVerify, kParse, kImportCsv, kEvaluate, kTier, kCheckConfig };

const char* OperationName(Operation op);  // "send", "verify", "parse", "import_csv", "evaluate", "tier", "check_config"
std::optional<Operation> ParseOperation(std::string_view name);
bool OperationAllowed(Kind kind, Operation op);

// The input of one operation. `input` is the JSON object the ABI describes (for verify/parse
// the request object); `body` is the raw request body (verify/parse) or the CSV (import_csv).
struct CallInput {
  nlohmann::json input = nlohmann::json::object();
  std::string body;
};

inline constexpr size_t kMaxOutputBytes = 8 << 20;

// Is `output` the shape `op` promises? The reason names the member, e.g.
// "status must be one of delivered, retry, failed". Shared by the worker and the testkit.
std::optional<std::string> CheckOutput(Operation op, const nlohmann::json& output);

// One created plugin instance (one tenant's config). Destroyed through the plugin when the
// last reference goes, unless a call on it was abandoned: then it is never destroyed (the
// abandoned thread may still be using it).
class PluginInstance {
 public:
  PluginInstance(std::shared_ptr<const LoadedPlugin> plugin, void* handle)
      : plugin_(std::move(plugin)), handle_(handle) {}
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const LoadedPlugin& plugin() const { return *plugin_; }
  void* handle() const { return handle_; }
  void Poison() { poisoned_ = true; }
  bool poisoned() const { return poisoned_; }

 private:
  std::shared_ptr<const LoadedPlugin> plugin_;
  void* handle_;
  std::atomic<bool> poisoned_{false};
};

// Runs descriptor.create on THIS thread (no deadline; see Invoker for that).
Expected<std::shared_ptr<PluginInstance>> CreateInstance(const std::shared_ptr<const LoadedPlugin>& plugin,
                                                         const nlohmann::json& config, CallScope& scope);
// Runs one operation on THIS thread, checks the status and the output shape.
Expected<nlohmann::json> CallOperation(const PluginInstance& instance, Operation op, const CallInput& input,
                                       CallScope& scope);

// Every call behind a deadline: create and call on the executor's threads, failures turned
// into Failure values with one clear message. What the worker's job handlers and the testkit
// call.
class Invoker {
 public:
  Invoker(std::shared_ptr<HostServices> services, std::shared_ptr<DeadlineExecutor> executor)
      : services_(std::move(services)), executor_(std::move(executor)) {}

  Expected<std::shared_ptr<PluginInstance>> Create(const std::shared_ptr<const LoadedPlugin>& plugin,
                                                   const nlohmann::json& config, const CallIdentity& who,
                                                   std::chrono::milliseconds timeout);
  Expected<nlohmann::json> Call(const std::shared_ptr<PluginInstance>& instance, Operation op, CallInput input,
                                const CallIdentity& who, std::chrono::milliseconds timeout,
                                std::function<void(uint64_t, uint64_t)> progress = {});

  HostServices& services() { return *services_; }
  DeadlineExecutor& executor() { return *executor_; }

 private:
  std::shared_ptr<CallScope> Scope(const CallIdentity& who, std::chrono::milliseconds timeout);

  std::shared_ptr<HostServices> services_;
  std::shared_ptr<DeadlineExecutor> executor_;
};

}  // namespace clinicore::sdk::host
