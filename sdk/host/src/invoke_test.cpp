// Calls through the C boundary in-process: the C++ layer's exception barrier, output checks,
// deadlines, host services scoped by tenant. No .so needed: the descriptors come straight from
// the SDK's templates (and from raw C functions for the misbehaving cases).
#include "clinicore/sdk/host/invoke.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "clinicore/sdk/plugin.hpp"

namespace clinicore::sdk::host {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Deadlines of calls that are meant to finish: long enough that no stall of a loaded machine
// turns one into a timeout.
constexpr auto kAmple = 10s;

// "hang" holds its call until the test lets it go (or 30 s pass): the deadline alone decides
// when the caller gets its answer, however slow the machine.
std::atomic<bool> g_hang_released{false};

class TestChannel : public sdk::Channel {
 public:
  static constexpr const char* kName = "test-channel";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "in-process test channel";
  static constexpr const char* kConfigSchema = R"({"type":"object","properties":{"label":{"type":"string"}}})";
  static constexpr sdk::ChannelLimits kLimits{32, 0};

  TestChannel(const sdk::Json& config, sdk::Host& host) : label_(config.value("label", std::string())) {
    if (label_ == "refuse") throw sdk::InvalidInput("label refused");
    host.Log(sdk::LogLevel::kInfo, "created", {{"label", label_}});
  }

  sdk::SendResult Send(const sdk::SendRequest& request, sdk::Host& host) override {
    const std::string body = request.message.value("body", std::string());
    if (body == "throw") throw std::runtime_error("boom");
    if (body == "invalid") throw sdk::InvalidInput("no recipient");
    if (body == "hang") {
      const auto until = std::chrono::steady_clock::now() + 30s;
      while (!g_hang_released && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
    }
    if (body == "retry") return sdk::SendResult::RetryAfter(30, "busy");
    if (body == "count") {
      auto n = host.KvGet("n");
      const int next = n ? std::stoi(*n) + 1 : 1;
      host.KvPut("n", std::to_string(next));
      return sdk::SendResult::Delivered(label_ + "-" + std::to_string(next));
    }
    if (body == "http") {
      auto reply = host.Http({"POST", "https://example.test/hook", {{"X-A", "1"}}, "{}", 0});
      if (!reply.transport_ok()) return sdk::SendResult::RetryAfter(5, reply.error);
      return sdk::SendResult::Delivered("http-" + std::to_string(reply.status) + "-" + reply.body);
    }
    return sdk::SendResult::Delivered(label_ + ":" + request.recipient.value("address", std::string()));
  }

 private:
  std::string label_;
};

// Raw C plugin functions that break the contract in each way a host must survive.
int32_t RawCreate(const clinicore_host*, const char*, size_t, void** instance, clinicore_sink*) {
  static int token = 0;
  *instance = &token;
  return CLINICORE_OK;
}
void RawDestroy(void*) {}
int32_t RawSend(void*, const clinicore_host*, const char* input, size_t size, clinicore_sink* out) {
  const std::string text(input, size);
  auto write = [&](const std::string& s) { out->write(out->ctx, s.data(), s.size()); };
  if (text.find("malformed") != std::string::npos) {
    write("{\"status\": \"delivered\", ");
    return CLINICORE_OK;
  }
  if (text.find("shape") != std::string::npos) {
    write(R"({"status":"sent"})");
    return CLINICORE_OK;
  }
  if (text.find("status42") != std::string::npos) return 42;
  if (text.find("foreign") != std::string::npos) throw 7;  // an exception a C ABI must never carry
  write(R"({"status":"delivered","provider_message_id":"raw-1"})");
  return CLINICORE_OK;
}
clinicore_channel_ops g_raw_ops{sizeof(clinicore_channel_ops), 0, 0, 0, &RawSend};

std::shared_ptr<const LoadedPlugin> Load(const clinicore_plugin_descriptor* descriptor) {
  auto info = CheckDescriptor(descriptor, "");
  EXPECT_TRUE(info.ok()) << info.error().message;
  return std::make_shared<LoadedPlugin>(std::move(info).value(), descriptor);
}

class RecordingLog : public LogSink {
 public:
  void Write(const CallIdentity& who, int, std::string_view message, const json& fields) override {
    std::lock_guard lock(mutex);
    lines.push_back(who.tenant_id + "|" + who.plugin_name + "|" + std::string(message) + "|" + fields.dump());
  }
  std::mutex mutex;
  std::vector<std::string> lines;
};

class FakeHttp : public HttpTransport {
 public:
  HttpResult Perform(const HttpCall& call) override {
    last = call;
    HttpResult result;
    result.status = 202;
    result.body = "ok";
    return result;
  }
  HttpCall last;
};

class InvokeTest : public ::testing::Test {
 protected:
  InvokeTest()
      : http_(std::make_shared<FakeHttp>()),
        log_(std::make_shared<RecordingLog>()),
        invoker_(std::make_shared<HostServices>(http_, std::make_shared<MemoryKeyValueStore>(), log_),
                 std::make_shared<DeadlineExecutor>(4)),
        channel_(Load(sdk::detail::ChannelDescriptor<TestChannel>())) {}

