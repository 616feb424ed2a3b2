#include "tests/harness/harness.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <stdexcept>

extern char** environ;

namespace clinicore::testing {

std::string RequireEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(name +
                             " is not set: run the tests through ./scripts/test, which starts PostgreSQL and Redis");
  }
  return value;
}

std::string TestRedisUrl() {
  // "id:<N>,slots:1", set by ctest for a test holding RESOURCE_GROUPS "lane:1".
  const char* lane = std::getenv("CTEST_RESOURCE_GROUP_0_LANE");
  if (lane == nullptr || *lane == '\0') return RequireEnv("CLINICORE_TEST_REDIS_URL");
  const std::string spec = lane;
  const auto id_start = spec.find("id:");
  if (id_start == std::string::npos) throw std::runtime_error("CTEST_RESOURCE_GROUP_0_LANE has no id: " + spec);
  const auto id_end = spec.find(',', id_start);
  const std::string id =
      spec.substr(id_start + 3, id_end == std::string::npos ? std::string::npos : id_end - id_start - 3);
  return RequireEnv("CLINICORE_TEST_REDIS_URL_" + id);
}

namespace {
int RunSharedPostgresCommand(const char* variable) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = test ? std::string(test->test_suite_name()) + "." + test->name() : "";
  if (name.find("PostgresRestart") == std::string::npos) {
    ADD_FAILURE() << name << " stops or starts the shared PostgreSQL cluster, but only tests named *PostgresRestart* "
                  << "run alone under ctest -j: rename it so the SERIAL filter in tests/e2e/CMakeLists.txt picks it up";
    return -1;
  }
  return RunShell(RequireEnv(variable));
}
}  // namespace

int StopSharedPostgres() {
  return RunSharedPostgresCommand("CLINICORE_TEST_PG_STOP_CMD");
}
int StartSharedPostgres() {
  return RunSharedPostgresCommand("CLINICORE_TEST_PG_START_CMD");
}

int RunShell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ClinicoreBinary() {
  return CLINICORE_BINARY;
}
std::string SourceRoot() {
  return CLINICORE_SOURCE_ROOT_DIR;
}

namespace {

std::string WithDatabase(const std::string& url, const std::string& database) {
  auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + database;
}

std::string RandomSuffix() {
  std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 10; ++i) out += kAlphabet[engine() % 36];
  return out;
}

size_t CollectBody(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* target) {
  std::string line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n ") + 1);
    (*static_cast<std::map<std::string, std::string>*>(target))[name] = value;
  }
  return size * count;
}

}  // namespace

TestDatabase::TestDatabase()
    : admin_url_(RequireEnv("CLINICORE_TEST_DATABASE_URL")),
      name_("clinicore_t_" + RandomSuffix()),
      url_(WithDatabase(admin_url_, name_)) {
  pqxx::connection connection(admin_url_);
  pqxx::nontransaction tx(connection);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
}

std::string RuntimeDatabaseUrl(const std::string& provisioner_url) {
  const auto user_start = provisioner_url.find("://");
  const auto at = provisioner_url.find('@');
  if (user_start == std::string::npos || at == std::string::npos || at < user_start) {
    throw std::runtime_error("the test database URL names no user: " + provisioner_url);
  }
  const auto user_end = std::min(at, provisioner_url.find(':', user_start + 3));
  return provisioner_url.substr(0, user_end) + "_app" + provisioner_url.substr(user_end);
}

std::string TestDatabase::runtime_url() const {
  return RuntimeDatabaseUrl(url_);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection connection(admin_url_);
    pqxx::nontransaction tx(connection);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster is thrown away after the run anyway.
  }
}

std::optional<std::string> HttpReply::Header(const std::string& name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::string FirstErrorField(const HttpReply& reply) {
  const auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (!body.is_object() || !body.contains("errors") || !body["errors"].is_array() || body["errors"].empty()) return "";
  return body["errors"][0].value("field", "");
}

HttpReply Http(const std::string& method, const std::string& url, const std::string& body,
               const std::vector<std::string>& headers, long timeout_ms) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& header : headers) list = curl_slist_append(list, header.c_str());
  list = curl_slist_append(list, "Expect:");  // send bodies at once, no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

