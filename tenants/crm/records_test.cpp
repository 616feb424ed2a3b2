#include "tenants/crm/records.hpp"

#include <gtest/gtest.h>

namespace clinicore::crm {
namespace {

TEST(LeadStatus, FollowsTheMachine) {
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{{"new", "contacted"},
                                                                          {"contacted", "qualified"},
                                                                          {"qualified", "booked"},
                                                                          {"booked", "won"},
                                                                          {"new", "lost"},
                                                                          {"booked", "lost"},
                                                                          {"lost", "contacted"}}) {
    EXPECT_TRUE(CheckTransition(from, to).ok()) << from << " -> " << to;
  }
}

TEST(LeadStatus, RefusesEveryOtherMoveNamingStatus) {
  int refused = 0;
  for (auto from : kStatuses) {
    for (auto to : kStatuses) {
      const auto status = CheckTransition(from, to);
      if (status.ok()) continue;
      ++refused;
      EXPECT_EQ(status.error().code, core::ErrorCode::kConflict);
      ASSERT_EQ(status.error().fields.size(), 1u);
      EXPECT_EQ(status.error().fields[0].field, "status");
    }
  }
  EXPECT_EQ(refused, 36 - 9);  // 6×6 pairs: 4 steps forward, 4 ways to lost, 1 reopening
  EXPECT_FALSE(CheckTransition("won", "lost").ok());
  EXPECT_FALSE(CheckTransition("lost", "new").ok());
  EXPECT_FALSE(CheckTransition("new", "booked").ok());
}

TEST(SearchTerm, KeepsOnlyTheDigitsOfAPhoneNumber) {
  EXPECT_EQ(SearchTerm("+30 691-234"), "30691234");
  EXPECT_EQ(SearchTerm("(210) 123.45"), "21012345");
  EXPECT_EQ(SearchTerm("12"), "12");  // too short to be a number: searched as typed
  EXPECT_EQ(SearchTerm("  Müller "), "Müller");
  EXPECT_EQ(SearchTerm("maria85"), "maria85");
  EXPECT_EQ(SearchTerm("   "), "");
}

}  // namespace
}  // namespace clinicore::crm
