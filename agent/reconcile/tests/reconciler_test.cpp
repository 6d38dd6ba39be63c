#include "reconcile/reconciler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

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
  void TearDown() override {
    dns_.releaseAll();
    while (resolver_ && resolver_->busy() > 0) std::this_thread::yield();  // lookups use dns_
    reconciler_.reset();
    resolver_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  // A fresh agent process on the same host and state directory.
  void restart(bool dry_run = false) {
    dns_.releaseAll();
    while (resolver_ && resolver_->busy() > 0) std::this_thread::yield();
    reconciler_.reset();
    resolver_.reset();
    applier_.reset();
    observer_.reset();
    identities_ = std::make_unique<IdentityStore>(state_dir_);
    ASSERT_TRUE(identities_->load().ok());
    observer_ = std::make_unique<Observer>(host_.links, host_.namespaces, host_);
    applier_ = std::make_unique<Applier>(host_.links, host_.namespaces, host_, log_, dry_run);
    resolver_ = std::make_unique<EndpointResolver>(
        [this](const std::string& name) { return dns_.lookup(name); }, resolver_options_,
        [this](const std::string& name) {
          std::lock_guard lock(changed_mu_);
          changed_names_.push_back(name);
          changed_cv_.notify_all();
        });
    reconciler_ = std::make_unique<Reconciler>(server_, *observer_, *applier_, *identities_, log_, options_,
                                               facts_, *resolver_);
  }

  // Waits until the resolver reported a change of `name` (an answer that arrived after a pass).
  bool waitForNameChange(const std::string& name) {
    std::unique_lock lock(changed_mu_);
    return changed_cv_.wait_for(lock, std::chrono::seconds(30), [&] {
      return std::find(changed_names_.begin(), changed_names_.end(), name) != changed_names_.end();
    });
  }
  void forgetNameChanges() {
    std::lock_guard lock(changed_mu_);
    changed_names_.clear();
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
  FakeHostFacts facts_;
  FakeDns dns_;
  EndpointResolver::Options resolver_options_;
  std::mutex changed_mu_;
  std::condition_variable changed_cv_;
  std::vector<std::string> changed_names_;
  Key spoke_key_;
  std::unique_ptr<EndpointResolver> resolver_;
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
  // The device was created knowing its spokes (wireguard-go's "auto" memory limit is sized by them).
  EXPECT_EQ(host_.expected_peers_at_create[dev], 1u);
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
  ASSERT_TRUE(host_.create(theirs, {}).ok());
  ASSERT_TRUE(host_.links.setAlias("", theirs, "networking-wireguard:demo-node").ok());
  // Unclaimed devices marked as ours or not marked at all are this agent's leftovers.
  const std::string ours = "wg-dddddddd-00";
  ASSERT_TRUE(host_.create(ours, {}).ok());
  ASSERT_TRUE(host_.links.setAlias("", ours, kMark).ok());
  const std::string unmarked = "wg-eeeeeeee-00";
  ASSERT_TRUE(host_.create(unmarked, {}).ok());

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
  ASSERT_TRUE(host_.create(second, {}).ok());
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

TEST_F(ReconcilerTest, DnsNamedSpokeEndpointsAreResolvedAndFollowed) {
  dns_.set("spoke.example.net", "198.51.100.40");
  resolver_options_.refresh_interval = std::chrono::milliseconds(0);  // every full pass re-resolves
  restart();
  server_.hubs[kHubA]["spokes"][0]["endpoint"] = "spoke.example.net:51821";
  Key other = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("dddd0000-0000", other, "10.10.0.6"));
  server_.hubs[kHubA]["spokes"][1]["endpoint"] = "spoke.example.net:51822";
  // A fast answer arrives within the pass's budget: the first pass configures the endpoints.
  ASSERT_EQ(reconciler_->syncAll().realized.size(), 1u);
  // Per name, not per spoke (two spokes use it): once when first seen, and once more when the full
  // pass renews the names in use (refresh_interval 0 here), which runs after the pass.
  while (resolver_->busy() > 0) std::this_thread::yield();
  EXPECT_EQ(dns_.lookups(), 2);
  for (const auto& p : deviceOf(kHubA).peers) {
    ASSERT_TRUE(p.endpoint.has_value());
    EXPECT_EQ(p.endpoint->address().toString(), "198.51.100.40");
  }
  EXPECT_EQ(reconciler_->hubsUsingName("spoke.example.net"), std::set<std::string>{kHubA});
  // The name now points elsewhere: a full pass re-resolves it, the resolver names the change, and
  // syncing the hubs using it follows it (Neutron's value is the name).
  forgetNameChanges();
  dns_.set("spoke.example.net", "198.51.100.41");
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_TRUE(waitForNameChange("spoke.example.net"));
  ASSERT_TRUE(reconciler_->syncHubs(reconciler_->nameChanged("spoke.example.net")).complete);
  for (const auto& p : deviceOf(kHubA).peers) EXPECT_EQ(p.endpoint->address().toString(), "198.51.100.41");
  // An unresolvable name: the spokes are configured without it, with a warning; the hub is fine.
  forgetNameChanges();
  dns_.clear();
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_TRUE(waitForNameChange("spoke.example.net"));
  PassReport r = reconciler_->syncHubs(reconciler_->nameChanged("spoke.example.net"));
  EXPECT_TRUE(r.failed.empty());
  EXPECT_TRUE(log_.contains("cannot resolve endpoint spoke.example.net"));
}

TEST_F(ReconcilerTest, AResolverThatNeverAnswersDelaysNoOtherHub) {
  options_.dns_wait_budget = std::chrono::milliseconds(50);
  restart();
  dns_.set("slow.example.net", "198.51.100.50");
  dns_.block("slow.example.net");  // never answers until released
  server_.hubs[kHubA]["spokes"][0]["endpoint"] = "slow.example.net:51821";
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  Key b_spoke = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubB]["spokes"].push_back(FakeServer::spoke("eeee0000-0000", b_spoke, "10.10.0.7"));
  server_.hubs[kHubB]["spokes"][0]["endpoint"] = "198.51.100.7:51820";
  // The pass ends while the lookup still hangs: both hubs realized, A's spoke without an endpoint.
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(std::set<std::string>(r.realized.begin(), r.realized.end()),
            (std::set<std::string>{kHubA, kHubB}));
  EXPECT_EQ(resolver_->busy(), 1u);
  ASSERT_EQ(deviceOf(kHubB).peers.size(), 1u);
  EXPECT_EQ(deviceOf(kHubB).peers[0].endpoint->toString(), "198.51.100.7:51820");
  ASSERT_EQ(deviceOf(kHubA).peers.size(), 1u);
  EXPECT_FALSE(deviceOf(kHubA).peers[0].endpoint.has_value());
  // The answer comes later: the resolver names the hub to sync again, which then gets the endpoint.
  dns_.releaseAll();
  ASSERT_TRUE(waitForNameChange("slow.example.net"));
  EXPECT_EQ(reconciler_->hubsUsingName("slow.example.net"), std::set<std::string>{kHubA});
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  EXPECT_EQ(deviceOf(kHubA).peers[0].endpoint->toString(), "198.51.100.50:51821");
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
  ASSERT_TRUE(host_.create(stray, {}).ok());
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
  facts_.busy_ports = {51820, 51821};
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

// --- what a tenant's input or a broker peer must not make the agent do (docs/security.md) -------

TEST_F(ReconcilerTest, RootDeviceHubIsRefusedUnlessTheNodeAllowsIt) {
  server_.hubs[kHubA]["root_device"] = true;
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubB});
  ASSERT_EQ(r.failed.count(kHubA), 1u);
  EXPECT_NE(r.failed.at(kHubA).find("allow_root_device"), std::string::npos) << r.failed.at(kHubA);
  EXPECT_FALSE(host_.links.get("", deviceName(kHubA)).ok());  // nothing in the node's own namespace
  EXPECT_FALSE(identities_->find(kHubA).has_value());
  EXPECT_EQ(server_.hubs[kHubA]["status"], "DOWN");
  EXPECT_EQ(server_.hubs[kHubB]["status"], "ACTIVE");
  // An operator who wants it says so.
  options_.allow_root_device = true;
  restart();
  r = reconciler_->syncAll();
  EXPECT_EQ(r.realized, (std::vector<std::string>{kHubA, kHubB}));
  EXPECT_TRUE(host_.links.get("", deviceName(kHubA)).ok());
}

