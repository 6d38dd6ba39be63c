// Runs the Links contract against FakeLinks, plus the fake's own test hooks.
#include "netlink/fake_links.h"

#include <cerrno>

#include "netlink/tests/links_contract.h"
#include "netns/fake_namespaces.h"

namespace nwg::testing {

INSTANTIATE_TEST_SUITE_P(Fake, LinksContract,
                         ::testing::Values(LinksTarget{"fake",
                                                       [] {
                                                         LinksHarness h;
                                                         h.namespaces = std::make_unique<FakeNamespaces>();
                                                         h.links =
                                                             std::make_unique<FakeLinks>(h.namespaces.get());
                                                         return h;
                                                       },
                                                       "wireguard", false}),
                         linksTargetName);

TEST(FakeLinks, EqualReplaceIsNotAMutation) {
  FakeLinks links;
  ASSERT_TRUE(links.create("", "wg-a", "wireguard").ok());
  const auto want = std::vector<IpPrefix>{*IpPrefix::parse("10.0.0.1/24")};
  ASSERT_TRUE(links.replaceAddresses("", "wg-a", want).ok());
  const int before = links.mutations();
  ASSERT_TRUE(links.replaceAddresses("", "wg-a", want).ok());
  ASSERT_TRUE(links.setUp("", "wg-a", false).ok());
  ASSERT_TRUE(links.setAlias("", "wg-a", "").ok());
  EXPECT_EQ(links.mutations(), before);
  ASSERT_TRUE(links.setAlias("", "wg-a", "networking-wireguard:h").ok());
  EXPECT_EQ(links.mutations(), before + 1);
  ASSERT_TRUE(links.setAlias("", "wg-a", "networking-wireguard:h").ok());
  EXPECT_EQ(links.mutations(), before + 1);
}

TEST(FakeLinks, InjectedFailureAndExistingLinks) {
  FakeLinks links;
  links.addExisting("ns1", LinkInfo{"wg-go", 0, "tun", true, 1420});
  EXPECT_EQ(links.get("ns1", "wg-go")->kind, "tun");
  links.failNext("moveTo", Error("nope", EPERM));
  EXPECT_EQ(links.moveTo("ns1", "wg-go", "ns2").error().code, EPERM);
  EXPECT_TRUE(links.moveTo("ns1", "wg-go", "ns2").ok());
  EXPECT_FALSE(links.get("ns2", "wg-go")->up);
}

}  // namespace nwg::testing
