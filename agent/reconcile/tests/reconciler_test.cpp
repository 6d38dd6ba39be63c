#include "reconcile/reconciler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "reconcile/names.h"
#include "reconcile/tests/fake_host.h"
#include "reconcile/tests/fake_server.h"

namespace nwg::reconcile {
namespace {

using fakes::CapturedLog;
using fakes::FakeServer;
using fakes::kProject;
using nlohmann::json;

const std::string kHubA = "aaaaaaaa-0000-0000-0000-000000000001";
const std::string kHubB = "bbbbbbbb-0000-0000-0000-000000000002";
const std::string kMark = "networking-wireguard:node-1";  // this agent's ownership mark

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    char tmpl[] = "/tmp/nwg-reconcile-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    state_dir_ = tmpl;
    options_.advertised_address = *IpAddress::parse("203.0.113.1");
    options_.planner.host = "node-1";
    server_.hubs[kHubA] = FakeServer::hub(kHubA, "10.10.0.1");
    spoke_key_ = publicKeyOf(generatePrivateKey());
    server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("cccc0000-0000", spoke_key_, "10.10.0.5"));
    restart();
  }
  void TearDown() override { std::filesystem::remove_all(state_dir_); }

  // A fresh agent process on the same host and state directory.
  void restart(bool dry_run = false) {
    reconciler_.reset();
    applier_.reset();
    observer_.reset();
    identities_ = std::make_unique<IdentityStore>(state_dir_);
    ASSERT_TRUE(identities_->load().ok());
    observer_ = std::make_unique<Observer>(host_.links, host_.namespaces, host_);
    applier_ = std::make_unique<Applier>(host_.links, host_.namespaces, host_, log_, dry_run);
    reconciler_ = std::make_unique<Reconciler>(server_, *observer_, *applier_, *identities_, log_, options_,
                                               [this] { return busy_ports_; });
  }

  wg::Device deviceOf(const std::string& port_id, const std::string& netns = "tun-" + kProject) {
    auto d = host_.wireguard.get({netns, deviceName(port_id)});
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : wg::Device{};
  }

  std::string state_dir_;
  FakeServer server_;
  FakeHost host_;
  CapturedLog log_;
  ReconcilerOptions options_;
  std::set<uint16_t> busy_ports_;
  Key spoke_key_;
  std::unique_ptr<IdentityStore> identities_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(ReconcilerTest, FirstSyncRealizesTheHubAndReportsIt) {
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete) << r.failure;
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubA});
  EXPECT_TRUE(r.failed.empty());
  const std::string dev = deviceName(kHubA);
  auto link = host_.links.get("tun-p1", dev);
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(link->up);
  EXPECT_EQ(link->mtu, 1440u);
  EXPECT_EQ(link->alias, kMark);
  EXPECT_EQ(join(*host_.links.addresses("tun-p1", dev), ","), "10.10.0.1/24");
  EXPECT_EQ(*host_.namespaces.sysctl("tun-p1", "net/ipv4/ip_forward"), "1");
  EXPECT_EQ(*host_.namespaces.sysctl("tun-p1", "net/ipv6/conf/all/forwarding"), "1");
  EXPECT_EQ(*host_.namespaces.sysctl("tun-p1", "net/ipv4/conf/all/send_redirects"), "0");
  wg::Device d = deviceOf(kHubA);
  auto identity = identities_->find(kHubA);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(d.private_key, identity->private_key);
  EXPECT_EQ(d.listen_port, 51820);
  ASSERT_EQ(d.peers.size(), 1u);
  EXPECT_EQ(d.peers[0].public_key, spoke_key_);
  EXPECT_EQ(join(d.peers[0].allowed_ips, ","), "10.10.0.5/32");
  // Neutron learned the key and endpoint, then the port was marked ACTIVE after that.
  EXPECT_EQ(server_.reported_keys[kHubA], publicKeyOf(identity->private_key).toBase64());
  EXPECT_EQ(server_.reported_endpoints[kHubA], "203.0.113.1:51820");
  EXPECT_EQ(server_.hubs[kHubA]["status"], "ACTIVE");
}

