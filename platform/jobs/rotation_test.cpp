#include "platform/jobs/rotation.hpp"

#include <gtest/gtest.h>

namespace clinicore::jobs {
namespace {

using std::chrono::milliseconds;

int Unlimited(const std::string&) {
  return 1'000;
}

std::map<std::string, int> Quotas(const std::vector<TenantQuota>& plan) {
  std::map<std::string, int> out;
  for (const auto& entry : plan) out[entry.tenant_id] = entry.quota;
  return out;
}

TEST(TenantRotationTest, SpreadsFreeSlotsOneEachBeforeASecond) {
  TenantRotation rotation;
  for (const char* tenant : {"c", "b", "a"}) rotation.MarkReady(tenant);  // newcomers go first: a, b, c
  auto plan = rotation.Plan(7, Unlimited, 100);
  EXPECT_EQ(Quotas(plan), (std::map<std::string, int>{{"a", 3}, {"b", 2}, {"c", 2}}));
}

TEST(TenantRotationTest, AOneJobTenantIsServedByTheNextClaimWhateverTheOthersBacklog) {
  TenantRotation rotation;
  rotation.MarkReady("big");
  // The big tenant fills every claim while it is alone…
  for (int i = 0; i < 5; ++i) {
    auto plan = rotation.Plan(1, Unlimited, 100);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].tenant_id, "big");
    rotation.Settle(plan, {{"big", 1}});
  }
  // …and the small one's job, announced now, gets the very next free slot.
  rotation.MarkReady("small");
  auto plan = rotation.Plan(1, Unlimited, 100);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].tenant_id, "small");
  rotation.Settle(plan, {{"small", 1}});
  EXPECT_EQ(rotation.Plan(1, Unlimited, 100)[0].tenant_id, "big");
}

TEST(TenantRotationTest, RotatesWhenThereAreMoreTenantsThanSlots) {
  TenantRotation rotation;
  for (const char* tenant : {"d", "c", "b", "a"}) rotation.MarkReady(tenant);
  std::vector<std::string> served;
  for (int i = 0; i < 4; ++i) {
    auto plan = rotation.Plan(2, Unlimited, 100);
    ASSERT_EQ(plan.size(), 2u);
    for (const auto& entry : plan) {
      served.push_back(entry.tenant_id);
      EXPECT_EQ(entry.quota, 1);
    }
    std::map<std::string, int> got;
    for (const auto& entry : plan) got[entry.tenant_id] = 1;
    rotation.Settle(plan, got);
  }
  EXPECT_EQ(served, (std::vector<std::string>{"a", "b", "c", "d", "a", "b", "c", "d"}));
}

TEST(TenantRotationTest, RoomBoundsEachTenantAndZeroRoomKeepsItsPlace) {
  TenantRotation rotation;
  for (const char* tenant : {"c", "b", "a"}) rotation.MarkReady(tenant);
  auto room = [](const std::string& tenant) { return tenant == "a" ? 0 : tenant == "b" ? 1 : 10; };
  auto plan = rotation.Plan(8, room, 100);
  EXPECT_EQ(Quotas(plan), (std::map<std::string, int>{{"b", 1}, {"c", 7}}));
  EXPECT_TRUE(rotation.IsReady("a"));
  EXPECT_EQ(rotation.Front(1), std::vector<std::string>{"a"}) << "a was not served, so it is first next time";
}

TEST(TenantRotationTest, ATenantThatGotLessThanAskedLeavesUnlessWokenMeanwhile) {
  TenantRotation rotation;
  rotation.MarkReady("b");
  rotation.MarkReady("a");
  auto plan = rotation.Plan(4, Unlimited, 100);
  rotation.MarkReady("b");  // a commit for b arrives while the claim is in flight
  rotation.Settle(plan, {{"a", 1}});
  EXPECT_FALSE(rotation.IsReady("a"));
  EXPECT_TRUE(rotation.IsReady("b"));
}

TEST(TenantRotationTest, TimersMoveTenantsToReadyWhenDue) {
  TenantRotation rotation;
  const auto now = std::chrono::steady_clock::now();
  rotation.MarkDueAt("later", now + milliseconds(500), now);
  rotation.MarkDueAt("later", now + milliseconds(200), now);  // the earlier one wins
  rotation.MarkDueAt("now", now, now);
  EXPECT_TRUE(rotation.IsReady("now"));
  EXPECT_FALSE(rotation.IsReady("later"));
  EXPECT_EQ(rotation.Advance(now + milliseconds(100)), now + milliseconds(200));
  EXPECT_FALSE(rotation.Advance(now + milliseconds(200)).has_value());
  EXPECT_TRUE(rotation.IsReady("later"));
}

TEST(TenantRotationTest, MaxTenantsBoundsOnePlan) {
  TenantRotation rotation;
  for (int i = 0; i < 10; ++i) rotation.MarkReady("t" + std::to_string(i));
  EXPECT_EQ(rotation.Plan(100, Unlimited, 3).size(), 3u);
  EXPECT_EQ(rotation.Plan(2, Unlimited, 100).size(), 2u) << "never more tenants than slots";
}

}  // namespace
}  // namespace clinicore::jobs
