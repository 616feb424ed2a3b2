// Plugins against real PostgreSQL: descriptors recorded for the API, per-tenant enablement
// validated against the recorded schema, secrets sealed at rest, per-tenant instances and
// key-value state, quarantine after N consecutive failures and its release, and the webhook
// channel delivering a verifiable Standard Webhooks signature over real HTTP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "platform/cache/rate_limiter.hpp"
#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"
#include "platform/jobs/job.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/plugins/pg_kv_store.hpp"
#include "platform/plugins/plugin_host.hpp"
#include "platform/plugins/plugin_service.hpp"
#include "platform/tenancy/cell_registry.hpp"
#include "platform/tenancy/tenant_repository.hpp"
#include "platform/tenancy/tenant_service.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::plugins {
namespace {

using core::ErrorCode;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr const char* kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string TestPlugin(const std::string& name) {
  return std::string(CLINICORE_TEST_PLUGIN_DIR) + "/" + name + ".so";
}
std::string FirstParty(const std::string& name) {
  return std::string(CLINICORE_FIRST_PARTY_PLUGIN_DIR) + "/" + name + ".so";
}

// A tiny HTTP/1.1 server on 127.0.0.1 that records each request and answers `status`.
class CaptureServer {
 public:
  struct Request {
    std::string head;
    std::string body;
    std::string Header(const std::string& lower_name) const {
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      auto at = lower.find("\r\n" + lower_name + ":");
      if (at == std::string::npos) return "";
      auto start = head.find_first_not_of(' ', at + 3 + lower_name.size());
      return head.substr(start, head.find("\r\n", start) - start);
    }
  };

  CaptureServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(fd_, 16);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CaptureServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  void Answer(int status) { status_ = status; }
  std::vector<Request> Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string data;
      char buffer[4096];
      size_t body_at = std::string::npos;
      size_t length = 0;
      while (true) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        data.append(buffer, static_cast<size_t>(n));
        if (body_at == std::string::npos && (body_at = data.find("\r\n\r\n")) != std::string::npos) {
          body_at += 4;
          Request probe{data.substr(0, body_at), ""};
          const std::string declared = probe.Header("content-length");
          length = declared.empty() ? 0 : std::stoul(declared);
        }
        if (body_at != std::string::npos && data.size() >= body_at + length) break;
      }
      if (body_at != std::string::npos) {
        std::lock_guard lock(mutex_);
        requests_.push_back({data.substr(0, body_at), data.substr(body_at, length)});
      }
      const std::string reply =
          "HTTP/1.1 " + std::to_string(status_.load()) + " Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> status_{200};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

class PluginsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(sodium_init(), 0);
    core::log::Init("off");
    database_ = new testing::TestDatabase();
  }
  static void TearDownTestSuite() { delete database_; }

  void SetUp() override {
    core::DatabaseConfig config;
    config.url = database_->url();
    config.pool_size = 8;
    db_ = std::make_unique<db::Database>(config, metrics_);
    tenancy::TenantRepository::RegisterStatements(*db_);
    PluginService::RegisterStatements(*db_);
    auto platform = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/platform");
    ASSERT_TRUE(platform.ok());
    ASSERT_TRUE(migrations::MigrationRunner(*db_).Apply({"platform", ""}, *platform).ok());
    ASSERT_TRUE(tenancy::EnsureCells(*db_, database_->runtime_config()).ok());
    core::RedisConfig redis_config = testing::TestRedisConfig();
    auto redis = std::make_shared<cache::RedisClient>(redis_config, metrics_);
    directory_ = std::make_shared<tenancy::TenantDirectory>(*db_, redis, std::chrono::seconds(30));
    tenants_ = std::make_unique<tenancy::TenantService>(
        *db_, migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/tenant").value(), directory_);
    service_ = std::make_shared<PluginService>(*db_, SecretBox::FromBase64(kSecretKey).value(), 3);
    PluginHostOptions options;
    options.call_timeout = 400ms;
    options.http.allow_private_addresses = true;  // the capture server is on loopback
    host_ = std::make_unique<PluginHost>(*db_, service_, options);
    ASSERT_TRUE(host_->Install(TestPlugin("misbehaving"), "test").ok());
    ASSERT_TRUE(host_->Install(FirstParty("webhook"), "test").ok());
  }

  tenancy::Tenant Onboard(const std::string& prefix) {
    const std::string slug = prefix + "-" + std::to_string(++counter_);
    auto result =
        tenants_->Onboard({slug, "Clinic " + slug, "Europe/Athens", "en", json::object()}, actor_, std::nullopt);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().detail + " " + result.error().internal);
    return result.ok() ? result->tenant : tenancy::Tenant{};
  }

  TenantPlugin Enable(const tenancy::Tenant& tenant, const std::string& plugin, const json& config) {
    auto enabled = service_->Enable(tenant.id, plugin, {std::nullopt, config}, actor_);
    EXPECT_TRUE(enabled.ok()) << (enabled.ok() ? "" : enabled.error().detail);
    return enabled.ok() ? *enabled : TenantPlugin{};
  }

  core::Result<json> Send(const tenancy::Tenant& tenant, const std::string& body,
                          const std::string& plugin = "misbehaving") {
    return host_->Call(
        tenant, plugin, sdk::host::Operation::kSend,
        {{{"message", {{"body", body}}}, {"recipient", json::object()}, {"idempotency_key", "k-1"}}, ""});
  }

  std::string Query(const std::string& sql) {
    auto text = db_->Write([&](db::Transaction& tx) -> core::Result<std::string> {
      auto rows = tx.ExecScript(sql);
      tx.Commit();
      return rows.empty() || rows[0][0].is_null() ? std::string() : rows[0][0].as<std::string>();
    });
    EXPECT_TRUE(text.ok());
    return text.ok() ? *text : "";
  }

  static testing::TestDatabase* database_;
  static inline int counter_ = 0;
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  std::unique_ptr<db::Database> db_;
  std::shared_ptr<tenancy::TenantDirectory> directory_;
  std::unique_ptr<tenancy::TenantService> tenants_;
  std::shared_ptr<PluginService> service_;
  std::unique_ptr<PluginHost> host_;
  tenancy::Actor actor_{"test", "req-test"};
};
testing::TestDatabase* PluginsTest::database_ = nullptr;

