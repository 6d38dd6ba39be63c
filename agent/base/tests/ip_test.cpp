#include "base/ip.h"

#include <gtest/gtest.h>

namespace nwg {
namespace {

TEST(IpAddress, ParsesAndFormatsBothFamilies) {
  auto v4 = IpAddress::parse("198.51.100.7");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->isV4());
  EXPECT_EQ(v4->toString(), "198.51.100.7");
  auto v6 = IpAddress::parse("2001:DB8::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->isV6());
  EXPECT_EQ(v6->toString(), "2001:db8::1");
}

TEST(IpAddress, RejectsNamesAndJunk) {
  for (const char* bad : {"", "host.example", "1.2.3", "1.2.3.256", "[::1]", "::1%eth0", " 1.2.3.4",
                          "1.2.3.4 ", "01.2.3.4x"}) {
    EXPECT_FALSE(IpAddress::parse(bad).ok()) << bad;
  }
}

TEST(IpAddress, LinkLocal) {
  EXPECT_TRUE(IpAddress::parse("fe80::1")->isLinkLocal());
  EXPECT_TRUE(IpAddress::parse("169.254.1.1")->isLinkLocal());
  EXPECT_FALSE(IpAddress::parse("fd00::1")->isLinkLocal());
}

TEST(IpPrefix, ParsesMasksAndContains) {
  auto p = IpPrefix::parse("10.7.3.5/24");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->toString(), "10.7.3.5/24");
  EXPECT_EQ(p->masked().toString(), "10.7.3.0/24");
  EXPECT_TRUE(p->contains(*IpAddress::parse("10.7.3.200")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("10.7.4.1")));
  EXPECT_EQ(IpPrefix::parse("fd00:1:2:3::9/61")->masked().toString(), "fd00:1:2::/61");
  EXPECT_EQ(IpPrefix::parse("10.0.0.1/0")->masked().toString(), "0.0.0.0/0");
}

TEST(IpPrefix, HostFormRequiresPermission) {
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1").ok());
  EXPECT_EQ(IpPrefix::parse("10.0.0.1", true)->length(), 32);
  EXPECT_EQ(IpPrefix::parse("fd00::1", true)->length(), 128);
}

TEST(IpPrefix, RejectsBadLengths) {
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08",
                          "10.0.0.0/2x", "/24"}) {
    EXPECT_FALSE(IpPrefix::parse(bad).ok()) << bad;
  }
}

TEST(Endpoint, ParsesV4AndBracketedV6) {
  auto e = Endpoint::parse("203.0.113.5:51820");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port(), 51820);
  EXPECT_EQ(e->toString(), "203.0.113.5:51820");
  auto e6 = Endpoint::parse("[2001:db8::5]:1");
  ASSERT_TRUE(e6.ok());
  EXPECT_EQ(e6->toString(), "[2001:db8::5]:1");
}

TEST(Endpoint, RejectsWithReason) {
  EXPECT_NE(Endpoint::parse("203.0.113.5").error().message.find("no port"), std::string::npos);
  EXPECT_NE(Endpoint::parse("2001:db8::5:51820").error().message.find("brackets"), std::string::npos);
  EXPECT_NE(Endpoint::parse("host.example:1").error().message.find("numeric"), std::string::npos);
  for (const char* bad : {"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:+1", "[1.2.3.4]:5",
                          "[::1]5", "[::1]:"}) {
    EXPECT_FALSE(Endpoint::parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace nwg
