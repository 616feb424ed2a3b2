#include "platform/plugins/plugin_host.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"
#include "platform/plugins/log_budget.hpp"
#include "platform/plugins/pg_kv_store.hpp"

namespace clinicore::plugins {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;
using nlohmann::json;
using sdk::host::FailureKind;
using sdk::host::Operation;

Error WithCode(ErrorCode code, std::string detail) {
  Error error;
  error.code = code;
  error.detail = std::move(detail);
  return error;
}

Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::NotFound("cannot read " + path);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return core::Sha256Hex(bytes.str());
}

json TenantContext(const tenancy::Tenant& tenant) {
  return {{"id", tenant.id}, {"slug", tenant.slug}, {"locale", tenant.locale}, {"time_zone", tenant.time_zone}};
}

}  // namespace

void PlatformLogSink::Write(const sdk::host::CallIdentity& who, int level, std::string_view message,
                            const json& fields) {
  static const core::log::Level kLevels[] = {core::log::Level::kDebug, core::log::Level::kInfo, core::log::Level::kWarn,
                                             core::log::Level::kError};
  json line = {{"plugin", who.plugin_name},
               {"plugin_version", who.plugin_version},
               {"tenant_id", who.tenant_id},
               {"message", std::string(message)}};
  if (!fields.empty()) line["fields"] = fields;
  core::log::Write(kLevels[level < 0 || level > 3 ? 1 : level], "plugin_log", line);
}

PluginHost::PluginHost(db::Database& database, std::shared_ptr<PluginService> service, PluginHostOptions options,
                       std::shared_ptr<sdk::host::HttpTransport> http, std::shared_ptr<cache::RateLimiter> send_limiter)
    : database_(database),
      service_(std::move(service)),
      options_(std::move(options)),
      catalog_(std::make_shared<sdk::host::PluginCatalog>()),
      executor_(std::make_shared<sdk::host::DeadlineExecutor>(options_.max_stuck_calls)),
      services_(std::make_shared<sdk::host::HostServices>(
          http ? http : std::make_shared<sdk::host::CurlHttpTransport>(options_.http),
          std::make_shared<PgKeyValueStore>(database_),
          std::make_shared<LogBudget>(std::make_shared<PlatformLogSink>(), options_.log_lines_per_second))),
      invoker_(services_, executor_),
      send_limiter_(std::move(send_limiter)) {}

Result<sdk::host::PluginInfo> PluginHost::Install(const std::string& path, const std::string& actor) {
  auto loaded = catalog_->Load(path);
  if (!loaded) {
    Error error = Error::InvalidArgument(loaded.error().message, {{loaded.error().field, loaded.error().message}});
    return error;
  }
  auto sha = FileSha256(path);
  if (!sha) return std::move(sha).error();
  auto recorded = service_->RecordInstall((*loaded)->info(), *sha, actor);
  if (!recorded) return std::move(recorded).error();
  return (*loaded)->info();
}

std::vector<std::string> PluginHost::InstallDirectory(const std::string& directory, const std::string& actor) {
  std::vector<std::string> problems;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    if (entry.path().extension() == ".so") files.push_back(entry.path().string());
  }
  if (ec) return {"plugin directory " + directory + " cannot be read: " + ec.message()};
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto installed = Install(file, actor);
    if (!installed) {
      problems.push_back(installed.error().detail);
      core::log::Warn("plugin_refused", {{"file", file}, {"detail", installed.error().detail}});
    } else {
      core::log::Info("plugin_loaded", {{"file", file}, {"plugin", installed->name}, {"version", installed->version}});
    }
  }
  return problems;
}

size_t PluginHost::cached_instances() const {
  std::lock_guard lock(mutex_);
  return instances_.size();
}