TEST_F(ReconcilerTest, SecondPassAndRestartWriteNothing) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  const int host_writes = host_.writes();
  const int server_writes = server_.writes;
  PassReport again = reconciler_->syncAll();
  EXPECT_EQ(again.actions, 0u);
  restart();
  PassReport after_restart = reconciler_->syncAll();
  EXPECT_EQ(after_restart.actions, 0u);
  EXPECT_EQ(after_restart.realized, std::vector<std::string>{kHubA});
  EXPECT_EQ(host_.writes(), host_writes);
  EXPECT_EQ(server_.writes, server_writes);
}

TEST_F(ReconcilerTest, DevicesOfAnOlderAgentAreMarkedOnceThenNothingIsWritten) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  const std::string dev = deviceName(kHubA);
  ASSERT_TRUE(host_.links.setAlias("tun-p1", dev, "").ok());  // as an agent that set no alias left it
  restart();
  const int writes = host_.writes();
  PassReport upgrade = reconciler_->syncAll();
  ASSERT_TRUE(upgrade.complete);
  EXPECT_EQ(upgrade.actions, 1u);
  EXPECT_EQ(host_.writes(), writes + 1);
  EXPECT_EQ(host_.links.get("tun-p1", dev)->alias, kMark);
  EXPECT_TRUE(log_.contains("set alias of " + dev + " (in tun-p1) to " + kMark));
  EXPECT_EQ(reconciler_->syncAll().actions, 0u);
  EXPECT_EQ(reconciler_->syncAll(Depth::kQuick).actions, 0u);
  restart();
  EXPECT_EQ(reconciler_->syncAll().actions, 0u);
  EXPECT_EQ(host_.writes(), writes + 1);
}

TEST_F(ReconcilerTest, AnotherAgentsDevicesSurviveCleanupAndNotifications) {
  // Another agent on this machine (host demo-node) realizes this hub; its device carries its mark.
  const std::string their_hub = "ffffffff-0000-0000-0000-00000000000f";
  const std::string theirs = deviceName(their_hub);
  ASSERT_TRUE(host_.create(theirs).ok());
  ASSERT_TRUE(host_.links.setAlias("", theirs, "networking-wireguard:demo-node").ok());
  // Unclaimed devices marked as ours or not marked at all are this agent's leftovers.
  const std::string ours = "wg-dddddddd-00";
  ASSERT_TRUE(host_.create(ours).ok());
  ASSERT_TRUE(host_.links.setAlias("", ours, kMark).ok());
  const std::string unmarked = "wg-eeeeeeee-00";
  ASSERT_TRUE(host_.create(unmarked).ok());

  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete);
  EXPECT_TRUE(host_.links.get("", theirs).ok());
  EXPECT_FALSE(host_.links.get("", ours).ok());
  EXPECT_FALSE(host_.links.get("", unmarked).ok());
  const std::string left_alone = "not removing devices of other agents on this machine: " + theirs +
                                 " (in the agent's namespace) belongs to host demo-node";
  auto lines = [&](Severity severity) {
    return std::count_if(log_.lines.begin(), log_.lines.end(), [&](const auto& l) {
      return l.first == severity && l.second.find(left_alone) != std::string::npos;
    });
  };
  EXPECT_EQ(lines(Severity::Info), 1);

  // Later passes, and a notification for their hub (notifications reach every agent), leave it alone;
  // the same devices are reported at DEBUG only, so they do not fill the log pass after pass.
  const int writes = host_.writes();
  ASSERT_TRUE(reconciler_->syncAll(Depth::kQuick).complete);
  EXPECT_EQ(lines(Severity::Info), 1);
  EXPECT_EQ(lines(Severity::Debug), 1);
  PassReport notified = reconciler_->syncHubs({their_hub});
  EXPECT_TRUE(notified.complete);
  EXPECT_EQ(notified.actions, 0u);
  EXPECT_TRUE(notified.removed.empty());
  EXPECT_TRUE(host_.links.get("", theirs).ok());
  EXPECT_TRUE(host_.wireguard.get({"", theirs}).ok());
  EXPECT_EQ(host_.links.get("", theirs)->alias, "networking-wireguard:demo-node");
  EXPECT_EQ(host_.writes(), writes);

  // Another of their devices appears: the changed set is worth INFO again.
  const std::string second = "wg-ffffffff-01";
  ASSERT_TRUE(host_.create(second).ok());
  ASSERT_TRUE(host_.links.setAlias("", second, "networking-wireguard:demo-node").ok());
  ASSERT_TRUE(reconciler_->syncAll().complete);
  EXPECT_TRUE(host_.links.get("", second).ok());
  EXPECT_TRUE(std::any_of(log_.lines.begin(), log_.lines.end(), [&](const auto& l) {
    return l.first == Severity::Info && l.second.find(second) != std::string::npos &&
           l.second.find("not removing devices of other agents") != std::string::npos;
  }));
}