TEST_F(ReconcilerTest, SpokeEndpointsOnTheNodeOrReservedRangesAreDropped) {
  facts_.addresses = {*IpAddress::parse("192.0.2.10"), *IpAddress::parse("2001:db8::10")};
  options_.endpoint_policy = EndpointPolicy({*IpPrefix::parse("10.99.0.0/16")});
  dns_.set("evil.example.net", "127.0.0.2");
  restart();
  const std::vector<std::string> refused = {
      "127.0.0.1:51820",          "169.254.169.254:80", "224.0.0.1:51820",
      "255.255.255.255:51820",    "0.0.0.0:51820",      "[::1]:51820",
      "[fe80::1]:51820",          "[ff02::1]:51820",    "[::]:51820",
      "[::ffff:127.0.0.1]:51820", "192.0.2.10:51820",   "[2001:db8::10]:51820",
      "203.0.113.1:51820",        "10.99.3.4:51820",    "evil.example.net:51820"};
  json& spokes = server_.hubs[kHubA]["spokes"];
  spokes.clear();
  std::map<Key, std::string> endpoint_of;
  for (size_t i = 0; i < refused.size() + 1; ++i) {
    Key key = publicKeyOf(generatePrivateKey());
    const std::string endpoint = i < refused.size() ? refused[i] : "198.51.100.9:51820";
    json spoke = FakeServer::spoke(str("cccc0000-0000-", 1000 + i), key, str("10.10.0.", 10 + i));
    spoke["endpoint"] = endpoint;
    spokes.push_back(spoke);
    endpoint_of[key] = endpoint;
  }
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubA});
  wg::Device d = deviceOf(kHubA);
  ASSERT_EQ(d.peers.size(), refused.size() + 1);  // every spoke is a peer; only the endpoints go
  for (const auto& peer : d.peers) {
    const std::string& asked = endpoint_of[peer.public_key];
    if (asked == "198.51.100.9:51820") {
      ASSERT_TRUE(peer.endpoint.has_value());
      EXPECT_EQ(peer.endpoint->toString(), asked);
    } else {
      EXPECT_FALSE(peer.endpoint.has_value()) << asked << " became " << peer.endpoint->toString();
    }
  }
  EXPECT_TRUE(log_.contains("169.254.169.254 is link-local"));
  EXPECT_TRUE(log_.contains("192.0.2.10 is an address of this network node"));
  EXPECT_TRUE(log_.contains("10.99.3.4 is in [wireguard] denied_endpoint_cidrs (10.99.0.0/16)"));
  EXPECT_TRUE(log_.contains("127.0.0.2 is loopback"));  // what the DNS name resolved to
  // Said once per spoke, not every pass.
  const auto count = [&] {
    std::lock_guard lock(log_.mu);
    return std::count_if(log_.lines.begin(), log_.lines.end(), [](const auto& l) {
      return l.second.find("endpoint refused") != std::string::npos;
    });
  };
  const auto said = count();
  ASSERT_TRUE(reconciler_->syncAll().complete);
  EXPECT_EQ(count(), said);
}

