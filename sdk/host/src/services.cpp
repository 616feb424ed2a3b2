#include "clinicore/sdk/host/services.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "address_filter.hpp"

namespace clinicore::sdk::host {
namespace {

using nlohmann::json;

constexpr size_t kMaxLogMessageBytes = 4096;
constexpr size_t kMaxLogFieldsBytes = 16 * 1024;
constexpr size_t kMaxUrlBytes = 8192;
constexpr size_t kMaxRequestBodyBytes = 4 << 20;
constexpr int64_t kMaxTtlSeconds = 10LL * 366 * 24 * 3600;

CallScope* ScopeOf(void* ctx) {
  return static_cast<CallScope*>(ctx);
}

int32_t WriteTo(clinicore_sink* sink, std::string_view text) {
  if (sink == nullptr || sink->write == nullptr) return CLINICORE_HOST_ERROR;
  return sink->write(sink->ctx, text.data(), text.size()) == 0 ? CLINICORE_HOST_OK : CLINICORE_HOST_ERROR;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool ValidHeaderName(const std::string& name) {
  if (name.empty() || name.size() > 256) return false;
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr)) return false;
  }
  return true;
}

bool ValidHeaderValue(const std::string& value) {
  return value.size() <= 8192 && value.find_first_of("\r\n", 0) == std::string::npos &&
         value.find('\0') == std::string::npos;
}

bool ValidKey(const char* key, size_t size) {
  return key != nullptr && size >= 1 && size <= kMaxKeyBytes;
}

bool PastDeadline(const CallScope& scope) {
  return scope.deadline_unix_ms > 0 && scope.services->clock().NowUnixMs() >= scope.deadline_unix_ms;
}

void ServiceLog(void* ctx, int32_t level, const char* message, size_t message_size, const char* fields,
                size_t fields_size) noexcept {
  try {
    CallScope* scope = ScopeOf(ctx);
    if (scope == nullptr) return;
    level = std::clamp<int32_t>(level, CLINICORE_LOG_DEBUG, CLINICORE_LOG_ERROR);
    std::string_view text(message == nullptr ? "" : message, message == nullptr ? 0 : message_size);
    if (text.size() > kMaxLogMessageBytes) text = text.substr(0, kMaxLogMessageBytes);
    json parsed = json::object();
    if (fields != nullptr && fields_size > 0) {
      if (fields_size > kMaxLogFieldsBytes) {
        parsed = {{"fields_dropped", "larger than 16 KiB"}};
      } else {
        parsed = json::parse(fields, fields + fields_size, nullptr, false);
        if (!parsed.is_object()) parsed = {{"fields_dropped", "not a JSON object"}};
      }
    }
    scope->services->log().Write(scope->identity, level, text, parsed);
  } catch (...) {
    // Logging never fails a call.
  }
}

int32_t ServiceHttp(void* ctx, const char* request, size_t request_size, clinicore_sink* response) noexcept {
  try {
    CallScope* scope = ScopeOf(ctx);
    if (scope == nullptr || request == nullptr) return CLINICORE_HOST_ERROR;
    const json parsed = json::parse(request, request + request_size, nullptr, false);
    if (!parsed.is_object()) return CLINICORE_HOST_ERROR;
    HttpCall call;
    call.method = parsed.value("method", std::string("POST"));
    static const std::vector<std::string> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    if (std::find(kMethods.begin(), kMethods.end(), call.method) == kMethods.end()) return CLINICORE_HOST_ERROR;
    auto url = parsed.find("url");
    if (url == parsed.end() || !url->is_string() || url->get_ref<const std::string&>().size() > kMaxUrlBytes) {
      return CLINICORE_HOST_ERROR;
    }
    call.url = url->get<std::string>();
    if (auto headers = parsed.find("headers"); headers != parsed.end()) {
      if (!headers->is_object() || headers->size() > 100) return CLINICORE_HOST_ERROR;
      for (const auto& [name, value] : headers->items()) {
        if (!value.is_string() || !ValidHeaderName(name) || !ValidHeaderValue(value.get_ref<const std::string&>())) {
          return CLINICORE_HOST_ERROR;
        }
        call.headers.emplace_back(name, value.get<std::string>());
      }
    }
    if (auto body = parsed.find("body"); body != parsed.end()) {
      if (!body->is_string() || body->get_ref<const std::string&>().size() > kMaxRequestBodyBytes) {
        return CLINICORE_HOST_ERROR;
      }
      call.body = body->get<std::string>();
    }
    int64_t timeout_ms = 0;
    if (auto timeout = parsed.find("timeout_ms"); timeout != parsed.end()) {
      if (!timeout->is_number_integer()) return CLINICORE_HOST_ERROR;
      timeout_ms = timeout->get<int64_t>();
    }
    const int64_t remaining =
        scope->deadline_unix_ms > 0 ? scope->deadline_unix_ms - scope->services->clock().NowUnixMs() : INT64_MAX;
    if (remaining <= 0) {
      return WriteTo(response, json{{"error", "the call's deadline has passed"}, {"timed_out", true}}.dump());
    }
    int64_t effective = timeout_ms > 0 ? std::min(timeout_ms, remaining) : remaining;
    call.timeout = std::chrono::milliseconds(std::max<int64_t>(1, std::min<int64_t>(effective, INT32_MAX)));
    HttpResult result = scope->services->http().Perform(call);
    json out;
    if (!result.error.empty()) {
      out = {{"error", result.error}, {"timed_out", result.timed_out}};
    } else {
      out = {{"status", result.status}, {"headers", result.headers}, {"body", result.body}};
    }
    return WriteTo(response, out.dump(-1, ' ', false, json::error_handler_t::replace));
  } catch (...) {
    return CLINICORE_HOST_ERROR;
  }
}