TEST_F(ReconcilerTest, FailedOrMalformedAnswerDeletesNothing) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  const int writes = host_.writes();
  server_.fail_next = true;
  PassReport r = reconciler_->syncAll();
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.failure.find("Timeout"), std::string::npos);
  server_.malformed_next = true;
  EXPECT_FALSE(reconciler_->syncAll().complete);
  EXPECT_EQ(host_.writes(), writes);
  EXPECT_TRUE(host_.links.get("tun-p1", deviceName(kHubA)).ok());
}

TEST_F(ReconcilerTest, EmptyAnswerIsBelievedOnlyWhenConfirmed) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  auto saved = server_.hubs;
  server_.hubs.clear();
  restart();  // the first answer of a new process is empty
  PassReport first = reconciler_->syncAll();
  EXPECT_TRUE(first.complete);
  EXPECT_EQ(first.actions, 0u);
  EXPECT_TRUE(host_.links.get("tun-p1", deviceName(kHubA)).ok());
  EXPECT_TRUE(log_.contains("keeping existing devices"));
  PassReport second = reconciler_->syncAll();
  EXPECT_EQ(second.removed, std::vector<std::string>{kHubA});
  EXPECT_FALSE(host_.links.get("tun-p1", deviceName(kHubA)).ok());
  EXPECT_FALSE(identities_->find(kHubA).has_value());
  EXPECT_FALSE(std::filesystem::exists(identities_->pathOf(kHubA)));
  EXPECT_FALSE(*host_.namespaces.exists("tun-p1"));  // emptied project namespace removed
}

TEST_F(ReconcilerTest, HubDeletedInNeutronIsRemovedAfterNotification) {
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  ASSERT_TRUE(reconciler_->syncAll().complete);
  server_.hubs.erase(kHubA);
  PassReport r = reconciler_->syncHubs({kHubA});
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.removed, std::vector<std::string>{kHubA});
  EXPECT_FALSE(host_.links.get("tun-p1", deviceName(kHubA)).ok());
  EXPECT_TRUE(host_.links.get("tun-p1", deviceName(kHubB)).ok());
  EXPECT_FALSE(identities_->find(kHubA).has_value());
  EXPECT_TRUE(identities_->find(kHubB).has_value());
  EXPECT_TRUE(*host_.namespaces.exists("tun-p1"));  // still holds kHubB
  server_.hubs.erase(kHubB);
  EXPECT_EQ(reconciler_->syncHubs({kHubB}).removed, std::vector<std::string>{kHubB});
  EXPECT_FALSE(*host_.namespaces.exists("tun-p1"));  // emptied: removed with its last hub
}

TEST_F(ReconcilerTest, NotificationForAHubOfAnotherHostChangesNothing) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  const int writes = host_.writes();
  PassReport r = reconciler_->syncHubs({"ffffffff-0000-0000-0000-00000000000f"});
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.removed.empty());
  EXPECT_EQ(r.actions, 0u);
  EXPECT_EQ(host_.writes(), writes);
}

TEST_F(ReconcilerTest, OneChangedSpokeIsOnePeerUpdate) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  host_.wireguard.resetCounts();
  const int link_writes = host_.links.mutations();
  Key newcomer = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("dddd0000-0000", newcomer, "10.10.0.6"));
  PassReport r = reconciler_->syncHubs({kHubA});
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.actions, 1u);
  EXPECT_EQ(host_.wireguard.counts().set, 1);
  EXPECT_EQ(host_.wireguard.counts().writes(), 1);
  EXPECT_EQ(host_.links.mutations(), link_writes);
  auto updates = host_.wireguard.updates();
  ASSERT_EQ(updates.size(), 1u);
  ASSERT_EQ(updates[0].peers.size(), 1u);
  EXPECT_EQ(updates[0].peers[0].public_key, newcomer);
}

