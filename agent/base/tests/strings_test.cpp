// sanitizeForLog: what reaches a log line from the network is one line of printable ASCII, bounded.
#include "base/strings.h"

#include <gtest/gtest.h>

namespace nwg {
namespace {

TEST(SanitizeForLogTest, KeepsPrintableAsciiAsIs) {
  EXPECT_EQ(sanitizeForLog("req-1f0e q-plugin.get_hubs [x] {y}"), "req-1f0e q-plugin.get_hubs [x] {y}");
  EXPECT_EQ(sanitizeForLog(""), "");
}

TEST(SanitizeForLogTest, EscapesControlCharactersNewlinesAndNonAscii) {
  EXPECT_EQ(sanitizeForLog("a\nb\r\tc"), "a\\nb\\r\\tc");
  EXPECT_EQ(sanitizeForLog(std::string("nul\0esc\x1b[31m", 12)), "nul\\x00esc\\x1b[31m");
  EXPECT_EQ(sanitizeForLog("back\\slash"), "back\\\\slash");  // an escape cannot be forged
  EXPECT_EQ(sanitizeForLog("h\xC3\xBC\x7f"), "h\\xc3\\xbc\\x7f");
}

TEST(SanitizeForLogTest, CapsTheLengthAndCountsTheRest) {
  const std::string long_text(1000, 'a');
  EXPECT_EQ(sanitizeForLog(long_text, 10), "aaaaaaaaaa...(990 more bytes)");
  EXPECT_EQ(sanitizeForLog(long_text).size(), 200u + std::string("...(800 more bytes)").size());
}

}  // namespace
}  // namespace nwg
