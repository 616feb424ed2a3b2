#include "platform/plugins/log_budget.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace clinicore::plugins {
namespace {

struct Line {
  std::string tenant;
  int level;
  std::string message;
  nlohmann::json fields;
};

class RecordingSink : public sdk::host::LogSink {
 public:
  void Write(const sdk::host::CallIdentity& who, int level, std::string_view message,
             const nlohmann::json& fields) override {
    lines.push_back({who.tenant_id, level, std::string(message), fields});
  }
  std::vector<Line> lines;
};

class LogBudgetTest : public ::testing::Test {
 protected:
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(1'000)};
  LogBudget budget_{sink_, 3, [this] { return now_; }};
  const sdk::host::CallIdentity tenant_a_{"tenant-a", "chatty", "1.0.0"};
  const sdk::host::CallIdentity tenant_b_{"tenant-b", "chatty", "1.0.0"};
};

TEST_F(LogBudgetTest, LinesOverTheBudgetAreDroppedAndCountedOnce) {
  for (int i = 0; i < 10; ++i) budget_.Write(tenant_a_, 1, "line " + std::to_string(i), {});
  ASSERT_EQ(sink_->lines.size(), 3u);
  EXPECT_EQ(sink_->lines[2].message, "line 2");

  now_ += std::chrono::seconds(1);
  budget_.Write(tenant_a_, 1, "next second", {});
  ASSERT_EQ(sink_->lines.size(), 5u);
  EXPECT_EQ(sink_->lines[3].message, "plugin_log_suppressed");
  EXPECT_EQ(sink_->lines[3].level, 2);
  EXPECT_EQ(sink_->lines[3].fields["suppressed_lines"], 7);
  EXPECT_EQ(sink_->lines[4].message, "next second");
}

TEST_F(LogBudgetTest, EachTenantHasItsOwnBudget) {
  for (int i = 0; i < 5; ++i) budget_.Write(tenant_a_, 1, "a", {});
  for (int i = 0; i < 5; ++i) budget_.Write(tenant_b_, 1, "b", {});
  int a = 0, b = 0;
  for (const auto& line : sink_->lines) (line.tenant == "tenant-a" ? a : b)++;
  EXPECT_EQ(a, 3);
  EXPECT_EQ(b, 3);
}

TEST_F(LogBudgetTest, AQuietPluginIsNeverToldOfSuppression) {
  for (int i = 0; i < 3; ++i) {
    budget_.Write(tenant_a_, 0, "within budget", {});
    now_ += std::chrono::seconds(1);
  }
  EXPECT_EQ(sink_->lines.size(), 3u);
  for (const auto& line : sink_->lines) EXPECT_EQ(line.message, "within budget");
}

}  // namespace
}  // namespace clinicore::plugins
