// clinicore plugin SDK — the header-only C++ layer over clinicore/sdk/abi.h.
//
// Derive from Channel, LeadSource or LoyaltyRule, give the class five constants and a
// constructor, and export it with one macro:
//
//   class MyChannel : public clinicore::sdk::Channel {
//    public:
//     static constexpr const char* kName = "my-channel";
//     static constexpr const char* kVersion = "1.0.0";
//     static constexpr const char* kDescription = "Sends through My Provider";
//     static constexpr const char* kConfigSchema = R"({"type":"object","properties":{...}})";
//     static constexpr clinicore::sdk::ChannelLimits kLimits{64 * 1024, 20};
//     MyChannel(const clinicore::sdk::Json& config, clinicore::sdk::Host& host);
//     clinicore::sdk::SendResult Send(const clinicore::sdk::SendRequest& request, clinicore::sdk::Host& host) override;
//   };
//   CLINICORE_CHANNEL_PLUGIN(MyChannel)
//
// Every exception thrown by your code is caught here, before it could reach the C boundary:
// InvalidInput (and JSON parse errors) become CLINICORE_INVALID_INPUT, anything else
// CLINICORE_PLUGIN_ERROR, each with {"error": what()}. An instance may be called from several
// threads at once: keep per-call state in locals. Needs C++17 and nlohmann-json 3.10+.
#ifndef CLINICORE_SDK_PLUGIN_HPP
#define CLINICORE_SDK_PLUGIN_HPP

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clinicore/sdk/abi.h"

namespace clinicore::sdk {

using Json = nlohmann::json;

// Input the plugin refuses (bad config, malformed payload): the host does not retry it and it
// does not count toward quarantine.
class InvalidInput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A host service failed (key-value storage down, deadline passed).
class HostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LogLevel {
  kDebug = CLINICORE_LOG_DEBUG,
  kInfo = CLINICORE_LOG_INFO,
  kWarn = CLINICORE_LOG_WARN,
  kError = CLINICORE_LOG_ERROR
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int timeout_ms = 0;  // 0: the host's limit (always capped by the call's deadline)
};

struct HttpResponse {
  int status = 0;                              // 0 when error is set
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;  // transport failure (DNS, connect, TLS, timeout, refused by policy)
  bool timed_out = false;