TEST_F(ReconcilerTest, RecreatedDeviceGetsLearnedEndpointsBack) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  // The spoke (no endpoint in Neutron) handshakes from behind a NAT: the hub learns its endpoint.
  wg::Device learned;
  wg::Peer p;
  p.public_key = spoke_key_;
  p.endpoint = *Endpoint::parse("203.0.113.77:40001");
  learned.peers.push_back(p);
  ASSERT_TRUE(host_.wireguard.set({"tun-p1", deviceName(kHubA)}, learned).ok());
  ASSERT_TRUE(reconciler_->syncAll().complete);  // observed: remembered
  host_.vanish("tun-p1", deviceName(kHubA));
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_EQ(deviceOf(kHubA).peers.size(), 1u);
  EXPECT_EQ(deviceOf(kHubA).peers[0].endpoint, p.endpoint);
}

TEST_F(ReconcilerTest, DnsNamedSpokeEndpointsAreResolvedEachPass) {
  std::map<std::string, std::string> dns{{"spoke.example.net", "198.51.100.40"}};
  int lookups = 0;
  options_.resolve = [&](const std::string& host) -> Result<IpAddress> {
    ++lookups;
    auto it = dns.find(host);
    if (it == dns.end()) return fail("Name or service not known");
    return IpAddress::parse(it->second);
  };
  restart();
  server_.hubs[kHubA]["spokes"][0]["endpoint"] = "spoke.example.net:51821";
  Key other = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("dddd0000-0000", other, "10.10.0.6"));
  server_.hubs[kHubA]["spokes"][1]["endpoint"] = "spoke.example.net:51822";
  ASSERT_TRUE(reconciler_->syncAll().realized.size() == 1);
  EXPECT_EQ(lookups, 1);  // one lookup per name and pass
  for (const auto& p : deviceOf(kHubA).peers) {
    ASSERT_TRUE(p.endpoint.has_value());
    EXPECT_EQ(p.endpoint->address().toString(), "198.51.100.40");
  }
  // The name now points elsewhere: the next pass follows it (Neutron's value is the name).
  dns["spoke.example.net"] = "198.51.100.41";
  ASSERT_TRUE(reconciler_->syncAll().complete);
  for (const auto& p : deviceOf(kHubA).peers) EXPECT_EQ(p.endpoint->address().toString(), "198.51.100.41");
  // An unresolvable name leaves the peers as they are, with a warning.
  dns.clear();
  PassReport r = reconciler_->syncAll();
  EXPECT_TRUE(r.failed.empty());
  EXPECT_TRUE(log_.contains("cannot resolve endpoint spoke.example.net"));
}

TEST_F(ReconcilerTest, FailingHubDoesNotStopTheOthers) {
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  // kHubA sorts first; its device creation fails.
  host_.wireguard.failNext(wg::FakeBackend::Op::kCreate, Error("wireguard-go did not start", EIO));
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubB});
  ASSERT_EQ(r.failed.count(kHubA), 1u);
  EXPECT_NE(r.failed.at(kHubA).find("wireguard-go did not start"), std::string::npos);
  EXPECT_EQ(server_.hubs[kHubB]["status"], "ACTIVE");
  EXPECT_EQ(server_.hubs[kHubA]["status"], "DOWN");
  // The retry realizes it with the identity stored the first time.
  auto identity = identities_->find(kHubA);
  ASSERT_TRUE(identity.has_value());
  PassReport retry = reconciler_->syncHubs({kHubA});
  EXPECT_EQ(retry.realized, std::vector<std::string>{kHubA});
  EXPECT_EQ(deviceOf(kHubA).private_key, identity->private_key);
}

TEST_F(ReconcilerTest, VanishedDeviceComesBackWithTheSameIdentity) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  wg::Device before = deviceOf(kHubA);
  host_.vanish("tun-p1", deviceName(kHubA));
  PassReport r = reconciler_->syncAll();
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubA});
  wg::Device after = deviceOf(kHubA);
  EXPECT_EQ(after.private_key, before.private_key);
  EXPECT_EQ(after.listen_port, before.listen_port);
  EXPECT_EQ(after.peers.size(), before.peers.size());
}