TEST_F(ReconcilerTest, ANotificationForAnotherPortWithTheSameDevicePrefixRemovesNothing) {
  settle(*reconciler_);
  // Names the same 11 first characters (so the same device name) but is not this agent's hub.
  const std::string lookalike = kHubA.substr(0, 11) + "ff-ffff-ffff-ffffffffffff";
  ASSERT_EQ(lookalike.size(), kHubA.size());
  ASSERT_EQ(deviceName(lookalike), deviceName(kHubA));
  const int writes = host_.writes();
  PassReport r = reconciler_->syncHubs({lookalike});
  ASSERT_TRUE(r.complete);
  EXPECT_TRUE(r.removed.empty());
  EXPECT_EQ(host_.writes(), writes);
  EXPECT_TRUE(host_.links.get("tun-p1", deviceName(kHubA)).ok());
  EXPECT_TRUE(identities_->find(kHubA).has_value());
  // The real hub, positively gone, still goes.
  server_.hubs.erase(kHubA);
  r = reconciler_->syncHubs({kHubA});
  EXPECT_EQ(r.removed, std::vector<std::string>{kHubA});
  EXPECT_FALSE(host_.links.get("tun-p1", deviceName(kHubA)).ok());
}

TEST_F(ReconcilerTest, ADeviceThatCannotBeReadFailsItsHubOnlyAndIsNeverRemoved) {
  options_.replace_unreadable_after = 1000;  // this test is about failing, not replacing
  restart();
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  settle(*reconciler_);
  const std::string dev = deviceName(kHubA);
  const auto identity = identities_->find(kHubA);
  int b_spokes = 0;
  struct Injection {
    const char* what;
    std::function<void()> inject;
  };
  const std::vector<Injection> injections = {
      {"timeout",
       [&] { host_.unreadable[dev] = Error("wireguard-go did not answer within 10000 ms", ETIMEDOUT); }},
      {"broken pipe", [&] { host_.unreadable[dev] = Error("closed the connection without a reply", EPIPE); }},
      {"I/O error", [&] { host_.unreadable[dev] = Error("malformed reply", EIO); }},
      {"permission", [&] { host_.unreadable[dev] = Error("connect: permission denied", EACCES); }},
      {"addresses", [&] { host_.links.failNext("addresses", Error("address dump failed (injected)", EIO)); }},
  };
  for (const auto& injection : injections) {
    SCOPED_TRACE(injection.what);
    injection.inject();
    // Meanwhile a spoke joins hub B: B must carry on.
    Key key = publicKeyOf(generatePrivateKey());
    server_.hubs[kHubB]["spokes"].push_back(
        FakeServer::spoke(str("dddd0000-0000-", 1000 + b_spokes), key, str("10.10.0.", 100 + b_spokes)));
    ++b_spokes;
    PassReport r = reconciler_->syncAll(Depth::kDeep);
    ASSERT_TRUE(r.complete) << r.failure;
    EXPECT_EQ(r.realized, std::vector<std::string>{kHubB});
    ASSERT_EQ(r.failed.count(kHubA), 1u);
    EXPECT_TRUE(r.removed.empty());
    EXPECT_EQ(deviceOf(kHubB).peers.size(), static_cast<size_t>(b_spokes));
    EXPECT_EQ(server_.hubs[kHubA]["status"], "DOWN");
    EXPECT_EQ(server_.hubs[kHubB]["status"], "ACTIVE");
    // Still there, untouched, with its identity.
    EXPECT_TRUE(host_.links.get("tun-p1", dev).ok());
    EXPECT_EQ(identities_->find(kHubA), identity);
    // A notification-driven sync of the hub fails it again and removes nothing either.
    if (host_.unreadable.count(dev)) {
      PassReport again = reconciler_->syncHubs({kHubA});
      EXPECT_EQ(again.failed.count(kHubA), 1u);
      EXPECT_TRUE(again.removed.empty());
    }
    host_.unreadable.erase(dev);
    PassReport healed = reconciler_->syncAll(Depth::kDeep);
    EXPECT_EQ(healed.realized, (std::vector<std::string>{kHubA, kHubB}));
    EXPECT_EQ(server_.hubs[kHubA]["status"], "ACTIVE");
  }
}

