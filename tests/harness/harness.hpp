#pragma once

// Shared test harness: the services scripts/test starts (PostgreSQL, Redis), a throwaway
// database per test binary, an HTTP client, and the real clinicore binary as a child.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/config.hpp"
#include "tests/harness/wait.hpp"  // WaitFor

namespace clinicore::testing {

// Reads a variable scripts/test exports. A missing one fails loudly: a test that cannot
// reach its services must not pass by skipping.
std::string RequireEnv(const std::string& name);

// Runs a shell command (sh -c); returns its exit code.
int RunShell(const std::string& command);

// The Redis URL of this test's lane. scripts/test runs ctest with -j and one Redis server per
// lane (a ctest resource: CTEST_RESOURCE_GROUP_0_LANE="id:N,slots:1" names it), so tests
// running side by side never share rate-limit keys or pub/sub channels: lane N reads
// CLINICORE_TEST_REDIS_URL_<N>. A binary started outside ctest's resource scheduling reads
// CLINICORE_TEST_REDIS_URL.
std::string TestRedisUrl();

// Stop / start the PostgreSQL cluster every test shares (CLINICORE_TEST_PG_STOP_CMD /
// _START_CMD). Only a test whose name holds "PostgresRestart" may do this: ctest runs those
// alone (the SERIAL filter of clinicore_add_test), and any other test would break its
// neighbours. Fail the calling test otherwise; return the command's exit code.
int StopSharedPostgres();
int StartSharedPostgres();

// The URL of the same database for the runtime login role that scripts/lib/common.sh
// (pg_cluster_ensure_db) makes beside the provisioner: its name with "_app" appended.
std::string RuntimeDatabaseUrl(const std::string& provisioner_url);

// A database created for one test binary and dropped (WITH FORCE) at the end.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // The provisioner's URL (the database's owner: migrate, direct SQL in tests).
  const std::string& url() const { return url_; }
  // What serve and work log in as: the NOINHERIT runtime role (RuntimeDatabaseUrl).
  std::string runtime_url() const;
  // The runtime's database settings (runtime_url, one cell): what `clinicore migrate` reads
  // from CLINICORE_DATABASE_URL to register the cells (tenancy::EnsureCells).
  core::DatabaseConfig runtime_config() const {
    core::DatabaseConfig config;
    config.url = runtime_url();
    return config;
  }
  const std::string& name() const { return name_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

struct HttpReply {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::optional<std::string> Header(const std::string& name) const;
};

// The field the first error of a problem+json answer names; "" when there is none.
std::string FirstErrorField(const HttpReply& reply);

// A small libcurl client. status 0 means the connection failed.
HttpReply Http(const std::string& method, const std::string& url, const std::string& body = "",
               const std::vector<std::string>& headers = {}, long timeout_ms = 10'000);

// Sends raw bytes and reads until the peer closes or the timeout passes. `before_reading` runs
// between the two, while the answer piles up unread (a client that is slow to read).
std::string RawExchange(int port, const std::string& bytes, std::chrono::milliseconds timeout,
                        const std::function<void()>& before_reading = {});

// The real `clinicore` binary as a child process with extra environment variables. The
// port comes from its "serve_started" log line, so tests can bind to port 0.
class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> args, std::map<std::string, std::string> env);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits for the serve_started line; false on timeout or early exit.
  bool WaitUntilServing(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  int port() const { return port_; }
  std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Signal(int signal);
  // Waits for exit; returns the exit status or -1 on timeout (then kills it).
  int WaitForExit(std::chrono::milliseconds timeout);
  bool Running();
  std::string Output();

 private:
  void ReadOutput();

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::thread reader_;
  std::mutex* mutex_;
  std::string output_;
  std::optional<int> exit_status_;
};

// Path of the built clinicore binary (a compile definition).
std::string ClinicoreBinary();
std::string SourceRoot();

// The environment every test server shares: the given database, the harness's Redis, a free
// port on loopback, and the repository's migrations and docs. Tests add their own settings.
std::map<std::string, std::string> ServerEnv(const std::string& database_url);

// Runs `clinicore migrate` against a database URL (ServerEnv plus `extra_env`, so settings
// migrate shares with serve, like CLINICORE_DB_CELLS, match); returns the exit code.
int MigrateDatabase(const std::string& database_url, std::string* output = nullptr,
                    const std::map<std::string, std::string>& extra_env = {});

// Runs the clinicore binary to completion with `stdin_text` on its standard input; returns
// the exit code and puts stdout+stderr in `output`.
int RunClinicore(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                 const std::string& stdin_text = "", std::string* output = nullptr);

// The harness's Redis (TestRedisUrl) as a client configuration; throws when the
// variable is missing or malformed.
core::RedisConfig TestRedisConfig();

// The signing key every test server shares (CLINICORE_AUTH_SIGNING_KEY in ServerEnv).
std::string TestSigningKey();

// The platform admin the console tests sign in as, one per test database: the console's
// sign-in counters live in Redis, keyed by email, and every suite signs in from 127.0.0.1, so a
// shared address would spend one budget across all the binaries ctest runs at once.
std::string ConsoleEmail(const std::string& database_url);
// A platform admin (created through `clinicore admin ensure` the first time) signed in on
// the server: the Authorization header value for console calls.
std::string ConsoleAuthorization(const std::string& base_url, const std::string& database_url);

// Signs a tenant user in over HTTP; the Authorization header value ("Bearer …"), or "" on failure.
std::string TenantAuthorization(const std::string& base_url, const std::string& tenant, const std::string& email,
                                const std::string& password);

// The value of one sample of a Prometheus page ("name" or "name{labels}" as printed), or -1
// when the page has no such sample.
double MetricValue(const std::string& page, const std::string& sample);

// The password test accounts get (passes the policy).
inline constexpr const char* kTestPassword = "correct-horse-battery-9";

}  // namespace clinicore::testing
