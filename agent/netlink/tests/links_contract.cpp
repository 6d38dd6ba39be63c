// The Links contract (see links_contract.h).
#include "netlink/tests/links_contract.h"

#include <algorithm>
#include <cerrno>

#include "testing/testing.h"

namespace nwg::testing {

void LinksContract::SetUp() {
  if (GetParam().needs_root) NWG_REQUIRE_ROOT();
  h_ = GetParam().make();
  links_ = h_.links.get();
  kind_ = GetParam().kind;
}

void LinksContract::TearDown() {
  if (!h_.namespaces) return;
  for (const auto& name : namespaces_) {
    if (auto links = links_->list(name); links.ok()) {
      for (const auto& link : *links) (void)links_->remove(name, link.name);
    }
    Status s = h_.namespaces->remove(name);
    EXPECT_TRUE(s.ok()) << "cleanup of namespace " << name;
  }
}

std::string LinksContract::makeNamespace(const std::string& suffix) {
  std::string name = "nwg-" + runToken() + "-l" + suffix;
  namespaces_.push_back(name);
  Status s = h_.namespaces->create(name);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return name;
}

namespace {

IpPrefix prefix(const char* text) {
  return *IpPrefix::parse(text);
}

std::vector<IpPrefix> sorted(std::vector<IpPrefix> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<Route> sorted_routes(std::vector<Route> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string msg(const Status& s) {
  return s.ok() ? "" : s.error().message;
}

}  // namespace

TEST_P(LinksContract, CreateGetListRemove) {
  const std::string ns = makeNamespace("a");
  Status created = links_->create(ns, "nwgl0", kind_);
  ASSERT_TRUE(created.ok()) << msg(created);
  auto link = links_->get(ns, "nwgl0");
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link->name, "nwgl0");
  EXPECT_EQ(link->kind, kind_);
  EXPECT_GT(link->index, 0);
  EXPECT_FALSE(link->up);
  EXPECT_GT(link->mtu, 0u);
  auto all = links_->list(ns);
  ASSERT_TRUE(all.ok());
  EXPECT_NE(std::find(all->begin(), all->end(), *link), all->end());

  auto again = links_->create(ns, "nwgl0", kind_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EEXIST);

  ASSERT_TRUE(links_->remove(ns, "nwgl0").ok());
  auto gone = links_->get(ns, "nwgl0");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENODEV);
  EXPECT_NE(gone.error().message.find("nwgl0"), std::string::npos) << gone.error().message;
  EXPECT_TRUE(links_->remove(ns, "nwgl0").ok());  // absent is success
}

TEST_P(LinksContract, BadRequestsFailWithTheRightErrno) {
  const std::string ns = makeNamespace("b");
  auto missing = links_->get(ns, "nwgnone");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENODEV);
  for (const std::string bad : {"", "0123456789abcdef", "a/b"}) {
    auto got = links_->create(ns, bad, kind_);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.error().code, EINVAL) << bad;
  }
  auto kind = links_->create(ns, "nwgk", "nwg-no-such-kind");
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.error().code, EOPNOTSUPP) << kind.error().message;
  EXPECT_FALSE(links_->get(ns, "nwgk").ok());
}

TEST_P(LinksContract, OperationsInAMissingNamespaceAreENOENT) {
  const std::string ns = "nwg-" + runToken() + "-lnone";
  auto list = links_->list(ns);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ENOENT);
  auto created = links_->create(ns, "nwgl0", kind_);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ENOENT);
  EXPECT_NE(created.error().message.find(ns), std::string::npos) << created.error().message;
}