// A channel that declares max_per_second gets at most that many sends per second per tenant,
// counted in Redis across workers (in-process while Redis is down: never unlimited). A send
// over the limit never reaches the plugin and tells its job to snooze, not to fail.
TEST_F(PluginsTest, AChannelsDeclaredSendRateHoldsPerTenant) {
  for (const bool redis_up : {true, false}) {
    core::RedisConfig redis_config = testing::TestRedisConfig();
    if (!redis_up) redis_config.port = 1;
    redis_config.connect_timeout = 50ms;
    auto limiter =
        std::make_shared<cache::RateLimiter>(std::make_shared<cache::RedisClient>(redis_config, metrics_), metrics_);
    PluginHostOptions options;
    options.call_timeout = 2'000ms;
    PluginHost host(*db_, service_, options, nullptr, limiter);
    ASSERT_TRUE(host.Install(TestPlugin("throttled"), "test").ok());
    auto send = [&](const tenancy::Tenant& tenant) {
      return host.Call(
          tenant, "throttled", sdk::host::Operation::kSend,
          {{{"message", {{"body", "count"}}}, {"recipient", json::object()}, {"idempotency_key", "k"}}, ""});
    };
    // The window is one second from the first send: the sixth send is refused only when all six
    // fit in it. On a machine too loaded for that, the round proves nothing either way and starts
    // again with fresh tenants (fresh windows), instead of failing by chance.
    bool judged = false;
    for (int round = 0; round < 5 && !judged; ++round) {
      const auto a = Onboard("rate-a");
      const auto b = Onboard("rate-b");
      Enable(a, "throttled", {{"label", "A"}});
      Enable(b, "throttled", {{"label", "B"}});
      const auto window_opened = std::chrono::steady_clock::now();
      for (int i = 1; i <= 5; ++i) {
        auto sent = send(a);
        ASSERT_TRUE(sent.ok()) << "redis up: " << redis_up << " " << sent.error().detail;
        EXPECT_EQ((*sent)["provider_message_id"], "A#" + std::to_string(i));
      }
      auto refused = send(a);
      if (std::chrono::steady_clock::now() - window_opened >= 900ms) continue;
      judged = true;
      ASSERT_FALSE(refused.ok()) << "redis up: " << redis_up;
      EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
      EXPECT_GE(refused.error().retry_after_seconds, 1);
      EXPECT_NE(refused.error().detail.find("allows 5 sends per second"), std::string::npos);
      EXPECT_EQ(jobs::Outcome::FromError(refused.error()).kind(), jobs::Outcome::Kind::kSnooze);
      EXPECT_EQ((*send(b))["provider_message_id"], "B#1") << "another tenant has its own budget";
      EXPECT_EQ(service_->ConfigForCall(a.id, "throttled")->health.consecutive_failures, 0)
          << "waiting for the rate is not the plugin's failure";
      // Once the window is over (waited for: every send until then is refused without reaching
      // the plugin), the plugin counts on from where it was.
      core::Result<json> next = core::Error::Unavailable("not sent yet");
      ASSERT_TRUE(testing::WaitFor(
          [&] {
            next = send(a);
            return next.ok();
          },
          10'000ms, 50ms))
          << "redis up: " << redis_up << " " << next.error().detail;
      EXPECT_EQ((*next)["provider_message_id"], "A#6") << "the refused sends never reached the plugin";
    }
    ASSERT_TRUE(judged) << "six sends never fit in one second, redis up: " << redis_up;
  }
}

// Expired key-value entries are invisible at once and deleted by the plugins.kv-sweep schedule.
TEST_F(PluginsTest, TheSweepDeletesExpiredKeyValuesOnlyInBatches) {
  const auto tenant = Onboard("sweep");
  auto insert = [&](const std::string& key, const std::string& expires) {
    Query("INSERT INTO platform.plugin_kv (tenant_id, plugin_name, key, value, expires_at) VALUES ('" + tenant.id +
          "', 'misbehaving', convert_to('" + key + "', 'UTF8'), '\\x00', " + expires + ") RETURNING 1");
  };
  for (int i = 0; i < 5; ++i) insert("old-" + std::to_string(i), "now() - interval '1 second'");
  insert("live", "now() + interval '1 hour'");
  insert("forever", "NULL");
  auto count = [&] { return Query("SELECT count(*) FROM platform.plugin_kv WHERE tenant_id = '" + tenant.id + "'"); };
  ASSERT_EQ(count(), "7");
  PgKeyValueStore store(*db_);
  EXPECT_FALSE(store.Get({tenant.id, "misbehaving", "1.0.0"}, "old-0")->has_value()) << "expired: already invisible";
  auto swept = PgKeyValueStore::SweepExpired(*db_, 2, [] { return true; });
  ASSERT_TRUE(swept.ok());
  EXPECT_GE(*swept, 5);  // other tests' expired rows may go too
  EXPECT_EQ(count(), "2");
  EXPECT_TRUE(store.Get({tenant.id, "misbehaving", "1.0.0"}, "live")->has_value());
  // Told to stop (the job was cancelled), it stops before the next batch.
  for (int i = 0; i < 3; ++i) insert("again-" + std::to_string(i), "now() - interval '1 second'");
  EXPECT_EQ(*PgKeyValueStore::SweepExpired(*db_, 2, [] { return false; }), 0);
  EXPECT_EQ(count(), "5");
}

TEST_F(PluginsTest, InstallRecordsTheDescriptorAndAVersionIsImmutable) {
  auto installed = service_->ListInstalled();
  ASSERT_TRUE(installed.ok());
  const auto it = std::find_if(installed->begin(), installed->end(), [](auto& p) { return p.name == "misbehaving"; });
  ASSERT_NE(it, installed->end());
  EXPECT_EQ(it->kind, "channel");
  EXPECT_EQ(it->secret_fields, json::array({"token"}));
  EXPECT_EQ(it->config_schema["required"], json::array({"label"}));
  EXPECT_EQ(it->file_name, "misbehaving.so");
  // Installing the same file again is a no-op; the same name + version from another file is refused.
  EXPECT_TRUE(host_->Install(TestPlugin("misbehaving"), "test").ok());
  auto changed =
      service_->RecordInstall(host_->catalog().Find("misbehaving", "1.0.0")->info(), std::string(64, 'a'), "t");
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(changed.error().detail.find("a version is immutable"), std::string::npos);
  auto refused = host_->Install(TestPlugin("bad_magic"), "test");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().detail.rfind("plugin " + TestPlugin("bad_magic") + " refused: magic is", 0), 0u);
}

TEST_F(PluginsTest, EnableValidatesTheConfigAgainstTheRecordedSchemaNamingEachField) {
  const auto tenant = Onboard("valid");
  auto missing = service_->Enable(tenant.slug, "misbehaving", {std::nullopt, json::object()}, actor_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().fields, (std::vector<core::FieldError>{{"config.label", "is required"}}));
  auto wrong = service_->Enable(tenant.slug, "misbehaving", {std::nullopt, {{"label", 5}, {"colour", "red"}}}, actor_);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().fields, (std::vector<core::FieldError>{{"config.colour", "is not a known field"},
                                                                 {"config.label", "must be a string"}}));
  EXPECT_EQ(service_->Enable(tenant.slug, "nope", {std::nullopt, json::object()}, actor_).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(service_->Enable(tenant.slug, "misbehaving", {"9.9.9", {{"label", "x"}}}, actor_).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(service_->Enable("no-such-tenant", "misbehaving", {std::nullopt, {{"label", "x"}}}, actor_).error().code,
            ErrorCode::kNotFound);
  auto enabled = Enable(tenant, "misbehaving", {{"label", "ok"}});
  EXPECT_EQ(enabled.version, "1.0.0");
  EXPECT_EQ(enabled.check_status, "not_offered");
  EXPECT_EQ(Query("SELECT count(*) FROM platform.console_audit WHERE action = 'plugin.enable' AND tenant_id = '" +
                  tenant.id + "'"),
            "1");
  ASSERT_TRUE(service_->Disable(tenant.slug, "misbehaving", actor_).ok());
  EXPECT_EQ(service_->Disable(tenant.slug, "misbehaving", actor_).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Send(tenant, "hello").error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(PluginsTest, SecretsAreSealedAtRestNeverReturnedAndKeptWhenLeftOut) {
  const auto tenant = Onboard("secret");
  const auto enabled = Enable(tenant, "misbehaving", {{"label", "A"}, {"token", "tok-secret-A"}});
  EXPECT_EQ(enabled.secret_fields, json::array({"token"}));
  EXPECT_EQ(enabled.ConsoleJson().dump().find("tok-secret-A"), std::string::npos);
  EXPECT_EQ(enabled.TenantJson().dump().find("tok-secret-A"), std::string::npos);
  EXPECT_EQ(Query("SELECT count(*) FROM platform.tenant_plugins WHERE tenant_id = '" + tenant.id +
                  "' AND (config::text LIKE '%tok-secret%' OR encode(sealed_secrets, 'escape') LIKE '%tok-secret%')"),
            "0");
  // Reconfigured without the secret: the stored one stays.
  Enable(tenant, "misbehaving", {{"label", "A2"}});
  auto call = service_->ConfigForCall(tenant.id, "misbehaving");
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->config, (json{{"label", "A2"}, {"token", "tok-secret-A"}}));
  EXPECT_EQ((*Send(tenant, "hello"))["provider_message_id"], "A2|tok-secret-A|" + tenant.slug);

  // Without the key, a config with a secret cannot be stored.
  PluginService keyless(*db_, std::nullopt, 3);
  auto refused = keyless.Enable(tenant.id, "misbehaving", {std::nullopt, {{"label", "B"}, {"token", "t"}}}, actor_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(PluginsTest, TwoTenantsWithDifferentConfigsNeverSeeEachOthersConfigOrState) {
  const auto a = Onboard("iso-a");
  const auto b = Onboard("iso-b");
  Enable(a, "misbehaving", {{"label", "A"}, {"token", "ta"}});
  Enable(b, "misbehaving", {{"label", "B"}, {"token", "tb"}});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const auto& tenant = (t + i) % 2 == 0 ? a : b;
        const std::string expected = (&tenant == &a ? "A|ta|" : "B|tb|") + tenant.slug;
        auto sent = Send(tenant, "hello");
        if (!sent.ok() || (*sent)["provider_message_id"] != expected) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(host_->cached_instances(), 2u);
  // Key-value state is per tenant.
  EXPECT_EQ((*Send(a, "count"))["provider_message_id"], "A#1");
  EXPECT_EQ((*Send(a, "count"))["provider_message_id"], "A#2");
  EXPECT_EQ((*Send(b, "count"))["provider_message_id"], "B#1");
  // A new config is a new instance (new hash), still one per tenant + plugin.
  Enable(a, "misbehaving", {{"label", "A-new"}});
  EXPECT_EQ((*Send(a, "hello"))["provider_message_id"], "A-new|ta|" + a.slug);
  EXPECT_EQ(host_->cached_instances(), 2u);
  // Sealed secrets are bound to their tenant: copied into another tenant's row they do not open.
  Query(
      "UPDATE platform.tenant_plugins SET sealed_secrets = (SELECT sealed_secrets FROM platform.tenant_plugins "
      "WHERE tenant_id = '" +
      a.id + "') WHERE tenant_id = '" + b.id + "' RETURNING 1");
  auto stolen = service_->ConfigForCall(b.id, "misbehaving");
  ASSERT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.error().code, ErrorCode::kInternal);
}

TEST_F(PluginsTest, QuarantineAfterNConsecutiveFailuresIsVisibleAndCanBeReleased) {
  const auto tenant = Onboard("quar");
  Enable(tenant, "misbehaving", {{"label", "Q"}});
  // A success resets the count; the plugin refusing its input is not its fault.
  EXPECT_EQ(Send(tenant, "throw").error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(Send(tenant, "garbage").error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(Send(tenant, "hello").ok());
  EXPECT_EQ(Send(tenant, "invalid").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(host_->Call(tenant, "misbehaving", sdk::host::Operation::kSend, {json::array(), ""}).error().code,
            ErrorCode::kInvalidArgument);
  auto listed = service_->ListForTenant(tenant.slug);
  EXPECT_EQ((*listed)[0].health.consecutive_failures, 0);

  const auto start = std::chrono::steady_clock::now();
  auto hung = Send(tenant, "hang");
  EXPECT_EQ(hung.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "the 400 ms deadline ends it, not the plugin's 30 s";
  EXPECT_EQ(Send(tenant, "shape").error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(Send(tenant, "error").error().code, ErrorCode::kUnavailable);  // the third in a row
  auto refused = Send(tenant, "hello");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().detail.find("is quarantined for this tenant"), std::string::npos);

  listed = service_->ListForTenant(tenant.slug);
  const auto health = (*listed)[0].health;
  EXPECT_TRUE(health.quarantined());
  EXPECT_EQ(health.consecutive_failures, 3);
  EXPECT_EQ(
      health.quarantine_reason->rfind("3 consecutive failures; the last: plugin misbehaving 1.0.0 send failed", 0), 0u)
      << *health.quarantine_reason;

  auto released = service_->Release(tenant.slug, "misbehaving", actor_);
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(released->health.quarantined());
  EXPECT_EQ(released->health.released_by, "test");
  EXPECT_EQ(service_->Release(tenant.slug, "misbehaving", actor_).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(Send(tenant, "hello").ok());
}

TEST_F(PluginsTest, WebhookDeliversAVerifiableStandardWebhooksSignature) {
  const auto tenant = Onboard("hook");
  CaptureServer endpoint;
  Enable(tenant, "webhook", {{"url", endpoint.Url("/hook")}, {"secret", kWebhookSecret}});
  auto sent = host_->Send(tenant, "webhook", {{"subject", "Hi"}, {"body", "See you"}}, {{"user_id", "u-1"}}, "job-42");
  ASSERT_TRUE(sent.ok()) << sent.error().detail;
  EXPECT_EQ(sent->status, SendOutcome::Status::kDelivered);
  EXPECT_EQ(sent->provider_message_id, "msg_job-42");

  const auto requests = endpoint.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_EQ(request.head.rfind("POST /hook HTTP/1.1", 0), 0u);
  EXPECT_EQ(request.Header("webhook-id"), "msg_job-42");
  const std::string timestamp = request.Header("webhook-timestamp");
  EXPECT_NEAR(
      std::stoll(timestamp),
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(),
      60);
  // Verify as a receiver would: HMAC-SHA256 with the base64-decoded secret.
  const std::string encoded = std::string(kWebhookSecret).substr(6);
  unsigned char key[64];
  size_t key_length = 0;
  ASSERT_EQ(sodium_base642bin(key, sizeof key, encoded.data(), encoded.size(), nullptr, &key_length, nullptr,
                              sodium_base64_VARIANT_ORIGINAL),
            0);
  const std::string content = "msg_job-42." + timestamp + "." + request.body;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key, key_length);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(content.data()), content.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char b64[sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
  EXPECT_EQ(request.Header("webhook-signature"), std::string("v1,") + b64);
  const json event = json::parse(request.body);
  EXPECT_EQ(event["type"], "notification.send");
  EXPECT_EQ(event["data"]["tenant"]["slug"], tenant.slug);
  EXPECT_EQ(event["data"]["message"]["body"], "See you");

  endpoint.Answer(503);
  auto retry = host_->Send(tenant, "webhook", {{"body", "x"}}, json::object(), "job-43");
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->status, SendOutcome::Status::kRetry);
  EXPECT_EQ(retry->retry_after_seconds, 30);

  // The live check posts a signed test event and records the outcome for the console.
  endpoint.Answer(204);
  auto checked = host_->CheckConfig(tenant, "webhook");
  ASSERT_TRUE(checked.ok()) << checked.error().detail;
  EXPECT_EQ((*service_->ListForTenant(tenant.id))[0].check_status, "passed");
}

TEST_F(PluginsTest, PluginHttpCannotReachPrivateAddressesUnlessAllowed) {
  const auto tenant = Onboard("ssrf");
  CaptureServer endpoint;
  Enable(tenant, "webhook", {{"url", endpoint.Url("/internal")}, {"secret", kWebhookSecret}});
  PluginHost guarded(*db_, service_, PluginHostOptions{});  // the default: private addresses refused
  ASSERT_TRUE(guarded.Install(FirstParty("webhook"), "test").ok());
  auto sent = guarded.Send(tenant, "webhook", {{"body", "x"}}, json::object(), "job-1");
  ASSERT_TRUE(sent.ok()) << sent.error().detail;
  EXPECT_EQ(sent->status, SendOutcome::Status::kRetry);
  EXPECT_NE(sent->reason.find("refused: the address is private"), std::string::npos) << sent->reason;
  EXPECT_TRUE(endpoint.Requests().empty());
}

}  // namespace
}  // namespace clinicore::plugins
