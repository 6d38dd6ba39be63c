#include "daemon/linux_host_facts.h"

#include <gtest/gtest.h>

namespace nwg::daemon {
namespace {

TEST(ParseProcNetUdp, ReadsLocalPorts) {
  const char* text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref "
      "pointer drops\n"
      "  123: 00000000:CA6C 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 "
      "0000000000000000 0\n"
      "  456: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 "
      "0000000000000000 0\n";
  EXPECT_EQ(parseProcNetUdp(text), (std::set<uint16_t>{51820, 53}));
  EXPECT_TRUE(parseProcNetUdp("").empty());
}

TEST(LinuxHostFacts, ListsTheLoopbackAddress) {
  LinuxHostFacts facts;
  auto addresses = facts.localAddresses();
  ASSERT_TRUE(addresses.ok()) << addresses.error().message;
  EXPECT_TRUE(addresses->count(*IpAddress::parse("127.0.0.1"))) << "every namespace has lo up here";
}

TEST(ResolveHostName, NumericAddressesNeedNoLookup) {
  auto a = resolveHostName("198.51.100.7");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->toString(), "198.51.100.7");
}

}  // namespace
}  // namespace nwg::daemon
