// CLINICORE_PLUGIN_* in the configuration (platform/core/config.cpp).
#include <gtest/gtest.h>

#include <map>

#include "platform/core/config.hpp"

namespace clinicore::plugins {
namespace {

core::Result<core::Config> Load(std::map<std::string, std::string> values) {
  return core::LoadConfig([values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  });
}

TEST(PluginsConfigTest, DefaultsLoadNoPluginsAndStoreNoSecrets) {
  auto config = Load({});
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->plugins.dir.empty());
  EXPECT_EQ(config->plugins.call_timeout, core::Millis(10'000));
  EXPECT_EQ(config->plugins.quarantine_after, 5);
  EXPECT_TRUE(config->plugins.secret_key.empty());
  EXPECT_FALSE(config->plugins.http_allow_private);
  EXPECT_EQ(config->plugins.log_lines_per_second, 50);
}

TEST(PluginsConfigTest, ReadsEveryPluginVariable) {
  auto config = Load({{"CLINICORE_PLUGIN_DIR", "/opt/clinicore/plugins"},
                      {"CLINICORE_PLUGIN_CALL_TIMEOUT_MS", "2500"},
                      {"CLINICORE_PLUGIN_QUARANTINE_AFTER", "3"},
                      {"CLINICORE_PLUGIN_MAX_STUCK_CALLS", "2"},
                      {"CLINICORE_PLUGIN_LOG_LINES_PER_SECOND", "7"},
                      {"CLINICORE_PLUGIN_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="},
                      {"CLINICORE_PLUGIN_HTTP_TIMEOUT_MS", "4000"},
                      {"CLINICORE_PLUGIN_HTTP_ALLOW_PRIVATE", "1"}});
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->plugins.dir, "/opt/clinicore/plugins");
  EXPECT_EQ(config->plugins.call_timeout, core::Millis(2500));
  EXPECT_EQ(config->plugins.quarantine_after, 3);
  EXPECT_EQ(config->plugins.max_stuck_calls, 2);
  EXPECT_EQ(config->plugins.log_lines_per_second, 7);
  EXPECT_EQ(config->plugins.http_timeout, core::Millis(4000));
  EXPECT_TRUE(config->plugins.http_allow_private);
}

TEST(PluginsConfigTest, PreviousKeysAreAListThatNeedsACurrentKey) {
  constexpr const char* kCurrent = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
  constexpr const char* kOld = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
  auto config = Load({{"CLINICORE_PLUGIN_SECRET_KEY", kCurrent},
                      {"CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS", std::string(kOld) + "," + kCurrent}});
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->plugins.previous_secret_keys, (std::vector<std::string>{kOld, kCurrent}));

  auto alone = Load({{"CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS", kOld}});
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.error().fields.at(0).field, "CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS");
  for (const std::string& bad : {std::string(kOld) + ",", std::string("c2hvcnQta2V5"), "," + std::string(kOld)}) {
    auto refused = Load({{"CLINICORE_PLUGIN_SECRET_KEY", kCurrent}, {"CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS", bad}});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().detail.find("c2hvcnQta2V5"), std::string::npos);
  }
}

TEST(PluginsConfigTest, ABadKeyStopsStartUpWithoutShowingIt) {
  auto config = Load({{"CLINICORE_PLUGIN_SECRET_KEY", "c2hvcnQta2V5"}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().fields.at(0).field, "CLINICORE_PLUGIN_SECRET_KEY");
  EXPECT_EQ(config.error().detail.find("c2hvcnQta2V5"), std::string::npos);
  EXPECT_FALSE(Load({{"CLINICORE_PLUGIN_QUARANTINE_AFTER", "0"}}).ok());
  EXPECT_FALSE(Load({{"CLINICORE_PLUGIN_HTTP_ALLOW_PRIVATE", "yes"}}).ok());
  EXPECT_FALSE(Load({{"CLINICORE_PLUGIN_LOG_LINES_PER_SECOND", "0"}}).ok());
}

}  // namespace
}  // namespace clinicore::plugins
