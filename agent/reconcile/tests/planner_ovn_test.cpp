// The plans for OVN-routed hubs (ovn_plug): their own namespace, a device without addresses but with
// routes, the plug's veth and OVS port; nothing when all is in place; ovn_plug added and removed;
// the cleanup of plugs no hub claims.
#include <gtest/gtest.h>

#include <algorithm>

#include "reconcile/names.h"
#include "reconcile/planner.h"
#include "reconcile/tests/plan_helpers.h"

namespace nwg::reconcile {
namespace {

using plan_test::all;
using plan_test::lines;

const std::string kHub = "c0ffee00-1111-2222-3333-444455556666";
const std::string kDev = deviceName(kHub);
const std::string kPlugId = "0b0b0000-1111-2222-3333-444455556666";
const std::string kRoot = plugRootName(kPlugId);
const std::string kPeer = plugPeerName(kPlugId);
const std::string kHubNs = ovnHubNamespace(kHub);
const std::string kMark = ownerAlias("node-1");
const std::string kMac = "fa:16:3e:00:00:01";

IpPrefix prefix(const char* text) {
  return *IpPrefix::parse(text);
}
IpAddress address(const char* text) {
  return *IpAddress::parse(text);
}

class OvnPlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    identity_ = {generatePrivateKey(), 51820};
    options_.host = "node-1";
    hub_.port_id = kHub;
    hub_.project_id = "p1";
    hub_.network_mtu = 1450;
    hub_.router_id = "77777777-0000-0000-0000-000000000000";
    hub_.addresses = {prefix("10.10.0.1/24"), prefix("fd00:10::1/64")};
    OvnPlug plug;
    plug.port_id = kPlugId;
    plug.mac_address = kMac;
    plug.fixed_ips = {{address("10.10.0.3"), prefix("10.10.0.0/24"), address("10.10.0.1")},
                      {address("fd00:10::3"), prefix("fd00:10::/64"), address("fd00:10::1")}};
    hub_.ovn_plug = plug;
  }

  static std::vector<Route> deviceRoutes() {
    return {{prefix("10.10.0.0/24"), std::nullopt}, {prefix("fd00:10::/64"), std::nullopt}};
  }
  static std::vector<Route> plugRoutes() {
    return {{prefix("10.10.0.1/32"), std::nullopt},
            {prefix("fd00:10::1/128"), std::nullopt},
            {prefix("0.0.0.0/0"), address("10.10.0.1")},
            {prefix("::/0"), address("fd00:10::1")}};
  }

  // What an agent restart finds when all is in place.
  HostObservation converged() const {
    HostObservation host;
    DeviceObservation d;
    d.netns = kHubNs;
    d.detailed = true;
    d.link = LinkInfo{kDev, 7, "tun", true, 1440, kMark};
    d.routes = deviceRoutes();
    std::sort(d.routes.begin(), d.routes.end());
    wg::Device cfg;
    cfg.private_key = identity_.private_key;
    cfg.public_key = publicKeyOf(identity_.private_key);
    cfg.listen_port = identity_.listen_port;
    cfg.fwmark = 0;
    d.config = cfg;
    host.devices.push_back(d);
    DeviceObservation root;
    root.detailed = true;
    root.link = LinkInfo{kRoot, 8, "veth", true, 1450, kMark, "02:00:00:00:00:08"};
    host.plug_links.push_back(root);
    DeviceObservation peer;
    peer.netns = kHubNs;
    peer.detailed = true;
    peer.link = LinkInfo{kPeer, 9, "veth", true, 1450, kMark, kMac};
    peer.addresses = {prefix("10.10.0.3/32"), prefix("fd00:10::3/128")};
    peer.routes = plugRoutes();
    std::sort(peer.routes.begin(), peer.routes.end());
    host.plug_links.push_back(peer);
    host.namespaces[kHubNs] = NamespaceObservation{{kDev, kPeer}, true, true};
    host.ovs_ports.emplace();
    host.ovs_ports->emplace(kRoot, ovs::OvsPort{kRoot, kPlugId, kMac, "node-1"});
    return host;
  }

  HubSpec hub_;
  HubIdentity identity_;
  PlannerOptions options_;
};