TEST_F(ReconcilerTest, AWedgedDeviceIsReplacedWithTheSameKeyAndPort) {
  options_.replace_unreadable_after = 2;
  restart();
  settle(*reconciler_);
  const std::string dev = deviceName(kHubA);
  const auto identity = identities_->find(kHubA);
  ASSERT_TRUE(identity.has_value());
  host_.unreadable[dev] = Error("wireguard-go did not answer within 10000 ms", ETIMEDOUT);
  // A deep pass reads the device (notification-driven passes trust a verified device: docs/scale.md).
  PassReport first = reconciler_->syncAll(Depth::kDeep);
  EXPECT_EQ(first.failed.count(kHubA), 1u);
  EXPECT_TRUE(host_.unreadable.count(dev));  // left alone once: it may only be slow
  PassReport second = reconciler_->syncHubs({kHubA});
  EXPECT_EQ(second.realized, std::vector<std::string>{kHubA});
  EXPECT_TRUE(log_.contains("replacing it with the same key and listen port"));
  wg::Device d = deviceOf(kHubA);
  EXPECT_EQ(d.private_key, identity->private_key);
  EXPECT_EQ(d.listen_port, identity->listen_port);
  ASSERT_EQ(d.peers.size(), 1u);
  EXPECT_EQ(d.peers[0].public_key, spoke_key_);
  EXPECT_EQ(server_.hubs[kHubA]["status"], "ACTIVE");
  // An error that a new device would meet again (permission) is never a reason to replace one.
  host_.unreadable[dev] = Error("connect: permission denied", EACCES);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(reconciler_->syncAll(Depth::kDeep).failed.count(kHubA), 1u);
  EXPECT_TRUE(host_.unreadable.count(dev));
}

