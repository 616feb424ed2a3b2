// A misbehaving plugin against the host runtime, without a database: each way of breaking
// the contract is a clear failure for the caller, who keeps working. A segfault cannot be
// contained inside a process: it kills the process running the plugin (in production the
// `work` process; its job is reclaimed), shown here with a child process.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "clinicore/sdk/host/invoke.hpp"
#include "tests/harness/wait.hpp"

namespace clinicore::plugins {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using sdk::host::FailureKind;
using sdk::host::Operation;

struct Host {
  Host()
      : invoker(std::make_shared<sdk::host::HostServices>(
                    std::make_shared<sdk::host::CurlHttpTransport>(sdk::host::CurlOptions{}),
                    std::make_shared<sdk::host::MemoryKeyValueStore>(),
                    std::make_shared<sdk::host::StreamLogSink>(std::cerr)),
                std::make_shared<sdk::host::DeadlineExecutor>(4)) {
    auto loaded = catalog.Load(std::string(CLINICORE_TEST_PLUGIN_DIR) + "/misbehaving.so");
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    plugin = *loaded;
    auto created = invoker.Create(plugin, {{"label", "L"}, {"token", "T"}}, who, 1s);
    EXPECT_TRUE(created.ok()) << created.error().message;
    instance = *created;
  }
  sdk::host::Expected<json> Send(const std::string& body, std::chrono::milliseconds timeout = 1s) {
    return invoker.Call(instance, Operation::kSend, {{{"message", {{"body", body}}}}, ""}, who, timeout);
  }

  sdk::host::PluginCatalog catalog;
  sdk::host::Invoker invoker;
  std::shared_ptr<const sdk::host::LoadedPlugin> plugin;
  std::shared_ptr<sdk::host::PluginInstance> instance;
  sdk::host::CallIdentity who{"tenant-1", "misbehaving", "1.0.0"};
};

TEST(PluginCrashTest, ThrowGarbageWrongShapeAndErrorsAreFailuresNotCrashes) {
  Host host;
  ASSERT_TRUE(host.Send("hello").ok());
  EXPECT_EQ((*host.Send("hello"))["provider_message_id"], "L|T|");
  auto thrown = host.Send("throw");
  EXPECT_EQ(thrown.error().kind, FailureKind::kPluginError);
  EXPECT_EQ(thrown.error().message, "plugin misbehaving 1.0.0 send threw an exception across the C boundary");
  auto garbage = host.Send("garbage");
  EXPECT_EQ(garbage.error().kind, FailureKind::kMalformedOutput);
  EXPECT_EQ(garbage.error().message,
            "plugin misbehaving 1.0.0 send returned malformed JSON: \"{\"status\": delivered\"");
  EXPECT_EQ(host.Send("shape").error().kind, FailureKind::kMalformedOutput);
  auto error = host.Send("error");
  EXPECT_EQ(error.error().message, "plugin misbehaving 1.0.0 send failed: the provider library failed");
  EXPECT_TRUE(host.Send("after all that").ok());
}

TEST(PluginCrashTest, AHangIsADeadlineFailureWhileOtherCallsGoOn) {
  Host host;
  std::atomic<bool> done{false};
  std::atomic<int> served{0};
  std::thread traffic([&] {
    while (!done) {
      if (host.Send("traffic").ok()) ++served;
      std::this_thread::sleep_for(2ms);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  auto hung = host.Send("hang", 100ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  // The hung call's thread sleeps 30 s inside the plugin: ten more calls are served meanwhile
  // (waited for, however slow the machine), and its thread is still in there afterwards.
  const int before = served.load();
  const bool kept_serving = testing::WaitFor([&] { return served.load() >= before + 10; }, 10s, 2ms);
  const int stuck = host.invoker.executor().stuck();
  done = true;
  traffic.join();
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.error().kind, FailureKind::kDeadlineExceeded);
  EXPECT_LT(waited, 5s) << "the caller waits for the deadline, not for the plugin's 30 s";
  EXPECT_TRUE(kept_serving) << "calls kept being served while one hung: " << served.load() - before;
  EXPECT_TRUE(host.instance->poisoned());
  EXPECT_EQ(stuck, 1);  // its thread is still asleep inside the plugin
}

TEST(PluginCrashTest, ASegfaultKillsOnlyTheProcessRunningThePlugin) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The child plays the worker: it runs the crashing call and dies. (Under ASan the sanitizer
  // reports the SEGV and aborts instead of dying by the signal: either way it does not exit 0.)
  EXPECT_EXIT(
      {
        Host host;
        (void)host.Send("crash");
        std::exit(0);
      },
      [](int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }, "");
  // The caller is untouched and the plugin still serves here.
  Host host;
  auto after = host.Send("still here");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ((*after)["status"], "delivered");
}

}  // namespace
}  // namespace clinicore::plugins
