// An OVN-routed hub realized on the real host (root): wireguard-go, rtnetlink, named namespaces and
// ovs-vsctl against an ovsdb-server this test starts in a temporary directory (no ovs-vswitchd: the
// port records are what the agent writes). Only notified passes (syncHubs) run here: a full sync's
// cleanup would look at every device on this shared machine.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "ovs/command_runner.h"
#include "ovs/ovs_bridge.h"
#include "reconcile/names.h"
#include "reconcile/reconciler.h"
#include "reconcile/tests/fake_host.h"
#include "reconcile/tests/fake_server.h"
#include "testing/testing.h"
#include "wireguard/uapi/uapi_backend.h"

namespace nwg::reconcile {
namespace {

namespace fs = std::filesystem;
using fakes::CapturedLog;
using fakes::FakeServer;
using nlohmann::json;

const char* kSchema = "/usr/share/openvswitch/vswitch.ovsschema";

// Eight hex digits unique to this test process (names are global to the host).
std::string hexToken(const std::string& salt) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08zx",
                std::hash<std::string>{}(::nwg::testing::runToken() + salt) & 0xffffffffu);
  return buf;
}

bool ovsInstalled() {
  return ::access("/usr/bin/ovs-vsctl", X_OK) == 0 && ::access("/usr/sbin/ovsdb-server", X_OK) == 0 &&
         ::access("/usr/bin/ovsdb-tool", X_OK) == 0 && ::access(kSchema, R_OK) == 0;
}

class OvnHubIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    NWG_REQUIRE_ROOT();
    NWG_REQUIRE(wg::UapiBackend::available("/usr/bin/wireguard-go"), "wireguard-go and /dev/net/tun");
    NWG_REQUIRE(ovsInstalled(),
                "Open vSwitch (ovs-vsctl, ovsdb-server, ovsdb-tool: Debian openvswitch-switch)");
    ASSERT_TRUE(initCrypto().ok());
    hub_ = hexToken("hub") + "-7777-0000-0000-000000000001";
    plug_ = hexToken("plug") + "-7777-0000-0000-000000000002";
    dir_ = fs::temp_directory_path() / ("nwg-ovn-hub-" + ::nwg::testing::runToken());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    startOvsdb();

    server_.hubs[hub_] = FakeServer::hub(hub_, "10.77.0.1");
    server_.hubs[hub_]["fixed_ips"][0]["cidr"] = "10.77.0.0/24";
    server_.hubs[hub_]["router_id"] = "77777777-0000-0000-0000-000000000000";
    server_.hubs[hub_]["ovn_plug"] = {
        {"port_id", plug_},
        {"mac_address", "fa:16:3e:77:00:02"},
        {"fixed_ips", {{{"ip_address", "10.77.0.3"}, {"cidr", "10.77.0.0/24"}, {"router_ip", "10.77.0.1"}}}}};
    server_.hubs[hub_]["spokes"].push_back(
        FakeServer::spoke("cccc0000-7777", publicKeyOf(generatePrivateKey()), "10.77.0.5"));
    options_.planner.host = "nwg-test-" + ::nwg::testing::runToken();
    restart();
  }

  void TearDown() override {
    reconciler_.reset();
    resolver_.reset();
    if (links_) {
      (void)links_->remove("", plugRootName(plug_));
      (void)backend_->destroy({ovnHubNamespace(hub_), deviceName(hub_)});
      (void)backend_->destroy({"", deviceName(hub_)});
      (void)namespaces_.remove(ovnHubNamespace(hub_));
    }
    if (server_pid_ > 0) {
      ::kill(server_pid_, SIGTERM);
      int status = 0;
      ::waitpid(server_pid_, &status, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void startOvsdb() {
    const std::string db = (dir_ / "conf.db").string();
    const std::string socket = (dir_ / "db.sock").string();
    auto created = runner_.run({"/usr/bin/ovsdb-tool", "create", db, kSchema}, std::chrono::seconds(10));
    ASSERT_TRUE(created.ok() && created->exit_code == 0);
    std::vector<std::string> args = {"/usr/sbin/ovsdb-server",
                                     db,
                                     "--remote=punix:" + socket,
                                     "--unixctl=" + (dir_ / "ctl").string(),
                                     "--no-chdir",
                                     "-vconsole:off"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* envp[] = {nullptr};
    ASSERT_EQ(::posix_spawn(&server_pid_, argv[0], nullptr, nullptr, argv.data(), envp), 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!fs::exists(socket) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(fs::exists(socket));
    vsctl_.ovs_vsctl = "/usr/bin/ovs-vsctl";
    vsctl_.db = "unix:" + socket;
    vsctl_.bridge = "br-int";
    auto init = runner_.run({"/usr/bin/ovs-vsctl", "--db=" + vsctl_.db, "--timeout=10", "--no-wait", "init",
                             "--", "add-br", "br-int"},
                            std::chrono::seconds(15));
    ASSERT_TRUE(init.ok() && init->exit_code == 0) << (init.ok() ? init->err : init.error().message);
  }

  // A fresh agent process on the same host.
  void restart() {
    reconciler_.reset();
    resolver_.reset();
    links_ = std::make_unique<RtnetlinkLinks>(namespaces_);
    backend_ = std::make_unique<wg::UapiBackend>("/usr/bin/wireguard-go", "");
    bridge_ = std::make_unique<ovs::VsctlBridge>(vsctl_, runner_);
    identities_ = std::make_unique<IdentityStore>((dir_ / "state").string());
    Status loaded = identities_->load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    observer_ = std::make_unique<Observer>(*links_, namespaces_, *backend_, bridge_.get());
    applier_ = std::make_unique<Applier>(*links_, namespaces_, *backend_, log_, false, bridge_.get());
    resolver_ = std::make_unique<EndpointResolver>(
        [](const std::string&) -> Result<IpAddress> { return fail("no DNS here"); },
        EndpointResolver::Options{}, [](const std::string&) {});
    reconciler_ = std::make_unique<Reconciler>(server_, *observer_, *applier_, *identities_, log_, options_,
                                               facts_, *resolver_);
  }

  std::string hub_;
  std::string plug_;
  fs::path dir_;
  pid_t server_pid_ = -1;
  ovs::SpawnRunner runner_;
  ovs::VsctlOptions vsctl_;
  FakeServer server_;
  CapturedLog log_;
  ReconcilerOptions options_;
  FakeHostFacts facts_;
  LinuxNamespaces namespaces_;
  std::unique_ptr<RtnetlinkLinks> links_;
  std::unique_ptr<wg::UapiBackend> backend_;
  std::unique_ptr<ovs::VsctlBridge> bridge_;
  std::unique_ptr<EndpointResolver> resolver_;
  std::unique_ptr<IdentityStore> identities_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(OvnHubIntegration, RealizedUntouchedOnRestartAndRemovedWithTheHub) {
  const std::string ns = ovnHubNamespace(hub_);
  const std::string dev = deviceName(hub_);
  const std::string root = plugRootName(plug_);
  const std::string peer = plugPeerName(plug_);
  PassReport r = reconciler_->syncHubs({hub_});
  ASSERT_TRUE(r.complete) << r.failure;
  ASSERT_EQ(r.realized, std::vector<std::string>{hub_}) << (r.failed.empty() ? "" : r.failed.begin()->second);

  auto device = links_->get(ns, dev);
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_TRUE(device->up);
  EXPECT_TRUE(links_->addresses(ns, dev)->empty());
  EXPECT_EQ(*links_->routes(ns, dev), (std::vector<Route>{{*IpPrefix::parse("10.77.0.0/24")}}));
  auto wgp = links_->get(ns, peer);
  ASSERT_TRUE(wgp.ok()) << wgp.error().message;
  EXPECT_TRUE(wgp->up);
  EXPECT_EQ(wgp->mac, "fa:16:3e:77:00:02");
  EXPECT_EQ(wgp->mtu, 1450u);
  EXPECT_EQ(join(*links_->addresses(ns, peer), ","), "10.77.0.3/32");
  EXPECT_EQ(*links_->routes(ns, peer),
            (std::vector<Route>{{*IpPrefix::parse("0.0.0.0/0"), *IpAddress::parse("10.77.0.1")},
                                {*IpPrefix::parse("10.77.0.1/32")}}));
  auto wgo = links_->get("", root);
  ASSERT_TRUE(wgo.ok()) << wgo.error().message;
  EXPECT_TRUE(wgo->up);
  auto ports = bridge_->listPorts();
  ASSERT_TRUE(ports.ok()) << ports.error().message;
  EXPECT_EQ(ports->at(root).iface_id, plug_);
  EXPECT_EQ(ports->at(root).owner, options_.planner.host) << "external_ids:neutron-wireguard-agent";

  PassReport again = reconciler_->syncHubs({hub_});
  EXPECT_EQ(again.actions, 0u);
  restart();
  PassReport after_restart = reconciler_->syncHubs({hub_});
  ASSERT_EQ(after_restart.realized, std::vector<std::string>{hub_});
  EXPECT_EQ(after_restart.actions, 0u) << "a restart re-creates nothing";

  server_.hubs.erase(hub_);
  PassReport removed = reconciler_->syncHubs({hub_});
  ASSERT_TRUE(removed.complete) << removed.failure;
  EXPECT_EQ(removed.removed, std::vector<std::string>{hub_});
  EXPECT_FALSE(*namespaces_.exists(ns));
  EXPECT_FALSE(links_->get("", root).ok());
  EXPECT_TRUE(bridge_->listPorts()->empty());
}

}  // namespace
}  // namespace nwg::reconcile
