#include "platform/core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <regex>

#ifndef CLINICORE_DEFAULT_SHARE_DIR
#define CLINICORE_DEFAULT_SHARE_DIR "."
#endif

namespace clinicore::core {
namespace {

Error BadVariable(const std::string& name, const std::string& value, const std::string& problem) {
  return Error::InvalidArgument(name + "='" + value + "': " + problem, {{name, problem}});
}

Result<long long> ParseInteger(const std::string& name, const std::string& value, long long min, long long max) {
  long long parsed = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
  if (value.empty() || ec != std::errc() || ptr != end) {
    return BadVariable(name, value, "must be a whole number");
  }
  if (parsed < min || parsed > max) {
    return BadVariable(name, value, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return parsed;
}

// Applies one variable when it is set; keeps the default otherwise.
class Reader {
 public:
  explicit Reader(const EnvLookup& env) : env_(env) {}

  template <typename Int>
  void Integer(const char* name, Int& target, long long min, long long max) {
    if (!error_ && (value_ = env_(name))) {
      auto parsed = ParseInteger(name, *value_, min, max);
      if (!parsed) {
        error_ = parsed.error();
        return;
      }
      target = static_cast<Int>(*parsed);
    }
  }

  void Duration(const char* name, Millis& target, long long min, long long max) {
    long long ms = target.count();
    Integer(name, ms, min, max);
    target = Millis(ms);
  }

  // A port that may be left unset; 0 lets the system pick one (tests).
  void OptionalPort(const char* name, std::optional<uint16_t>& target) {
    if (error_ || !env_(name)) return;
    long long port = 0;
    Integer(name, port, 0, 65535);
    if (!error_) target = static_cast<uint16_t>(port);
  }

  void Text(const char* name, std::string& target) {
    if (!error_ && (value_ = env_(name))) {
      if (value_->empty()) {
        error_ = BadVariable(name, *value_, "must not be empty");
        return;
      }
      target = *value_;
    }
  }

  // Like Text, but an error never repeats the value.
  void Secret(const char* name, std::string& target) {
    if (!error_ && (value_ = env_(name))) {
      if (value_->empty()) {
        error_ = BadVariable(name, "<hidden>", "must not be empty");
        return;
      }
      target = *value_;
    }
  }

  void OneOf(const char* name, std::string& target, std::initializer_list<const char*> allowed) {
    std::string candidate = target;
    Text(name, candidate);
    if (error_) return;
    for (const char* option : allowed) {
      if (candidate == option) {
        target = candidate;
        return;
      }
    }
    std::string list;
    for (const char* option : allowed) list += (list.empty() ? "" : ", ") + std::string(option);
    error_ = BadVariable(name, candidate, "must be one of: " + list);
  }

  void Fail(Error error) {
    if (!error_) error_ = std::move(error);
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  const EnvLookup& env_;
  std::optional<std::string> value_;
  std::optional<Error> error_;
};

void ReadAuth(Reader& read, AuthConfig& auth) {
  read.Text("CLINICORE_AUTH_ISSUER", auth.issuer);
  read.Secret("CLINICORE_AUTH_SIGNING_KEY", auth.signing_key);
  read.Secret("CLINICORE_AUTH_VERIFYING_KEYS", auth.verifying_keys);
  read.Duration("CLINICORE_AUTH_ACCESS_TTL_MS", auth.access_ttl, 60'000, 24 * 3'600'000);
  read.Duration("CLINICORE_AUTH_REFRESH_TTL_MS", auth.refresh_ttl, 60'000, 365LL * 24 * 3'600'000);
  read.Duration("CLINICORE_AUTH_SESSION_MAX_MS", auth.session_max, 1'000, 10LL * 365 * 24 * 3'600'000);
  read.Duration("CLINICORE_AUTH_INVITATION_TTL_MS", auth.invitation_ttl, 60'000, 30LL * 24 * 3'600'000);
  read.Duration("CLINICORE_AUTH_LEEWAY_MS", auth.leeway, 0, 30'000);
  read.Integer("CLINICORE_AUTH_PASSWORD_OPS_LIMIT", auth.password_ops_limit, 2, 20);
  long long mem_mib = static_cast<long long>(auth.password_mem_limit >> 20);
  read.Integer("CLINICORE_AUTH_PASSWORD_MEM_MIB", mem_mib, 19, 4096);
  auth.password_mem_limit = static_cast<size_t>(mem_mib) << 20;
  read.Integer("CLINICORE_AUTH_TOKEN_CACHE_ENTRIES", auth.token_cache_entries, 0, 10'000'000);
  read.Duration("CLINICORE_AUTH_ACCOUNT_CACHE_TTL_MS", auth.account_cache_ttl, 0, 3'600'000);
  read.Integer("CLINICORE_AUTH_ACCOUNT_CACHE_ENTRIES", auth.account_cache_entries, 1, 10'000'000);
  read.Integer("CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", auth.login_per_ip_per_minute, 1, 1'000'000);
  read.Integer("CLINICORE_RATE_LOGIN_PER_IP_GLOBAL_PER_MINUTE", auth.login_per_ip_global_per_minute, 1, 1'000'000);
  read.Integer("CLINICORE_RATE_LOGIN_PER_ACCOUNT_PER_MINUTE", auth.login_per_account_per_minute, 1, 1'000'000);
  read.Integer("CLINICORE_RATE_REGISTER_PER_IP_PER_HOUR", auth.register_per_ip_per_hour, 1, 1'000'000);
  read.Integer("CLINICORE_RATE_REFRESH_PER_IP_PER_MINUTE", auth.refresh_per_ip_per_minute, 1, 1'000'000);
  read.Integer("CLINICORE_RATE_TENANT_REQUESTS_PER_MINUTE", auth.tenant_requests_per_minute, 0, 1'000'000'000);
  read.Integer("CLINICORE_AUTH_LOCKOUT_THRESHOLD", auth.lockout_threshold, 1, 1000);
  read.Integer("CLINICORE_AUTH_LOCKOUT_GLOBAL_THRESHOLD", auth.lockout_global_threshold, 1, 1'000'000);
  read.Duration("CLINICORE_AUTH_FAMILIAR_SOURCE_TTL_MS", auth.familiar_source_ttl, 60'000, 365LL * 24 * 3'600'000);
  read.Duration("CLINICORE_AUTH_LOCKOUT_BASE_MS", auth.lockout_base, 1'000, 3'600'000);
  read.Duration("CLINICORE_AUTH_LOCKOUT_MAX_MS", auth.lockout_max, 1'000, 24 * 3'600'000);
  int require_mfa = auth.console_require_mfa ? 1 : 0;
  read.Integer("CLINICORE_CONSOLE_REQUIRE_MFA", require_mfa, 0, 1);
  auth.console_require_mfa = require_mfa == 1;
}

void ReadPlugins(Reader& read, PluginsConfig& plugins) {
  read.Text("CLINICORE_PLUGIN_DIR", plugins.dir);
  read.Duration("CLINICORE_PLUGIN_CALL_TIMEOUT_MS", plugins.call_timeout, 10, 600'000);
  read.Integer("CLINICORE_PLUGIN_QUARANTINE_AFTER", plugins.quarantine_after, 1, 1000);
  read.Integer("CLINICORE_PLUGIN_MAX_STUCK_CALLS", plugins.max_stuck_calls, 1, 1000);
  read.Integer("CLINICORE_PLUGIN_LOG_LINES_PER_SECOND", plugins.log_lines_per_second, 1, 100'000);
  read.Secret("CLINICORE_PLUGIN_SECRET_KEY", plugins.secret_key);
  static const std::regex kKey("^[A-Za-z0-9+/]{43}=$");  // standard base64 of exactly 32 bytes
  if (!read.error() && !plugins.secret_key.empty() && !std::regex_match(plugins.secret_key, kKey)) {
    read.Fail(BadVariable("CLINICORE_PLUGIN_SECRET_KEY", "<hidden>",
                          "must be standard base64 of 32 bytes (e.g. from: openssl rand -base64 32)"));
  }
  std::string previous;
  read.Secret("CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS", previous);
  plugins.previous_secret_keys.clear();
  for (size_t start = 0; !read.error() && !previous.empty() && start <= previous.size();) {
    const size_t comma = std::min(previous.find(',', start), previous.size());
    const std::string key = previous.substr(start, comma - start);
    if (!std::regex_match(key, kKey)) {
      read.Fail(BadVariable("CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS", "<hidden>",
                            "must be a comma-separated list of standard base64 keys of 32 bytes"));
    }
    plugins.previous_secret_keys.push_back(key);
    start = comma + 1;
  }
  if (!read.error() && !plugins.previous_secret_keys.empty() && plugins.secret_key.empty()) {
    read.Fail(BadVariable("CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS", "<hidden>",
                          "needs CLINICORE_PLUGIN_SECRET_KEY: previous keys only open, the current key seals"));
  }
  read.Duration("CLINICORE_PLUGIN_HTTP_TIMEOUT_MS", plugins.http_timeout, 100, 600'000);
  int allow_private = plugins.http_allow_private ? 1 : 0;
  read.Integer("CLINICORE_PLUGIN_HTTP_ALLOW_PRIVATE", allow_private, 0, 1);
  plugins.http_allow_private = allow_private == 1;
}

void ReadJobs(Reader& read, JobsConfig& jobs) {
  read.Integer("CLINICORE_WORK_CONCURRENCY", jobs.concurrency, 1, 256);
  read.Integer("CLINICORE_WORK_TENANT_CONCURRENCY", jobs.tenant_concurrency, 1, 10'000);
  read.Duration("CLINICORE_WORK_LEASE_MS", jobs.lease, 300, 3'600'000);
  read.Duration("CLINICORE_WORK_POLL_INTERVAL_MS", jobs.poll_interval, 10, 600'000);
  read.Duration("CLINICORE_WORK_IDLE_POLL_INTERVAL_MS", jobs.idle_poll_interval, 10, 3'600'000);
  read.Duration("CLINICORE_WORK_JOB_TIMEOUT_MS", jobs.job_timeout, 10, 86'400'000);
  read.Duration("CLINICORE_WORK_SHUTDOWN_GRACE_MS", jobs.shutdown_grace, 0, 3'600'000);
  read.Text("CLINICORE_WORK_METRICS_ADDRESS", jobs.metrics_address);
  read.Integer("CLINICORE_WORK_METRICS_PORT", jobs.metrics_port, 0, 65535);
  int test_kinds = jobs.test_kinds ? 1 : 0;
  read.Integer("CLINICORE_WORK_TEST_KINDS", test_kinds, 0, 1);
  jobs.test_kinds = test_kinds == 1;
  read.Duration("CLINICORE_JOBS_BACKOFF_BASE_MS", jobs.backoff_base, 0, 3'600'000);
  read.Duration("CLINICORE_JOBS_BACKOFF_MAX_MS", jobs.backoff_max, 0, 7LL * 86'400'000);
  read.Integer("CLINICORE_JOBS_RETENTION_HOURS", jobs.retention_hours, 0, 24 * 365);
  read.Duration("CLINICORE_JOBS_DEPTH_SAMPLE_MS", jobs.depth_sample_interval, 100, 3'600'000);
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read at start-up
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {
// %XX escapes of a URL's user or password (RFC 3986); nullopt for a broken escape.
std::optional<std::string> PercentDecoded(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}
}  // namespace

std::pair<size_t, size_t> DatabaseUrlUserSpan(const std::string& url) {
  // The authority ends at the first '/' or '?' after the scheme; its user info at the last
  // '@' inside it.
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return {0, 0};
  const size_t begin = scheme + 3;
  const size_t authority_end = std::min(url.find('/', begin), url.find('?', begin));
  const size_t at = url.rfind('@', authority_end == std::string::npos ? url.size() : authority_end);
  if (at == std::string::npos || at < begin) return {begin, begin};
  const size_t colon = url.find(':', begin);
  return {begin, (colon != std::string::npos && colon < at) ? colon : at};
}

Status ParseRedisUrl(const std::string& url, RedisConfig& out) {
  static const std::regex kPattern(
      R"(^redis://(?:([^:@/]*)(?::([^@/]*))?@)?([A-Za-z0-9._-]+)(?::([0-9]{1,5}))?(?:/([0-9]{1,2}))?/?$)");
  std::smatch match;
  // The value may hold a password: the error names the form, never the value.
  const std::string shown = "(value not shown)";
  if (!std::regex_match(url, match, kPattern)) {
    return BadVariable("CLINICORE_REDIS_URL", shown, "must look like redis://[user:password@]host:port/db");
  }
  const auto user = PercentDecoded(match[1]);
  const auto password = PercentDecoded(match[2]);
  if (!user || !password) return BadVariable("CLINICORE_REDIS_URL", shown, "has a broken %-escape");
  out.url = url;
  out.username = *user;
  out.password = *password;
  if (!out.username.empty() && out.password.empty()) {
    return BadVariable("CLINICORE_REDIS_URL", shown, "names a user without a password");
  }
  out.host = match[3];
  if (match[4].matched) {
    auto port = ParseInteger("CLINICORE_REDIS_URL", match[4], 1, 65535);
    if (!port) return BadVariable("CLINICORE_REDIS_URL", shown, "port must be between 1 and 65535");
    out.port = static_cast<int>(*port);
  }
  out.database = match[5].matched ? std::stoi(match[5]) : 0;
  return Ok();
}

Result<Config> LoadConfig(const EnvLookup& env) {
  Config config;
  config.migrations_dir = std::string(CLINICORE_DEFAULT_SHARE_DIR) + "/migrations";
  config.docs_dir = std::string(CLINICORE_DEFAULT_SHARE_DIR) + "/docs";
  Reader read(env);

  read.Text("CLINICORE_HTTP_ADDRESS", config.http.address);
  read.Integer("CLINICORE_HTTP_PORT", config.http.port, 0, 65535);
  read.Integer("CLINICORE_HTTP_THREADS", config.http.threads, 1, 256);
  read.Integer("CLINICORE_HTTP_MAX_BODY_BYTES", config.http.max_body_bytes, 1024, 64LL << 20);
  read.Duration("CLINICORE_HTTP_READ_TIMEOUT_MS", config.http.read_timeout, 100, 600'000);
  read.Duration("CLINICORE_SHUTDOWN_GRACE_MS", config.http.shutdown_grace, 0, 600'000);
  read.Duration("CLINICORE_HTTP_KEEPALIVE_TIMEOUT_MS", config.http.keepalive_timeout, 100, 3'600'000);
  read.Integer("CLINICORE_HTTP_MAX_REQUESTS_PER_CONNECTION", config.http.max_requests_per_connection, 0, 100'000'000);
  read.Integer("CLINICORE_HTTP_HASH_THREADS", config.http.hash_threads, 1, 64);
  read.Integer("CLINICORE_HTTP_HASH_QUEUE", config.http.hash_queue, 1, 100'000);
  read.Integer("CLINICORE_RATE_ANONYMOUS_PER_IP_PER_MINUTE", config.http.anonymous_per_ip_per_minute, 0, 1'000'000'000);
  read.Text("CLINICORE_INTERNAL_ADDRESS", config.http.internal_address);
  read.OptionalPort("CLINICORE_OPS_PORT", config.http.ops_port);
  read.OptionalPort("CLINICORE_CONSOLE_PORT", config.http.console_port);

  read.Text("CLINICORE_DATABASE_URL", config.database.url);
  read.Text("CLINICORE_MIGRATE_DATABASE_URL", config.database.migrate_url);
  for (const auto& [name, url] :
       {std::pair<const char*, const std::string&>{"CLINICORE_DATABASE_URL", config.database.url},
        {"CLINICORE_MIGRATE_DATABASE_URL", config.database.migrate_url}}) {
    if (!read.error() && !url.empty() && url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) {
      read.Fail(BadVariable(name, url, "must start with postgresql://"));
    }
  }
  read.Integer("CLINICORE_DB_POOL_SIZE", config.database.pool_size, 1, 512);
  read.Duration("CLINICORE_DB_POOL_WAIT_MS", config.database.pool_wait, 1, 60'000);
  read.Duration("CLINICORE_DB_CONNECT_TIMEOUT_MS", config.database.connect_timeout, 1'000, 60'000);
  read.Duration("CLINICORE_DB_STATEMENT_TIMEOUT_MS", config.database.statement_timeout, 0, 3'600'000);
  read.Integer("CLINICORE_DB_MAX_TX_RETRIES", config.database.max_transaction_retries, 0, 20);
  read.Integer("CLINICORE_DB_CELLS", config.database.cells, 1, 256);
  read.Integer("CLINICORE_DB_CELL_POOL_SIZE", config.database.cell_pool_size, 1, 64);
  if (!read.error() && config.database.cells > 1) {
    const auto [begin, end] = DatabaseUrlUserSpan(config.database.url);
    if (begin == end) {
      read.Fail(BadVariable("CLINICORE_DATABASE_URL", config.database.url,
                            "must name its user when CLINICORE_DB_CELLS > 1 (cell logins are derived from it)"));
    }
  }
  read.Integer("CLINICORE_DB_TENANTS_PER_CONNECTION", config.database.tenants_per_connection, 0, 1'000'000);
  read.Duration("CLINICORE_DB_CONNECTION_LIFETIME_MS", config.database.connection_lifetime, 0, 24 * 3'600'000);

  std::string redis_url = config.redis.url;
  read.Text("CLINICORE_REDIS_URL", redis_url);
  if (!read.error()) {
    if (auto parsed = ParseRedisUrl(redis_url, config.redis); !parsed) read.Fail(parsed.error());
  }
  read.Integer("CLINICORE_REDIS_POOL_SIZE", config.redis.pool_size, 1, 256);
  read.Duration("CLINICORE_REDIS_CONNECT_TIMEOUT_MS", config.redis.connect_timeout, 10, 60'000);
  read.Duration("CLINICORE_REDIS_COMMAND_TIMEOUT_MS", config.redis.command_timeout, 10, 60'000);
  read.Duration("CLINICORE_REDIS_RECONNECT_BACKOFF_MS", config.redis.reconnect_backoff, 0, 60'000);

  read.Text("CLINICORE_BASE_DOMAIN", config.tenancy.base_domain);
  read.Duration("CLINICORE_TENANT_CACHE_TTL_MS", config.tenancy.cache_ttl, 100, 3'600'000);
  read.Integer("CLINICORE_TENANT_RETENTION_HOURS", config.tenancy.retention_hours, 0, 24 * 3650);
  read.Integer("CLINICORE_MIGRATE_PARALLELISM", config.tenancy.migrate_parallelism, 1, 64);
  read.Duration("CLINICORE_WORK_PURGE_INTERVAL_MS", config.tenancy.purge_interval, 100, 86'400'000);
  read.Integer("CLINICORE_TENANT_SPARES", config.tenancy.spares_per_cell, 0, 64);
  read.Duration("CLINICORE_WORK_SPARES_INTERVAL_MS", config.tenancy.spares_interval, 100, 86'400'000);

  ReadAuth(read, config.auth);
  ReadPlugins(read, config.plugins);
  ReadJobs(read, config.jobs);

  read.OneOf("CLINICORE_LOG_LEVEL", config.log_level, {"trace", "debug", "info", "warn", "error", "off"});
  read.Text("CLINICORE_MIGRATIONS_DIR", config.migrations_dir);
  read.Text("CLINICORE_DOCS_DIR", config.docs_dir);
  read.Text("CLINICORE_SWAGGER_UI_DIR", config.swagger_ui_dir);

  if (read.error()) return *read.error();
  return config;
}

}  // namespace clinicore::core
