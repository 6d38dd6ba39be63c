// RtnetlinkLinks on this host (root): the Links contract on veth links in namespaces the test makes.
#include "netlink/rtnetlink_links.h"

#include "netlink/tests/links_contract.h"
#include "netns/linux_namespaces.h"

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