TEST_F(ReconcilerTest, ARecreatedDeviceGreetsItsSpokesAndLeavesTheirKeepaliveOff) {
  server_.hubs[kHubA]["spokes"][0]["endpoint"] = "198.51.100.2:51820";
  ASSERT_TRUE(reconciler_->syncAll().complete);
  host_.vanish("tun-p1", deviceName(kHubA));
  const size_t before = host_.wireguard.updates().size();
  ASSERT_TRUE(reconciler_->syncAll().complete);
  // Keepalive on (WireGuard handshakes at once), then off again: two writes naming only that peer.
  std::vector<wg::Device> updates = host_.wireguard.updates();
  ASSERT_GE(updates.size(), before + 2);
  const wg::Device& on = updates[updates.size() - 2];
  const wg::Device& off = updates.back();
  ASSERT_EQ(on.peers.size(), 1u);
  EXPECT_EQ(on.peers[0].public_key, spoke_key_);
  EXPECT_TRUE(on.peers[0].update_only);
  EXPECT_EQ(on.peers[0].persistent_keepalive, kGreetingKeepalive);
  ASSERT_EQ(off.peers.size(), 1u);
  EXPECT_EQ(off.peers[0].persistent_keepalive, 0);
  EXPECT_FALSE(off.private_key.has_value());
  EXPECT_TRUE(log_.contains("greet 1 peer of " + deviceName(kHubA) + " (in tun-p1)"));
  wg::Device after = deviceOf(kHubA);
  ASSERT_EQ(after.peers.size(), 1u);
  EXPECT_EQ(after.peers[0].persistent_keepalive, 0);
  EXPECT_EQ(after.peers[0].endpoint, *Endpoint::parse("198.51.100.2:51820"));
  // Converged: the next pass writes nothing.
  const int writes = host_.writes();
  EXPECT_EQ(reconciler_->syncAll().actions, 0u);
  EXPECT_EQ(host_.writes(), writes);
}

TEST_F(ReconcilerTest, DryRunLogsEveryOperationAndPerformsNone) {
  restart(/*dry_run=*/true);
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete);
  EXPECT_GT(r.actions, 5u);
  EXPECT_EQ(host_.writes(), 0);
  EXPECT_EQ(server_.writes, 0);
  EXPECT_FALSE(identities_->find(kHubA).has_value());
  EXPECT_TRUE(std::filesystem::is_empty(state_dir_));
  EXPECT_TRUE(log_.contains("dry run: would create WireGuard device " + deviceName(kHubA)));
  EXPECT_TRUE(log_.contains("dry run: would move " + deviceName(kHubA)));
  EXPECT_TRUE(log_.contains("dry run: would set alias of " + deviceName(kHubA)));
  EXPECT_TRUE(log_.contains("dry run: would report ACTIVE"));
}

TEST_F(ReconcilerTest, IgnoredDevicesAreNeverTouched) {
  const std::string stray = "wg-eeeeeeee-00";
  ASSERT_TRUE(host_.create(stray).ok());
  options_.ignored_devices = {stray};
  restart();
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_TRUE(reconciler_->syncAll().complete);
  EXPECT_TRUE(host_.links.get("", stray).ok());
  options_.ignored_devices.clear();
  restart();
  ASSERT_TRUE(reconciler_->syncAll().complete);
  EXPECT_FALSE(host_.links.get("", stray).ok());  // unclaimed and not ignored: removed
}

TEST_F(ReconcilerTest, UnreadableIdentityIsNeverReplacedByANewKey) {
  {
    std::ofstream f(identities_->pathOf(kHubA));
    f << "[Interface]\nPrivateKey = broken\n";
  }
  restart();
  PassReport r = reconciler_->syncAll();
  ASSERT_EQ(r.failed.count(kHubA), 1u);
  EXPECT_NE(r.failed.at(kHubA).find("refusing to generate a new key"), std::string::npos);
  EXPECT_FALSE(host_.links.get("", deviceName(kHubA)).ok());
  EXPECT_TRUE(std::filesystem::exists(identities_->pathOf(kHubA)));
}

TEST_F(ReconcilerTest, LostStateIsAdoptedFromTheRunningDevice) {
  ASSERT_TRUE(reconciler_->syncAll().complete);
  wg::Device before = deviceOf(kHubA);
  std::filesystem::remove(identities_->pathOf(kHubA));
  restart();
  PassReport r = reconciler_->syncAll();
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubA});
  EXPECT_EQ(r.actions, 0u);
  auto identity = identities_->find(kHubA);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->private_key, before.private_key);
  EXPECT_EQ(identity->listen_port, before.listen_port);
}

TEST_F(ReconcilerTest, NewHubsAvoidPortsInUse) {
  busy_ports_ = {51820, 51821};
  restart();
  ASSERT_TRUE(reconciler_->syncAll().complete);
  EXPECT_EQ(identities_->find(kHubA)->listen_port, 51822);
}

