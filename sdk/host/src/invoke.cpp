#include "clinicore/sdk/host/invoke.hpp"

#include <cstdio>
#include <mutex>
#include <vector>

namespace clinicore::sdk::host {
namespace {

using nlohmann::json;

// Collects what a plugin writes, up to kMaxOutputBytes.
struct OutputBuffer {
  std::string text;
  bool overflow = false;

  static int32_t Append(void* ctx, const char* data, size_t size) {
    auto* self = static_cast<OutputBuffer*>(ctx);
    if (data == nullptr && size > 0) return 1;
    if (self->overflow || self->text.size() + size > kMaxOutputBytes) {
      self->overflow = true;
      return 1;
    }
    self->text.append(data, size);
    return 0;
  }
  clinicore_sink Sink() { return clinicore_sink{this, &OutputBuffer::Append}; }
};

std::string Excerpt(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  if (text.size() > 80) out += "...";
  return out;
}

// The plugin's {"error": "..."} when it wrote one; its raw text otherwise.
std::string ErrorText(const std::string& output) {
  const json parsed = json::parse(output, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
    return Excerpt(parsed["error"].get<std::string>());
  }
  return output.empty() ? "(no message)" : Excerpt(output);
}

bool IsString(const json& object, const char* member, size_t min, size_t max) {
  auto it = object.find(member);
  if (it == object.end() || !it->is_string()) return false;
  const size_t size = it->get_ref<const std::string&>().size();
  return size >= min && size <= max;
}

bool IsInteger(const json& object, const char* member, int64_t min, int64_t max) {
  auto it = object.find(member);
  if (it == object.end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
  const int64_t value = it->get<int64_t>();
  return value >= min && value <= max;
}

std::optional<std::string> CheckLeads(const json& output, size_t max) {
  auto leads = output.find("leads");
  if (leads == output.end() || !leads->is_array()) return "leads must be an array";
  if (leads->size() > max) return "more than " + std::to_string(max) + " leads";
  for (size_t i = 0; i < leads->size(); ++i) {
    const json& lead = (*leads)[i];
    const std::string at = "leads[" + std::to_string(i) + "]";
    if (!lead.is_object()) return at + " must be an object";
    if (!IsString(lead, "dedupe_key", 1, 256)) return at + ".dedupe_key must be a string of 1 to 256 bytes";
    if (!lead.contains("lead") || !lead["lead"].is_object()) return at + ".lead must be an object";
  }
  return std::nullopt;
}

std::string Label(const PluginInfo& info, Operation op) {
  return "plugin " + info.name + " " + info.version + " " + OperationName(op);
}

}  // namespace

const char* FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kRefused:
      return "refused";
    case FailureKind::kInvalidInput:
      return "invalid_input";
    case FailureKind::kPluginError:
      return "plugin_error";
    case FailureKind::kMalformedOutput:
      return "malformed_output";
    case FailureKind::kDeadlineExceeded:
      return "deadline_exceeded";
    case FailureKind::kUnsupported:
      return "unsupported";
    case FailureKind::kOverloaded:
      return "overloaded";
  }
  return "unknown";
}

bool CountsTowardQuarantine(FailureKind kind) {
  return kind == FailureKind::kPluginError || kind == FailureKind::kMalformedOutput ||
         kind == FailureKind::kDeadlineExceeded;
}

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kSend:
      return "send";
    case Operation::kVerify:
      return "verify";
    case Operation::kParse:
      return "parse";
    case Operation::kImportCsv:
      return "import_csv";
    case Operation::kEvaluate:
      return "evaluate";
    case Operation::kTier:
      return "tier";
    case Operation::kCheckConfig:
      return "check_config";
  }
  return "unknown";
}

std::optional<Operation> ParseOperation(std::string_view name) {
  for (Operation op : {Operation::kSend, Operation::kVerify, Operation::kParse, Operation::kImportCsv,
                       Operation::kEvaluate, Operation::kTier, Operation::kCheckConfig}) {
    if (name == OperationName(op)) return op;
  }
  return std::nullopt;
}

bool OperationAllowed(Kind kind, Operation op) {
  switch (op) {
    case Operation::kCheckConfig:
      return true;
    case Operation::kSend:
      return kind == Kind::kChannel;
    case Operation::kVerify:
    case Operation::kParse:
    case Operation::kImportCsv:
      return kind == Kind::kLeadSource;
    case Operation::kEvaluate:
    case Operation::kTier:
      return kind == Kind::kLoyaltyRule;
  }
  return false;
}

