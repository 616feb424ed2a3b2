#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clinicore/sdk/host/invoke.hpp"
#include "clinicore/sdk/host/loader.hpp"
#include "clinicore/sdk/host/services.hpp"
#include "platform/cache/rate_limiter.hpp"
#include "platform/core/result.hpp"
#include "platform/db/database.hpp"
#include "platform/plugins/plugin_service.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::plugins {

struct PluginHostOptions {
  std::chrono::milliseconds call_timeout{10'000};
  int max_stuck_calls = 8;
  int log_lines_per_second = 50;  // per tenant and plugin (LogBudget)
  sdk::host::CurlOptions http;
};

// A channel send's outcome, as a notification job handler needs it.
struct SendOutcome {
  enum class Status { kDelivered, kRetry, kFailed };
  Status status = Status::kFailed;
  std::string provider_message_id;  // kDelivered
  int retry_after_seconds = 0;      // kRetry
  std::string reason;               // kRetry, kFailed
};

// The worker's plugin host: the only object that runs plugin code, and only in `clinicore work`
// (and the `clinicore plugin` CLI). It loads plugin files, keeps one instance per tenant +
// plugin + version + config hash, runs every call behind a deadline on its own threads, and
// keeps the quarantine books. A job handler is one Call (or Send) plus mapping the result.
class PluginHost {
 public:
  // `send_limiter` enforces each channel's declared max_per_second per tenant, across every
  // worker sharing its Redis (each worker alone while Redis is down); without it the
  // declaration is not enforced (the `clinicore plugin` CLI, tests of other things).
  PluginHost(db::Database& database, std::shared_ptr<PluginService> service, PluginHostOptions options,
             std::shared_ptr<sdk::host::HttpTransport> http = nullptr,
             std::shared_ptr<cache::RateLimiter> send_limiter = nullptr);

  // Loads one file and records its descriptor in platform.plugin_installs (what `serve`
  // validates configs against). The error's detail is the loader's one-line refusal.
  core::Result<sdk::host::PluginInfo> Install(const std::string& path, const std::string& actor);
  // Install() for every *.so in a folder; returns one line per file refused.
  std::vector<std::string> InstallDirectory(const std::string& directory, const std::string& actor);

  // THE call every plugin job makes. Checks that the plugin is enabled for the tenant and not
  // quarantined, finds or creates the tenant's instance, runs the operation behind the
  // deadline with the host services scoped to this tenant, and books the outcome: a failure
  // that is the plugin's fault (it threw, returned garbage, missed its deadline, or refused its
  // config at create) counts toward quarantine; a success resets the count. Errors:
  //   not enabled, quarantined, wrong operation for its kind   → FailedPrecondition (do not retry)
  //   the plugin refused the input                              → InvalidArgument (do not retry)
  //   deadline missed                                           → DeadlineExceeded (retry)
  //   a channel's declared send rate reached for this tenant    → ResourceExhausted with
  //       retry_after_seconds (a job snoozes: no attempt used; the plugin is not called)
  //   plugin error, malformed output, not loaded here, overload → Unavailable (retry)
  // `timeout` (default CLINICORE_PLUGIN_CALL_TIMEOUT_MS) lets a job pass what is left of its own
  // deadline; the shorter one applies.
  core::Result<nlohmann::json> Call(const tenancy::Tenant& tenant, const std::string& plugin, sdk::host::Operation op,
                                    sdk::host::CallInput input,
                                    std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // A channel send, its result typed.
  core::Result<SendOutcome> Send(const tenancy::Tenant& tenant, const std::string& plugin,
                                 const nlohmann::json& message, const nlohmann::json& recipient,
                                 const std::string& idempotency_key,
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Runs the plugin's live config check on the tenant's current config and records the
  // outcome (check_status passed | failed | not_offered | error) for the console.
  core::Result<nlohmann::json> CheckConfig(const tenancy::Tenant& tenant, const std::string& plugin);
  // A call whose outcome never came back because the process running it died (a job of a
  // plugin kind reclaimed after its lease expired): counts toward quarantine like any failure
  // that is the plugin's fault, so a plugin that always crashes its worker ends quarantined.
  void BookLostCall(const std::string& tenant_id, const std::string& plugin, const std::string& detail);

  sdk::host::PluginCatalog& catalog() { return *catalog_; }
  sdk::host::DeadlineExecutor& executor() { return *executor_; }
  size_t cached_instances() const;

 private:
  core::Result<std::shared_ptr<sdk::host::PluginInstance>> Instance(
      const tenancy::Tenant& tenant, const std::shared_ptr<const sdk::host::LoadedPlugin>& plugin,
      const CallConfig& config);
  core::Error Book(const tenancy::Tenant& tenant, const std::string& plugin, const sdk::host::Failure& failure);
  core::Status CheckSendRate(const tenancy::Tenant& tenant, const sdk::host::PluginInfo& info);

  struct CachedInstance {
    std::string version;
    std::string config_hash;
    std::shared_ptr<sdk::host::PluginInstance> instance;
  };
  static constexpr size_t kMaxInstances = 10'000;

  db::Database& database_;
  std::shared_ptr<PluginService> service_;
  PluginHostOptions options_;
  std::shared_ptr<sdk::host::PluginCatalog> catalog_;
  std::shared_ptr<sdk::host::DeadlineExecutor> executor_;
  std::shared_ptr<sdk::host::HostServices> services_;
  sdk::host::Invoker invoker_;
  std::shared_ptr<cache::RateLimiter> send_limiter_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, CachedInstance> instances_;  // (tenant id, plugin)
};

// Plugin log lines into the platform's JSON log, tagged with plugin, version and tenant_id.
class PlatformLogSink : public sdk::host::LogSink {
 public:
  void Write(const sdk::host::CallIdentity& who, int level, std::string_view message,
             const nlohmann::json& fields) override;
};

}  // namespace clinicore::plugins
