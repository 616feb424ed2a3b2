#include "platform/cache/address_bucket.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace clinicore::cache {

std::string AddressBucket(const std::string& address) {
  std::string text = address;
  // Peers may be written in brackets ("[2001:db8::1]"); a zone ("%eth0") is not part of it.
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (const auto zone = text.find('%'); zone != std::string::npos) text.resize(zone);
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return address;  // IPv4 or not an address
  static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(bytes.data(), kMapped.data(), kMapped.size()) == 0) {
    inet_ntop(AF_INET, bytes.data() + 12, out, sizeof out);
    return out;
  }
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  inet_ntop(AF_INET6, bytes.data(), out, sizeof out);
  return std::string(out) + "/64";
}

}  // namespace clinicore::cache
