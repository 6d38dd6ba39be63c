#include "reconcile/planner.h"

#include <gtest/gtest.h>

#include "config/agent_config.h"
#include "netlink/rtnetlink_codec.h"
#include "reconcile/names.h"
#include "reconcile/tests/plan_helpers.h"

namespace nwg::reconcile {
namespace {

using plan_test::all;
using plan_test::lines;

const std::string kHub = "c0ffee00-1111-2222-3333-444455556666";
const std::string kDev = "wg-c0ffee00-11";
const std::string kNs = "tun-p1";
const std::string kHost = "node-1";
const std::string kMark = "networking-wireguard:node-1";

class PlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    identity_ = {generatePrivateKey(), 51820};
    options_.host = kHost;
    hub_.port_id = kHub;
    hub_.project_id = "p1";
    hub_.network_mtu = 1450;
    hub_.addresses = {*IpPrefix::parse("10.10.0.1/24")};
    hub_.spokes = {spoke("aaaa", "10.10.0.5"), spoke("bbbb", "10.10.0.6")};
  }

  static SpokeSpec spoke(const std::string& id, const std::string& ip) {
    SpokeSpec s;
    s.port_id = id;
    s.public_key = publicKeyOf(generatePrivateKey());
    s.allowed_ips = {IpPrefix::host(*IpAddress::parse(ip))};
    return s;
  }

  // A host where the hub is exactly as wanted: what an agent restart finds.
  HostObservation converged() const {
    HostObservation host;
    DeviceObservation d;
    d.netns = kNs;
    d.detailed = true;
    d.link = LinkInfo{kDev, 7, "tun", true, 1440, kMark};
    d.addresses = hub_.addresses;
    wg::Device cfg;
    cfg.private_key = identity_.private_key;
    cfg.public_key = publicKeyOf(identity_.private_key);
    cfg.listen_port = identity_.listen_port;
    cfg.fwmark = 0;
    for (const auto& s : hub_.spokes) {
      wg::Peer p;
      p.public_key = s.public_key;
      p.preshared_key = Key();
      p.persistent_keepalive = 0;
      p.allowed_ips = s.allowed_ips;
      cfg.peers.push_back(p);
    }
    d.config = cfg;
    host.devices.push_back(d);
    host.namespaces[kNs] = NamespaceObservation{{kDev}, true};
    return host;
  }

  static std::vector<std::string> kinds(const std::vector<Action>& actions) {
    static const char* names[] = {"CreateNamespace", "EnableForwarding", "CreateDevice",  "SetAlias",
                                  "DestroyDevice",   "ConfigureDevice",  "MoveDevice",    "SetMtu",
                                  "SetAddresses",    "SetLinkUp",        "GreetPeers",    "RemoveNamespace",
                                  "CreateVethPair",  "DestroyLink",      "SetMacAddress", "SetRoutes",
                                  "AddOvsPort",      "DeleteOvsPort"};
    static_assert(std::size(names) == std::variant_size_v<Action>);
    std::vector<std::string> out;
    for (const auto& a : actions) out.push_back(names[a.index()]);
    return out;
  }

  HubSpec hub_;
  HubIdentity identity_;
  PlannerOptions options_;
};

TEST_F(PlannerTest, EmptyHostBuildsEverythingInOrder) {
  HubPlan plan = planHub(hub_, identity_, HostObservation{}, options_, nullptr);
  EXPECT_EQ(
      kinds(plan.actions),
      (std::vector<std::string>{"CreateDevice", "SetAlias", "ConfigureDevice", "CreateNamespace",
                                "EnableForwarding", "MoveDevice", "SetMtu", "SetAddresses", "SetLinkUp"}));
  // Marked as this agent's at once, where it was created; the kernel keeps the alias across the move.
  auto alias = all<SetAlias>(plan);
  ASSERT_EQ(alias.size(), 1u);
  EXPECT_EQ(alias[0]->device, (wg::DeviceRef{"", kDev}));
  EXPECT_EQ(alias[0]->alias, kMark);
  auto configure = all<ConfigureDevice>(plan);
  ASSERT_EQ(configure.size(), 1u);
  EXPECT_EQ(configure[0]->device, (wg::DeviceRef{"", kDev}));  // configured where it was created
  EXPECT_EQ(configure[0]->update.private_key, identity_.private_key);
  EXPECT_EQ(configure[0]->update.listen_port, 51820);
  EXPECT_EQ(configure[0]->update.peers.size(), 2u);
  EXPECT_EQ(all<MoveDevice>(plan)[0]->to, kNs);
  EXPECT_EQ(all<SetMtu>(plan)[0]->mtu, 1440u);  // min(1450, 1500 - 60)
  EXPECT_EQ(plan.final_location, (wg::DeviceRef{kNs, kDev}));
}