  std::shared_ptr<PluginInstance> Create(const json& config, const CallIdentity& who) {
    auto instance = invoker_.Create(channel_, config, who, kAmple);
    EXPECT_TRUE(instance.ok()) << instance.error().message;
    return instance.ok() ? *instance : nullptr;
  }
  Expected<json> Send(const std::shared_ptr<PluginInstance>& instance, const std::string& body, const CallIdentity& who,
                      std::chrono::milliseconds timeout = kAmple) {
    return invoker_.Call(instance, Operation::kSend,
                         {{{"message", {{"body", body}}}, {"recipient", {{"address", "a@x"}}}}, ""}, who, timeout);
  }

  std::shared_ptr<FakeHttp> http_;
  std::shared_ptr<RecordingLog> log_;
  Invoker invoker_;
  std::shared_ptr<const LoadedPlugin> channel_;
  CallIdentity tenant_a_{"tenant-a", "test-channel", "1.0.0"};
  CallIdentity tenant_b_{"tenant-b", "test-channel", "1.0.0"};
};

TEST_F(InvokeTest, DeliversThroughTheCxxLayer) {
  auto instance = Create({{"label", "L"}}, tenant_a_);
  auto sent = Send(instance, "hello", tenant_a_);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(*sent, (json{{"status", "delivered"}, {"provider_message_id", "L:a@x"}}));
  auto retry = Send(instance, "retry", tenant_a_);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ((*retry)["after_seconds"], 30);
  EXPECT_EQ(channel_->info().build_flags & CLINICORE_BUILD_CXX_LAYER, CLINICORE_BUILD_CXX_LAYER);
}

TEST_F(InvokeTest, ExceptionsBecomeFailuresAtTheBoundary) {
  auto instance = Create(json::object(), tenant_a_);
  auto thrown = Send(instance, "throw", tenant_a_);
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().kind, FailureKind::kPluginError);
  EXPECT_EQ(thrown.error().message, "plugin test-channel 1.0.0 send failed: boom");
  auto invalid = Send(instance, "invalid", tenant_a_);
  EXPECT_EQ(invalid.error().kind, FailureKind::kInvalidInput);
  EXPECT_EQ(invalid.error().message, "plugin test-channel 1.0.0 send refused its input: no recipient");
  auto not_object = invoker_.Call(instance, Operation::kSend, {json::array(), ""}, tenant_a_, kAmple);
  EXPECT_EQ(not_object.error().kind, FailureKind::kInvalidInput);

  auto refused = invoker_.Create(channel_, {{"label", "refuse"}}, tenant_a_, kAmple);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "plugin test-channel 1.0.0 create refused the config: label refused");
}

TEST_F(InvokeTest, DeclaredBodyLimitIsEnforcedBeforeThePluginRuns) {
  auto instance = Create(json::object(), tenant_a_);
  auto big = Send(instance, std::string(33, 'x'), tenant_a_);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, FailureKind::kInvalidInput);
  EXPECT_NE(big.error().message.find("takes at most 32"), std::string::npos);
}