TEST_P(LinksContract, SetUpDownAndMtu) {
  const std::string ns = makeNamespace("u");
  ASSERT_TRUE(links_->create(ns, "nwgl0", kind_).ok());
  ASSERT_TRUE(links_->setUp(ns, "nwgl0", true).ok());
  EXPECT_TRUE(links_->get(ns, "nwgl0")->up);
  Status mtu = links_->setMtu(ns, "nwgl0", 1380);
  ASSERT_TRUE(mtu.ok()) << msg(mtu);
  EXPECT_EQ(links_->get(ns, "nwgl0")->mtu, 1380u);
  // No MTU is too small for every kind (WireGuard has no minimum), but none may exceed INT_MAX.
  auto huge = links_->setMtu(ns, "nwgl0", 0xffffffffu);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, EINVAL);
  ASSERT_TRUE(links_->setUp(ns, "nwgl0", false).ok());
  EXPECT_FALSE(links_->get(ns, "nwgl0")->up);
  auto missing = links_->setUp(ns, "nwgnone", true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENODEV);
}

TEST_P(LinksContract, ReplaceAddressesMakesThemExactlyTheWantedSet) {
  const std::string ns = makeNamespace("r");
  ASSERT_TRUE(links_->create(ns, "nwgl0", kind_).ok());
  EXPECT_TRUE(links_->addresses(ns, "nwgl0")->empty());

  const std::vector<IpPrefix> first = {prefix("198.51.100.1/24"), prefix("10.20.0.1/16"),
                                       prefix("fd00:20::1/64"), prefix("2001:db8::5/128")};
  Status s = links_->replaceAddresses(ns, "nwgl0", first);
  ASSERT_TRUE(s.ok()) << msg(s);
  auto got = links_->addresses(ns, "nwgl0");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(sorted(*got), sorted(first));

  // Equal: nothing to do, and the same set afterwards.
  ASSERT_TRUE(links_->replaceAddresses(ns, "nwgl0", {first[3], first[2], first[1], first[0]}).ok());
  EXPECT_EQ(sorted(*links_->addresses(ns, "nwgl0")), sorted(first));

  // Keep some, drop others, add a new one; link-local wanted addresses are ignored.
  const std::vector<IpPrefix> second = {prefix("10.20.0.1/16"), prefix("203.0.113.9/32"),
                                        prefix("fd00:20::1/64")};
  std::vector<IpPrefix> asked = second;
  asked.push_back(prefix("fe80::99/64"));
  ASSERT_TRUE(links_->replaceAddresses(ns, "nwgl0", asked).ok());
  EXPECT_EQ(sorted(*links_->addresses(ns, "nwgl0")), sorted(second));

  ASSERT_TRUE(links_->replaceAddresses(ns, "nwgl0", {}).ok());
  EXPECT_TRUE(links_->addresses(ns, "nwgl0")->empty());
}

TEST_P(LinksContract, ReplaceKeepsASecondaryWhoseSubnetPrimaryGoes) {
  const std::string ns = makeNamespace("s");
  ASSERT_TRUE(links_->create(ns, "nwgl0", kind_).ok());
  ASSERT_TRUE(links_->replaceAddresses(ns, "nwgl0", {prefix("10.30.0.1/24"), prefix("10.30.0.2/24")}).ok());
  ASSERT_TRUE(links_->replaceAddresses(ns, "nwgl0", {prefix("10.30.0.2/24")}).ok());
  EXPECT_EQ(*links_->addresses(ns, "nwgl0"), std::vector<IpPrefix>{prefix("10.30.0.2/24")});
}