// --- big hubs: the cost of a change follows the change (docs/scale.md) -----------------------------

TEST_F(ReconcilerTest, ASpokeChangeOnATrustedHubIsAWriteOfItsPeerOnly) {
  settle(*reconciler_);
  host_.wireguard.resetCounts();
  // Added.
  Key added = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("dddd0000-0000", added, "10.10.0.6"));
  server_.hubs[kHubA]["spokes"].back()["endpoint"] = "198.51.100.6:51820";
  const int deltas = server_.deltas;
  PassReport r = reconciler_->syncHubs({kHubA});
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubA});
  EXPECT_EQ(server_.deltas - deltas, 1);            // the server sent only what changed
  EXPECT_EQ(host_.wireguard.counts().get, 0);       // the device was not read
  EXPECT_EQ(host_.wireguard.counts().writes(), 1);  // one write
  EXPECT_EQ(r.actions, 1u);
  ASSERT_EQ(deviceOf(kHubA).peers.size(), 2u);
  // Re-addressed and moved (endpoint): the peer updated in place.
  server_.hubs[kHubA]["spokes"].back()["fixed_ips"] =
      json{{{"ip_address", "10.10.0.16"}, {"subnet_id", "s1"}}};
  server_.hubs[kHubA]["spokes"].back()["endpoint"] = "198.51.100.16:51820";
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  for (const auto& p : deviceOf(kHubA).peers) {
    if (p.public_key != added) continue;
    EXPECT_EQ(join(p.allowed_ips, ","), "10.10.0.16/32");
    EXPECT_EQ(p.endpoint->toString(), "198.51.100.16:51820");
  }
  // Re-keyed: the old peer goes, the new one comes with the same address.
  Key rekeyed = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"].back()["public_key"] = rekeyed.toBase64();
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  std::set<std::string> keys;
  for (const auto& p : deviceOf(kHubA).peers) keys.insert(p.public_key.toBase64());
  EXPECT_EQ(keys, (std::set<std::string>{spoke_key_.toBase64(), rekeyed.toBase64()}));
  // Removed.
  server_.hubs[kHubA]["spokes"].erase(server_.hubs[kHubA]["spokes"].end() - 1);
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  ASSERT_EQ(deviceOf(kHubA).peers.size(), 1u);
  EXPECT_EQ(deviceOf(kHubA).peers[0].public_key, spoke_key_);
  EXPECT_EQ(host_.wireguard.counts().get, 5);  // only deviceOf() above read it: the agent never did
  // And a deep pass finds the device exactly as the trusted path left it.
  EXPECT_EQ(reconciler_->syncAll(Depth::kDeep).actions, 0u);
}

