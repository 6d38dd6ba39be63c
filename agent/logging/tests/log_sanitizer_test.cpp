#include "logging/log_sanitizer.h"

#include <gtest/gtest.h>

namespace nwg::logging {
namespace {

TEST(SanitizeForLog, PrintableTextIsUnchanged) {
  EXPECT_EQ(sanitizeForLog("hub c0ffee00: 3 peers [ok] \"quoted\""), "hub c0ffee00: 3 peers [ok] \"quoted\"");
  EXPECT_EQ(sanitizeForLog("naïve – ✓ 𝄞"), "naïve – ✓ 𝄞");  // valid UTF-8 stays
}

TEST(SanitizeForLog, ANewlineCannotForgeASecondLogLine) {
  const std::string forged = "req-1\n2026-12-02 10:00:00.000 1 CRITICAL networking_wireguard [-] fake";
  const std::string clean = sanitizeForLog(forged);
  EXPECT_EQ(clean.find('\n'), std::string::npos);
  EXPECT_EQ(clean.rfind("req-1\\x0a2026-12-02", 0), 0u) << clean;
}

TEST(SanitizeForLog, ControlBytesAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(sanitizeForLog(std::string("a\r\x1b[31mb\x00"
                                       "c\x7f",
                                       11)),
            "a\\x0d\\x1b[31mb\\x00c\\x7f");
  EXPECT_EQ(sanitizeForLog("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(sanitizeForLog("\xc0\xaf"), "\\xc0\\xaf");           // an overlong '/'
  EXPECT_EQ(sanitizeForLog("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(sanitizeForLog("\xe2\x9c"), "\\xe2\\x9c");           // cut short
  EXPECT_EQ(sanitizeForLog("tab\there"), "tab here");
}

TEST(SanitizeForLog, LongTextIsCutWithANote) {
  const std::string huge(100000, 'x');
  const std::string clean = sanitizeForLog(huge, 1000);
  EXPECT_EQ(clean, std::string(1000, 'x') + "... (99000 more bytes)");
}

}  // namespace
}  // namespace nwg::logging