int64_t ServiceNow(void* ctx) noexcept {
  CallScope* scope = ScopeOf(ctx);
  return scope == nullptr ? SystemClock().NowUnixMs() : scope->services->clock().NowUnixMs();
}

int64_t ServiceDeadline(void* ctx) noexcept {
  CallScope* scope = ScopeOf(ctx);
  return scope == nullptr ? 0 : scope->deadline_unix_ms;
}

int32_t ServiceKvGet(void* ctx, const char* key, size_t key_size, clinicore_sink* value) noexcept {
  try {
    CallScope* scope = ScopeOf(ctx);
    if (scope == nullptr || !ValidKey(key, key_size) || PastDeadline(*scope)) return CLINICORE_HOST_ERROR;
    auto found = scope->services->kv().Get(scope->identity, std::string(key, key_size));
    if (!found) return CLINICORE_HOST_ERROR;
    if (!found->has_value()) return CLINICORE_HOST_NOT_FOUND;
    return WriteTo(value, **found);
  } catch (...) {
    return CLINICORE_HOST_ERROR;
  }
}

int32_t ServiceKvPut(void* ctx, const char* key, size_t key_size, const char* value, size_t value_size,
                     int64_t ttl_seconds) noexcept {
  try {
    CallScope* scope = ScopeOf(ctx);
    if (scope == nullptr || !ValidKey(key, key_size) || value_size > kMaxValueBytes ||
        (value == nullptr && value_size > 0) || ttl_seconds < 0 || ttl_seconds > kMaxTtlSeconds ||
        PastDeadline(*scope)) {
      return CLINICORE_HOST_ERROR;
    }
    auto stored = scope->services->kv().Put(scope->identity, std::string(key, key_size),
                                            std::string(value == nullptr ? "" : value, value_size), ttl_seconds);
    return stored ? CLINICORE_HOST_OK : CLINICORE_HOST_ERROR;
  } catch (...) {
    return CLINICORE_HOST_ERROR;
  }
}

int32_t ServiceKvDelete(void* ctx, const char* key, size_t key_size) noexcept {
  try {
    CallScope* scope = ScopeOf(ctx);
    if (scope == nullptr || !ValidKey(key, key_size) || PastDeadline(*scope)) return CLINICORE_HOST_ERROR;
    return scope->services->kv().Delete(scope->identity, std::string(key, key_size)) ? CLINICORE_HOST_OK
                                                                                     : CLINICORE_HOST_ERROR;
  } catch (...) {
    return CLINICORE_HOST_ERROR;
  }
}

void ServiceProgress(void* ctx, uint64_t done, uint64_t total) noexcept {
  try {
    CallScope* scope = ScopeOf(ctx);
    if (scope == nullptr) return;
    std::lock_guard lock(scope->progress_mutex);
    if (scope->progress) scope->progress(done, total);
  } catch (...) {
    // Progress is advisory.
  }
}

// ----- curl ----------------------------------------------------------------------------------

struct Transfer {
  HttpResult* result;
  size_t max_bytes;
  bool too_large = false;
  bool refused_private = false;
  bool allow_private = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->result->body.size() + bytes > transfer->max_bytes) {
    transfer->too_large = true;
    return 0;  // aborts the transfer
  }
  transfer->result->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  std::string line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->result->headers.clear();  // a new response (after 100 Continue)
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return bytes;
  std::string value = line.substr(colon + 1);
  const auto first = value.find_first_not_of(" \t");
  const auto last = value.find_last_not_of(" \t\r\n");
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  if (transfer->result->headers.size() < 200) transfer->result->headers[Lower(line.substr(0, colon))] = value;
  return bytes;
}

