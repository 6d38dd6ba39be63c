// sanitizeForLog: what reaches a log line from the network is one line of printable ASCII, bounded.
// str() and join(): what a stream would write.
#include "base/strings.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>

#include "base/ip.h"

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

template <typename... Parts>
std::string streamed(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// str() appends text and integers itself (no stream per part): it must write what a stream writes.
TEST(StrTest, WritesWhatAStreamWrites) {
  const std::string text = "text";
  const std::string_view view = "view";
  const char array[] = "array";
  const uint8_t byte = 65;            // a stream writes it as a character
  const int8_t signed_byte = 66;      // likewise
  const bool yes = true, no = false;  // 1 and 0
  EXPECT_EQ(str(text, view, array, "literal", 'c', byte, signed_byte, yes, no),
            streamed(text, view, array, "literal", 'c', byte, signed_byte, yes, no));
  EXPECT_EQ(str(0, -1, INT32_MIN, INT64_MIN, UINT64_MAX, uint16_t{65535}, size_t{42}, 1.5, 0.1),
            streamed(0, -1, INT32_MIN, INT64_MIN, UINT64_MAX, uint16_t{65535}, size_t{42}, 1.5, 0.1));
  const IpPrefix prefix = *IpPrefix::parse("10.0.0.0/24");
  EXPECT_EQ(str("prefix ", prefix, " port ", 51820), "prefix 10.0.0.0/24 port 51820");
  EXPECT_EQ(str(), "");
}

TEST(StrTest, JoinSeparatesItemsOfAnyStreamableType) {
  EXPECT_EQ(join(std::vector<int>{1, -2, 3}, ", "), "1, -2, 3");
  EXPECT_EQ(join(std::vector<std::string>{"a"}, ","), "a");
  EXPECT_EQ(join(std::vector<std::string>{}, ","), "");
  EXPECT_EQ(join(std::vector<IpPrefix>{*IpPrefix::parse("10.0.0.1/32"), *IpPrefix::parse("fd00::/64")}, ","),
            "10.0.0.1/32,fd00::/64");
}

}  // namespace
}  // namespace nwg
