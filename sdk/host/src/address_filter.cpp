#include "address_filter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace clinicore::sdk::host {
namespace {

bool IsPrivateV4(uint32_t host_order) {
  const uint32_t a = host_order >> 24, b = (host_order >> 16) & 0xff;
  return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) || (a == 172 && b >= 16 && b <= 31) ||
         (a == 192 && b == 168) || (a == 100 && b >= 64 && b <= 127) || a >= 224;
}

uint32_t V4At(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3];
}

bool StartsWith(const uint8_t* bytes, std::initializer_list<uint8_t> prefix) {
  return std::memcmp(bytes, prefix.begin(), prefix.size()) == 0;
}

// An IPv6 address that carries an IPv4 one a gateway would forward to: the relay or
// translator then connects to the IPv4 address, so it is judged as that address.
bool EmbedsPrivateV4(const uint8_t* bytes) {
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated but still routed by some).
  if (StartsWith(bytes, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||
      StartsWith(bytes, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return IsPrivateV4(V4At(bytes + 12));
  }
  // NAT64: the well-known prefix 64:ff9b::/96 and the local-use 64:ff9b:1::/48 (RFC 8215),
  // whose translators take the last 32 bits.
  if (StartsWith(bytes, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}) ||
      StartsWith(bytes, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01})) {
    return IsPrivateV4(V4At(bytes + 12));
  }
  if (StartsWith(bytes, {0x20, 0x02})) return IsPrivateV4(V4At(bytes + 2));  // 6to4: 2002:aabb:ccdd::/48
  if (StartsWith(bytes, {0x20, 0x01, 0x00, 0x00})) {                         // Teredo: server, then client ^ ~0
    return IsPrivateV4(V4At(bytes + 4)) || IsPrivateV4(~V4At(bytes + 12));
  }
  return false;
}

bool IsPrivateV6(const uint8_t* bytes) {
  static const uint8_t kZero[16] = {};
  if (std::memcmp(bytes, kZero, 15) == 0 && (bytes[15] == 0 || bytes[15] == 1)) return true;  // :: and ::1
  if ((bytes[0] & 0xfe) == 0xfc) return true;                                                 // fc00::/7
  if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) return true;                             // fe80::/10
  if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0xc0) return true;                             // fec0::/10
  if (bytes[0] == 0xff) return true;                                                          // multicast
  return EmbedsPrivateV4(bytes);
}

}  // namespace

bool IsPrivateAddress(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return IsPrivateV4(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6)
    return IsPrivateV6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr);
  return true;
}

}  // namespace clinicore::sdk::host
