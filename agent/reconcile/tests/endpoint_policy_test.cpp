#include "reconcile/endpoint_policy.h"

#include <gtest/gtest.h>

namespace nwg::reconcile {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

TEST(EndpointPolicy, RefusesTheNodeAndReservedRanges) {
  const EndpointPolicy policy({*IpPrefix::parse("10.99.0.0/16"), *IpPrefix::parse("fd99::/16")});
  const std::set<IpAddress> node = {ip("192.0.2.10"), ip("2001:db8::10")};
  const std::vector<std::pair<const char*, const char*>> refused = {
      {"0.0.0.0", "unspecified"},
      {"0.1.2.3", "unspecified"},
      {"127.0.0.1", "loopback"},
      {"127.255.0.9", "loopback"},
      {"169.254.169.254", "link-local"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"255.255.255.255", "broadcast"},
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"fe80::1", "link-local"},
      {"ff02::1", "multicast"},
      {"::ffff:127.0.0.1", "loopback"},  // IPv4-mapped forms count as what they map
      {"::ffff:169.254.169.254", "link-local"},
      {"192.0.2.10", "address of this network node"},
      {"2001:db8::10", "address of this network node"},
      {"::ffff:192.0.2.10", "address of this network node"},
      {"10.99.200.1", "denied_endpoint_cidrs (10.99.0.0/16)"},
      {"fd99::5", "denied_endpoint_cidrs (fd99::/16)"},
  };
  for (const auto& [address, why] : refused) {
    auto refusal = policy.refusal(ip(address), node);
    ASSERT_TRUE(refusal.has_value()) << address;
    EXPECT_NE(refusal->find(why), std::string::npos) << address << ": " << *refusal;
    EXPECT_EQ(refusal->rfind(address, 0), 0u) << "names the address first: " << *refusal;
  }
  for (const char* fine : {"198.51.100.7", "203.0.113.200", "10.98.0.1", "2001:db8::11", "fd00::1",
                           "::ffff:198.51.100.7", "100.64.0.1"}) {
    EXPECT_FALSE(policy.refusal(ip(fine), node).has_value())
        << fine << ": " << *policy.refusal(ip(fine), node);
  }
}

TEST(EndpointPolicy, UnmapsOnlyIpv4MappedAddresses) {
  EXPECT_EQ(unmapped(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
  EXPECT_EQ(unmapped(ip("::198.51.100.7")), ip("::198.51.100.7"));  // IPv4-compatible: not mapped
  EXPECT_EQ(unmapped(ip("2001:db8::1")), ip("2001:db8::1"));
  EXPECT_EQ(unmapped(ip("198.51.100.7")), ip("198.51.100.7"));
}

}  // namespace
}  // namespace nwg::reconcile