TEST_F(InvokeTest, AHangingCallFailsAtItsDeadlineAndPoisonsTheInstance) {
  auto instance = Create(json::object(), tenant_a_);
  g_hang_released = false;
  const auto start = std::chrono::steady_clock::now();
  auto hung = Send(instance, "hang", tenant_a_, 50ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  g_hang_released = true;  // the plugin's thread goes on, and ends
  EXPECT_LT(waited, 5s) << "the caller got its answer at the deadline, not when the plugin returned";
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.error().kind, FailureKind::kDeadlineExceeded);
  EXPECT_NE(hung.error().message.find("did not return within 50 ms"), std::string::npos);
  EXPECT_TRUE(instance->poisoned());
  EXPECT_TRUE(CountsTowardQuarantine(hung.error().kind));
  for (int i = 0; i < 1'000 && invoker_.executor().stuck() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(invoker_.executor().stuck(), 0);
}

TEST_F(InvokeTest, KeyValueStateAndLogsAreScopedToTheCallingTenant) {
  auto a = Create({{"label", "A"}}, tenant_a_);
  auto b = Create({{"label", "B"}}, tenant_b_);
  EXPECT_EQ((*Send(a, "count", tenant_a_))["provider_message_id"], "A-1");
  EXPECT_EQ((*Send(a, "count", tenant_a_))["provider_message_id"], "A-2");
  EXPECT_EQ((*Send(b, "count", tenant_b_))["provider_message_id"], "B-1");
  std::lock_guard lock(log_->mutex);
  EXPECT_EQ(log_->lines.front(), "tenant-a|test-channel|created|{\"label\":\"A\"}");
  EXPECT_EQ(log_->lines.back(), "tenant-b|test-channel|created|{\"label\":\"B\"}");
}

TEST_F(InvokeTest, HttpGoesThroughTheHostTransportCappedByTheDeadline) {
  auto instance = Create(json::object(), tenant_a_);
  auto sent = Send(instance, "http", tenant_a_, 800ms);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ((*sent)["provider_message_id"], "http-202-ok");
  EXPECT_EQ(http_->last.url, "https://example.test/hook");
  EXPECT_LE(http_->last.timeout, 800ms);
  EXPECT_EQ(http_->last.headers.at(0), (std::pair<std::string, std::string>{"X-A", "1"}));
}

TEST_F(InvokeTest, GarbageOutputIsAFailureNamingWhatIsWrong) {
  clinicore_plugin_descriptor raw{};
  raw.magic = CLINICORE_PLUGIN_MAGIC;
  raw.struct_size = sizeof raw;
  raw.abi_major = CLINICORE_SDK_ABI_MAJOR;
  raw.kind = CLINICORE_KIND_CHANNEL;
  raw.name = "raw";
  raw.version = "0.1.0";
  raw.config_schema = R"({"type":"object"})";
  raw.create = &RawCreate;
  raw.destroy = &RawDestroy;
  raw.kind_ops = &g_raw_ops;
  auto plugin = Load(&raw);
  auto instance = invoker_.Create(plugin, json::object(), tenant_a_, kAmple);
  ASSERT_TRUE(instance.ok());
  auto call = [&](const std::string& body) {
    return invoker_.Call(*instance, Operation::kSend, {{{"message", {{"body", body}}}}, ""}, tenant_a_, kAmple);
  };
  EXPECT_TRUE(call("fine").ok());
  auto malformed = call("malformed");
  EXPECT_EQ(malformed.error().kind, FailureKind::kMalformedOutput);
  EXPECT_EQ(malformed.error().message,
            "plugin raw 0.1.0 send returned malformed JSON: \"{\"status\": \"delivered\", \"");
  EXPECT_EQ(call("shape").error().message,
            "plugin raw 0.1.0 send returned an unexpected shape: status must be one of delivered, retry, failed");
  EXPECT_EQ(call("status42").error().message, "plugin raw 0.1.0 send returned an unknown status 42");
  EXPECT_EQ(call("foreign").error().message, "plugin raw 0.1.0 send threw an exception across the C boundary");
  auto wrong_op = invoker_.Call(*instance, Operation::kEvaluate, {}, tenant_a_, kAmple);
  EXPECT_EQ(wrong_op.error().kind, FailureKind::kInvalidInput);
  auto unsupported = invoker_.Call(*instance, Operation::kCheckConfig, {}, tenant_a_, kAmple);
  EXPECT_EQ(unsupported.error().kind, FailureKind::kUnsupported);
}

TEST(CheckOutputTest, EachOperationHasItsShape) {
  EXPECT_FALSE(CheckOutput(Operation::kSend, {{"status", "failed"}, {"reason", "bounced"}}));
  EXPECT_TRUE(CheckOutput(Operation::kSend, {{"status", "failed"}}));
  EXPECT_TRUE(CheckOutput(Operation::kSend, {{"status", "retry"}, {"after_seconds", -1}}));
  EXPECT_FALSE(CheckOutput(Operation::kVerify, {{"valid", true}, {"challenge", {{"status", 200}, {"body", "x"}}}}));
  EXPECT_TRUE(CheckOutput(Operation::kVerify, {{"valid", false}, {"challenge", {{"status", 200}, {"body", "x"}}}}));
  EXPECT_EQ(*CheckOutput(Operation::kParse, {{"leads", {{{"lead", json::object()}}}}}),
            "leads[0].dedupe_key must be a string of 1 to 256 bytes");
  EXPECT_FALSE(CheckOutput(Operation::kEvaluate, {{"awards", {{{"points", -5}, {"reason", "refund"}}}}}));
  EXPECT_TRUE(CheckOutput(Operation::kEvaluate, {{"awards", {{{"points", 1.5}, {"reason", "x"}}}}}));
  EXPECT_FALSE(CheckOutput(Operation::kTier, {{"tier", nullptr}}));
  EXPECT_FALSE(
      CheckOutput(Operation::kCheckConfig, {{"ok", false}, {"errors", {{{"field", "url"}, {"message", "x"}}}}}));
  EXPECT_TRUE(CheckOutput(Operation::kSend, json::array()));
}

}  // namespace
}  // namespace clinicore::sdk::host