TEST_F(ReconcilerTest, ANotifiedPassOnTrustedHubsLooksOnlyWhereTheyAre) {
  // Hub B in another project: its namespace is none of a notified pass of hub A's business.
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  server_.hubs[kHubB]["project_id"] = "p2";
  settle(*reconciler_);
  host_.links.resetLists();
  server_.hubs[kHubA]["spokes"].push_back(
      FakeServer::spoke("dddd0000-0000", publicKeyOf(generatePrivateKey()), "10.10.0.6"));
  PassReport r = reconciler_->syncHubs({kHubA});
  ASSERT_TRUE(r.complete) << r.failure;
  EXPECT_EQ(deviceOf(kHubA).peers.size(), 2u);
  EXPECT_EQ(host_.links.lists(), (std::map<std::string, int>{{"tun-p1", 1}}));

  // The device set down by hand: the trusted look finds it changed, and the pass looks everywhere.
  ASSERT_TRUE(host_.links.setUp("tun-p1", deviceName(kHubA), false).ok());
  host_.links.resetLists();
  server_.hubs[kHubA]["spokes"].push_back(
      FakeServer::spoke("dddd0000-0001", publicKeyOf(generatePrivateKey()), "10.10.0.7"));
  r = reconciler_->syncHubs({kHubA});
  ASSERT_TRUE(r.complete) << r.failure;
  EXPECT_TRUE(host_.links.get("tun-p1", deviceName(kHubA))->up);
  EXPECT_EQ(deviceOf(kHubA).peers.size(), 3u);
  EXPECT_EQ(host_.links.lists().count("tun-p2"), 1u);
  EXPECT_EQ(host_.links.lists().count(""), 1u);

  // A hub named but no longer listed (deleted): everywhere too, to find its device.
  host_.links.resetLists();
  server_.hubs.erase(kHubB);
  ASSERT_TRUE(reconciler_->syncHubs({kHubB}).complete);
  EXPECT_FALSE(host_.links.get("tun-p2", deviceName(kHubB)).ok());
  EXPECT_EQ(host_.links.lists().count(""), 1u);
}

TEST_F(ReconcilerTest, ABurstOfSpokesIsOneWrite) {
  settle(*reconciler_);
  host_.wireguard.resetCounts();
  for (int i = 0; i < 200; ++i) {
    server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke(str("dddd", 1000 + i, "-0000"),
                                                              publicKeyOf(generatePrivateKey()),
                                                              str("10.10.", 1 + i / 200, ".", 1 + i % 200)));
  }
  server_.hubs[kHubA]["fixed_ips"][0]["cidr"] = "10.10.0.0/16";  // room for the burst's addresses
  server_.hubs[kHubA]["fixed_ips"][0]["ip_address"] = "10.10.0.1";
  // (the hub's own fields changed too: that pass takes the full path once, the next verifies)
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  ASSERT_EQ(reconciler_->syncHubs({kHubA}).actions, 0u);
  host_.wireguard.resetCounts();
  for (int i = 0; i < 200; ++i) {
    server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke(str("eeee", 1000 + i, "-0000"),
                                                              publicKeyOf(generatePrivateKey()),
                                                              str("10.10.", 2 + i / 200, ".", 1 + i % 200)));
  }
  PassReport r = reconciler_->syncHubs({kHubA});
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(host_.wireguard.counts().get, 0);
  EXPECT_EQ(host_.wireguard.counts().writes(), 1);
  EXPECT_EQ(deviceOf(kHubA).peers.size(), 401u);
}

TEST_F(ReconcilerTest, AHubLargerThanAnAnswerIsReadPageByPage) {
  options_.spokes_per_answer = 7;
  restart();
  for (int i = 0; i < 30; ++i) {
    server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke(
        str("dddd", 1000 + i, "-0000"), publicKeyOf(generatePrivateKey()), str("10.10.0.", 20 + i)));
  }
  // A spoke changes while the pages are read: the catch-up delta at the end brings it in.
  Key late = publicKeyOf(generatePrivateKey());
  server_.on_page = [&](std::map<std::string, json>& hubs) {
    if (hubs[kHubA]["spokes"].size() == 31)
      hubs[kHubA]["spokes"].push_back(FakeServer::spoke("aaaa0000-0000", late, "10.10.0.99"));
  };
  PassReport r = reconciler_->syncAll();
  ASSERT_TRUE(r.complete) << r.failure;
  EXPECT_EQ(r.realized, std::vector<std::string>{kHubA});
  EXPECT_GE(server_.page_calls, 4);
  wg::Device d = deviceOf(kHubA);
  EXPECT_EQ(d.peers.size(), 32u);
  EXPECT_TRUE(
      std::any_of(d.peers.begin(), d.peers.end(), [&](const wg::Peer& p) { return p.public_key == late; }));
  // Quick passes afterwards: deltas, no pages, nothing written.
  const int pages = server_.page_calls;
  settle(*reconciler_);
  EXPECT_EQ(reconciler_->syncAll(Depth::kQuick).actions, 0u);
  EXPECT_EQ(server_.page_calls, pages + 4 * 2);  // the two deep passes of settle() read it in pages again
}