TEST_F(OvnPlannerTest, AFreshHubGetsItsNamespaceDeviceRoutesVethAndPort) {
  HostObservation empty;
  empty.ovs_ports.emplace();
  EXPECT_EQ(hubNamespace(hub_, empty), kHubNs) << "never the router's or the project's namespace";
  HubPlan plan = planHub(hub_, identity_, empty, options_, nullptr);
  const std::vector<std::string> want = {
      "create WireGuard device wg-c0ffee00-11 in the agent's namespace",
      "set alias of wg-c0ffee00-11 (in the agent's namespace) to networking-wireguard:node-1",
      "configure wg-c0ffee00-11 (in the agent's namespace): private key (from the state directory); listen "
      "port "
      "51820",
      "create namespace " + kHubNs,
      "enable IPv4/IPv6 forwarding (no ICMP redirects) in " + kHubNs,
      "move wg-c0ffee00-11 from the agent's namespace to " + kHubNs,
      "set MTU of wg-c0ffee00-11 (in " + kHubNs + ") to 1440",
      "set wg-c0ffee00-11 (in " + kHubNs + ") up",
      "set routes through wg-c0ffee00-11 (in " + kHubNs + ") to 10.10.0.0/24, fd00:10::/64",
      "create veth pair wgo-0b0b0000-11 <-> wgp-0b0b0000-11 in the agent's namespace",
      "set alias of wgo-0b0b0000-11 (in the agent's namespace) to networking-wireguard:node-1",
      "set alias of wgp-0b0b0000-11 (in the agent's namespace) to networking-wireguard:node-1",
      "move wgp-0b0b0000-11 from the agent's namespace to " + kHubNs,
      "set MAC address of wgp-0b0b0000-11 (in " + kHubNs + ") to fa:16:3e:00:00:01",
      "set MTU of wgo-0b0b0000-11 (in the agent's namespace) to 1450",
      "set MTU of wgp-0b0b0000-11 (in " + kHubNs + ") to 1450",
      "set wgo-0b0b0000-11 (in the agent's namespace) up",
      "set wgp-0b0b0000-11 (in " + kHubNs + ") up",
      "set addresses of wgp-0b0b0000-11 (in " + kHubNs + ") to 10.10.0.3/32,fd00:10::3/128 (no DAD)",
      "set routes through wgp-0b0b0000-11 (in " + kHubNs +
          ") to 10.10.0.1/32, fd00:10::1/128, 0.0.0.0/0 via 10.10.0.1, ::/0 via fd00:10::1",
      "add port wgo-0b0b0000-11 to the OVS integration bridge (iface-id " + kPlugId +
          ", attached-mac fa:16:3e:00:00:01, owner node-1)",
  };
  EXPECT_EQ(lines(plan.actions), want);
  EXPECT_TRUE(all<SetAddresses>(plan).size() == 1) << "the device gets no address: the OVN router owns it";
}

TEST_F(OvnPlannerTest, RestartWithAllInPlacePlansNothing) {
  HubPlan plan = planHub(hub_, identity_, converged(), options_, nullptr);
  EXPECT_TRUE(plan.actions.empty()) << describe(plan.actions.front());
}

TEST_F(OvnPlannerTest, WhatIsMissingIsAllThatIsRedone) {
  HostObservation host = converged();
  host.ovs_ports->clear();            // the port was deleted by hand
  host.plug_links[1].routes.clear();  // and the namespace end's routes
  host.devices[0].routes.pop_back();  // and one of the device's
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(all<SetRoutes>(plan).size(), 2u);
  EXPECT_EQ(all<SetRoutes>(plan)[0]->routes, deviceRoutes());
  EXPECT_EQ(all<SetRoutes>(plan)[1]->routes, plugRoutes());
  ASSERT_EQ(all<AddOvsPort>(plan).size(), 1u);
  EXPECT_EQ(plan.actions.size(), 3u) << ::testing::PrintToString(lines(plan.actions));
}

TEST_F(OvnPlannerTest, AnAdminDownHubHasItsDeviceDownWithoutRoutesAndKeepsItsPlug) {
  hub_.admin_state_up = false;
  HubPlan plan = planHub(hub_, identity_, converged(), options_, nullptr);
  ASSERT_EQ(plan.actions.size(), 1u) << ::testing::PrintToString(lines(plan.actions));
  EXPECT_EQ(describe(plan.actions[0]), "set wg-c0ffee00-11 (in " + kHubNs + ") down");
  // Back up: the routes the kernel flushed with the link come back after it.
  HostObservation down = converged();
  down.devices[0].link.up = false;
  down.devices[0].routes.clear();
  hub_.admin_state_up = true;
  HubPlan up = planHub(hub_, identity_, down, options_, nullptr);
  EXPECT_EQ(lines(up.actions),
            (std::vector<std::string>{
                "set wg-c0ffee00-11 (in " + kHubNs + ") up",
                "set routes through wg-c0ffee00-11 (in " + kHubNs + ") to 10.10.0.0/24, fd00:10::/64",
            }));
}