TEST_P(LinksContract, MoveSetsDownDropsAddressesAndKeepsMtu) {
  const std::string a = makeNamespace("ma");
  const std::string b = makeNamespace("mb");
  ASSERT_TRUE(links_->create(a, "nwgl0", kind_).ok());
  ASSERT_TRUE(links_->setMtu(a, "nwgl0", 1380).ok());
  ASSERT_TRUE(links_->replaceAddresses(a, "nwgl0", {prefix("10.40.0.1/24"), prefix("fd00:40::1/64")}).ok());
  ASSERT_TRUE(links_->setUp(a, "nwgl0", true).ok());

  Status moved = links_->moveTo(a, "nwgl0", b);
  ASSERT_TRUE(moved.ok()) << msg(moved);
  EXPECT_EQ(links_->get(a, "nwgl0").error().code, ENODEV);
  auto there = links_->get(b, "nwgl0");
  ASSERT_TRUE(there.ok()) << there.error().message;
  EXPECT_FALSE(there->up);
  EXPECT_EQ(there->mtu, 1380u);
  EXPECT_EQ(there->kind, kind_);
  EXPECT_TRUE(links_->addresses(b, "nwgl0")->empty());

  // Re-applied after the move, as the agent does.
  ASSERT_TRUE(links_->replaceAddresses(b, "nwgl0", {prefix("10.40.0.1/24")}).ok());
  ASSERT_TRUE(links_->setUp(b, "nwgl0", true).ok());
  EXPECT_EQ(*links_->addresses(b, "nwgl0"), std::vector<IpPrefix>{prefix("10.40.0.1/24")});

  auto nowhere = links_->moveTo(b, "nwgl0", "nwg-" + runToken() + "-lnone");
  ASSERT_FALSE(nowhere.ok());
  EXPECT_EQ(nowhere.error().code, ENOENT);

  ASSERT_TRUE(links_->create(a, "nwgl0", kind_).ok());
  auto clash = links_->moveTo(a, "nwgl0", b);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, EEXIST);
  EXPECT_TRUE(links_->get(a, "nwgl0").ok());
}

// The agent marks its devices with an alias (IFLA_IFALIAS). The kernel keeps a link's alias when the
// link moves to another namespace, unlike its up flag and addresses (measured on Linux 6.18 with veth,
// tun and wireguard-go links), so the mark is set once, wherever the device is.
TEST_P(LinksContract, AliasIsListedSurvivesAMoveAndCanBeCleared) {
  const std::string a = makeNamespace("aa");
  const std::string b = makeNamespace("ab");
  ASSERT_TRUE(links_->create(a, "nwgl0", kind_).ok());
  EXPECT_EQ(links_->get(a, "nwgl0")->alias, "");

  const std::string mark = "networking-wireguard:node-1.example.org";
  Status set = links_->setAlias(a, "nwgl0", mark);
  ASSERT_TRUE(set.ok()) << msg(set);
  EXPECT_EQ(links_->get(a, "nwgl0")->alias, mark);
  auto listed = links_->list(a);  // the dump quick passes read
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  auto it = std::find_if(listed->begin(), listed->end(), [](const LinkInfo& l) { return l.name == "nwgl0"; });
  ASSERT_NE(it, listed->end());
  EXPECT_EQ(it->alias, mark);

  Status moved = links_->moveTo(a, "nwgl0", b);
  ASSERT_TRUE(moved.ok()) << msg(moved);
  auto there = links_->get(b, "nwgl0");
  ASSERT_TRUE(there.ok()) << there.error().message;
  EXPECT_EQ(there->alias, mark) << "the kernel keeps the alias across a namespace move";
  listed = links_->list(b);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  it = std::find_if(listed->begin(), listed->end(), [](const LinkInfo& l) { return l.name == "nwgl0"; });
  ASSERT_NE(it, listed->end());
  EXPECT_EQ(it->alias, mark);

  ASSERT_TRUE(links_->setAlias(b, "nwgl0", "networking-wireguard:other").ok());
  EXPECT_EQ(links_->get(b, "nwgl0")->alias, "networking-wireguard:other");
  const std::string longest(255, 'x');
  ASSERT_TRUE(links_->setAlias(b, "nwgl0", longest).ok());
  EXPECT_EQ(links_->get(b, "nwgl0")->alias, longest);
  auto too_long = links_->setAlias(b, "nwgl0", longest + "x");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, EINVAL);
  EXPECT_NE(too_long.error().message.find("nwgl0"), std::string::npos) << too_long.error().message;
  EXPECT_EQ(links_->get(b, "nwgl0")->alias, longest);

  // An empty alias clears it (the kernel then reports none).
  Status cleared = links_->setAlias(b, "nwgl0", "");
  ASSERT_TRUE(cleared.ok()) << msg(cleared);
  EXPECT_EQ(links_->get(b, "nwgl0")->alias, "");

  auto missing = links_->setAlias(b, "nwgnone", mark);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENODEV);
}