// Converged, settled (statuses reported), and a first quick pass that recorded the digests.
void settle(Reconciler& r) {
  ASSERT_TRUE(r.syncAll().complete);
  ASSERT_TRUE(r.syncAll().complete);
  ASSERT_TRUE(r.syncAll(Depth::kQuick).complete);
}

TEST_F(ReconcilerTest, QuickPassWithNothingChangedReadsNoDeviceAndWritesNothing) {
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  settle(*reconciler_);
  host_.wireguard.resetCounts();
  const int writes = host_.writes();
  const int stubs = server_.stubs;
  PassReport r = reconciler_->syncAll(Depth::kQuick);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.realized, (std::vector<std::string>{kHubA, kHubB}));
  EXPECT_EQ(r.actions, 0u);
  EXPECT_EQ(r.peers, 1u);
  EXPECT_TRUE(server_.sent_digests.back());
  EXPECT_EQ(server_.stubs - stubs, 2);         // both hubs came back as "unchanged"
  EXPECT_EQ(host_.wireguard.counts().get, 0);  // no WireGuard state read
  EXPECT_EQ(host_.writes(), writes);
}

TEST_F(ReconcilerTest, QuickPassNoticesAVanishedDevice) {
  settle(*reconciler_);
  wg::Device before = deviceOf(kHubA);
  host_.vanish("tun-p1", deviceName(kHubA));
  PassReport r = reconciler_->syncAll(Depth::kQuick);
  EXPECT_GT(r.actions, 0u);
  EXPECT_EQ(deviceOf(kHubA).private_key, before.private_key);
  EXPECT_EQ(deviceOf(kHubA).peers.size(), 1u);
}

TEST_F(ReconcilerTest, QuickPassNoticesALinkSetDownByHand) {
  settle(*reconciler_);
  ASSERT_TRUE(host_.links.setUp("tun-p1", deviceName(kHubA), false).ok());
  PassReport r = reconciler_->syncAll(Depth::kQuick);
  EXPECT_EQ(r.actions, 1u);
  EXPECT_TRUE(host_.links.get("tun-p1", deviceName(kHubA))->up);
}

TEST_F(ReconcilerTest, QuickPassRestoresAnAliasChangedByHand) {
  settle(*reconciler_);
  ASSERT_TRUE(host_.links.setAlias("tun-p1", deviceName(kHubA), "renamed by hand").ok());
  EXPECT_EQ(reconciler_->syncAll(Depth::kQuick).actions, 1u);
  EXPECT_EQ(host_.links.get("tun-p1", deviceName(kHubA))->alias, kMark);
}

TEST_F(ReconcilerTest, QuickPassFollowsChangesTheServerReports) {
  settle(*reconciler_);
  // A spoke added without a notification reaching the agent: the digest differs, the hub is redone.
  Key newcomer = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("dddd0000-0000", newcomer, "10.10.0.6"));
  PassReport r = reconciler_->syncAll(Depth::kQuick);
  EXPECT_EQ(r.actions, 1u);
  EXPECT_EQ(deviceOf(kHubA).peers.size(), 2u);
  // A hub deleted in Neutron while the agent missed the notification: gone from the answer, removed.
  server_.hubs.clear();
  reconciler_->syncAll(Depth::kQuick);  // an empty answer is believed only when confirmed
  r = reconciler_->syncAll(Depth::kQuick);
  EXPECT_EQ(r.removed, std::vector<std::string>{kHubA});
  EXPECT_FALSE(host_.links.get("tun-p1", deviceName(kHubA)).ok());
}

TEST_F(ReconcilerTest, PeerRemovedByHandIsRestoredByTheNextDeepPass) {
  settle(*reconciler_);
  wg::Device removal;
  wg::Peer gone;
  gone.public_key = spoke_key_;
  gone.remove = true;
  removal.peers.push_back(gone);
  ASSERT_TRUE(host_.wireguard.set({"tun-p1", deviceName(kHubA)}, removal).ok());
  // A quick pass trusts what it verified (its link did not change): the drift waits for a deep pass.
  EXPECT_EQ(reconciler_->syncAll(Depth::kQuick).actions, 0u);
  EXPECT_TRUE(deviceOf(kHubA).peers.empty());
  EXPECT_EQ(reconciler_->syncAll(Depth::kDeep).actions, 1u);
  EXPECT_EQ(deviceOf(kHubA).peers.size(), 1u);
}

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

}  // namespace
}  // namespace nwg::reconcile