TEST_F(PlannerTest, RestartWithUnchangedStatePlansNothing) {
  HubPlan plan = planHub(hub_, identity_, converged(), options_, nullptr);
  EXPECT_TRUE(plan.actions.empty()) << describe(plan.actions.front());
}

TEST_F(PlannerTest, DeviceWithoutTheOwnershipMarkGetsItInOneAction) {
  // A device made by an agent version that set no alias: marked once, nothing else touched.
  HostObservation host = converged();
  host.devices[0].link.alias = "";
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_EQ(kinds(plan.actions), std::vector<std::string>{"SetAlias"});
  EXPECT_EQ(std::get<SetAlias>(plan.actions[0]).device, (wg::DeviceRef{kNs, kDev}));
  EXPECT_EQ(std::get<SetAlias>(plan.actions[0]).alias, kMark);
  // Once the mark is there, nothing.
  host.devices[0].link.alias = kMark;
  EXPECT_TRUE(planHub(hub_, identity_, host, options_, nullptr).actions.empty());
}

TEST_F(PlannerTest, WrongAliasIsCorrectedInOneAction) {
  for (const std::string wrong :
       {"uplink to the lab", "networking-wireguard:old-name", "networking-wireguard:"}) {
    HostObservation host = converged();
    host.devices[0].link.alias = wrong;
    HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
    ASSERT_EQ(kinds(plan.actions), std::vector<std::string>{"SetAlias"}) << wrong;
    EXPECT_EQ(std::get<SetAlias>(plan.actions[0]).alias, kMark);
  }
}

TEST_F(PlannerTest, UnmarkedDeviceIsMarkedWhereItIsBeforeItMoves) {
  HostObservation host = converged();
  host.devices[0].netns = "";
  host.devices[0].link.alias = "";
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions),
            (std::vector<std::string>{"SetAlias", "MoveDevice", "SetAddresses", "SetLinkUp"}));
  EXPECT_EQ(std::get<SetAlias>(plan.actions[0]).device, (wg::DeviceRef{"", kDev}));
}

TEST_F(PlannerTest, OneNewSpokeIsOneSmallPeerUpdate) {
  HostObservation host = converged();
  hub_.spokes.push_back(spoke("cccc", "10.10.0.7"));
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_EQ(plan.actions.size(), 1u);
  auto* c = std::get_if<ConfigureDevice>(&plan.actions[0]);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->update.private_key.has_value());
  EXPECT_FALSE(c->update.listen_port.has_value());
  EXPECT_FALSE(c->update.replace_peers);
  ASSERT_EQ(c->update.peers.size(), 1u);
  EXPECT_EQ(c->update.peers[0].public_key, hub_.spokes.back().public_key);
  EXPECT_EQ(c->update.peers[0].allowed_ips, hub_.spokes.back().allowed_ips);
}

TEST_F(PlannerTest, RemovedSpokeIsOnePeerRemoval) {
  HostObservation host = converged();
  Key gone = hub_.spokes[0].public_key;
  hub_.spokes.erase(hub_.spokes.begin());
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_EQ(plan.actions.size(), 1u);
  auto& update = std::get<ConfigureDevice>(plan.actions[0]).update;
  ASSERT_EQ(update.peers.size(), 1u);
  EXPECT_TRUE(update.peers[0].remove);
  EXPECT_EQ(update.peers[0].public_key, gone);
}