std::optional<std::string> CheckOutput(Operation op, const json& output) {
  if (!output.is_object()) return "the output must be a JSON object";
  switch (op) {
    case Operation::kSend: {
      const std::string status = output.value("status", json()).is_string() ? output["status"].get<std::string>() : "";
      if (status == "delivered") {
        if (!IsString(output, "provider_message_id", 1, 256)) {
          return "provider_message_id must be a string of 1 to 256 bytes";
        }
      } else if (status == "retry") {
        if (!IsInteger(output, "after_seconds", 0, 7 * 86400)) return "after_seconds must be 0 to 604800";
        if (output.contains("reason") && !IsString(output, "reason", 0, 2000)) return "reason must be a string";
      } else if (status == "failed") {
        if (!IsString(output, "reason", 1, 2000)) return "reason must be a string of 1 to 2000 bytes";
      } else {
        return "status must be one of delivered, retry, failed";
      }
      return std::nullopt;
    }
    case Operation::kVerify: {
      if (!output.contains("valid") || !output["valid"].is_boolean()) return "valid must be true or false";
      if (output.contains("reason") && !IsString(output, "reason", 0, 2000)) return "reason must be a string";
      if (auto challenge = output.find("challenge"); challenge != output.end()) {
        if (!output["valid"].get<bool>()) return "a challenge needs valid: true";
        if (!challenge->is_object() || !IsInteger(*challenge, "status", 100, 599) ||
            !IsString(*challenge, "body", 0, 64 * 1024) ||
            (challenge->contains("content_type") && !IsString(*challenge, "content_type", 1, 200))) {
          return "challenge must be {status: 100-599, content_type, body}";
        }
      }
      return std::nullopt;
    }
    case Operation::kParse:
      return CheckLeads(output, 10'000);
    case Operation::kImportCsv: {
      if (!IsInteger(output, "rows", 0, INT64_MAX)) return "rows must be a whole number";
      if (auto leads = CheckLeads(output, 1'000'000)) return leads;
      auto errors = output.find("errors");
      if (errors == output.end() || !errors->is_array()) return "errors must be an array";
      for (const auto& error : *errors) {
        if (!error.is_object() || !IsInteger(error, "row", 0, INT64_MAX) || !IsString(error, "message", 0, 2000)) {
          return "errors must be [{row, message}]";
        }
      }
      return std::nullopt;
    }
    case Operation::kEvaluate: {
      auto awards = output.find("awards");
      if (awards == output.end() || !awards->is_array()) return "awards must be an array";
      if (awards->size() > 100) return "more than 100 awards";
      for (size_t i = 0; i < awards->size(); ++i) {
        const json& award = (*awards)[i];
        const std::string at = "awards[" + std::to_string(i) + "]";
        if (!award.is_object() || !IsInteger(award, "points", -1'000'000'000, 1'000'000'000)) {
          return at + ".points must be a whole number from -1000000000 to 1000000000";
        }
        if (!IsString(award, "reason", 1, 500)) return at + ".reason must be a string of 1 to 500 bytes";
      }
      return std::nullopt;
    }
    case Operation::kTier: {
      auto tier = output.find("tier");
      if (tier == output.end() || !(tier->is_null() || IsString(output, "tier", 1, 100))) {
        return "tier must be a string of 1 to 100 bytes or null";
      }
      return std::nullopt;
    }
    case Operation::kCheckConfig: {
      if (!output.contains("ok") || !output["ok"].is_boolean()) return "ok must be true or false";
      if (auto errors = output.find("errors"); errors != output.end()) {
        if (!errors->is_array()) return "errors must be an array";
        for (const auto& error : *errors) {
          if (!error.is_object() || !IsString(error, "field", 0, 200) || !IsString(error, "message", 1, 2000)) {
            return "errors must be [{field, message}]";
          }
        }
      }
      return std::nullopt;
    }
  }
  return "unknown operation";
}

PluginInstance::~PluginInstance() {
  if (handle_ == nullptr) return;
  if (poisoned_) {
    // An abandoned call may still be using it: never destroy it; keep it reachable.
    static auto* poisoned = new std::vector<void*>();
    static auto* mutex = new std::mutex();
    std::lock_guard lock(*mutex);
    poisoned->push_back(handle_);
    return;
  }
  try {
    plugin_->descriptor().destroy(handle_);
  } catch (...) {
    // A foreign exception out of destroy: nothing to do but carry on.
  }
}

Expected<std::shared_ptr<PluginInstance>> CreateInstance(const std::shared_ptr<const LoadedPlugin>& plugin,
                                                         const json& config, CallScope& scope) {
  const PluginInfo& info = plugin->info();
  const std::string label = "plugin " + info.name + " " + info.version + " create";
  const std::string text = config.dump(-1, ' ', false, json::error_handler_t::replace);
  OutputBuffer error;
  clinicore_sink sink = error.Sink();
  clinicore_host host = scope.Host();
  void* handle = nullptr;
  int32_t status = CLINICORE_PLUGIN_ERROR;
  try {
    status = plugin->descriptor().create(&host, text.data(), text.size(), &handle, &sink);
  } catch (...) {
    return Failure{FailureKind::kPluginError, label + " threw an exception across the C boundary"};
  }
  if (status == CLINICORE_OK && handle != nullptr) return std::make_shared<PluginInstance>(plugin, handle);
  if (status == CLINICORE_OK) return Failure{FailureKind::kPluginError, label + " returned no instance"};
  if (status == CLINICORE_INVALID_INPUT) {
    return Failure{FailureKind::kInvalidInput, label + " refused the config: " + ErrorText(error.text)};
  }
  return Failure{FailureKind::kPluginError, label + " failed: " + ErrorText(error.text)};
}

Expected<json> CallOperation(const PluginInstance& instance, Operation op, const CallInput& input, CallScope& scope) {
  const LoadedPlugin& plugin = instance.plugin();
  const PluginInfo& info = plugin.info();
  const std::string label = Label(info, op);
  if (!OperationAllowed(info.kind, op)) {
    return Failure{FailureKind::kInvalidInput, label + ": not an operation of a " + KindName(info.kind) + " plugin"};
  }
  if (op == Operation::kSend && info.max_body_bytes > 0) {
    const json* body = nullptr;
    if (auto message = input.input.find("message"); message != input.input.end() && message->is_object()) {
      if (auto it = message->find("body"); it != message->end() && it->is_string()) body = &*it;
    }
    if (body != nullptr && body->get_ref<const std::string&>().size() > info.max_body_bytes) {
      return Failure{FailureKind::kInvalidInput,
                     label + ": the message body is " + std::to_string(body->get_ref<const std::string&>().size()) +
                         " bytes; this channel takes at most " + std::to_string(info.max_body_bytes)};
    }
  }
  const std::string text = input.input.dump(-1, ' ', false, json::error_handler_t::replace);
  OutputBuffer out;
  clinicore_sink sink = out.Sink();
  clinicore_host host = scope.Host();
  void* handle = instance.handle();
  int32_t status = CLINICORE_UNSUPPORTED;
  try {
    switch (op) {
      case Operation::kSend:
        status = plugin.channel().send(handle, &host, text.data(), text.size(), &sink);
        break;
      case Operation::kVerify:
        status = plugin.lead_source().verify(handle, &host, text.data(), text.size(), input.body.data(),
                                             input.body.size(), &sink);
        break;
      case Operation::kParse:
        status = plugin.lead_source().parse(handle, &host, text.data(), text.size(), input.body.data(),
                                            input.body.size(), &sink);
        break;
      case Operation::kImportCsv:
        if (plugin.lead_source().import_csv != nullptr) {
          status = plugin.lead_source().import_csv(handle, &host, input.body.data(), input.body.size(), &sink);
        }
        break;
      case Operation::kEvaluate:
        status = plugin.loyalty_rule().evaluate(handle, &host, text.data(), text.size(), &sink);
        break;
      case Operation::kTier:
        if (plugin.loyalty_rule().tier != nullptr) {
          status = plugin.loyalty_rule().tier(handle, &host, text.data(), text.size(), &sink);
        }
        break;
      case Operation::kCheckConfig:
        if (plugin.descriptor().check_config != nullptr) {
          status = plugin.descriptor().check_config(handle, &host, text.data(), text.size(), &sink);
        }
        break;
    }
  } catch (...) {
    return Failure{FailureKind::kPluginError, label + " threw an exception across the C boundary"};
  }
  if (out.overflow) {
    return Failure{FailureKind::kMalformedOutput,
                   label + " wrote more than " + std::to_string(kMaxOutputBytes) + " bytes of output"};
  }
  switch (status) {
    case CLINICORE_OK: {
      json parsed = json::parse(out.text, nullptr, false);
      if (parsed.is_discarded()) {
        return Failure{FailureKind::kMalformedOutput,
                       label + " returned malformed JSON: \"" + Excerpt(out.text) + "\""};
      }
      if (auto problem = CheckOutput(op, parsed)) {
        return Failure{FailureKind::kMalformedOutput, label + " returned an unexpected shape: " + *problem};
      }
      return parsed;
    }
    case CLINICORE_INVALID_INPUT:
      return Failure{FailureKind::kInvalidInput, label + " refused its input: " + ErrorText(out.text)};
    case CLINICORE_PLUGIN_ERROR:
      return Failure{FailureKind::kPluginError, label + " failed: " + ErrorText(out.text)};
    case CLINICORE_UNSUPPORTED:
      return Failure{FailureKind::kUnsupported, label + " is not offered by this plugin"};
    default:
      return Failure{FailureKind::kPluginError, label + " returned an unknown status " + std::to_string(status)};
  }
}

std::shared_ptr<CallScope> Invoker::Scope(const CallIdentity& who, std::chrono::milliseconds timeout) {
  auto scope = std::make_shared<CallScope>();
  scope->services = services_;
  scope->identity = who;
  scope->deadline_unix_ms = services_->clock().NowUnixMs() + timeout.count();
  return scope;
}

namespace {
Failure Overloaded(const DeadlineExecutor& executor, const std::string& label) {
  return Failure{FailureKind::kOverloaded, label + " refused: " + std::to_string(executor.stuck()) +
                                               " earlier plugin calls are still running past their deadline "
                                               "(restart this worker)"};
}
Failure TimedOut(const DeadlineExecutor& executor, const std::string& label, std::chrono::milliseconds timeout) {
  return Failure{FailureKind::kDeadlineExceeded, label + " did not return within " + std::to_string(timeout.count()) +
                                                     " ms (abandoned; " + std::to_string(executor.stuck()) +
                                                     " call(s) stuck in this process)"};
}
}  // namespace

Expected<std::shared_ptr<PluginInstance>> Invoker::Create(const std::shared_ptr<const LoadedPlugin>& plugin,
                                                          const json& config, const CallIdentity& who,
                                                          std::chrono::milliseconds timeout) {
  auto scope = Scope(who, timeout);
  using Box = std::optional<Expected<std::shared_ptr<PluginInstance>>>;
  auto box = std::make_shared<Box>();
  const auto result =
      executor_->Run([box, scope, plugin, config] { *box = CreateInstance(plugin, config, *scope); }, timeout);
  const std::string label = "plugin " + plugin->info().name + " " + plugin->info().version + " create";
  if (result == DeadlineExecutor::RunResult::kOverloaded) return Overloaded(*executor_, label);
  if (result == DeadlineExecutor::RunResult::kTimedOut) return TimedOut(*executor_, label, timeout);
  return std::move(**box);
}

Expected<json> Invoker::Call(const std::shared_ptr<PluginInstance>& instance, Operation op, CallInput input,
                             const CallIdentity& who, std::chrono::milliseconds timeout,
                             std::function<void(uint64_t, uint64_t)> progress) {
  auto scope = Scope(who, timeout);
  scope->progress = std::move(progress);
  using Box = std::optional<Expected<json>>;
  auto box = std::make_shared<Box>();
  auto owned_input = std::make_shared<CallInput>(std::move(input));
  const auto result = executor_->Run(
      [box, scope, instance, owned_input, op] { *box = CallOperation(*instance, op, *owned_input, *scope); }, timeout);
  const std::string label = Label(instance->plugin().info(), op);
  if (result == DeadlineExecutor::RunResult::kOverloaded) return Overloaded(*executor_, label);
  if (result == DeadlineExecutor::RunResult::kTimedOut) {
    {
      std::lock_guard lock(scope->progress_mutex);
      scope->progress = nullptr;
    }
    instance->Poison();  // the abandoned thread may still be inside it: never destroy it
    return TimedOut(*executor_, label, timeout);
  }
  return std::move(**box);
}

}  // namespace clinicore::sdk::host