  bool transport_ok() const { return error.empty(); }
  std::optional<std::string> Header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

namespace detail {

inline int32_t AppendToString(void* ctx, const char* data, size_t size) {
  auto* out = static_cast<std::string*>(ctx);
  if (out->size() + size > (size_t{64} << 20)) return 1;
  out->append(data, size);
  return 0;
}

inline void Write(clinicore_sink* sink, std::string_view text) {
  if (sink != nullptr && sink->write != nullptr) sink->write(sink->ctx, text.data(), text.size());
}

inline void WriteJson(clinicore_sink* sink, const Json& value) {
  Write(sink, value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace detail

// The host services of the current call. Valid only during that call.
class Host {
 public:
  explicit Host(const clinicore_host* host) : host_(host) {}

  void Log(LogLevel level, std::string_view message, const Json& fields = Json::object()) const {
    const std::string text = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
    services().log(host_->ctx, static_cast<int32_t>(level), message.data(), message.size(), text.data(), text.size());
  }

  HttpResponse Http(const HttpRequest& request) const {
    Json headers = Json::object();
    for (const auto& [name, value] : request.headers) headers[name] = value;
    Json body = {{"method", request.method}, {"url", request.url}, {"headers", headers}, {"body", request.body}};
    if (request.timeout_ms > 0) body["timeout_ms"] = request.timeout_ms;
    const std::string text = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::string out;
    clinicore_sink sink{&out, &detail::AppendToString};
    HttpResponse response;
    if (services().http(host_->ctx, text.data(), text.size(), &sink) != CLINICORE_HOST_OK) {
      response.error = "the host refused the request";
      return response;
    }
    const Json reply = Json::parse(out, nullptr, false);
    if (!reply.is_object()) {
      response.error = "the host returned an unreadable response";
    } else if (reply.contains("error")) {
      response.error = reply.value("error", std::string("transport error"));
      response.timed_out = reply.value("timed_out", false);
    } else {
      response.status = reply.value("status", 0);
      response.body = reply.value("body", std::string());
      if (auto it = reply.find("headers"); it != reply.end() && it->is_object()) {
        for (const auto& [name, value] : it->items()) {
          if (value.is_string()) response.headers[name] = value.get<std::string>();
        }
      }
    }
    return response;
  }

  int64_t NowUnixMs() const { return services().now_unix_ms(host_->ctx); }
  int64_t DeadlineUnixMs() const { return services().deadline_unix_ms(host_->ctx); }
  int64_t RemainingMs() const { return DeadlineUnixMs() - NowUnixMs(); }

  // The plugin's own state for the calling tenant. Throws HostError when storage fails.
  std::optional<std::string> KvGet(std::string_view key) const {
    std::string out;
    clinicore_sink sink{&out, &detail::AppendToString};
    const int32_t status = services().kv_get(host_->ctx, key.data(), key.size(), &sink);
    if (status == CLINICORE_HOST_NOT_FOUND) return std::nullopt;
    if (status != CLINICORE_HOST_OK) throw HostError("key-value get failed");
    return out;
  }
  void KvPut(std::string_view key, std::string_view value, int64_t ttl_seconds = 0) const {
    if (services().kv_put(host_->ctx, key.data(), key.size(), value.data(), value.size(), ttl_seconds) !=
        CLINICORE_HOST_OK) {
      throw HostError("key-value put failed");
    }
  }
  void KvDelete(std::string_view key) const {
    if (services().kv_delete(host_->ctx, key.data(), key.size()) != CLINICORE_HOST_OK) {
      throw HostError("key-value delete failed");
    }
  }

  void Progress(uint64_t done, uint64_t total) const { services().progress(host_->ctx, done, total); }

  const clinicore_host* raw() const { return host_; }

 private:
  const clinicore_host_services& services() const { return *host_->services; }
  const clinicore_host* host_;
};

// The tenant a call is made for (from the "tenant" member of the input).
struct TenantContext {
  std::string id;
  std::string slug;
  std::string locale;
  std::string time_zone;

  static TenantContext FromJson(const Json& input) {
    TenantContext tenant;
    if (auto it = input.find("tenant"); it != input.end() && it->is_object()) {
      tenant.id = it->value("id", std::string());
      tenant.slug = it->value("slug", std::string());
      tenant.locale = it->value("locale", std::string());
      tenant.time_zone = it->value("time_zone", std::string());
    }
    return tenant;
  }
};

// Result of a live config check.
struct ConfigCheck {
  std::vector<std::pair<std::string, std::string>> errors;  // field, message

  static ConfigCheck Ok() { return {}; }
  static ConfigCheck Fail(std::string field, std::string message) {
    ConfigCheck check;
    check.errors.emplace_back(std::move(field), std::move(message));
    return check;
  }
  Json ToJson() const {
    Json list = Json::array();
    for (const auto& [field, message] : errors) list.push_back({{"field", field}, {"message", message}});
    return errors.empty() ? Json{{"ok", true}} : Json{{"ok", false}, {"errors", list}};
  }
};

// Base of every plugin class: the optional live config check.
class Plugin {
 public:
  virtual ~Plugin() = default;
  // Return std::nullopt when the plugin has no live check (the schema alone decides).
  virtual std::optional<ConfigCheck> CheckConfig(Host& /*host*/) { return std::nullopt; }
};

// ----- Channel -------------------------------------------------------------------------------

struct ChannelLimits {
  uint32_t max_body_bytes = 0;  // 0: not declared
  uint32_t max_per_second = 0;  // 0: not declared
};

struct SendRequest {
  Json message;    // {"subject","body","template",...}: what to deliver
  Json recipient;  // {"address","name","locale",...}: to whom
  TenantContext tenant;
  std::string idempotency_key;  // the same for every retry of one delivery
};

class SendResult {
 public:
  static SendResult Delivered(std::string provider_message_id) {
    return SendResult(Json{{"status", "delivered"}, {"provider_message_id", std::move(provider_message_id)}});
  }
  static SendResult RetryAfter(int seconds, std::string reason) {
    return SendResult(Json{{"status", "retry"}, {"after_seconds", seconds}, {"reason", std::move(reason)}});
  }
  static SendResult Failed(std::string reason) {
    return SendResult(Json{{"status", "failed"}, {"reason", std::move(reason)}});
  }
  const Json& ToJson() const { return json_; }

 private:
  explicit SendResult(Json json) : json_(std::move(json)) {}
  Json json_;
};

class Channel : public Plugin {
 public:
  static constexpr uint32_t kKind = CLINICORE_KIND_CHANNEL;
  virtual SendResult Send(const SendRequest& request, Host& host) = 0;
};

// ----- LeadSource ----------------------------------------------------------------------------

struct InboundRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, std::string> query;
  std::string_view body;  // the raw bytes as received (sign over these, not a re-encoding)
  TenantContext tenant;

  std::optional<std::string> Header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

class VerifyResult {
 public:
  static VerifyResult Valid() { return VerifyResult(Json{{"valid", true}}); }
  static VerifyResult Invalid(std::string reason) {
    return VerifyResult(Json{{"valid", false}, {"reason", std::move(reason)}});
  }
  // A handshake (e.g. a subscription challenge) the host answers as given instead of parsing.
  static VerifyResult Challenge(int status, std::string content_type, std::string body) {
    return VerifyResult(Json{
        {"valid", true},
        {"challenge", {{"status", status}, {"content_type", std::move(content_type)}, {"body", std::move(body)}}}});
  }
  const Json& ToJson() const { return json_; }

 private:
  explicit VerifyResult(Json json) : json_(std::move(json)) {}
  Json json_;
};

struct Lead {
  std::string dedupe_key;  // the same person/submission gives the same key
  Json fields;             // {"name","email","phone","message",...}
};

struct ImportResult {
  uint64_t rows = 0;
  std::vector<Lead> leads;
  std::vector<std::pair<uint64_t, std::string>> errors;  // row, message
};

class LeadSource : public Plugin {
 public:
  static constexpr uint32_t kKind = CLINICORE_KIND_LEAD_SOURCE;
  virtual VerifyResult Verify(const InboundRequest& request, Host& host) = 0;
  virtual std::vector<Lead> Parse(const InboundRequest& request, Host& host) = 0;
  // Optional batch import; std::nullopt = not offered. Report progress with host.Progress().
  virtual std::optional<ImportResult> ImportCsv(std::string_view /*csv*/, Host& /*host*/) { return std::nullopt; }
};

// ----- LoyaltyRule ---------------------------------------------------------------------------

struct LoyaltyEvent {
  std::string type;  // appointment_completed, client_birthday, referral, signup, ...
  Json data;         // the whole event object
  TenantContext tenant;
};

struct Award {
  int64_t points = 0;  // negative: a deduction
  std::string reason;
};

struct Standing {
  int64_t balance = 0;
  int64_t lifetime_points = 0;
};

class LoyaltyRule : public Plugin {
 public:
  static constexpr uint32_t kKind = CLINICORE_KIND_LOYALTY_RULE;
  virtual std::vector<Award> Evaluate(const LoyaltyEvent& event, Host& host) = 0;
  // Optional tier rule: the tier name for a standing, std::nullopt = no tier rules offered.
  virtual std::optional<std::optional<std::string>> Tier(const Standing& /*standing*/, Host& /*host*/) {
    return std::nullopt;
  }
};

// ----- the boundary --------------------------------------------------------------------------

namespace detail {

// Runs fn and turns every exception into a status and {"error": ...} on `out`.
template <typename Fn>
int32_t Guard(clinicore_sink* out, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const InvalidInput& e) {
    WriteJson(out, Json{{"error", e.what()}});
    return CLINICORE_INVALID_INPUT;
  } catch (const Json::parse_error& e) {
    WriteJson(out, Json{{"error", std::string("input is not valid JSON: ") + e.what()}});
    return CLINICORE_INVALID_INPUT;
  } catch (const std::exception& e) {
    try {
      WriteJson(out, Json{{"error", e.what()}});
    } catch (...) {
      Write(out, R"({"error":"exception"})");
    }
    return CLINICORE_PLUGIN_ERROR;
  } catch (...) {
    Write(out, R"({"error":"unknown exception"})");
    return CLINICORE_PLUGIN_ERROR;
  }
}

inline Json ParseInput(const char* data, size_t size) {
  Json value = Json::parse(data, data + size);
  if (!value.is_object()) throw InvalidInput("input must be a JSON object");
  return value;
}

inline uint32_t BuildFlags() {
  uint32_t flags = CLINICORE_BUILD_CXX_LAYER;
#ifndef NDEBUG
  flags |= CLINICORE_BUILD_DEBUG;
#endif
#if defined(__SANITIZE_ADDRESS__)
  flags |= CLINICORE_BUILD_SANITIZED;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  flags |= CLINICORE_BUILD_SANITIZED;
#endif
#endif
  return flags;
}

template <typename T>
int32_t Create(const clinicore_host* host, const char* config, size_t config_size, void** instance,
               clinicore_sink* error) noexcept {
  return Guard(error, [&]() -> int32_t {
    Json parsed = Json::parse(config, config + config_size);
    if (!parsed.is_object()) throw InvalidInput("config must be a JSON object");
    Host wrapped(host);
    Plugin* plugin = new T(parsed, wrapped);
    *instance = plugin;
    return CLINICORE_OK;
  });
}

inline void Destroy(void* instance) noexcept {
  try {
    delete static_cast<Plugin*>(instance);
  } catch (...) {
    // A destructor that throws is a bug in the plugin; never let it cross.
  }
}

inline int32_t CheckConfig(void* instance, const clinicore_host* host, const char* /*input*/, size_t /*size*/,
                           clinicore_sink* out) noexcept {
  return Guard(out, [&]() -> int32_t {
    Host wrapped(host);
    auto check = static_cast<Plugin*>(instance)->CheckConfig(wrapped);
    if (!check) return CLINICORE_UNSUPPORTED;
    WriteJson(out, check->ToJson());
    return CLINICORE_OK;
  });
}

inline int32_t Send(void* instance, const clinicore_host* host, const char* input, size_t size,
                    clinicore_sink* out) noexcept {
  return Guard(out, [&]() -> int32_t {
    const Json parsed = ParseInput(input, size);
    SendRequest request;
    request.message = parsed.value("message", Json::object());
    request.recipient = parsed.value("recipient", Json::object());
    request.tenant = TenantContext::FromJson(parsed);
    request.idempotency_key = parsed.value("idempotency_key", std::string());
    Host wrapped(host);
    WriteJson(out, static_cast<Channel*>(static_cast<Plugin*>(instance))->Send(request, wrapped).ToJson());
    return CLINICORE_OK;
  });
}

inline InboundRequest ParseInbound(const char* request_json, size_t request_size, const char* body, size_t body_size) {
  const Json parsed = ParseInput(request_json, request_size);
  InboundRequest request;
  request.method = parsed.value("method", std::string("POST"));
  request.path = parsed.value("path", std::string());
  for (const char* member : {"headers", "query"}) {
    auto it = parsed.find(member);
    if (it == parsed.end() || !it->is_object()) continue;
    auto& target = std::string_view(member) == "headers" ? request.headers : request.query;
    for (const auto& [name, value] : it->items()) {
      if (value.is_string()) target[name] = value.get<std::string>();
    }
  }
  request.body = std::string_view(body == nullptr ? "" : body, body == nullptr ? 0 : body_size);
  request.tenant = TenantContext::FromJson(parsed);
  return request;
}

inline int32_t Verify(void* instance, const clinicore_host* host, const char* request_json, size_t request_size,
                      const char* body, size_t body_size, clinicore_sink* out) noexcept {
  return Guard(out, [&]() -> int32_t {
    const InboundRequest request = ParseInbound(request_json, request_size, body, body_size);
    Host wrapped(host);
    WriteJson(out, static_cast<LeadSource*>(static_cast<Plugin*>(instance))->Verify(request, wrapped).ToJson());
    return CLINICORE_OK;
  });
}

inline Json LeadJson(const Lead& lead) {
  return {{"dedupe_key", lead.dedupe_key}, {"lead", lead.fields}};
}

inline int32_t Parse(void* instance, const clinicore_host* host, const char* request_json, size_t request_size,
                     const char* body, size_t body_size, clinicore_sink* out) noexcept {
  return Guard(out, [&]() -> int32_t {
    const InboundRequest request = ParseInbound(request_json, request_size, body, body_size);
    Host wrapped(host);
    Json leads = Json::array();
    for (const Lead& lead : static_cast<LeadSource*>(static_cast<Plugin*>(instance))->Parse(request, wrapped)) {
      leads.push_back(LeadJson(lead));
    }
    WriteJson(out, Json{{"leads", leads}});
    return CLINICORE_OK;
  });
}

inline int32_t ImportCsv(void* instance, const clinicore_host* host, const char* input, size_t size,
                         clinicore_sink* out) noexcept {
  return Guard(out, [&]() -> int32_t {
    Host wrapped(host);
    auto result =
        static_cast<LeadSource*>(static_cast<Plugin*>(instance))
            ->ImportCsv(std::string_view(input == nullptr ? "" : input, input == nullptr ? 0 : size), wrapped);
    if (!result) return CLINICORE_UNSUPPORTED;
    Json leads = Json::array();
    for (const Lead& lead : result->leads) leads.push_back(LeadJson(lead));
    Json errors = Json::array();
    for (const auto& [row, message] : result->errors) errors.push_back({{"row", row}, {"message", message}});
    WriteJson(out, Json{{"rows", result->rows}, {"leads", leads}, {"errors", errors}});
    return CLINICORE_OK;
  });
}

inline int32_t Evaluate(void* instance, const clinicore_host* host, const char* input, size_t size,
                        clinicore_sink* out) noexcept {
  return Guard(out, [&]() -> int32_t {
    const Json parsed = ParseInput(input, size);
    LoyaltyEvent event;
    event.data = parsed.value("event", Json::object());
    if (!event.data.is_object()) throw InvalidInput("event must be an object");
    event.type = event.data.value("type", std::string());
    event.tenant = TenantContext::FromJson(parsed);
    Host wrapped(host);
    Json awards = Json::array();
    for (const Award& award : static_cast<LoyaltyRule*>(static_cast<Plugin*>(instance))->Evaluate(event, wrapped)) {
      awards.push_back({{"points", award.points}, {"reason", award.reason}});
    }
    WriteJson(out, Json{{"awards", awards}});
    return CLINICORE_OK;
  });
}

inline int32_t Tier(void* instance, const clinicore_host* host, const char* input, size_t size,
                    clinicore_sink* out) noexcept {
  return Guard(out, [&]() -> int32_t {
    const Json parsed = ParseInput(input, size);
    Standing standing;
    standing.balance = parsed.value("balance", int64_t{0});
    standing.lifetime_points = parsed.value("lifetime_points", int64_t{0});
    Host wrapped(host);
    auto tier = static_cast<LoyaltyRule*>(static_cast<Plugin*>(instance))->Tier(standing, wrapped);
    if (!tier) return CLINICORE_UNSUPPORTED;
    WriteJson(out, Json{{"tier", *tier ? Json(**tier) : Json(nullptr)}});
    return CLINICORE_OK;
  });
}

template <typename T>
clinicore_plugin_descriptor MakeDescriptor(const void* kind_ops) {
  clinicore_plugin_descriptor descriptor{};
  descriptor.magic = CLINICORE_PLUGIN_MAGIC;
  descriptor.struct_size = sizeof(clinicore_plugin_descriptor);
  descriptor.abi_major = CLINICORE_SDK_ABI_MAJOR;
  descriptor.abi_minor = CLINICORE_SDK_ABI_MINOR;
  descriptor.build_flags = BuildFlags();
  descriptor.kind = T::kKind;
  descriptor.name = T::kName;
  descriptor.version = T::kVersion;
  descriptor.description = T::kDescription;
  descriptor.config_schema = T::kConfigSchema;
  descriptor.create = &Create<T>;
  descriptor.destroy = &Destroy;
  descriptor.check_config = &CheckConfig;
  descriptor.kind_ops = kind_ops;
  return descriptor;
}

template <typename T>
const clinicore_plugin_descriptor* ChannelDescriptor() {
  static_assert(std::is_base_of_v<Channel, T>, "CLINICORE_CHANNEL_PLUGIN needs a class derived from Channel");
  static const clinicore_channel_ops ops{sizeof(clinicore_channel_ops), T::kLimits.max_body_bytes,
                                         T::kLimits.max_per_second, 0, &Send};
  static const clinicore_plugin_descriptor descriptor = MakeDescriptor<T>(&ops);
  return &descriptor;
}

template <typename T>
const clinicore_plugin_descriptor* LeadSourceDescriptor() {
  static_assert(std::is_base_of_v<LeadSource, T>, "CLINICORE_LEAD_SOURCE_PLUGIN needs a class derived from LeadSource");
  static const clinicore_lead_source_ops ops{sizeof(clinicore_lead_source_ops), 0, &Verify, &Parse, &ImportCsv};
  static const clinicore_plugin_descriptor descriptor = MakeDescriptor<T>(&ops);
  return &descriptor;
}

template <typename T>
const clinicore_plugin_descriptor* LoyaltyRuleDescriptor() {
  static_assert(std::is_base_of_v<LoyaltyRule, T>,
                "CLINICORE_LOYALTY_RULE_PLUGIN needs a class derived from LoyaltyRule");
  static const clinicore_loyalty_rule_ops ops{sizeof(clinicore_loyalty_rule_ops), 0, &Evaluate, &Tier};
  static const clinicore_plugin_descriptor descriptor = MakeDescriptor<T>(&ops);
  return &descriptor;
}

}  // namespace detail
}  // namespace clinicore::sdk

// Exports the one entry symbol for a plugin class. Use exactly one of these per library.
#define CLINICORE_CHANNEL_PLUGIN(Class)                                                     \
  CLINICORE_PLUGIN_EXPORT const clinicore_plugin_descriptor* clinicore_plugin_entry(void) { \
    return ::clinicore::sdk::detail::ChannelDescriptor<Class>();                            \
  }
#define CLINICORE_LEAD_SOURCE_PLUGIN(Class)                                                 \
  CLINICORE_PLUGIN_EXPORT const clinicore_plugin_descriptor* clinicore_plugin_entry(void) { \
    return ::clinicore::sdk::detail::LeadSourceDescriptor<Class>();                         \
  }
#define CLINICORE_LOYALTY_RULE_PLUGIN(Class)                                                \
  CLINICORE_PLUGIN_EXPORT const clinicore_plugin_descriptor* clinicore_plugin_entry(void) { \
    return ::clinicore::sdk::detail::LoyaltyRuleDescriptor<Class>();                        \
  }

#endif  // CLINICORE_SDK_PLUGIN_HPP
