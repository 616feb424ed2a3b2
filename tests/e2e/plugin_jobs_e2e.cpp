// Plugins driven by jobs, against the real binaries: a `plugins.channel-send` job makes a real
// `clinicore work` deliver one signed webhook to an HTTP receiver of the test, and a plugin that
// segfaults takes only its worker down: `serve` keeps answering, the next worker reclaims the
// job after its lease, and the job ends dead with its attempts on record, not lost. The SDK's
// example plugin, built out of tree against the installed SDK alone, delivers a job too.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "platform/core/log.hpp"
#include "platform/db/database.hpp"
#include "platform/jobs/enqueue.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using core::Millis;
using nlohmann::json;
using testing::Http;
using testing::HttpReply;
using testing::kTestPassword;
using testing::ServerProcess;

constexpr const char* kSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr const char* kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

using testing::WaitFor;

// One HTTP/1.1 request as the receiver saw it.
struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A minimal HTTP receiver on loopback: records every request and answers 200.
class Receiver {
 public:
  Receiver() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listen_fd_, 16);
    socklen_t length = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Received> All() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  // Deliveries only (the live config check posts "webhook.test" events too).
  std::vector<Received> Deliveries() {
    std::vector<Received> out;
    for (auto& request : All()) {
      const json event = json::parse(request.body, nullptr, false);
      if (event.is_object() && event.value("type", "") == "notification.send") out.push_back(request);
    }
    return out;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd ready{listen_fd_, POLLIN, 0};
      if (::poll(&ready, 1, 50) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      Serve(fd);
      ::close(fd);
    }
  }
  void Serve(int fd) {
    std::string data;
    char buffer[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    bool continued = false;
    const auto deadline = std::chrono::steady_clock::now() + Millis(5'000);
    while (std::chrono::steady_clock::now() < deadline) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          Received request;
          std::istringstream lines(data.substr(0, header_end));
          std::string line;
          std::getline(lines, line);  // request line
          std::istringstream request_line(line);
          request_line >> request.method >> request.target;
          while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            request.headers[name] = value;
          }
          content_length = request.headers.count("content-length") ? std::stoul(request.headers["content-length"]) : 0;
          current_ = request;
          if (!continued && request.headers.count("expect")) {
            const std::string go = "HTTP/1.1 100 Continue\r\n\r\n";
            (void)!::write(fd, go.data(), go.size());
            continued = true;
          }
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) {
        current_.body = data.substr(header_end + 4, content_length);
        {
          std::lock_guard lock(mutex_);
          received_.push_back(current_);
        }
        const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)!::write(fd, reply.data(), reply.size());
        return;
      }
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) return;
      data.append(buffer, static_cast<size_t>(n));
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Received> received_;
  Received current_;
};

std::string Base64(const unsigned char* data, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  return out;
}

// The Standard Webhooks signature a receiver checks: v1,base64(HMAC-SHA256(key, id.ts.body)).
std::string ExpectedSignature(const Received& request) {
  const std::string encoded = std::string(kWebhookSecret).substr(6);
  std::vector<unsigned char> key(encoded.size());
  size_t length = 0;
  sodium_base642bin(key.data(), key.size(), encoded.data(), encoded.size(), nullptr, &length, nullptr,
                    sodium_base64_VARIANT_ORIGINAL);
  const std::string content =
      request.headers.at("webhook-id") + "." + request.headers.at("webhook-timestamp") + "." + request.body;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), length);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(content.data()), content.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return "v1," + Base64(mac, sizeof mac);
}

class PluginJobsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    core::log::Init("off");
    database_ = new testing::TestDatabase();
    std::string output;
    ASSERT_EQ(testing::MigrateDatabase(database_->url(), &output), 0) << output;
    // The worker loads exactly these plugin files.
    plugin_dir_ = std::filesystem::temp_directory_path() / ("clinicore-plugin-jobs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(plugin_dir_);
    std::filesystem::copy_file(std::string(CLINICORE_FIRST_PARTY_PLUGIN_DIR) + "/webhook.so",
                               plugin_dir_ / "webhook.so", std::filesystem::copy_options::overwrite_existing);
    for (const char* test_plugin : {"misbehaving.so", "throttled.so"}) {
      std::filesystem::copy_file(std::string(CLINICORE_TEST_PLUGIN_DIR) + "/" + test_plugin, plugin_dir_ / test_plugin,
                                 std::filesystem::copy_options::overwrite_existing);
    }
    env_ = testing::ServerEnv(database_->url());
    env_["CLINICORE_PLUGIN_SECRET_KEY"] = kSecretKey;
    env_["CLINICORE_PLUGIN_HTTP_ALLOW_PRIVATE"] = "1";  // the receiver is on loopback
    env_["CLINICORE_PLUGIN_DIR"] = plugin_dir_.string();
    ASSERT_EQ(
        testing::RunClinicore({"plugin", "install", (plugin_dir_ / "webhook.so").string(),
                               (plugin_dir_ / "misbehaving.so").string(), (plugin_dir_ / "throttled.so").string()},
                              env_, "", &output),
        0)
        << output;
    server_ = new ServerProcess({"serve"}, env_);
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->Output();
    console_auth_ = testing::ConsoleAuthorization(server_->BaseUrl(), database_->url());
    for (const char* slug : {"pj-hook", "pj-crash", "pj-sms", "pj-rate"}) {
      ASSERT_EQ(testing::RunClinicore({"tenant", "create", slug, std::string("Clinic ") + slug, "--owner-email",
                                       std::string("owner@") + slug + ".test", "--owner-name", "Owner"},
                                      env_, std::string(kTestPassword) + "\n", &output),
                0)
          << output;
    }
    core::DatabaseConfig config;
    config.url = database_->url();
    config.pool_size = 2;
    db_ = new db::Database(config, std::make_shared<core::Metrics>());
    jobs::RegisterJobStatements(*db_);
    core::RedisConfig redis = testing::TestRedisConfig();
    client_ = new jobs::JobClient(*db_, std::make_shared<cache::RedisClient>(redis, std::make_shared<core::Metrics>()));
  }
  static void TearDownTestSuite() {
    delete client_;
    delete db_;
    delete server_;
    delete database_;
    std::filesystem::remove_all(plugin_dir_);
  }

  static std::map<std::string, std::string> WorkerEnv() {
    auto env = env_;
    env["CLINICORE_WORK_METRICS_ADDRESS"] = "127.0.0.1";
    env["CLINICORE_WORK_METRICS_PORT"] = "0";
    env["CLINICORE_WORK_CONCURRENCY"] = "2";
    env["CLINICORE_WORK_LEASE_MS"] = "1000";
    env["CLINICORE_WORK_POLL_INTERVAL_MS"] = "100";
    env["CLINICORE_WORK_IDLE_POLL_INTERVAL_MS"] = "200";
    env["CLINICORE_JOBS_BACKOFF_BASE_MS"] = "50";
    env["CLINICORE_JOBS_BACKOFF_MAX_MS"] = "200";
    env["CLINICORE_PLUGIN_QUARANTINE_AFTER"] = "2";
    return env;
  }
  static std::unique_ptr<ServerProcess> StartWorker() {
    return std::make_unique<ServerProcess>(std::vector<std::string>{"work"}, WorkerEnv());
  }

  static HttpReply Console(const std::string& method, const std::string& path, const json& body = nullptr) {
    std::vector<std::string> headers = {"Authorization: " + console_auth_};
    if (!body.is_null()) headers.push_back("Content-Type: application/json");
    return Http(method, server_->BaseUrl() + path, body.is_null() ? "" : body.dump(), headers);
  }
  static std::string TenantId(const std::string& slug) {
    pqxx::connection connection(database_->url());
    pqxx::nontransaction work(connection);
    return work.exec("SELECT id::text FROM platform.tenants WHERE slug = " + work.quote(slug))[0][0].as<std::string>();
  }
  struct JobRow {
    std::string state;
    int attempt = 0;
    std::string last_error;
  };
  static JobRow Job(long long id) {
    pqxx::connection connection(database_->url());
    pqxx::nontransaction work(connection);
    auto row = work.exec("SELECT state, attempt, coalesce(last_error, '') FROM queue.jobs WHERE id = " +
                         std::to_string(id))[0];
    return {row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>()};
  }
  // Waits for the job to complete (or the worker to die) and checks it did.
  static void ExpectCompleted(long long id, ServerProcess& worker) {
    ASSERT_TRUE(WaitFor([&] { return Job(id).state == "completed" || !worker.Running(); }, Millis(15'000)))
        << worker.Output();
    ASSERT_EQ(Job(id).state, "completed") << Job(id).last_error << worker.Output();
  }
  // The enable route enqueues the plugin's live check: waits for the worker to have run it.
  static bool CheckPassed(const std::string& slug) {
    return WaitFor(
        [&] {
          auto listed = Console("GET", "/v1/console/tenants/" + slug + "/plugins");
          return json::parse(listed.body)["items"][0]["check"]["status"] == "passed";
        },
        Millis(10'000));
  }
  static long long EnqueueSend(const std::string& slug, const std::string& plugin, const json& message,
                               const std::string& key, int max_attempts = 5,
                               const json& recipient = {{"email", "a@b.test"}}) {
    auto job = client_->EnqueueNow("plugins.channel-send",
                                   {{"plugin", plugin}, {"message", message}, {"recipient", recipient}},
                                   {.idempotency_key = key, .max_attempts = max_attempts, .tenant_id = TenantId(slug)});
    EXPECT_TRUE(job.ok()) << (job.ok() ? "" : job.error().detail);
    return job.ok() ? job->id : 0;
  }

  static testing::TestDatabase* database_;
  static ServerProcess* server_;
  static std::map<std::string, std::string> env_;
  static std::string console_auth_;
  static std::filesystem::path plugin_dir_;
  static db::Database* db_;
  static jobs::JobClient* client_;
};
testing::TestDatabase* PluginJobsE2eTest::database_ = nullptr;
ServerProcess* PluginJobsE2eTest::server_ = nullptr;
std::map<std::string, std::string> PluginJobsE2eTest::env_;
std::string PluginJobsE2eTest::console_auth_;
std::filesystem::path PluginJobsE2eTest::plugin_dir_;
db::Database* PluginJobsE2eTest::db_ = nullptr;
jobs::JobClient* PluginJobsE2eTest::client_ = nullptr;

TEST_F(PluginJobsE2eTest, AChannelSendJobDeliversExactlyOneSignedWebhook) {
  Receiver receiver;
  auto enabled = Console("PUT", "/v1/console/tenants/pj-hook/plugins/webhook",
                         {{"config", {{"url", receiver.Url()}, {"secret", kWebhookSecret}}}});
  ASSERT_EQ(enabled.status, 200) << enabled.body;
  const long long id = EnqueueSend("pj-hook", "webhook", {{"subject", "Hello"}, {"body", "See you at 10"}}, "d-1");
  auto worker = StartWorker();
  ASSERT_NO_FATAL_FAILURE(ExpectCompleted(id, *worker));
  // The enable route enqueued the live check with the config: the worker ran it too.
  EXPECT_TRUE(CheckPassed("pj-hook")) << Console("GET", "/v1/console/tenants/pj-hook/plugins").body;
  // No waiting for a second delivery: the receiver records a request before it answers, and the
  // job completed only after its send was answered, in its one attempt. Whatever it sent is in.
  EXPECT_EQ(Job(id).attempt, 1);

  const auto deliveries = receiver.Deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  const Received& delivery = deliveries[0];
  ASSERT_EQ(delivery.headers.count("webhook-signature"), 1u);
  EXPECT_EQ(delivery.headers.at("webhook-signature"), ExpectedSignature(delivery));
  EXPECT_EQ(delivery.headers.at("webhook-id"), "msg_d-1");  // the job's idempotency key
  const json event = json::parse(delivery.body);
  EXPECT_EQ(event["data"]["message"]["body"], "See you at 10");
  EXPECT_EQ(event["data"]["recipient"]["email"], "a@b.test");
  EXPECT_EQ(event["data"]["tenant"]["slug"], "pj-hook");
  EXPECT_NE(worker->Output().find(R"("provider_message_id":"msg_d-1")"), std::string::npos) << worker->Output();

  // Not enabled for this tenant: failed for good, not retried.
  const long long refused = EnqueueSend("pj-crash", "webhook", {{"body", "x"}}, "d-2");
  ASSERT_TRUE(WaitFor([&] { return Job(refused).state == "dead"; }, Millis(10'000)));
  EXPECT_EQ(Job(refused).attempt, 1);
  EXPECT_NE(Job(refused).last_error.find("not enabled"), std::string::npos) << Job(refused).last_error;
  EXPECT_EQ(receiver.Deliveries().size(), 1u);
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
}

// "throttled" declares 5 sends per second: 12 sends through the worker take at least two more
// windows, every one is delivered, and none uses more than its one attempt (a send over the
// rate snoozes; with max_attempts = 1 a retry would have dead-lettered it).
TEST_F(PluginJobsE2eTest, AChannelsDeclaredRateSpreadsSendsWithoutUsingAttempts) {
  ASSERT_EQ(Console("PUT", "/v1/console/tenants/pj-rate/plugins/throttled", {{"config", {{"label", "R"}}}}).status,
            200);
  std::vector<long long> ids;
  for (int i = 0; i < 12; ++i) {
    ids.push_back(EnqueueSend("pj-rate", "throttled", {{"body", "hello"}}, "rate-" + std::to_string(i), 1));
  }
  auto worker = StartWorker();
  // Settled, not merely claimed: a running job may still snooze back to available.
  const auto settled = [](long long id) {
    const std::string state = Job(id).state;
    return state == "completed" || state == "dead" || state == "discarded";
  };
  ASSERT_TRUE(
      WaitFor([&] { return std::all_of(ids.begin(), ids.end(), settled) || !worker->Running(); }, Millis(30'000)))
      << worker->Output();
  for (long long id : ids) {
    const JobRow row = Job(id);
    EXPECT_EQ(row.state, "completed") << id << " " << row.last_error;
    EXPECT_EQ(row.attempt, 1) << id;
    EXPECT_EQ(row.last_error, "") << "waiting for the rate is not a failure";
  }
  pqxx::connection connection(database_->url());
  pqxx::nontransaction work(connection);
  const double spread = work.exec(
                                "SELECT extract(epoch FROM max(finished_at) - min(finished_at)) FROM queue.jobs "
                                "WHERE idempotency_key LIKE 'rate-%'")[0][0]
                            .as<double>();
  EXPECT_GE(spread, 1.0) << "12 sends at 5 per second need three one-second windows";
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
}

// What a third party does with sdk/examples/sms_gateway: copy it out of the tree, build it with
// only the installed SDK (find_package), run its conformance test, hand the .so to the operator.
TEST_F(PluginJobsE2eTest, TheOutOfTreeSdkExampleBuildsAndDeliversARealSmsJob) {
  const auto work =
      std::filesystem::temp_directory_path() / ("clinicore-sdk-example-e2e-" + std::to_string(::getpid()));
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  std::filesystem::copy(CLINICORE_SDK_EXAMPLE_DIR, work / "src", std::filesystem::copy_options::recursive);
  const std::string log = (work / "build.log").string();
  const std::string launcher = std::string(CLINICORE_CXX_LAUNCHER).empty()
                                   ? ""
                                   : std::string(" -DCMAKE_CXX_COMPILER_LAUNCHER=") + CLINICORE_CXX_LAUNCHER;
  const std::string build =
      std::string("'") + CLINICORE_CMAKE_COMMAND + "' -S '" + (work / "src").string() + "' -B '" +
      (work / "build").string() + "' -G Ninja -DCMAKE_BUILD_TYPE=Release '-DCMAKE_PREFIX_PATH=" + CLINICORE_SDK_PREFIX +
      "'" + launcher + " && '" + CLINICORE_CMAKE_COMMAND + "' --build '" + (work / "build").string() + "' && '" +
      CLINICORE_CTEST_COMMAND + "' --test-dir '" + (work / "build").string() + "' --output-on-failure";
  const int built = testing::RunShell("(" + build + ") > '" + log + "' 2>&1");
  const auto read_log = [&] {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(built, 0) << read_log();
  std::filesystem::copy_file(work / "build" / "sms_gateway.so", plugin_dir_ / "sms_gateway.so",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove_all(work);
  std::string output;
  ASSERT_EQ(testing::RunClinicore({"plugin", "install", (plugin_dir_ / "sms_gateway.so").string()}, env_, "", &output),
            0)
      << output;

  Receiver gateway;
  const std::string api_key = "e2e-key-0123456789abcdef";
  auto enabled = Console("PUT", "/v1/console/tenants/pj-sms/plugins/example-sms",
                         {{"config", {{"gateway_url", gateway.Url()}, {"api_key", api_key}, {"sender", "Clinic"}}}});
  ASSERT_EQ(enabled.status, 200) << enabled.body;
  const long long id = EnqueueSend("pj-sms", "example-sms", {{"body", "Your appointment is tomorrow at 10:00"}},
                                   "sms-1", 5, {{"phone", "+306912345678"}});
  auto worker = StartWorker();
  ASSERT_NO_FATAL_FAILURE(ExpectCompleted(id, *worker));
  EXPECT_EQ(Job(id).attempt, 1);
  // The live check (GET <gateway_url>/ping) ran in the worker as well.
  EXPECT_TRUE(CheckPassed("pj-sms")) << Console("GET", "/v1/console/tenants/pj-sms/plugins").body;
  // No waiting for a second send: the gateway records a request before it answers, and the job
  // completed after its send was answered, in its one attempt (above). Whatever it sent is in.

  std::vector<Received> sends;
  for (auto& request : gateway.All()) {
    if (request.method == "POST") sends.push_back(request);
  }
  ASSERT_EQ(sends.size(), 1u);
  const Received& send = sends[0];
  EXPECT_EQ(send.target, "/hook/messages");
  EXPECT_EQ(send.headers.at("authorization"), "Bearer " + api_key);
  EXPECT_EQ(send.headers.at("idempotency-key"), "sms-1");  // the job's idempotency key
  EXPECT_EQ(send.headers.at("content-type"), "application/json");
  const json body = json::parse(send.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << send.body;
  EXPECT_EQ(body, json({{"to", "+306912345678"},
                        {"from", "Clinic"},
                        {"text", "Your appointment is tomorrow at 10:00"},
                        {"reference", "sms-1"}}));
  // The gateway answered no id, so the plugin reports the idempotency key as the provider's id.
  EXPECT_NE(worker->Output().find(R"("provider_message_id":"sms-1")"), std::string::npos) << worker->Output();
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
}

TEST_F(PluginJobsE2eTest, APluginThatSegfaultsKillsOnlyItsWorkerAndItsJobIsReclaimedNotLost) {
  ASSERT_EQ(Console("PUT", "/v1/console/tenants/pj-crash/plugins/misbehaving", {{"config", {{"label", "c"}}}}).status,
            200);
  const long long id = EnqueueSend("pj-crash", "misbehaving", {{"body", "crash"}}, "crash-1", /*max_attempts=*/2);
  // Each worker that claims the job dies with it; `serve` answers all along.
  int workers = 0;
  int served = 0;
  const auto started = std::chrono::steady_clock::now();
  // A bound for a loaded machine, not a schedule: the loop ends when the job is dead.
  while (Job(id).state != "dead" && std::chrono::steady_clock::now() - started < std::chrono::seconds(90)) {
    auto worker = StartWorker();
    ++workers;
    ASSERT_TRUE(WaitFor([&] { return !worker->Running() || Job(id).state == "dead"; }, Millis(30'000)))
        << worker->Output();
    if (Job(id).state == "dead") {
      worker->Signal(SIGTERM);
      EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
      break;
    }
    // The plugin's NULL write: SIGSEGV, or SIGABRT under ASan, whose SEGV handler reports the
    // crash and then aborts (ASAN_OPTIONS=abort_on_error=1 in scripts/test).
    const int exit_status = worker->WaitForExit(Millis(1'000));
    EXPECT_TRUE(exit_status == 128 + SIGSEGV || exit_status == 128 + SIGABRT) << exit_status;
    EXPECT_EQ(Job(id).state, "running");  // its lease still holds the job
    auto health = Http("GET", server_->BaseUrl() + "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(Console("GET", "/v1/console/tenants/pj-crash/plugins").status, 200);
    served += 2;
  }
  const JobRow row = Job(id);
  EXPECT_EQ(row.state, "dead");
  EXPECT_EQ(row.attempt, 2);  // both attempts ran (and crashed); the second's lease was reclaimed
  EXPECT_NE(row.last_error.find("lease expired"), std::string::npos) << row.last_error;
  EXPECT_EQ(workers, 3);  // two crashed, the third found the last lease expired and reclaimed it
  EXPECT_EQ(served, 4);
  // Each lost attempt counted against the tenant's plugin: two in a row quarantine it.
  auto listed = Console("GET", "/v1/console/tenants/pj-crash/plugins");
  ASSERT_EQ(listed.status, 200) << listed.body;
  const json health = json::parse(listed.body)["items"][0]["health"];
  EXPECT_EQ(health["quarantined"], true) << listed.body;
  EXPECT_NE(health["quarantine_reason"].dump().find("the worker died during attempt 2"), std::string::npos)
      << listed.body;
  // A job for a quarantined plugin fails at once, without loading it (no worker dies).
  auto worker = StartWorker();
  const long long after = EnqueueSend("pj-crash", "misbehaving", {{"body", "crash"}}, "crash-2");
  ASSERT_TRUE(WaitFor([&] { return Job(after).state == "dead" || !worker->Running(); }, Millis(10'000)));
  EXPECT_TRUE(worker->Running());
  EXPECT_EQ(Job(after).attempt, 1);
  EXPECT_NE(Job(after).last_error.find("quarantine"), std::string::npos) << Job(after).last_error;
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(Millis(10'000)), 0);
}

}  // namespace
}  // namespace clinicore