TEST_F(PlannerTest, ChangedSpokeAddressReplacesItsAllowedIps) {
  HostObservation host = converged();
  hub_.spokes[1].allowed_ips = {*IpPrefix::parse("10.10.0.66/32")};
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_EQ(plan.actions.size(), 1u);
  auto& update = std::get<ConfigureDevice>(plan.actions[0]).update;
  ASSERT_EQ(update.peers.size(), 1u);
  EXPECT_TRUE(update.peers[0].replace_allowed_ips);
  EXPECT_EQ(join(update.peers[0].allowed_ips, ","), "10.10.0.66/32");
}

TEST_F(PlannerTest, DeviceLeftInAgentNamespaceIsMovedAndReaddressed) {
  HostObservation host = converged();
  host.devices[0].netns = "";
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions), (std::vector<std::string>{"MoveDevice", "SetAddresses", "SetLinkUp"}));
}

TEST_F(PlannerTest, VanishedDeviceComesBackWithTheSameIdentity) {
  HostObservation host = converged();
  host.devices.clear();  // wireguard-go killed: the namespace stays, the device is gone
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions),
            (std::vector<std::string>{"CreateDevice", "SetAlias", "ConfigureDevice", "MoveDevice", "SetMtu",
                                      "SetAddresses", "SetLinkUp"}));
  auto& update = std::get<ConfigureDevice>(plan.actions[2]).update;
  EXPECT_EQ(update.private_key, identity_.private_key);
  EXPECT_EQ(update.listen_port, identity_.listen_port);
}

TEST_F(PlannerTest, ADeviceThatComesUpGreetsThePeersItCanReach) {
  // Spoke 0 has an endpoint in Neutron; spoke 1 is behind NAT but the hub had learned where it was.
  hub_.spokes[0].endpoint = *Endpoint::parse("198.51.100.2:51820");
  const Endpoint learned = *Endpoint::parse("203.0.113.9:40000");
  PeerMemories memory{{hub_.spokes[1].public_key, PeerMemory{std::nullopt, false, learned}}};
  HostObservation host = converged();
  host.devices.clear();  // wireguard-go killed: the new device has no session with anyone
  HubPlan plan = planHub(hub_, identity_, host, options_, &memory);
  ASSERT_EQ(kinds(plan.actions).back(), "GreetPeers");
  EXPECT_EQ(kinds(plan.actions).at(plan.actions.size() - 2), "SetLinkUp");
  const auto& greet = std::get<GreetPeers>(plan.actions.back());
  EXPECT_EQ(greet.device, (wg::DeviceRef{kNs, kDev}));
  EXPECT_EQ(greet.peers, (std::vector<Key>{hub_.spokes[0].public_key, hub_.spokes[1].public_key}));

  // Without memory spoke 1 has nowhere to be reached: only spoke 0 is greeted.
  plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(std::get<GreetPeers>(plan.actions.back()).peers, (std::vector<Key>{hub_.spokes[0].public_key}));

  // A move sets the link down, which ends WireGuard's sessions too.
  host = converged();
  host.devices[0].config->peers[0].endpoint = hub_.spokes[0].endpoint;
  host.devices[0].netns = "";
  plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions),
            (std::vector<std::string>{"MoveDevice", "SetAddresses", "SetLinkUp", "GreetPeers"}));

  // A peer with a keepalive of its own is sent one by WireGuard when the link comes up.
  host.devices[0].config->peers[0].persistent_keepalive = 25;
  plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions), (std::vector<std::string>{"MoveDevice", "SetAddresses", "SetLinkUp"}));
}

TEST_F(PlannerTest, NoGreetingForALinkThatStaysUpOrGoesDown) {
  hub_.spokes[0].endpoint = *Endpoint::parse("198.51.100.2:51820");
  HostObservation host = converged();
  host.devices[0].config->peers[0].endpoint = hub_.spokes[0].endpoint;
  EXPECT_TRUE(planHub(hub_, identity_, host, options_, nullptr).actions.empty());
  hub_.admin_state_up = false;
  EXPECT_EQ(kinds(planHub(hub_, identity_, host, options_, nullptr).actions),
            (std::vector<std::string>{"SetLinkUp"}));
  host.devices.clear();
  for (const auto& kind : kinds(planHub(hub_, identity_, host, options_, nullptr).actions)) {
    EXPECT_NE(kind, "GreetPeers");
  }
}