TEST_F(OvnPlannerTest, HalfAVethIsReplaced) {
  HostObservation host = converged();
  host.plug_links.erase(host.plug_links.begin() + 1);  // the namespace end is gone
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_GE(plan.actions.size(), 2u);
  EXPECT_EQ(describe(plan.actions[0]),
            "destroy link wgo-0b0b0000-11 (in the agent's namespace) (a veth: both ends)");
  EXPECT_EQ(all<CreateVethPair>(plan).size(), 1u);
  EXPECT_TRUE(all<AddOvsPort>(plan).empty()) << "the port record stays bound: the new veth takes its name";
}

TEST_F(OvnPlannerTest, OvnPlugAddedMovesTheDeviceAndDropsItsAddresses) {
  HostObservation host = converged();
  host.devices[0].netns = "tun-p1";
  host.devices[0].addresses = hub_.addresses;
  host.devices[0].routes.clear();
  host.plug_links.clear();
  host.namespaces.clear();
  host.namespaces["tun-p1"] = NamespaceObservation{{kDev}, true, true};
  host.ovs_ports->clear();
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  auto moves = all<MoveDevice>(plan);
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_EQ(moves[0]->from, "tun-p1");
  EXPECT_EQ(moves[0]->to, kHubNs);
  EXPECT_TRUE(all<SetAddresses>(plan).size() == 1 && all<SetAddresses>(plan)[0]->device.ifname == kPeer)
      << "the move dropped the device's addresses, and none are wanted";
  EXPECT_EQ(all<AddOvsPort>(plan).size(), 1u);
}

TEST_F(OvnPlannerTest, OvnPlugRemovedTakesThePlugAndTheNamespaceAway) {
  HostObservation host = converged();
  hub_.ovn_plug.reset();
  hub_.router_id.reset();
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  const std::vector<std::string> got = lines(plan.actions);
  const std::vector<std::string> tail = {
      "delete port wgo-0b0b0000-11 from the OVS integration bridge",
      "destroy link wgp-0b0b0000-11 (in " + kHubNs + ") (a veth: both ends)",
      "remove namespace " + kHubNs,
  };
  ASSERT_GE(got.size(), tail.size());
  EXPECT_EQ(std::vector<std::string>(got.end() - 3, got.end()), tail);
  ASSERT_EQ(all<MoveDevice>(plan).size(), 1u);
  EXPECT_EQ(all<MoveDevice>(plan)[0]->to, "tun-p1");
  ASSERT_EQ(all<SetAddresses>(plan).size(), 1u);
  EXPECT_EQ(all<SetAddresses>(plan)[0]->addresses, hub_.addresses);
  EXPECT_TRUE(all<SetRoutes>(plan).empty());
}

TEST_F(OvnPlannerTest, AReplacedPlugPortSwapsTheVeth) {
  HostObservation host = converged();
  hub_.ovn_plug->port_id = "0c0c0000-1111-2222-3333-444455556666";
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  EXPECT_EQ(all<CreateVethPair>(plan).size(), 1u);
  EXPECT_EQ(all<CreateVethPair>(plan)[0]->name, "wgo-0c0c0000-11");
  auto deleted = all<DeleteOvsPort>(plan);
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0]->name, kRoot);
  EXPECT_TRUE(all<RemoveNamespace>(plan).empty());
}