TEST_F(ReconcilerTest, ADeltaThatGivesASpokeAnotherSpokesKeyLeavesBothOut) {
  Key other = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("dddd0000-0000", other, "10.10.0.6"));
  settle(*reconciler_);
  server_.hubs[kHubA]["spokes"][1]["public_key"] = spoke_key_.toBase64();  // now the first spoke's key
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  EXPECT_TRUE(deviceOf(kHubA).peers.empty());
  EXPECT_TRUE(log_.contains("share a public key; both left out"));
  // As a full answer would leave it: a deep pass changes nothing.
  EXPECT_EQ(reconciler_->syncAll(Depth::kDeep).actions, 0u);
}

TEST_F(ReconcilerTest, AnOlderDriverWithoutRevisionsIsServedWithDigests) {
  server_.revisions_supported = false;
  server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
  settle(*reconciler_);
  host_.wireguard.resetCounts();
  const int stubs = server_.stubs;
  PassReport r = reconciler_->syncAll(Depth::kQuick);
  EXPECT_EQ(r.actions, 0u);
  EXPECT_EQ(server_.stubs - stubs, 2);
  EXPECT_EQ(host_.wireguard.counts().get, 0);
  // A change is a full entry, read and planned in full.
  server_.hubs[kHubA]["spokes"].push_back(
      FakeServer::spoke("dddd0000-0000", publicKeyOf(generatePrivateKey()), "10.10.0.6"));
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  EXPECT_EQ(deviceOf(kHubA).peers.size(), 2u);
}

TEST_F(ReconcilerTest, RealizedHubsAreWhatOtherThreadsReadAndStayPutWhenNothingChanged) {
  EXPECT_TRUE(reconciler_->realizedHubs()->empty());
  // Two passes: the first one's own reports (key, status) change the server's entry once.
  ASSERT_TRUE(reconciler_->syncAll().complete);
  ASSERT_TRUE(reconciler_->syncAll(Depth::kQuick).complete);
  auto first = reconciler_->realizedHubs();
  ASSERT_EQ(first->size(), 1u);
  const RealizedHub& hub = *first->front();
  EXPECT_EQ(hub.port_id, kHubA);
  EXPECT_EQ(hub.project_id, kProject);
  EXPECT_EQ(hub.network_id, "n1");
  EXPECT_EQ(hub.device, (wg::DeviceRef{"tun-" + kProject, deviceName(kHubA)}));
  ASSERT_EQ(hub.spokes.size(), 1u);
  EXPECT_EQ(hub.spokes[0].port_id, "cccc0000-0000");
  EXPECT_TRUE(hub.spokes[0].public_key == spoke_key_);
  EXPECT_EQ(hub.spokes[0].allowed_ips[0].toString(), "10.10.0.5/32");
  // Idle passes, quick or deep, publish nothing new: the same snapshot, no spoke copied.
  ASSERT_TRUE(reconciler_->syncAll(Depth::kQuick).complete);
  EXPECT_EQ(reconciler_->realizedHubs(), first);
  ASSERT_TRUE(reconciler_->syncAll(Depth::kDeep).complete);
  EXPECT_EQ(reconciler_->realizedHubs(), first);
  // A new spoke: a new entry for the hub.
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("dddd0000-0000", publicKeyOf(generatePrivateKey()), "10.10.0.6"));
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  ASSERT_EQ(reconciler_->realizedHubs()->size(), 1u);
  EXPECT_EQ(reconciler_->realizedHubs()->front()->spokes.size(), 2u);
  // A hub that fails a pass keeps its entry (its device may well work: liveness and metrics go on).
  server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke("eeee0000-0000", publicKeyOf(generatePrivateKey()), "10.10.0.7"));
  host_.wireguard.failNext(wg::FakeBackend::Op::kSet, Error("wedged", EIO));
  auto failed = reconciler_->syncHubs({kHubA});
  ASSERT_EQ(failed.failed.count(kHubA), 1u);
  EXPECT_EQ(reconciler_->realizedHubs()->front()->spokes.size(), 2u);
  // One the server no longer lists goes.
  server_.hubs.erase(kHubA);
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  EXPECT_TRUE(reconciler_->realizedHubs()->empty());
}

