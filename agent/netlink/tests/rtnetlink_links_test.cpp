// RtnetlinkLinks on this host (root): the Links contract on veth links in namespaces the test makes.
#include "netlink/rtnetlink_links.h"

#include <algorithm>
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

namespace nwg::testing {
namespace {

bool hasLink(const std::vector<LinkInfo>& links, const std::string& name) {
  return std::any_of(links.begin(), links.end(), [&](const LinkInfo& l) { return l.name == name; });
}

// Each namespace's operations share one socket, opened once, and that socket never serves a namespace
// deleted and re-created under the same name: the old one, kept alive by the socket, still holds the
// link made there, so a stale socket would show it.
TEST(RtnetlinkLinks, OneSocketPerNamespaceNeverAReCreatedNamespacesOld) {
  NWG_REQUIRE_ROOT();
  LinuxNamespaces namespaces;
  LinuxNamespaces other;  // deletes and re-creates behind RtnetlinkLinks' back, as `ip netns` would
  RtnetlinkLinks links(namespaces);
  const std::string ns = "nwg-" + runToken() + "-sock";
  // Removed whatever happens: a failed assertion returns early.
  struct Cleanup {
    LinuxNamespaces& namespaces;
    const std::string& name;
    ~Cleanup() { (void)namespaces.remove(name); }
  } cleanup{namespaces, ns};
  ASSERT_TRUE(namespaces.create(ns).ok());
  ASSERT_TRUE(links.create(ns, "nwgold0", "veth").ok());
  for (int i = 0; i < 3; ++i) {
    auto listed = links.list(ns);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    EXPECT_TRUE(hasLink(*listed, "nwgold0"));
    EXPECT_TRUE(links.get(ns, "nwgold0").ok());
    EXPECT_TRUE(links.setUp(ns, "nwgold0", true).ok());
  }
  EXPECT_EQ(links.sockets().opened(), 1u);

  ASSERT_TRUE(other.remove(ns).ok());
  ASSERT_TRUE(other.create(ns).ok());
  auto listed = links.list(ns);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_FALSE(hasLink(*listed, "nwgold0")) << "listed the deleted namespace";
  auto old = links.get(ns, "nwgold0");
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ENODEV);
  // A write lands in the new namespace: a fresh RtnetlinkLinks (a fresh socket) sees it there.
  ASSERT_TRUE(links.create(ns, "nwgnew0", "veth").ok());
  RtnetlinkLinks fresh(namespaces);
  EXPECT_TRUE(fresh.get(ns, "nwgnew0").ok());
  EXPECT_EQ(links.sockets().opened(), 2u);

  // Removed: the socket is closed at once (it would keep the namespace and its links alive), and
  // the namespace is ENOENT to every operation.
  ASSERT_TRUE(namespaces.remove(ns).ok());
  EXPECT_EQ(links.sockets().size(), 0u);
  auto gone = links.list(ns);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENOENT);
}

}  // namespace
}  // namespace nwg::testing