TEST_F(PlannerTest, NonWireGuardLinkWithOurNameIsReplaced) {
  HostObservation host = converged();
  host.devices[0].config.reset();
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_GE(plan.actions.size(), 2u);
  EXPECT_EQ(std::get<DestroyDevice>(plan.actions[0]).device, (wg::DeviceRef{kNs, kDev}));
  EXPECT_TRUE(std::holds_alternative<CreateDevice>(plan.actions[1]));
}

TEST_F(PlannerTest, AdminDownSetsTheLinkDownAndKeepsIt) {
  hub_.admin_state_up = false;
  HubPlan plan = planHub(hub_, identity_, converged(), options_, nullptr);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_FALSE(std::get<SetLinkUp>(plan.actions[0]).up);
}

TEST_F(PlannerTest, ForwardingIsEnsuredInTheProjectNamespace) {
  HostObservation host = converged();
  host.namespaces[kNs].forwarding = false;
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions), (std::vector<std::string>{"EnableForwarding"}));
}

TEST_F(PlannerTest, RootDeviceStaysInTheAgentNamespaceWithoutForwardingChanges) {
  hub_.root_device = true;
  HubPlan plan = planHub(hub_, identity_, HostObservation{}, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions), (std::vector<std::string>{"CreateDevice", "SetAlias", "ConfigureDevice",
                                                           "SetMtu", "SetAddresses", "SetLinkUp"}));
}

TEST_F(PlannerTest, RouterNamespaceOnceItExists) {
  hub_.router_id = "ffff0000-0000-0000-0000-00000000000f";
  const std::string qr = routerNamespace(*hub_.router_id);
  HostObservation host = converged();
  // The L3 agent has not created the router's namespace yet: the hub keeps serving from tun-p1.
  EXPECT_TRUE(planHub(hub_, identity_, host, options_, nullptr).actions.empty());
  host.namespaces[qr] = NamespaceObservation{{"qr-0000"}, true};
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(kinds(plan.actions), (std::vector<std::string>{"MoveDevice", "SetAddresses", "SetLinkUp"}));
  EXPECT_EQ(std::get<MoveDevice>(plan.actions[0]).to, qr);
  // Router gone while the port remains: back to the project namespace.
  host.devices[0].netns = qr;
  host.namespaces.erase(qr);
  plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(std::get<MoveDevice>(plan.actions.at(0)).to, kNs);
}

TEST_F(PlannerTest, EndpointWrittenOnCreateAndOnNeutronChangeOnly) {
  hub_.spokes[0].endpoint = *Endpoint::parse("198.51.100.2:51820");
  HostObservation host = converged();
  // The peer exists without endpoint (never configured): write Neutron's.
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<ConfigureDevice>(plan.actions[0]).update.peers.at(0).endpoint, hub_.spokes[0].endpoint);

  // The spoke roamed (NAT): after a restart the agent keeps the learned endpoint.
  host.devices[0].config->peers[0].endpoint = *Endpoint::parse("203.0.113.9:40000");
  EXPECT_TRUE(planHub(hub_, identity_, host, options_, nullptr).actions.empty());
  PeerMemories applied{{hub_.spokes[0].public_key, PeerMemory{hub_.spokes[0].endpoint, true, std::nullopt}}};
  EXPECT_TRUE(planHub(hub_, identity_, host, options_, &applied).actions.empty());

  // Neutron's endpoint changed since it was applied: write the new one.
  hub_.spokes[0].endpoint = *Endpoint::parse("198.51.100.3:51820");
  plan = planHub(hub_, identity_, host, options_, &applied);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<ConfigureDevice>(plan.actions[0]).update.peers.at(0).endpoint, hub_.spokes[0].endpoint);
}