// A veth pair: both ends made in one namespace, one end moved elsewhere (as an OVN plug's namespace
// end); removing either end removes both.
TEST_P(LinksContract, VethPairEndsMoveApartAndGoTogether) {
  const std::string a = makeNamespace("va");
  const std::string b = makeNamespace("vb");
  Status created = links_->createVethPair(a, "nwgo0", "nwgp0");
  ASSERT_TRUE(created.ok()) << msg(created);
  auto root = links_->get(a, "nwgo0");
  auto peer = links_->get(a, "nwgp0");
  ASSERT_TRUE(root.ok() && peer.ok());
  EXPECT_EQ(root->kind, "veth");
  EXPECT_EQ(peer->kind, "veth");
  EXPECT_EQ(root->mac.size(), 17u) << root->mac;
  auto again = links_->createVethPair(a, "nwgo0", "nwgp1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EEXIST);

  ASSERT_TRUE(links_->moveTo(a, "nwgp0", b).ok());
  EXPECT_TRUE(links_->get(b, "nwgp0").ok());
  ASSERT_TRUE(links_->remove(a, "nwgo0").ok());
  auto gone = links_->get(b, "nwgp0");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENODEV);
}

TEST_P(LinksContract, MacAddressIsSetListedAndKeptAcrossAMove) {
  const std::string a = makeNamespace("ma");
  const std::string b = makeNamespace("mb");
  ASSERT_TRUE(links_->createVethPair(a, "nwgo1", "nwgp1").ok());
  Status set = links_->setMacAddress(a, "nwgp1", "FA:16:3E:01:02:03");
  ASSERT_TRUE(set.ok()) << msg(set);
  EXPECT_EQ(links_->get(a, "nwgp1")->mac, "fa:16:3e:01:02:03");
  ASSERT_TRUE(links_->moveTo(a, "nwgp1", b).ok());
  auto moved = links_->list(b);
  ASSERT_TRUE(moved.ok());
  auto it = std::find_if(moved->begin(), moved->end(), [](const LinkInfo& l) { return l.name == "nwgp1"; });
  ASSERT_NE(it, moved->end());
  EXPECT_EQ(it->mac, "fa:16:3e:01:02:03");
  auto bad = links_->setMacAddress(b, "nwgp1", "fa:16:3e:01:02");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, EINVAL);
  auto multicast = links_->setMacAddress(b, "nwgp1", "01:00:5e:00:00:01");
  ASSERT_FALSE(multicast.ok());
  EXPECT_EQ(multicast.error().code, EADDRNOTAVAIL);
}

