#pragma once

#include <sys/socket.h>

namespace clinicore::sdk::host {

// Whether plugin HTTP must refuse to connect to `address` (unless private addresses are
// allowed): loopback, private, link-local, shared (CGNAT), multicast and reserved IPv4; and
// for IPv6 loopback, unique-local, link-local, site-local, multicast, and every form that
// embeds an IPv4 address (mapped, compatible, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4
// 2002::/16, Teredo 2001::/32) when the embedded address is one of those. A family it does
// not know is refused.
bool IsPrivateAddress(const sockaddr* address);

}  // namespace clinicore::sdk::host
