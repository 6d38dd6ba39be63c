// OVN-routed hubs through the reconciler, on the fake host and a fake integration bridge: realized,
// left alone on restart, ovn_plug removed, hub removed, stale plugs cleaned up, the bridge unreadable,
// dry_run's exact commands.
#include <gtest/gtest.h>

#include <filesystem>

#include "ovs/fake_ovs_bridge.h"
#include "reconcile/names.h"
#include "reconcile/reconciler.h"
#include "reconcile/tests/fake_host.h"
#include "reconcile/tests/fake_server.h"

namespace nwg::reconcile {
namespace {

using fakes::CapturedLog;
using fakes::FakeServer;
using nlohmann::json;

const std::string kHub = "aaaaaaaa-0000-0000-0000-000000000001";
const std::string kPlugId = "0b0b0000-1111-2222-3333-444455556666";
const std::string kRoot = plugRootName(kPlugId);
const std::string kPeer = plugPeerName(kPlugId);
const std::string kHubNs = ovnHubNamespace(kHub);
const std::string kMac = "fa:16:3e:00:00:01";

json ovnPlug() {
  return {{"port_id", kPlugId},
          {"mac_address", kMac},
          {"fixed_ips",
           {{{"ip_address", "10.10.0.3"},
             {"cidr", "10.10.0.0/24"},
             {"ip_version", 4},
             {"router_ip", "10.10.0.1"}}}}};
}

class OvnReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    char tmpl[] = "/tmp/nwg-reconcile-ovn-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    state_dir_ = tmpl;
    options_.planner.host = "node-1";
    server_.hubs[kHub] = FakeServer::hub(kHub, "10.10.0.1");
    server_.hubs[kHub]["router_id"] = "77777777-0000-0000-0000-000000000000";
    server_.hubs[kHub]["ovn_plug"] = ovnPlug();
    server_.hubs[kHub]["spokes"].push_back(
        FakeServer::spoke("cccc0000-0000", publicKeyOf(generatePrivateKey()), "10.10.0.5"));
    restart();
  }
  void TearDown() override {
    reconciler_.reset();
    resolver_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  void restart(bool dry_run = false) {
    reconciler_.reset();
    resolver_.reset();
    identities_ = std::make_unique<IdentityStore>(state_dir_);
    ASSERT_TRUE(identities_->load().ok());
    observer_ = std::make_unique<Observer>(host_.links, host_.namespaces, host_, &ovs_);
    applier_ = std::make_unique<Applier>(host_.links, host_.namespaces, host_, log_, dry_run, &ovs_);
    resolver_ = std::make_unique<EndpointResolver>(
        [](const std::string&) -> Result<IpAddress> { return fail("no DNS here"); },
        EndpointResolver::Options{}, [](const std::string&) {});
    reconciler_ = std::make_unique<Reconciler>(server_, *observer_, *applier_, *identities_, log_, options_,
                                               facts_, *resolver_);
  }

  int writes() const { return host_.writes() + ovs_.mutations(); }

  std::string state_dir_;
  FakeServer server_;
  FakeHost host_;
  ovs::FakeOvsBridge ovs_;
  CapturedLog log_;
  ReconcilerOptions options_;
  FakeHostFacts facts_;
  std::unique_ptr<EndpointResolver> resolver_;
  std::unique_ptr<IdentityStore> identities_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(OvnReconcilerTest, FirstSyncPlugsTheHubsNamespaceIntoTheBridge) {
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete) << r.failure;
  ASSERT_EQ(r.realized, std::vector<std::string>{kHub}) << (r.failed.empty() ? "" : r.failed.begin()->second);
  const std::string dev = deviceName(kHub);
  auto link = host_.links.get(kHubNs, dev);
  ASSERT_TRUE(link.ok()) << "the device lives in the hub's own namespace, not qrouter- or tun-";
  EXPECT_TRUE(link->up);
  EXPECT_TRUE(host_.links.addresses(kHubNs, dev)->empty());
  EXPECT_EQ(*host_.links.routes(kHubNs, dev), (std::vector<Route>{{*IpPrefix::parse("10.10.0.0/24")}}));
  EXPECT_EQ(*host_.namespaces.sysctl(kHubNs, "net/ipv4/ip_forward"), "1");

  auto root = host_.links.get("", kRoot);
  auto peer = host_.links.get(kHubNs, kPeer);
  ASSERT_TRUE(root.ok() && peer.ok());
  EXPECT_TRUE(root->up && peer->up);
  EXPECT_EQ(root->mtu, 1450u);
  EXPECT_EQ(peer->mtu, 1450u);
  EXPECT_EQ(peer->mac, kMac);
  EXPECT_EQ(join(*host_.links.addresses(kHubNs, kPeer), ","), "10.10.0.3/32");
  EXPECT_EQ(host_.links.routes(kHubNs, kPeer)->size(), 2u);
  ASSERT_EQ(ovs_.ports().count(kRoot), 1u);
  EXPECT_EQ(ovs_.ports().at(kRoot).iface_id, kPlugId);
  EXPECT_EQ(ovs_.ports().at(kRoot).mac, kMac);
  EXPECT_EQ(ovs_.ports().at(kRoot).owner, "node-1") << "marked as this agent's";
}

// The plug's IPv6 address is added without duplicate address detection: the OVN router resolves it
// at once, where a tentative one would drop the hub's IPv6 traffic for a second or two.
TEST_F(OvnReconcilerTest, ThePlugsIpv6AddressSkipsDuplicateAddressDetection) {
  server_.hubs[kHub]["fixed_ips"].push_back(
      {{"ip_address", "fd00:10::1"}, {"subnet_id", "s6"}, {"cidr", "fd00:10::/64"}});
  server_.hubs[kHub]["ovn_plug"]["fixed_ips"].push_back({{"ip_address", "fd00:10::3"},
                                                         {"cidr", "fd00:10::/64"},
                                                         {"ip_version", 6},
                                                         {"router_ip", "fd00:10::1"}});
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete) << r.failure;
  ASSERT_EQ(r.realized, std::vector<std::string>{kHub}) << (r.failed.empty() ? "" : r.failed.begin()->second);
  EXPECT_EQ(join(*host_.links.addresses(kHubNs, kPeer), ","), "10.10.0.3/32,fd00:10::3/128");
  auto tentative = host_.links.tentativeAddresses(kHubNs, kPeer);
  ASSERT_TRUE(tentative.ok()) << tentative.error().message;
  EXPECT_TRUE(tentative->empty()) << join(*tentative, ",");
}