TEST_F(ReconcilerTest, ASpokeChangePublishesAnEntryThatSharesTheUnchangedSpokes) {
  server_.hubs[kHubA]["fixed_ips"][0]["cidr"] = "10.10.0.0/16";
  for (int i = 0; i < 1000; ++i) {
    server_.hubs[kHubA]["spokes"].push_back(FakeServer::spoke(str("dddd", 1000 + i, "-0000"),
                                                              publicKeyOf(generatePrivateKey()),
                                                              str("10.10.", 1 + i / 200, ".", 1 + i % 200)));
  }
  settle(*reconciler_);
  auto before = reconciler_->realizedHubs()->front();
  ASSERT_EQ(before->spokes.size(), 1001u);
  // One spoke re-keyed by a delta: the new entry copies the chunk that holds it, nothing else.
  Key rekeyed = publicKeyOf(generatePrivateKey());
  server_.hubs[kHubA]["spokes"][500]["public_key"] = rekeyed.toBase64();
  const std::string id = server_.hubs[kHubA]["spokes"][500]["id"];
  const int deltas = server_.deltas;
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  ASSERT_EQ(server_.deltas - deltas, 1);
  auto after = reconciler_->realizedHubs()->front();
  ASSERT_NE(after, before);
  EXPECT_EQ(after->spokes.sharedChunks(before->spokes), before->spokes.chunkCount() - 1);
  size_t found = 0;
  for (const auto& s : after->spokes) {
    if (s.port_id == id) found += s.public_key == rekeyed;
  }
  EXPECT_EQ(found, 1u);
  // Removed and added, then a failed pass and a delta on top of it: the entry catches up on both.
  server_.hubs[kHubA]["spokes"].erase(server_.hubs[kHubA]["spokes"].begin() + 10);
  server_.hubs[kHubA]["spokes"].push_back(
      FakeServer::spoke("eeee0000-0000", publicKeyOf(generatePrivateKey()), "10.10.9.1"));
  host_.wireguard.failNext(wg::FakeBackend::Op::kSet, Error("wedged", EIO));
  ASSERT_EQ(reconciler_->syncHubs({kHubA}).failed.count(kHubA), 1u);
  EXPECT_EQ(reconciler_->realizedHubs()->front(), after);
  server_.hubs[kHubA]["spokes"].erase(server_.hubs[kHubA]["spokes"].begin() + 20);
  ASSERT_TRUE(reconciler_->syncHubs({kHubA}).complete);
  auto caught_up = reconciler_->realizedHubs()->front();
  std::vector<std::string> want;
  for (const auto& s : server_.hubs[kHubA]["spokes"]) want.push_back(s["id"]);
  std::sort(want.begin(), want.end());
  std::vector<std::string> got;
  for (const auto& s : caught_up->spokes) got.push_back(s.port_id);
  EXPECT_EQ(got, want);
  EXPECT_GE(caught_up->spokes.sharedChunks(after->spokes), after->spokes.chunkCount() - 3);
}

TEST_F(ReconcilerTest, ADryRunPublishesNothing) {
  restart(/*dry_run=*/true);
  ASSERT_TRUE(reconciler_->syncAll().complete);
  EXPECT_TRUE(reconciler_->realizedHubs()->empty());
}

}  // namespace
}  // namespace nwg::reconcile