std::string RawExchange(int port, const std::string& bytes, std::chrono::milliseconds timeout,
                        const std::function<void()>& before_reading) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string received;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    if (!bytes.empty()) (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (before_reading) before_reading();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd waiting{fd, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&waiting, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) break;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      received.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return received;
}

ServerProcess::ServerProcess(std::vector<std::string> args, std::map<std::string, std::string> env)
    : mutex_(new std::mutex) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  std::map<std::string, std::string> merged;
  for (char** entry = environ; *entry; ++entry) {
    std::string line(*entry);
    auto eq = line.find('=');
    if (eq != std::string::npos) merged[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (auto& [key, value] : env) merged[key] = value;
  std::vector<std::string> env_lines;
  for (auto& [key, value] : merged) env_lines.push_back(key + "=" + value);

  pid_ = ::fork();
  if (pid_ == 0) {
    // Die with the test process, even when it aborts (a sanitizer report): no stray servers.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> argv;
    std::string binary = ClinicoreBinary();
    argv.push_back(binary.data());
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& line : env_lines) envp.push_back(line.data());
    envp.push_back(nullptr);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  reader_ = std::thread([this] { ReadOutput(); });
}

ServerProcess::~ServerProcess() {
  if (Running()) {
    Signal(SIGKILL);
    WaitForExit(std::chrono::seconds(5));
  }
  if (reader_.joinable()) reader_.join();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  delete mutex_;
}

void ServerProcess::ReadOutput() {
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard lock(*mutex_);
    output_.append(buffer, static_cast<size_t>(n));
  }
}

std::string ServerProcess::Output() {
  std::lock_guard lock(*mutex_);
  return output_;
}