TEST_F(OvnReconcilerTest, NothingIsRedoneOnLaterPassesOrAfterARestart) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  const int before = writes();
  PassReport deep = reconciler_->syncAll();
  EXPECT_EQ(deep.actions, 0u);
  PassReport quick = reconciler_->syncAll(Depth::kQuick);
  EXPECT_EQ(quick.actions, 0u);
  const int lists = ovs_.lists();
  PassReport notified = reconciler_->syncHubs({kHub});
  EXPECT_EQ(notified.actions, 0u);
  EXPECT_EQ(ovs_.lists(), lists) << "a trusted hub's plug is not re-read";
  restart();
  PassReport after_restart = reconciler_->syncAll();
  ASSERT_TRUE(after_restart.complete);
  EXPECT_EQ(after_restart.actions, 0u);
  EXPECT_EQ(writes(), before);
}

TEST_F(OvnReconcilerTest, AQuickPassNoticesAPlugSetDown) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_TRUE(reconciler_->syncAll(Depth::kQuick).actions == 0);
  ASSERT_TRUE(host_.links.setUp(kHubNs, kPeer, false).ok());
  PassReport r = reconciler_->syncAll(Depth::kQuick);
  EXPECT_GT(r.actions, 0u);
  EXPECT_TRUE(host_.links.get(kHubNs, kPeer)->up);
  EXPECT_EQ(host_.links.routes(kHubNs, kPeer)->size(), 2u);
}

