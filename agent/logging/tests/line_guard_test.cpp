#include "logging/line_guard.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace nwg::logging {
namespace {

TEST(GuardLogLine, PrintableTextIsUnchanged) {
  EXPECT_EQ(guardLogLine("hub c0ffee00: 3 peers [ok] \"quoted\""), "hub c0ffee00: 3 peers [ok] \"quoted\"");
  EXPECT_EQ(guardLogLine("naïve – ✓ 𝄞"), "naïve – ✓ 𝄞");  // valid UTF-8 stays
}

TEST(GuardLogLine, ANewlineCannotForgeASecondLogLine) {
  const std::string forged = "req-1\n2026-12-02 10:00:00.000 1 CRITICAL networking_wireguard [-] fake";
  const std::string clean = guardLogLine(forged);
  EXPECT_EQ(clean.find('\n'), std::string::npos);
  EXPECT_EQ(clean.rfind("req-1\\x0a2026-12-02", 0), 0u) << clean;
}

TEST(GuardLogLine, ControlBytesAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(guardLogLine(std::string("a\r\x1b[31mb\x00"
                                     "c\x7f",
                                     11)),
            "a\\x0d\\x1b[31mb\\x00c\\x7f");
  EXPECT_EQ(guardLogLine("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(guardLogLine("\xc0\xaf"), "\\xc0\\xaf");           // an overlong '/'
  EXPECT_EQ(guardLogLine("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(guardLogLine("\xe2\x9c"), "\\xe2\\x9c");           // cut short
  EXPECT_EQ(guardLogLine("tab\there"), "tab here");
}

TEST(GuardLogLine, TextEscapedByItsCallerIsUnchanged) {
  const std::string escaped = sanitizeForLog("req-1\n\x01\\");
  EXPECT_EQ(guardLogLine(escaped), escaped);
}

TEST(GuardLogLine, LongTextIsCutWithANote) {
  const std::string huge(100000, 'x');
  const std::string clean = guardLogLine(huge, 1000);
  EXPECT_EQ(clean, std::string(1000, 'x') + "... (99000 more bytes)");
}

}  // namespace
}  // namespace nwg::logging
