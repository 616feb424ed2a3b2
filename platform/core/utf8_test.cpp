#include "platform/core/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clinicore::core {
namespace {

TEST(Utf8Test, AcceptsAsciiAndWellFormedMultibyteText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Καλημέρα, Ζωή"));     // Greek, two-byte
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));      // U+20AC euro
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600, four-byte
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));      // U+FFFF is a code point, not a surrogate
}

TEST(Utf8Test, RefusesEveryIllFormedSequence) {
  for (const std::string bad : {
           "\xFF", "\xFE", "d\xFFmo",           // bytes that never occur in UTF-8
           "\x80", "a\xBF",                     // a continuation byte without a lead
           "\xC0\xAF", "\xC1\xBF",              // overlong two-byte forms
           "\xE0\x80\xAF",                      // overlong three-byte form
           "\xF0\x80\x80\xAF",                  // overlong four-byte form
           "\xED\xA0\x80", "\xED\xBF\xBF",      // UTF-16 surrogates U+D800 and U+DFFF
           "\xF4\x90\x80\x80",                  // U+110000, past the last code point
           "\xF5\x80\x80\x80",                  // a lead byte past F4
           "\xC3", "\xE2\x82", "\xF0\x9F\x98",  // truncated at the end
           "\xE2\x28\xA1",                      // a broken continuation
       }) {
    EXPECT_FALSE(IsValidUtf8(bad)) << testing::PrintToString(bad);
  }
}

TEST(Utf8Test, PrintableRefusesNulAndControlsButMayAllowTab) {
  EXPECT_TRUE(IsPrintableUtf8("Ζωή /v1/users"));
  EXPECT_FALSE(IsPrintableUtf8(std::string("a\0b", 3)));
  EXPECT_FALSE(IsPrintableUtf8("line\r\nbreak"));
  EXPECT_FALSE(IsPrintableUtf8("del\x7F"));
  EXPECT_FALSE(IsPrintableUtf8("tab\there"));
  EXPECT_TRUE(IsPrintableUtf8("tab\there", /*allow_tab=*/true));
  EXPECT_FALSE(IsPrintableUtf8("\xED\xA0\x80"));
}

}  // namespace
}  // namespace clinicore::core