TEST_F(OvnReconcilerTest, OvnPlugRemovedLeavesNoPlugAndNoNamespace) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  server_.hubs[kHub]["ovn_plug"] = nullptr;
  server_.hubs[kHub]["router_id"] = nullptr;
  PassReport r = reconciler_->syncHubs({kHub});
  ASSERT_EQ(r.realized, std::vector<std::string>{kHub}) << (r.failed.empty() ? "" : r.failed.begin()->second);
  EXPECT_TRUE(host_.links.get("tun-p1", deviceName(kHub)).ok());
  EXPECT_FALSE(host_.links.get("", kRoot).ok());
  EXPECT_TRUE(ovs_.ports().empty());
  EXPECT_FALSE(*host_.namespaces.exists(kHubNs));
}

TEST_F(OvnReconcilerTest, HubRemovedTakesItsPlugPortAndNamespace) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  server_.hubs.erase(kHub);
  PassReport r = reconciler_->syncHubs({kHub});
  ASSERT_TRUE(r.complete) << r.failure;
  EXPECT_EQ(r.removed, std::vector<std::string>{kHub});
  EXPECT_FALSE(host_.links.get("", kRoot).ok());
  EXPECT_TRUE(ovs_.ports().empty());
  EXPECT_FALSE(*host_.namespaces.exists(kHubNs));
}

TEST_F(OvnReconcilerTest, AFullSyncRemovesStalePlugsButNotAnotherAgents) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_TRUE(host_.links.createVethPair("", "wgo-dead0000-11", "wgp-dead0000-11").ok());
  ASSERT_TRUE(ovs_.addPort({"wgo-dead0000-11", "dead0000-port", kMac, "node-1"}).ok());
  ASSERT_TRUE(ovs_.addPort({"wgo-beef0000-11", "beef0000-port", kMac, "node-1"}).ok());  // its veth is gone
  ASSERT_TRUE(host_.links.createVethPair("", "wgo-f00d0000-11", "wgp-f00d0000-11").ok());
  ASSERT_TRUE(host_.links.setAlias("", "wgo-f00d0000-11", "networking-wireguard:node-2").ok());
  ASSERT_TRUE(ovs_.addPort({"wgo-f00d0000-11", "f00d0000-port", kMac, "node-2"}).ok());
  // Veth gone, and no mark or another host's: not ours to judge.
  ASSERT_TRUE(ovs_.addPort({"wgo-cafe0000-11", "cafe0000-port", kMac}).ok());
  ASSERT_TRUE(ovs_.addPort({"wgo-d00d0000-11", "d00d0000-port", kMac, "node-2"}).ok());
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete) << r.failure;
  EXPECT_FALSE(host_.links.get("", "wgo-dead0000-11").ok());
  EXPECT_FALSE(host_.links.get("", "wgp-dead0000-11").ok());
  EXPECT_EQ(ovs_.ports().count("wgo-dead0000-11"), 0u);
  EXPECT_EQ(ovs_.ports().count("wgo-beef0000-11"), 0u);
  EXPECT_TRUE(host_.links.get("", "wgo-f00d0000-11").ok()) << "another agent's plug";
  EXPECT_EQ(ovs_.ports().count("wgo-f00d0000-11"), 1u);
  EXPECT_EQ(ovs_.ports().count("wgo-cafe0000-11"), 1u) << "a port without a mark is never touched";
  EXPECT_EQ(ovs_.ports().count("wgo-d00d0000-11"), 1u) << "nor one marked as another host's";
  EXPECT_EQ(ovs_.ports().count(kRoot), 1u) << "the listed hub's own";
}

TEST_F(OvnReconcilerTest, AnUnreadableBridgeFailsTheHubAndDeletesNothing) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_TRUE(ovs_.addPort({"wgo-dead0000-11", "dead0000-port", kMac}).ok());
  const int before = writes();
  ovs_.failNext("listPorts",
                Error("ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed"));
  server_.hubs[kHub]["mtu"] = 1400;  // planned in full
  PassReport r = reconciler_->syncAll();
  ASSERT_EQ(r.failed.count(kHub), 1u);
  EXPECT_NE(r.failed.at(kHub).find("database connection failed"), std::string::npos) << r.failed.at(kHub);
  EXPECT_EQ(writes(), before);
  EXPECT_EQ(ovs_.ports().count("wgo-dead0000-11"), 1u);
}