bool ServerProcess::WaitUntilServing(std::chrono::milliseconds timeout) {
  // Log fields are written in key order, so other fields may stand between these two.
  static const std::regex kStarted(R"("event":"serve_started"[^\n]*"port":([0-9]+))");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string output = Output();
    if (std::regex_search(output, match, kStarted)) {
      port_ = std::stoi(match[1]);
      return true;
    }
    if (!Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void ServerProcess::Signal(int signal) {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, signal);
}

bool ServerProcess::Running() {
  if (exit_status_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int ServerProcess::WaitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_status_ = 128 + SIGKILL;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The child is gone: read what is left in the pipe so Output() is complete.
  if (reader_.joinable()) reader_.join();
  return *exit_status_;
}

std::map<std::string, std::string> ServerEnv(const std::string& database_url) {
  std::map<std::string, std::string> env = {{"CLINICORE_DATABASE_URL", RuntimeDatabaseUrl(database_url)},
                                            {"CLINICORE_MIGRATE_DATABASE_URL", database_url},
                                            {"CLINICORE_REDIS_URL", TestRedisUrl()},
                                            {"CLINICORE_HTTP_PORT", "0"},
                                            {"CLINICORE_WORK_METRICS_PORT", "0"},
                                            {"CLINICORE_HTTP_ADDRESS", "127.0.0.1"},
                                            {"CLINICORE_MIGRATIONS_DIR", SourceRoot() + "/migrations"},
                                            {"CLINICORE_DOCS_DIR", SourceRoot() + "/docs"},
                                            {"CLINICORE_AUTH_SIGNING_KEY", TestSigningKey()},
                                            // Every test server signs in and polls from
                                            // 127.0.0.1 into one Redis: the address-wide
                                            // limits would couple unrelated tests. The tests of
                                            // those limits set their own.
                                            {"CLINICORE_RATE_LOGIN_PER_IP_GLOBAL_PER_MINUTE", "1000000"},
                                            // The console realm's per-address key has no
                                            // tenant in it: every suite signing in admins
                                            // would count against the others.
                                            {"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "1000000"},
                                            {"CLINICORE_RATE_ANONYMOUS_PER_IP_PER_MINUTE", "0"},
                                            // A worker keeps no spare tenants unless its test
                                            // is about them: each costs a tenant's DDL, and
                                            // most suites start a worker.
                                            {"CLINICORE_TENANT_SPARES", "0"}};
  if (const char* swagger = std::getenv("CLINICORE_SWAGGER_UI_DIR")) env["CLINICORE_SWAGGER_UI_DIR"] = swagger;
  return env;
}

int MigrateDatabase(const std::string& database_url, std::string* output,
                    const std::map<std::string, std::string>& extra_env) {
  auto env = ServerEnv(database_url);
  for (const auto& [name, value] : extra_env) env[name] = value;
  ServerProcess migrate({"migrate"}, env);
  const int code = migrate.WaitForExit(std::chrono::seconds(60));
  if (output) *output = migrate.Output();
  return code;
}

core::RedisConfig TestRedisConfig() {
  core::RedisConfig config;
  if (auto parsed = core::ParseRedisUrl(TestRedisUrl(), config); !parsed) {
    throw std::runtime_error("the test Redis URL: " + parsed.error().detail);
  }
  return config;
}

std::string TestSigningKey() {
  return "test-key:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
}

namespace {
std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}
}  // namespace

int RunClinicore(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                 const std::string& stdin_text, std::string* output) {
  char input_path[] = "/tmp/clinicore-stdin-XXXXXX";
  const int input_fd = ::mkstemp(input_path);
  if (input_fd < 0) return -1;
  if (!stdin_text.empty() && ::write(input_fd, stdin_text.data(), stdin_text.size()) < 0) return -1;
  ::close(input_fd);
  char output_path[] = "/tmp/clinicore-out-XXXXXX";
  const int output_fd = ::mkstemp(output_path);
  if (output_fd < 0) return -1;
  ::close(output_fd);
  std::string command = "env";
  for (const auto& [name, value] : env) command += " " + name + "=" + ShellQuote(value);
  command += " " + ShellQuote(ClinicoreBinary());
  for (const auto& arg : args) command += " " + ShellQuote(arg);
  command += std::string(" <") + input_path + " >" + output_path + " 2>&1";
  const int code = RunShell(command);
  if (output) {
    std::ifstream in(output_path);
    *output = std::string(std::istreambuf_iterator<char>(in), {});
  }
  ::unlink(input_path);
  ::unlink(output_path);
  return code;
}

std::string ConsoleEmail(const std::string& database_url) {
  std::string database = database_url.substr(database_url.rfind('/') + 1);
  database = database.substr(0, database.find('?'));
  return "root." + database + "@platform.test";
}

std::string ConsoleAuthorization(const std::string& base_url, const std::string& database_url) {
  const std::string email = ConsoleEmail(database_url);
  std::string output;
  const int code = RunClinicore({"admin", "ensure", email, "Test Root"}, ServerEnv(database_url),
                                std::string(kTestPassword) + "\n", &output);
  EXPECT_EQ(code, 0) << output;
  const nlohmann::json body = {{"email", email}, {"password", kTestPassword}};
  auto reply = Http("POST", base_url + "/v1/console/auth/login", body.dump(), {"Content-Type: application/json"});
  EXPECT_EQ(reply.status, 200) << reply.body;
  if (reply.status != 200) return "";
  return "Bearer " + nlohmann::json::parse(reply.body)["access_token"].get<std::string>();
}

std::string TenantAuthorization(const std::string& base_url, const std::string& tenant, const std::string& email,
                                const std::string& password) {
  const nlohmann::json body = {{"email", email}, {"password", password}};
  auto reply =
      Http("POST", base_url + "/v1/auth/login", body.dump(), {"Content-Type: application/json", "X-Tenant: " + tenant});
  if (reply.status != 200) return "";
  return "Bearer " + nlohmann::json::parse(reply.body)["access_token"].get<std::string>();
}

double MetricValue(const std::string& page, const std::string& sample) {
  const std::string line_start = "\n" + sample + " ";
  const std::string padded = "\n" + page;
  const auto at = padded.find(line_start);
  return at == std::string::npos ? -1 : std::stod(padded.substr(at + line_start.size()));
}

}  // namespace clinicore::testing
