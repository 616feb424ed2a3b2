#include "platform/core/utf8.hpp"

#include <cstdint>

namespace clinicore::core {
namespace {

// The length of the sequence a lead byte starts, and the range its second byte must lie in
// (the first continuation byte is where overlongs, surrogates and values past U+10FFFF show).
struct Lead {
  int length;
  unsigned char second_min;
  unsigned char second_max;
};

Lead LeadOf(unsigned char c) {
  if (c < 0x80) return {1, 0, 0};
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};  // ED A0..BF would be a surrogate
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};  // past F4 8F would exceed U+10FFFF
  return {0, 0, 0};                       // 80..C1 and F5..FF never lead
}

bool IsContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  for (size_t i = 0; i < size;) {
    const Lead lead = LeadOf(bytes[i]);
    if (lead.length == 0) return false;
    if (lead.length == 1) {
      ++i;
      continue;
    }
    if (i + static_cast<size_t>(lead.length) > size) return false;
    if (bytes[i + 1] < lead.second_min || bytes[i + 1] > lead.second_max) return false;
    for (int k = 2; k < lead.length; ++k) {
      if (!IsContinuation(bytes[i + k])) return false;
    }
    i += static_cast<size_t>(lead.length);
  }
  return true;
}

bool IsPrintableUtf8(std::string_view text, bool allow_tab) {
  for (unsigned char c : text) {
    if (c == '\t' && allow_tab) continue;
    if (c < 0x20 || c == 0x7F) return false;
  }
  return IsValidUtf8(text);
}

}  // namespace clinicore::core