Result<std::shared_ptr<sdk::host::PluginInstance>> PluginHost::Instance(
    const tenancy::Tenant& tenant, const std::shared_ptr<const sdk::host::LoadedPlugin>& plugin,
    const CallConfig& config) {
  const auto key = std::make_pair(tenant.id, plugin->info().name);
  {
    std::lock_guard lock(mutex_);
    auto it = instances_.find(key);
    if (it != instances_.end() && it->second.version == config.version &&
        it->second.config_hash == config.config_hash && !it->second.instance->poisoned()) {
      return it->second.instance;
    }
  }
  const sdk::host::CallIdentity who{tenant.id, plugin->info().name, plugin->info().version};
  auto created = invoker_.Create(plugin, config.config, who, options_.call_timeout);
  if (!created) {
    sdk::host::Failure failure = std::move(created).error();
    // A config the plugin refuses at create fails every call: count it like a plugin fault so
    // the tenant's plugin ends in quarantine instead of being retried forever.
    if (failure.kind == FailureKind::kInvalidInput) failure.kind = FailureKind::kPluginError;
    return Book(tenant, plugin->info().name, failure);
  }
  std::shared_ptr<sdk::host::PluginInstance> replaced;
  std::lock_guard lock(mutex_);
  if (instances_.size() >= kMaxInstances && instances_.count(key) == 0) instances_.erase(instances_.begin());
  auto& slot = instances_[key];
  replaced = std::move(slot.instance);  // the old config's instance ends here (unless in use)
  slot = {config.version, config.config_hash, *created};
  return *created;
}

void PluginHost::BookLostCall(const std::string& tenant_id, const std::string& plugin, const std::string& detail) {
  core::log::Warn("plugin_call_lost", {{"tenant_id", tenant_id}, {"plugin", plugin}, {"detail", detail}});
  auto quarantined = service_->RecordFailure(tenant_id, plugin, detail);
  if (!quarantined) {
    core::log::Error("plugin_failure_not_recorded",
                     {{"tenant_id", tenant_id}, {"plugin", plugin}, {"detail", quarantined.error().detail}});
  } else if (*quarantined) {
    core::log::Error("plugin_quarantined", {{"tenant_id", tenant_id}, {"plugin", plugin}, {"detail", detail}});
  }
}

Error PluginHost::Book(const tenancy::Tenant& tenant, const std::string& plugin, const sdk::host::Failure& failure) {
  core::log::Warn("plugin_call_failed", {{"tenant_id", tenant.id},
                                         {"plugin", plugin},
                                         {"kind", sdk::host::FailureKindName(failure.kind)},
                                         {"detail", failure.message}});
  if (sdk::host::CountsTowardQuarantine(failure.kind)) {
    auto quarantined = service_->RecordFailure(tenant.id, plugin, failure.message);
    if (quarantined && *quarantined) {
      core::log::Error("plugin_quarantined",
                       {{"tenant_id", tenant.id}, {"plugin", plugin}, {"detail", failure.message}});
    }
  }
  switch (failure.kind) {
    case FailureKind::kInvalidInput:
      return WithCode(ErrorCode::kInvalidArgument, failure.message);
    case FailureKind::kUnsupported:
      return WithCode(ErrorCode::kFailedPrecondition, failure.message);
    case FailureKind::kDeadlineExceeded:
      return WithCode(ErrorCode::kDeadlineExceeded, failure.message);
    case FailureKind::kRefused:
    case FailureKind::kPluginError:
    case FailureKind::kMalformedOutput:
    case FailureKind::kOverloaded:
      break;
  }
  return Error::Unavailable(failure.message, failure.message);
}

Result<json> PluginHost::Call(const tenancy::Tenant& tenant, const std::string& plugin, Operation op,
                              sdk::host::CallInput input, std::optional<std::chrono::milliseconds> timeout) {
  const auto deadline = std::max(std::chrono::milliseconds(1),
                                 timeout ? std::min(*timeout, options_.call_timeout) : options_.call_timeout);
  auto config = service_->ConfigForCall(tenant.id, plugin);
  if (!config) return std::move(config).error();
  if (config->health.quarantined()) {
    return WithCode(ErrorCode::kFailedPrecondition, "Plugin " + plugin + " is quarantined for this tenant since " +
                                                        *config->health.quarantined_at + ": " +
                                                        config->health.quarantine_reason.value_or(""));
  }
  auto loaded = catalog_->Find(plugin, config->version);
  if (!loaded) {
    return Error::Unavailable("Plugin " + plugin + " " + config->version + " is not loaded in this worker.",
                              "not in CLINICORE_PLUGIN_DIR of this worker");
  }
  if (!sdk::host::OperationAllowed(loaded->info().kind, op)) {
    return WithCode(ErrorCode::kFailedPrecondition, std::string("Plugin ") + plugin + " is a " +
                                                        sdk::host::KindName(loaded->info().kind) + ", which has no " +
                                                        sdk::host::OperationName(op) + " operation.");
  }
  if (op == Operation::kSend) {
    if (auto allowed = CheckSendRate(tenant, loaded->info()); !allowed) return std::move(allowed).error();
  }
  if (op != Operation::kImportCsv) {
    if (!input.input.is_object()) return Error::InvalidArgument("A plugin's input must be a JSON object.");
    input.input["tenant"] = TenantContext(tenant);
  }
  auto instance = Instance(tenant, loaded, *config);
  if (!instance) return std::move(instance).error();
  const sdk::host::CallIdentity who{tenant.id, plugin, config->version};
  auto result = invoker_.Call(*instance, op, std::move(input), who, deadline);
  if (!result) {
    if ((*instance)->poisoned()) {
      std::lock_guard lock(mutex_);
      auto it = instances_.find({tenant.id, plugin});
      if (it != instances_.end() && it->second.instance == *instance) instances_.erase(it);
    }
    return Book(tenant, plugin, result.error());
  }
  if (config->health.consecutive_failures > 0) {
    if (auto reset = service_->RecordSuccess(tenant.id, plugin); !reset) {
      core::log::Warn("plugin_health_reset_failed", {{"tenant_id", tenant.id}, {"detail", reset.error().detail}});
    }
  }
  return std::move(result).value();
}