curl_socket_t OnOpenSocket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->allow_private && IsPrivateAddress(&address->addr)) {
    transfer->refused_private = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

struct CurlHandle {
  CURL* curl = curl_easy_init();
  ~CurlHandle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

}  // namespace

int64_t SystemClock::NowUnixMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CurlHttpTransport::CurlHttpTransport(CurlOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpResult CurlHttpTransport::Perform(const HttpCall& call) {
  HttpResult result;
  thread_local CurlHandle handle;
  CURL* curl = handle.curl;
  if (curl == nullptr) {
    result.error = "libcurl could not be initialised";
    return result;
  }
  curl_easy_reset(curl);
  Transfer transfer{&result, options_.max_response_bytes, false, false, options_.allow_private_addresses};
  const auto timeout = std::min(call.timeout.count() > 0 ? call.timeout : options_.max_timeout, options_.max_timeout);
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // no environment proxies: the address check must see the target
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(timeout, options_.connect_timeout).count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &transfer);
  if (call.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (call.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    if (call.method == "POST" || !call.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());
    }
  }
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  for (const auto& [name, value] : call.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    return result;
  }
  result.status = 0;
  result.headers.clear();
  result.body.clear();
  if (transfer.too_large) {
    result.error = "the response is larger than " + std::to_string(options_.max_response_bytes) + " bytes";
  } else if (transfer.refused_private) {
    result.error = "refused: the address is private (loopback, link-local or internal network)";
  } else {
    result.error = curl_easy_strerror(code);
    result.timed_out = code == CURLE_OPERATION_TIMEDOUT;
  }
  return result;
}

// ----- memory key-value ----------------------------------------------------------------------

namespace {
std::string MemoryKey(const CallIdentity& who, const std::string& key) {
  return who.tenant_id + '\x1f' + who.plugin_name + '\x1f' + key;
}
}  // namespace

Expected<std::optional<std::string>> MemoryKeyValueStore::Get(const CallIdentity& who, const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(MemoryKey(who, key));
  if (it == entries_.end()) return std::optional<std::string>();
  if (it->second.expires_unix_ms != 0 && it->second.expires_unix_ms <= clock_->NowUnixMs()) {
    entries_.erase(it);
    return std::optional<std::string>();
  }
  return std::optional<std::string>(it->second.value);
}

Expected<Unit> MemoryKeyValueStore::Put(const CallIdentity& who, const std::string& key, const std::string& value,
                                        int64_t ttl_seconds) {
  std::lock_guard lock(mutex_);
  entries_[MemoryKey(who, key)] = {value, ttl_seconds > 0 ? clock_->NowUnixMs() + ttl_seconds * 1000 : 0};
  return Unit{};
}

Expected<Unit> MemoryKeyValueStore::Delete(const CallIdentity& who, const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(MemoryKey(who, key));
  return Unit{};
}

size_t MemoryKeyValueStore::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

// ----- logging -------------------------------------------------------------------------------

void StreamLogSink::Write(const CallIdentity& who, int level, std::string_view message, const json& fields) {
  static const char* kLevels[] = {"debug", "info", "warn", "error"};
  json line = {{"event", "plugin_log"},      {"level", kLevels[std::clamp(level, 0, 3)]},
               {"plugin", who.plugin_name},  {"plugin_version", who.plugin_version},
               {"tenant_id", who.tenant_id}, {"message", std::string(message)}};
  if (!fields.empty()) line["fields"] = fields;
  std::lock_guard lock(mutex_);
  out_ << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
}

// ----- the table -----------------------------------------------------------------------------

HostServices::HostServices(std::shared_ptr<HttpTransport> http, std::shared_ptr<KeyValueStore> kv,
                           std::shared_ptr<LogSink> log, std::shared_ptr<const Clock> clock)
    : http_(std::move(http)), kv_(std::move(kv)), log_(std::move(log)), clock_(std::move(clock)) {
  table_.struct_size = sizeof(clinicore_host_services);
  table_.abi_major = CLINICORE_SDK_ABI_MAJOR;
  table_.abi_minor = CLINICORE_SDK_ABI_MINOR;
  table_.log = &ServiceLog;
  table_.http = &ServiceHttp;
  table_.now_unix_ms = &ServiceNow;
  table_.deadline_unix_ms = &ServiceDeadline;
  table_.kv_get = &ServiceKvGet;
  table_.kv_put = &ServiceKvPut;
  table_.kv_delete = &ServiceKvDelete;
  table_.progress = &ServiceProgress;
}

}  // namespace clinicore::sdk::host