TEST_F(OvnReconcilerTest, DryRunLogsTheExactCommandsAndDoesNothing) {
  restart(/*dry_run=*/true);
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete) << r.failure;
  EXPECT_EQ(writes(), 0);
  EXPECT_TRUE(log_.contains(
      "dry run: would add port wgo-0b0b0000-11 to the OVS integration bridge (iface-id " + kPlugId +
      ", attached-mac fa:16:3e:00:00:01, owner node-1): ovs-vsctl "
      "--db=unix:/var/run/openvswitch/db.sock --timeout=10 --no-wait -- --may-exist add-port "
      "br-int wgo-0b0b0000-11 -- set Interface wgo-0b0b0000-11 external_ids:iface-id=" +
      kPlugId +
      " external_ids:attached-mac=fa:16:3e:00:00:01 external_ids:iface-status=active "
      "external_ids:neutron-wireguard-agent=node-1"))
      << "no such line";
  EXPECT_TRUE(log_.contains("dry run: would create veth pair wgo-0b0b0000-11 <-> wgp-0b0b0000-11"));
  EXPECT_TRUE(log_.contains("dry run: would set routes through wgp-0b0b0000-11 (in " + kHubNs +
                            ") to 10.10.0.1/32, 0.0.0.0/0 via 10.10.0.1"));
}

// The Applier's SetRoutes on the fakes: routes no longer wanted go first, the wanted ones are added in
// order (a gateway's route before the routes via it), those in place are left alone.
TEST(OvnApplier, SetRoutesMakesTheLinksRoutesExactlyTheWantedOnes) {
  FakeHost host;
  ovs::FakeOvsBridge ovs;
  CapturedLog log;
  Applier applier(host.links, host.namespaces, host, log, false, &ovs);
  ASSERT_TRUE(host.links.createVethPair("", kRoot, kPeer).ok());
  ASSERT_TRUE(host.links.setUp("", kPeer, true).ok());
  ASSERT_TRUE(host.links.replaceAddresses("", kPeer, {*IpPrefix::parse("10.10.0.3/32")}).ok());
  const Route old_router{*IpPrefix::parse("10.20.0.1/32")};
  const Route old_default{*IpPrefix::parse("0.0.0.0/0"), *IpAddress::parse("10.20.0.1")};
  ASSERT_TRUE(host.links.replaceRoute("", kPeer, old_router).ok());
  ASSERT_TRUE(host.links.replaceRoute("", kPeer, old_default).ok());
  const Route router{*IpPrefix::parse("10.10.0.1/32")};
  const Route by_router{*IpPrefix::parse("0.0.0.0/0"), *IpAddress::parse("10.10.0.1")};
  Status s = applier.apply(SetRoutes{{"", kPeer}, {router, by_router}});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*host.links.routes("", kPeer), (std::vector<Route>{by_router, router}));
  const int before = host.links.mutations();
  ASSERT_TRUE(applier.apply(SetRoutes{{"", kPeer}, {router, by_router}}).ok());
  EXPECT_EQ(host.links.mutations(), before) << "routes in place are not touched";

  ASSERT_TRUE(applier.apply(AddOvsPort{{kRoot, kPlugId, kMac}}).ok());
  EXPECT_EQ(ovs.ports().at(kRoot).iface_id, kPlugId);
  ASSERT_TRUE(applier.apply(DeleteOvsPort{kRoot}).ok());
  EXPECT_TRUE(ovs.ports().empty());
  ASSERT_TRUE(applier.apply(DestroyLink{{"", kPeer}}).ok());
  EXPECT_FALSE(host.links.get("", kRoot).ok()) << "a veth goes with its peer";

  Applier without_ovs(host.links, host.namespaces, host, log, false);
  Status refused = without_ovs.apply(AddOvsPort{{kRoot, kPlugId, kMac}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("no OVS integration bridge"), std::string::npos);
}

}  // namespace
}  // namespace nwg::reconcile