TEST_F(PlannerTest, RecreatedPeerGetsBackTheEndpointItHadLearned) {
  // Spoke 1 has no endpoint in Neutron (behind NAT); the hub had learned one from its handshakes.
  HostObservation host = converged();
  host.devices.clear();  // wireguard-go killed
  Endpoint learned = *Endpoint::parse("203.0.113.50:61000");
  PeerMemories memory{{hub_.spokes[1].public_key, PeerMemory{std::nullopt, true, learned}}};
  HubPlan plan = planHub(hub_, identity_, host, options_, &memory);
  const auto& update = std::get<ConfigureDevice>(plan.actions.at(2)).update;
  ASSERT_EQ(update.peers.size(), 2u);
  for (const auto& p : update.peers) {
    if (p.public_key == hub_.spokes[1].public_key) {
      EXPECT_EQ(p.endpoint, learned);
    } else {
      EXPECT_FALSE(p.endpoint.has_value());
    }
  }
  // An existing peer keeps whatever it has now: the learned endpoint is only for re-creation.
  EXPECT_TRUE(planHub(hub_, identity_, converged(), options_, &memory).actions.empty());
}

TEST_F(PlannerTest, ForeignKeyIsReplacedByTheStoredOne) {
  HostObservation host = converged();
  host.devices[0].config->private_key = generatePrivateKey();
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<ConfigureDevice>(plan.actions[0]).update.private_key, identity_.private_key);
}

TEST(HubMtu, FitsNetworkAndUnderlay) {
  HubSpec hub;
  hub.network_mtu = 1450;
  EXPECT_EQ(hubMtu(hub, {}), 1440u);
  EXPECT_EQ(hubMtu(hub, {0, 1500, true}), 1420u);
  hub.network_mtu = 1400;
  EXPECT_EQ(hubMtu(hub, {}), 1400u);
  EXPECT_EQ(hubMtu(hub, {1380, 1500, false}), 1380u);
  EXPECT_EQ(hubMtu(hub, {0, 9000, false}), 1400u);
  hub.network_mtu = 0;
  EXPECT_EQ(hubMtu(hub, {0, 9000, false}), 8940u);
  hub.network_mtu = 1000;  // never below IPv6's minimum while the underlay allows it
  EXPECT_EQ(hubMtu(hub, {}), 1280u);
}

TEST(PlanCleanup, DestroysOnlyUnclaimedAndNeverIgnored) {
  HostObservation host;
  auto dev = [](const std::string& ns, const std::string& name) {
    DeviceObservation d;
    d.netns = ns;
    d.link.name = name;
    return d;
  };
  host.devices = {dev("tun-a", "wg-aaaaaaaaaaa"), dev("tun-b", "wg-bbbbbbbbbbb"), dev("", "wg-ccccccccccc"),
                  dev("qrouter-1", "wg-ddddddddddd")};
  host.namespaces["tun-a"] = {{"wg-aaaaaaaaaaa"}, true};
  host.namespaces["tun-b"] = {{"wg-bbbbbbbbbbb", "veth-x"}, true};
  host.namespaces["tun-c"] = {{}, true};
  host.namespaces["qrouter-1"] = {{"wg-ddddddddddd"}, true};
  CleanupPlan cleanup = planCleanup(host, {"wg-aaaaaaaaaaa"}, {"wg-ccccccccccc"}, {"tun-a"}, kHost);
  std::vector<std::string> lines;
  for (const auto& a : cleanup.actions) lines.push_back(describe(a));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "destroy wg-bbbbbbbbbbb (in tun-b)",
                       "destroy wg-ddddddddddd (in qrouter-1)",
                       "remove namespace tun-c",
                   }));
}

TEST(PlanCleanup, EmptiedProjectNamespaceIsRemoved) {
  HostObservation host;
  DeviceObservation d;
  d.netns = "tun-z";
  d.link.name = "wg-zzzzzzzzzzz";
  host.devices = {d};
  host.namespaces["tun-z"] = {{"wg-zzzzzzzzzzz"}, true};
  auto actions = planCleanup(host, {}, {}, {}, kHost).actions;
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(describe(actions[1]), "remove namespace tun-z");
}

