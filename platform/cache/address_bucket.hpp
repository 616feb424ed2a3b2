#pragma once

#include <string>

namespace clinicore::cache {

// The part of a client address that rate limits count against: an IPv4 address as it is,
// an IPv6 address by its /64 (one customer's allocation: per-address limits would let it
// rotate through 2^64 of them), an IPv4-mapped IPv6 address as its IPv4 form. Anything
// that is not an address is kept as given (it was never a real peer address).
std::string AddressBucket(const std::string& address);

}  // namespace clinicore::cache
