// RtnetlinkLinks on this host (root): the Links contract on veth links in namespaces the test makes.
#include "netlink/rtnetlink_links.h"

#include <cerrno>

#include "netlink/tests/links_contract.h"
#include "netns/linux_namespaces.h"
#include "testing/testing.h"

namespace nwg::testing {

LinksHarness realHarness() {
  auto namespaces = std::make_unique<LinuxNamespaces>();
  auto links = std::make_unique<RtnetlinkLinks>(*namespaces);
  LinksHarness h;
  h.namespaces = std::move(namespaces);
  h.links = std::move(links);
  return h;
}

INSTANTIATE_TEST_SUITE_P(Rtnetlink, LinksContract,
                         ::testing::Values(LinksTarget{"veth", realHarness, "veth", true}), linksTargetName);

}  // namespace nwg::testing

namespace nwg::testing {
namespace {

// What only the real kernel says: its extended-ack text reaches our error message, which names the
// link and namespace.
TEST(RtnetlinkLinks, ErrorsCarryTheKernelsExtendedAck) {
  NWG_REQUIRE_ROOT();
  LinuxNamespaces namespaces;
  RtnetlinkLinks links(namespaces);
  const std::string ns = "nwg-" + runToken() + "-ext";
  ASSERT_TRUE(namespaces.create(ns).ok());
  Status s = links.create(ns, "nwgx0", "nwg-no-such-kind");
  EXPECT_TRUE(namespaces.remove(ns).ok());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EOPNOTSUPP);
  EXPECT_NE(s.error().message.find("Unknown device type"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("nwgx0"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(ns), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace nwg::testing
