#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/core/result.hpp"

namespace clinicore::core {

using Millis = std::chrono::milliseconds;

struct HttpConfig {
  std::string address = "0.0.0.0";
  uint16_t port = 8080;
  int threads = 4;
  size_t max_body_bytes = 1 << 20;
  Millis read_timeout{10'000};
  Millis shutdown_grace{10'000};
  // HTTP/1.1 persistent connections (RFC 9112 §9.3): an idle connection is closed after
  // keepalive_timeout; one connection serves at most max_requests_per_connection requests
  // (0: unlimited), then the answer says Connection: close.
  Millis keepalive_timeout{60'000};
  int max_requests_per_connection = 10'000;
  // Routes that hash passwords (Argon2id) run on this many threads off the I/O threads; at
  // most hash_queue requests wait for one, the rest get 503 with Retry-After.
  int hash_threads = 1;
  int hash_queue = 32;
  // Per client address (IPv6 by /64) and minute, for anonymous routes that do database work
  // (/readyz, /v1/status, /v1/tenant/status, logout); 0 turns the limit off.
  int anonymous_per_ip_per_minute = 1'200;
  // Separate listeners for operations (/metrics, /readyz) and the console (/v1/console/…);
  // unset (nullopt) keeps them on the main listener.
  std::optional<uint16_t> ops_port;
  std::optional<uint16_t> console_port;
  std::string internal_address = "127.0.0.1";  // where the ops and console listeners bind
};

struct DatabaseConfig {
  // `serve`, `work` and the CLI: a NOINHERIT runtime role that owns nothing (docs/tenancy.md).
  std::string url = "postgresql://clinicore_app@127.0.0.1:15432/clinicore";
  // `migrate`: the provisioner, which owns the platform's objects (empty: `url`).
  std::string migrate_url;
  int pool_size = 8;
  Millis pool_wait{2'000};
  Millis connect_timeout{2'000};
  Millis statement_timeout{5'000};
  int max_transaction_retries = 3;
  // Cells (docs/decisions/0012-tenant-cells.md): tenants are spread over this many runtime
  // logins, cell k logging in as the user of `url` plus "_c<k>" (cell 0 as that user itself),
  // each a member of its own cell's tenant roles only, so no login's role memberships grow
  // past one cell's share.
  int cells = 1;
  int cell_pool_size = 2;  // connections of each cell beyond cell 0 (which has pool_size)
  // A connection is closed, not returned, once it has entered this many distinct tenants or
  // lived this long (0: never): a PostgreSQL backend keeps the catalog entries of every schema
  // it touched (~80 KiB per tenant read, docs/tenancy.md), so 500 stay under ~45 MiB.
  int tenants_per_connection = 500;
  Millis connection_lifetime{30 * 60'000};
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:16379/0";
  std::string username;  // an ACL user; empty: the default user
  std::string password;  // empty: no AUTH
  std::string host = "127.0.0.1";
  int port = 16379;
  int database = 0;
  int pool_size = 4;
  Millis connect_timeout{300};
  Millis command_timeout{300};
  Millis reconnect_backoff{1'000};
};

struct TenancyConfig {
  std::string base_domain = "localhost";  // tenants answer at <slug>.<base_domain>
  Millis cache_ttl{10'000};
  int retention_hours = 24 * 30;
  int migrate_parallelism = 4;
  Millis purge_interval{3'600'000};  // how often `work` purges offboarded tenants that are due
  int spares_per_cell = 2;           // tenants' worth of schema `work` keeps ready per cell
  Millis spares_interval{15'000};    // how often `work` tops the spares up
};

// Identity and access (docs/security.md): token keys and lifetimes, password hashing cost,
// rate limits. Keys are text: "<kid>:<base64url 32-byte Ed25519 seed>" to sign, and a
// comma-separated list of "<kid>:<base64url 32-byte public key>" accepted besides it.
struct AuthConfig {
  std::string issuer = "clinicore";
  std::string signing_key;  // required by serve; `clinicore auth keygen` makes one
  std::string verifying_keys;
  Millis access_ttl{15 * 60'000};
  Millis refresh_ttl{30LL * 24 * 3'600'000};
  Millis session_max{90LL * 24 * 3'600'000};  // a session's age at most, refreshes or not
  Millis invitation_ttl{72LL * 3'600'000};
  Millis leeway{30'000};
  unsigned long long password_ops_limit = 2;        // Argon2id passes (OWASP minimum: 2)
  size_t password_mem_limit = 19ULL * 1024 * 1024;  // bytes (OWASP minimum: 19 MiB)
  size_t token_cache_entries = 100'000;             // verified access tokens kept until expiry
  Millis account_cache_ttl{60'000};                 // accounts read by id kept in memory; 0 turns the cache off
  size_t account_cache_entries = 100'000;
  int login_per_ip_per_minute = 30;          // per tenant (or the console) and address
  int login_per_ip_global_per_minute = 100;  // per address over every tenant and the console
  int login_per_account_per_minute = 10;
  int register_per_ip_per_hour = 20;
  int refresh_per_ip_per_minute = 60;
  int tenant_requests_per_minute = 600'000;           // the whole tenant API; 0 turns it off
  int lockout_threshold = 5;                          // failed logins of one account from one source before its lock
  int lockout_global_threshold = 20;                  // ... from every source: locks out sources the account never used
  Millis familiar_source_ttl{30LL * 24 * 3'600'000};  // how long a source stays known after a sign-in
  Millis lockout_base{30'000};                        // doubled for every further failure
  Millis lockout_max{15 * 60'000};
  bool console_require_mfa = false;  // every console sign-in needs a TOTP code (or a recovery code)
};

// Plugins (docs/plugin-guide.md, decisions/0006): where `work` and `clinicore plugin` find
// plugin files, how long one plugin call may take, after how many consecutive failures a
// plugin is quarantined for a tenant, and the key that encrypts secret config fields.
struct PluginsConfig {
  std::string dir;  // empty: `work` loads no plugins
  Millis call_timeout{10'000};
  int quarantine_after = 5;
  int max_stuck_calls = 8;        // abandoned calls still running before a worker refuses new ones
  int log_lines_per_second = 50;  // a plugin's log lines per tenant and second; the rest are counted
  std::string secret_key;         // base64 of 32 random bytes; empty: secret fields cannot be stored
  // Keys that sealed values before the current one (rotation): they open, never seal.
  std::vector<std::string> previous_secret_keys;
  Millis http_timeout{10'000};
  bool http_allow_private = false;  // let plugins reach loopback / private addresses
};

// Durable jobs and the worker (docs/jobs.md): how many handlers one `work` process runs, how
// many one tenant may run over all workers, leases, polling, deadlines, retries, retention.
struct JobsConfig {
  int concurrency = 8;         // CLINICORE_WORK_CONCURRENCY
  int tenant_concurrency = 4;  // CLINICORE_WORK_TENANT_CONCURRENCY (a tenant's limits.job_concurrency overrides)
  Millis lease{30'000};
  Millis poll_interval{1'000};       // while Redis wakeups are unavailable
  Millis idle_poll_interval{5'000};  // while they work (a safety net)
  Millis job_timeout{60'000};        // one attempt, unless the kind sets its own
  Millis shutdown_grace{25'000};
  std::string metrics_address = "0.0.0.0";  // the worker's /healthz and /metrics
  uint16_t metrics_port = 9464;
  bool test_kinds = false;  // platform.noop and platform.test-effect: tests and benchmarks only
  Millis backoff_base{1'000};
  Millis backoff_max{3'600'000};
  int retention_hours = 24;  // completed and discarded jobs are kept this long
  Millis depth_sample_interval{15'000};
};

struct Config {
  HttpConfig http;
  AuthConfig auth;
  PluginsConfig plugins;
  JobsConfig jobs;
  TenancyConfig tenancy;
  DatabaseConfig database;
  RedisConfig redis;
  std::string log_level = "info";
  std::string migrations_dir;
  std::string docs_dir;
  std::string swagger_ui_dir;
};

// Reads one environment variable; injectable so tests never touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

EnvLookup ProcessEnv();

// Builds the configuration from CLINICORE_* variables. The first invalid value stops
// start-up: the error names the variable and what is wrong with its value.
Result<Config> LoadConfig(const EnvLookup& env);

// Splits redis://[user:password@]host:port/db (user and password %-escaped) into the RedisConfig fields.
Status ParseRedisUrl(const std::string& url, RedisConfig& out);

// Where a postgresql:// URL names its user: [begin, end) of scheme://user[:password]@host...;
// begin == end when it names none. Role names the platform makes are [a-z0-9_], so no
// percent-decoding is needed.
std::pair<size_t, size_t> DatabaseUrlUserSpan(const std::string& url);

}  // namespace clinicore::core
