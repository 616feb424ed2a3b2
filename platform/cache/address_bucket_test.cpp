#include "platform/cache/address_bucket.hpp"

#include <gtest/gtest.h>

namespace clinicore::cache {
namespace {

TEST(AddressBucketTest, Ipv4IsCountedPerAddress) {
  EXPECT_EQ(AddressBucket("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AddressBucket("::ffff:203.0.113.7"), "203.0.113.7") << "an IPv4-mapped address is its IPv4 form";
}

TEST(AddressBucketTest, Ipv6IsCountedPerSlash64) {
  EXPECT_EQ(AddressBucket("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressBucket("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressBucket("[2001:db8:1:2::9]"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressBucket("fe80::1%eth0"), "fe80::/64");
  EXPECT_NE(AddressBucket("2001:db8:1:3::1"), AddressBucket("2001:db8:1:2::1"));
  EXPECT_EQ(AddressBucket("::1"), "::/64");
}

TEST(AddressBucketTest, AnythingElseIsKeptAsGiven) {
  EXPECT_EQ(AddressBucket(""), "");
  EXPECT_EQ(AddressBucket("not-an-address"), "not-an-address");
}

}  // namespace
}  // namespace clinicore::cache