TEST(PlanCleanup, AnotherHostsDevicesAreLeftAloneOursAndUnmarkedOnesGo) {
  HostObservation host;
  auto dev = [](const std::string& ns, const std::string& name, const std::string& alias) {
    DeviceObservation d;
    d.netns = ns;
    d.link.name = name;
    d.link.alias = alias;
    return d;
  };
  host.devices = {
      dev("tun-a", "wg-aaaaaaaaaaa", "networking-wireguard:demo-node"),   // another agent's
      dev("", "wg-bbbbbbbbbbb", "networking-wireguard:demo-node"),        // another agent's
      dev("tun-c", "wg-ccccccccccc", "networking-wireguard:test-agent"),  // a third agent's
      dev("tun-d", "wg-ddddddddddd", kMark),                              // ours, no longer claimed
      dev("tun-e", "wg-eeeeeeeeeee", ""),        // unmarked: an older agent's or a crash leftover
      dev("tun-e", "wg-fffffffffff", "uplink"),  // an alias that is no ownership mark
      dev("", "wg-99999999999", "networking-wireguard:demo-node"),  // ignored: not even reported
  };
  host.namespaces["tun-a"] = {{"wg-aaaaaaaaaaa"}, true};
  host.namespaces["tun-c"] = {{"wg-ccccccccccc"}, true};
  host.namespaces["tun-d"] = {{"wg-ddddddddddd"}, true};
  host.namespaces["tun-e"] = {{"wg-eeeeeeeeeee", "wg-fffffffffff"}, true};
  CleanupPlan cleanup = planCleanup(host, {}, {"wg-99999999999"}, {}, kHost);
  std::vector<std::string> lines;
  for (const auto& a : cleanup.actions) lines.push_back(describe(a));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "destroy wg-ddddddddddd (in tun-d)",
                       "destroy wg-eeeeeeeeeee (in tun-e)",
                       "destroy wg-fffffffffff (in tun-e)",
                       "remove namespace tun-d",
                       "remove namespace tun-e",
                   }));
  // tun-a and tun-c still hold another agent's device: kept.
  EXPECT_EQ(cleanup.foreign, (std::map<std::string, std::vector<wg::DeviceRef>>{
                                 {"demo-node", {{"tun-a", "wg-aaaaaaaaaaa"}, {"", "wg-bbbbbbbbbbb"}}},
                                 {"test-agent", {{"tun-c", "wg-ccccccccccc"}}},
                             }));
}

TEST(OwnerAlias, TheLongestHostTheConfigAcceptsMakesAnAliasTheKernelTakes) {
  EXPECT_TRUE(netlink::rtnl::validateAlias(ownerAlias(std::string(config::kMaxHostLength, 'h'))).ok());
  EXPECT_FALSE(netlink::rtnl::validateAlias(ownerAlias(std::string(config::kMaxHostLength + 1, 'h'))).ok());
}

TEST(OwnerAlias, OnlyAnotherHostsMarkMakesADeviceAnotherAgents) {
  EXPECT_EQ(otherAgentsHost(ownerAlias("node-2"), "node-1"), "node-2");
  EXPECT_FALSE(otherAgentsHost(ownerAlias("node-1"), "node-1").has_value());
  EXPECT_FALSE(otherAgentsHost("", "node-1").has_value());
  EXPECT_FALSE(otherAgentsHost("uplink to rack 4", "node-1").has_value());
}

TEST(Describe, NeverShowsKeyMaterial) {
  ASSERT_TRUE(initCrypto().ok());
  Key secret = generatePrivateKey();
  ConfigureDevice c{{"tun-x", "wg-x"}, {}};
  c.update.private_key = secret;
  std::string line = describe(c);
  EXPECT_EQ(line.find(secret.toBase64()), std::string::npos);
  EXPECT_EQ(line.find(secret.toHex()), std::string::npos);
  EXPECT_NE(line.find("private key"), std::string::npos);
}

TEST(Describe, AGreetingOfManyPeersNamesTheFirstOnes) {
  ASSERT_TRUE(initCrypto().ok());
  GreetPeers greet{{"tun-x", "wg-x"}, {}};
  for (int i = 0; i < 10000; ++i) greet.peers.push_back(publicKeyOf(generatePrivateKey()));
  std::string line = describe(greet);
  EXPECT_EQ(line.rfind("greet 10000 peers of wg-x (in tun-x)", 0), 0u) << line.substr(0, 80);
  EXPECT_NE(line.find(greet.peers[15].toBase64()), std::string::npos);
  EXPECT_EQ(line.find(greet.peers[16].toBase64()), std::string::npos);
  EXPECT_NE(line.find("and 9984 more"), std::string::npos);
  EXPECT_LT(line.size(), 1000u);
}

}  // namespace
}  // namespace nwg::reconcile
