#include "address_filter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

namespace clinicore::sdk::host {
namespace {

bool Private(const std::string& text) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return IsPrivateAddress(reinterpret_cast<const sockaddr*>(&v4));
  }
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr), 1) << text;
  v6.sin6_family = AF_INET6;
  return IsPrivateAddress(reinterpret_cast<const sockaddr*>(&v6));
}

TEST(AddressFilterTest, RefusesPrivateIpv4) {
  for (const char* address : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                              "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"}) {
    EXPECT_TRUE(Private(address)) << address;
  }
  for (const char* address : {"8.8.8.8", "172.32.0.1", "100.128.0.1", "93.184.216.34"}) {
    EXPECT_FALSE(Private(address)) << address;
  }
}

TEST(AddressFilterTest, RefusesPrivateIpv6) {
  for (const char* address : {"::1", "::", "fd00::1", "fc00::1", "fe80::1", "fec0::1", "ff02::1"}) {
    EXPECT_TRUE(Private(address)) << address;
  }
  EXPECT_FALSE(Private("2606:4700:4700::1111"));
}

TEST(AddressFilterTest, JudgesAnEmbeddedIpv4AsItself) {
  for (const char* address : {
           "::ffff:127.0.0.1",          // mapped
           "::10.0.0.1",                // compatible
           "64:ff9b::7f00:1",           // NAT64 of 127.0.0.1
           "64:ff9b::a9fe:a9fe",        // NAT64 of the metadata address 169.254.169.254
           "64:ff9b:1::c0a8:101",       // local-use NAT64 of 192.168.1.1
           "2002:7f00:1::1",            // 6to4 of 127.0.0.1
           "2002:a00:1::",              // 6to4 of 10.0.0.1
           "2001:0:a00:1::ffff:ffff",   // Teredo with the server 10.0.0.1
           "2001:0:808:808::80ff:fffe"  // Teredo with the client 127.0.0.1 (stored inverted)
       }) {
    EXPECT_TRUE(Private(address)) << address;
  }
  for (const char* address : {"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2001:0:808:808::f7f7:f7f7"}) {
    EXPECT_FALSE(Private(address)) << address;
  }
}

TEST(AddressFilterTest, RefusesAnUnknownFamily) {
  sockaddr unknown{};
  unknown.sa_family = AF_UNIX;
  EXPECT_TRUE(IsPrivateAddress(&unknown));
}

}  // namespace
}  // namespace clinicore::sdk::host
