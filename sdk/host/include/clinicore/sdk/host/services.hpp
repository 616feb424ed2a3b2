#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clinicore/sdk/abi.h"
#include "clinicore/sdk/host/expected.hpp"

namespace clinicore::sdk::host {

// Who a call is for: the host tags logs with it and scopes key-value state by it, so one
// tenant's plugin state can never reach another tenant's call.
struct CallIdentity {
  std::string tenant_id;
  std::string plugin_name;
  std::string plugin_version;
};

// ----- HTTP ----------------------------------------------------------------------------------

struct HttpCall {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // already capped by the host and the call's deadline
};

struct HttpResult {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;  // transport failure; status is 0
  bool timed_out = false;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResult Perform(const HttpCall& call) = 0;
};

struct CurlOptions {
  bool allow_private_addresses = false;  // loopback, RFC 1918, link-local, ULA: refused unless set
  std::chrono::milliseconds max_timeout{10'000};
  std::chrono::milliseconds connect_timeout{3'000};
  size_t max_response_bytes = 1 << 20;
  std::string user_agent = "clinicore-plugin-host/1";
};

// libcurl: http and https only, no redirects, a response size cap, timeouts, and (by default)
// no connections to private addresses, so a tenant-supplied URL cannot reach the platform's
// internal network. One easy handle per thread, reused (keep-alive).
class CurlHttpTransport : public HttpTransport {
 public:
  explicit CurlHttpTransport(CurlOptions options);
  HttpResult Perform(const HttpCall& call) override;
  const CurlOptions& options() const { return options_; }

 private:
  CurlOptions options_;
};

// ----- key-value -----------------------------------------------------------------------------

inline constexpr size_t kMaxKeyBytes = 200;
inline constexpr size_t kMaxValueBytes = 64 * 1024;

// The plugin's own state, per tenant + plugin name (not version: state survives upgrades).
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual Expected<std::optional<std::string>> Get(const CallIdentity& who, const std::string& key) = 0;
  virtual Expected<Unit> Put(const CallIdentity& who, const std::string& key, const std::string& value,
                             int64_t ttl_seconds) = 0;
  virtual Expected<Unit> Delete(const CallIdentity& who, const std::string& key) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowUnixMs() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t NowUnixMs() const override;
};

// In memory, for the testkit and unit tests.
class MemoryKeyValueStore : public KeyValueStore {
 public:
  explicit MemoryKeyValueStore(std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>())
      : clock_(std::move(clock)) {}
  Expected<std::optional<std::string>> Get(const CallIdentity& who, const std::string& key) override;
  Expected<Unit> Put(const CallIdentity& who, const std::string& key, const std::string& value,
                     int64_t ttl_seconds) override;
  Expected<Unit> Delete(const CallIdentity& who, const std::string& key) override;
  size_t size() const;

 private:
  struct Entry {
    std::string value;
    int64_t expires_unix_ms = 0;  // 0: never
  };
  std::shared_ptr<const Clock> clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // "<tenant>\x1f<plugin>\x1f<key>"
};

// ----- logging -------------------------------------------------------------------------------

class LogSink {
 public:
  virtual ~LogSink() = default;
  // level is a clinicore_log_level; fields is a JSON object.
  virtual void Write(const CallIdentity& who, int level, std::string_view message, const nlohmann::json& fields) = 0;
};

// One JSON line per message: {"event":"plugin_log","level","plugin","plugin_version",
// "tenant_id","message",...fields}.
class StreamLogSink : public LogSink {
 public:
  explicit StreamLogSink(std::ostream& out) : out_(out) {}
  void Write(const CallIdentity& who, int level, std::string_view message, const nlohmann::json& fields) override;

 private:
  std::mutex mutex_;
  std::ostream& out_;
};

// ----- the services table --------------------------------------------------------------------

// The host's side of clinicore_host_services: one per process, shared by every call. The
// transports and stores are interfaces, so the worker (curl + PostgreSQL) and the testkit
// (curl or canned responses + memory) run the same service code.
class HostServices {
 public:
  HostServices(std::shared_ptr<HttpTransport> http, std::shared_ptr<KeyValueStore> kv, std::shared_ptr<LogSink> log,
               std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>());
  HostServices(const HostServices&) = delete;
  HostServices& operator=(const HostServices&) = delete;

  const clinicore_host_services* table() const { return &table_; }
  HttpTransport& http() { return *http_; }
  KeyValueStore& kv() { return *kv_; }
  LogSink& log() { return *log_; }
  const Clock& clock() const { return *clock_; }

 private:
  clinicore_host_services table_{};
  std::shared_ptr<HttpTransport> http_;
  std::shared_ptr<KeyValueStore> kv_;
  std::shared_ptr<LogSink> log_;
  std::shared_ptr<const Clock> clock_;
};

// What clinicore_host.ctx points to during one call: the services, who the call is for and
// its deadline. Owned by the call (shared with an abandoned thread, so it outlives a timeout).
struct CallScope {
  std::shared_ptr<HostServices> services;
  CallIdentity identity;
  int64_t deadline_unix_ms = 0;
  // Called on the plugin's thread; cleared (under the mutex) when the caller stops waiting, so
  // an abandoned call never reaches a caller that has moved on.
  std::mutex progress_mutex;
  std::function<void(uint64_t done, uint64_t total)> progress;

  clinicore_host Host() { return clinicore_host{services->table(), this}; }
};

}  // namespace clinicore::sdk::host