// An OVN plug's namespace end: host addresses, a route to the router and a default route via it,
// for IPv4 and IPv6.
TEST_P(LinksContract, RoutesThroughALinkWithAndWithoutGateway) {
  const std::string a = makeNamespace("ra");
  ASSERT_TRUE(links_->createVethPair(a, "nwgo2", "nwgp2").ok());
  const Route to_router4{prefix("10.77.0.1/32"), std::nullopt};
  const Route default4{prefix("0.0.0.0/0"), *IpAddress::parse("10.77.0.1")};
  const Route to_router6{prefix("fd77::1/128"), std::nullopt};
  const Route default6{prefix("::/0"), *IpAddress::parse("fd77::1")};

  auto down = links_->replaceRoute(a, "nwgp2", to_router4);
  ASSERT_FALSE(down.ok()) << "a route through a link that is down";
  EXPECT_EQ(down.error().code, ENETDOWN);
  ASSERT_TRUE(links_->setUp(a, "nwgp2", true).ok());
  ASSERT_TRUE(links_->replaceAddresses(a, "nwgp2", {prefix("10.77.0.3/32"), prefix("fd77::3/128")}).ok());
  auto unreachable = links_->replaceRoute(a, "nwgp2", default4);
  ASSERT_FALSE(unreachable.ok()) << "a gateway the link does not reach";
  EXPECT_EQ(unreachable.error().code, ENETUNREACH);

  for (const Route& r : {to_router4, default4, to_router6, default6}) {
    Status s = links_->replaceRoute(a, "nwgp2", r);
    ASSERT_TRUE(s.ok()) << describeRoute(r) << ": " << msg(s);
  }
  ASSERT_TRUE(links_->replaceRoute(a, "nwgp2", default4).ok());  // again: nothing changes
  auto listed = links_->routes(a, "nwgp2");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(*listed, sorted_routes({to_router4, default4, to_router6, default6}));
  auto other = links_->routes(a, "nwgo2");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty()) << "routes are per link";

  ASSERT_TRUE(links_->deleteRoute(a, "nwgp2", default6).ok());
  ASSERT_TRUE(links_->deleteRoute(a, "nwgp2", default6).ok());  // absent: success
  EXPECT_EQ(*links_->routes(a, "nwgp2"), sorted_routes({to_router4, default4, to_router6}));

  ASSERT_TRUE(links_->setUp(a, "nwgp2", false).ok());
  auto after_down = links_->routes(a, "nwgp2");
  ASSERT_TRUE(after_down.ok());
  EXPECT_TRUE(after_down->empty()) << "a link set down loses its routes";
}

// An OVN plug's IPv6 address must work at once: added with no_dad it is never tentative, on a link
// that is down (DAD waits for the link) or up with a carrier (DAD would take a second); without it,
// it is (deterministically so on a link that is down). IPv4 has no DAD.
TEST_P(LinksContract, AddressesAddedWithoutDadAreNeverTentative) {
  const std::string a = makeNamespace("da");
  ASSERT_TRUE(links_->createVethPair(a, "nwgo3", "nwgp3").ok());
  Status nodad = links_->replaceAddresses(a, "nwgp3", {prefix("10.79.0.3/32"), prefix("fd79::3/128")},
                                          AddressOptions{.no_dad = true});
  ASSERT_TRUE(nodad.ok()) << msg(nodad);
  ASSERT_TRUE(links_->replaceAddresses(a, "nwgo3", {prefix("10.79.0.4/32"), prefix("fd79::4/128")}).ok());
  EXPECT_EQ(sorted(*links_->addresses(a, "nwgp3")), sorted({prefix("10.79.0.3/32"), prefix("fd79::3/128")}));
  auto tentative = links_->tentativeAddresses(a, "nwgp3");
  ASSERT_TRUE(tentative.ok()) << tentative.error().message;
  EXPECT_TRUE(tentative->empty()) << "no_dad on a link that is down";
  EXPECT_EQ(*links_->tentativeAddresses(a, "nwgo3"), std::vector<IpPrefix>{prefix("fd79::4/128")})
      << "without no_dad an IPv6 address waits for DAD (and IPv4 ones never do)";

  ASSERT_TRUE(links_->setUp(a, "nwgo3", true).ok());
  ASSERT_TRUE(links_->setUp(a, "nwgp3", true).ok());
  ASSERT_TRUE(links_
                  ->replaceAddresses(a, "nwgp3", {prefix("fd79::3/128"), prefix("fd79::5/128")},
                                     AddressOptions{.no_dad = true})
                  .ok());
  EXPECT_EQ(*links_->addresses(a, "nwgp3"), sorted({prefix("fd79::3/128"), prefix("fd79::5/128")}));
  EXPECT_TRUE(links_->tentativeAddresses(a, "nwgp3")->empty())
      << "no_dad on a link that is up: usable at once";
  auto missing = links_->tentativeAddresses(a, "nwgnone");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENODEV);
}

}  // namespace nwg::testing