TEST_F(OvnPlannerTest, CleanupRemovesUnclaimedPlugsAndTheirPortsNeverOnDoubt) {
  HostObservation host = converged();
  host.ovs_ports->emplace("wgo-dead0000-11",
                          ovs::OvsPort{"wgo-dead0000-11", "dead0000-port", kMac, "node-1"});
  DeviceObservation foreign;
  foreign.link = LinkInfo{"wgo-f00d0000-11", 20, "veth", true, 1450, "networking-wireguard:node-2"};
  host.plug_links.push_back(foreign);
  host.ovs_ports->emplace("wgo-f00d0000-11",
                          ovs::OvsPort{"wgo-f00d0000-11", "f00d0000-port", kMac, "node-2"});
  // No hub listed: the hub's namespace, device, veth and port all go; the other agent's plug stays.
  CleanupPlan plan = planCleanup(host, {}, {}, {}, "node-1", {});
  std::vector<std::string> got;
  for (const auto& a : plan.actions) got.push_back(describe(a));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "destroy " + kDev + " (in " + kHubNs + ")",
                     "delete port wgo-0b0b0000-11 from the OVS integration bridge",
                     "destroy link wgo-0b0b0000-11 (in the agent's namespace) (a veth: both ends)",
                     "destroy link wgp-0b0b0000-11 (in " + kHubNs + ") (a veth: both ends)",
                     "delete port wgo-dead0000-11 from the OVS integration bridge",
                     "remove namespace " + kHubNs,
                 }));
  ASSERT_EQ(plan.foreign.count("node-2"), 1u);

  // Claimed: nothing of the plug goes.
  CleanupPlan claimed = planCleanup(host, {kDev}, {}, {kHubNs}, "node-1", {kRoot, kPeer});
  EXPECT_EQ(lines(claimed.actions),
            std::vector<std::string>{"delete port wgo-dead0000-11 from the OVS integration bridge"});
  // The bridge could not be read: no plug is touched.
  host.ovs_ports.reset();
  CleanupPlan doubt = planCleanup(host, {kDev}, {}, {kHubNs}, "node-1", {});
  EXPECT_TRUE(doubt.actions.empty()) << describe(doubt.actions.front());
}

// An OVS port whose link is gone has only its own mark to tell whose it is: cleanup removes the ports
// marked with this agent's host, never one without a mark or with another host's (another agent on
// this machine may be using it).
TEST_F(OvnPlannerTest, CleanupRemovesOnlyPortsMarkedAsThisAgents) {
  HostObservation host = converged();
  for (const auto& [name, owner] : std::vector<std::pair<std::string, std::string>>{
           {"wgo-dead0000-11", "node-1"}, {"wgo-beef0000-11", ""}, {"wgo-f00d0000-11", "node-2"}}) {
    host.ovs_ports->emplace(name, ovs::OvsPort{name, name.substr(4) + "-port", kMac, owner});
  }
  CleanupPlan plan = planCleanup(host, {kDev}, {}, {kHubNs}, "node-1", {kRoot, kPeer});
  std::vector<std::string> got;
  for (const auto& a : plan.actions) got.push_back(describe(a));
  EXPECT_EQ(got, std::vector<std::string>{"delete port wgo-dead0000-11 from the OVS integration bridge"});

  // A stale veth of ours whose port carries no mark: the links go, the port stays.
  DeviceObservation stale;
  stale.link = LinkInfo{"wgo-beef0000-11", 21, "veth", true, 1450, kMark};
  host.plug_links.push_back(stale);
  CleanupPlan unmarked = planCleanup(host, {kDev}, {}, {kHubNs}, "node-1", {kRoot, kPeer});
  got.clear();
  for (const auto& a : unmarked.actions) got.push_back(describe(a));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "destroy link wgo-beef0000-11 (in the agent's namespace) (a veth: both ends)",
                     "delete port wgo-dead0000-11 from the OVS integration bridge",
                 }));
}

// The hub's own port without this agent's mark (or with another's) is added again: --may-exist keeps
// the port and the same transaction marks it.
TEST_F(OvnPlannerTest, AnUnmarkedPortOfAWantedPlugIsMarked) {
  HostObservation host = converged();
  host.ovs_ports->at(kRoot).owner.clear();
  HubPlan plan = planHub(hub_, identity_, host, options_, nullptr);
  auto added = all<AddOvsPort>(plan);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0]->port, (ovs::OvsPort{kRoot, kPlugId, kMac, "node-1"}));
  EXPECT_EQ(plan.actions.size(), 1u) << "nothing else";
  // Its attached-mac changed by hand: set again too.
  host = converged();
  host.ovs_ports->at(kRoot).mac = "fa:16:3e:00:00:99";
  plan = planHub(hub_, identity_, host, options_, nullptr);
  ASSERT_EQ(all<AddOvsPort>(plan).size(), 1u);
  EXPECT_EQ(all<AddOvsPort>(plan)[0]->port.mac, kMac);
}

}  // namespace
}  // namespace nwg::reconcile