core::Status PluginHost::CheckSendRate(const tenancy::Tenant& tenant, const sdk::host::PluginInfo& info) {
  if (!send_limiter_ || info.max_per_second == 0) return core::Ok();
  // Per tenant and plugin (not version): the provider's limit is on the tenant's account.
  const auto decision = send_limiter_->Hit(cache::TenantKey(tenant.id, "plugins:send-rate:" + info.name),
                                           {static_cast<int>(info.max_per_second), std::chrono::seconds(1)},
                                           cache::WhenRedisDown::kLimitLocally);
  if (decision.allowed) return core::Ok();
  Error error =
      WithCode(ErrorCode::kResourceExhausted, "Plugin " + info.name + " allows " + std::to_string(info.max_per_second) +
                                                  " sends per second per tenant; this send waits.");
  error.retry_after_seconds = std::max<int>(1, static_cast<int>(decision.retry_after.count()));
  return error;
}

Result<SendOutcome> PluginHost::Send(const tenancy::Tenant& tenant, const std::string& plugin, const json& message,
                                     const json& recipient, const std::string& idempotency_key,
                                     std::optional<std::chrono::milliseconds> timeout) {
  auto result =
      Call(tenant, plugin, Operation::kSend,
           {{{"message", message}, {"recipient", recipient}, {"idempotency_key", idempotency_key}}, ""}, timeout);
  if (!result) return std::move(result).error();
  SendOutcome outcome;
  const std::string status = (*result)["status"].get<std::string>();
  if (status == "delivered") {
    outcome.status = SendOutcome::Status::kDelivered;
    outcome.provider_message_id = (*result)["provider_message_id"].get<std::string>();
  } else if (status == "retry") {
    outcome.status = SendOutcome::Status::kRetry;
    outcome.retry_after_seconds = (*result)["after_seconds"].get<int>();
    outcome.reason = result->value("reason", std::string());
  } else {
    outcome.status = SendOutcome::Status::kFailed;
    outcome.reason = (*result)["reason"].get<std::string>();
  }
  return outcome;
}

Result<json> PluginHost::CheckConfig(const tenancy::Tenant& tenant, const std::string& plugin) {
  auto config = service_->ConfigForCall(tenant.id, plugin);
  if (!config) return std::move(config).error();
  auto result = Call(tenant, plugin, Operation::kCheckConfig, {});
  std::string status;
  json detail;
  if (result) {
    status = (*result)["ok"].get<bool>() ? "passed" : "failed";
    detail = *result;
  } else if (result.error().code == ErrorCode::kFailedPrecondition &&
             result.error().detail.find("is not offered") != std::string::npos) {
    status = "not_offered";
    detail = nullptr;
  } else {
    status = "error";
    detail = {{"error", result.error().detail}};
  }
  if (auto recorded = service_->RecordCheck(tenant.id, plugin, config->config_hash, status, detail); !recorded) {
    return std::move(recorded).error();
  }
  if (!result && status == "not_offered") return json{{"ok", true}, {"not_offered", true}};
  return result;
}

}  // namespace clinicore::plugins
