// VsctlBridge against the real ovs-vsctl and a real ovsdb-server that the test starts in a temporary
// directory, on a private unix socket (no ovs-vswitchd: add-port records need none). Skipped loudly
// when Open vSwitch is not installed.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "ovs/command_runner.h"
#include "ovs/ovs_bridge.h"
#include "testing/testing.h"

namespace nwg::ovs {
namespace {

namespace fs = std::filesystem;

const char* kSchema = "/usr/share/openvswitch/vswitch.ovsschema";

bool installed() {
  return ::access("/usr/bin/ovs-vsctl", X_OK) == 0 && ::access("/usr/sbin/ovsdb-server", X_OK) == 0 &&
         ::access("/usr/bin/ovsdb-tool", X_OK) == 0 && ::access(kSchema, R_OK) == 0;
}

class VsctlBridgeContract : public ::testing::Test {
 protected:
  void SetUp() override {
    NWG_REQUIRE(installed(), "Open vSwitch (ovs-vsctl, ovsdb-server, ovsdb-tool: Debian openvswitch-switch)");
    dir_ = fs::temp_directory_path() / ("nwg-ovsdb-" + ::nwg::testing::runToken());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string db = (dir_ / "conf.db").string();
    socket_ = (dir_ / "db.sock").string();
    auto created = runner_.run({"/usr/bin/ovsdb-tool", "create", db, kSchema}, std::chrono::seconds(10));
    ASSERT_TRUE(created.ok() && created->exit_code == 0)
        << (created.ok() ? created->err : created.error().message);
    std::vector<std::string> args = {"/usr/sbin/ovsdb-server",
                                     db,
                                     "--remote=punix:" + socket_,
                                     "--unixctl=" + (dir_ / "ctl").string(),
                                     "--no-chdir",
                                     "-vconsole:off",
                                     "--log-file=" + (dir_ / "ovsdb-server.log").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* envp[] = {nullptr};
    ASSERT_EQ(::posix_spawn(&server_, argv[0], nullptr, nullptr, argv.data(), envp), 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!fs::exists(socket_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(fs::exists(socket_)) << "ovsdb-server did not open " << socket_;
    options_.ovs_vsctl = "/usr/bin/ovs-vsctl";
    options_.db = "unix:" + socket_;
    auto init = runner_.run({"/usr/bin/ovs-vsctl", "--db=" + options_.db, "--timeout=10", "--no-wait", "init",
                             "--", "add-br", "br-int"},
                            std::chrono::seconds(15));
    ASSERT_TRUE(init.ok() && init->exit_code == 0) << (init.ok() ? init->err : init.error().message);
  }

  void TearDown() override {
    if (server_ > 0) {
      ::kill(server_, SIGTERM);
      int status = 0;
      ::waitpid(server_, &status, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  SpawnRunner runner_;
  VsctlOptions options_;
  fs::path dir_;
  std::string socket_;
  pid_t server_ = -1;
};

TEST_F(VsctlBridgeContract, AddListDeleteAreIdempotent) {
  VsctlBridge bridge(options_, runner_);
  const OvsPort port{"wgo-0b0b0000-11", "0b0b0000-1111-2222-3333-444455556666", "fa:16:3e:00:00:01",
                     "node-1"};
  Status added = bridge.addPort(port);
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_TRUE(bridge.addPort(port).ok()) << "--may-exist";
  auto listed = bridge.listPorts();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(*listed, (std::map<std::string, OvsPort>{{port.name, port}})) << "with its ownership mark";

  // Another iface-id on the same port is set, not refused.
  OvsPort changed = port;
  changed.iface_id = "0c0c0000-1111-2222-3333-444455556666";
  ASSERT_TRUE(bridge.addPort(changed).ok());
  EXPECT_EQ(bridge.listPorts()->at(port.name).iface_id, changed.iface_id);
  auto mac = runner_.run({"/usr/bin/ovs-vsctl", "--db=" + options_.db, "get", "Interface", port.name,
                          "external_ids:attached-mac"},
                         std::chrono::seconds(15));
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(mac->out, "\"fa:16:3e:00:00:01\"\n");

  Status deleted = bridge.deletePort(port.name);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  ASSERT_TRUE(bridge.deletePort(port.name).ok()) << "--if-exists";
  EXPECT_TRUE(bridge.listPorts()->empty());
}

// The mark is set in add-port's own transaction (a port never exists unmarked), is what ovs-vsctl
// shows under the documented key, and a port someone else added (no mark) is listed without one.
TEST_F(VsctlBridgeContract, TheOwnershipMarkIsSetWithThePortAndListed) {
  VsctlBridge bridge(options_, runner_);
  const OvsPort port{"wgo-0d0d0000-11", "0d0d0000-1111-2222-3333-444455556666", "fa:16:3e:00:00:03",
                     "node-7"};
  ASSERT_TRUE(bridge.addPort(port).ok());
  auto mark = runner_.run({"/usr/bin/ovs-vsctl", "--db=" + options_.db, "get", "Interface", port.name,
                           "external_ids:neutron-wireguard-agent"},
                          std::chrono::seconds(15));
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(mark->out, "node-7\n");
  auto other = runner_.run(
      {"/usr/bin/ovs-vsctl", "--db=" + options_.db, "--no-wait", "add-port", "br-int", "wgo-0e0e0000-11",
       "--", "set", "Interface", "wgo-0e0e0000-11", "external_ids:iface-id=someone-elses"},
      std::chrono::seconds(15));
  ASSERT_TRUE(other.ok() && other->exit_code == 0) << (other.ok() ? other->err : other.error().message);
  auto listed = bridge.listPorts();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->at(port.name).owner, "node-7");
  EXPECT_EQ(listed->at("wgo-0e0e0000-11").owner, "") << "no mark";
  EXPECT_EQ(listed->at("wgo-0e0e0000-11").iface_id, "someone-elses");
}

TEST_F(VsctlBridgeContract, AMissingBridgeIsAClearError) {
  options_.bridge = "br-missing";
  VsctlBridge bridge(options_, runner_);
  Status s = bridge.addPort({"wgo-x", "p", "fa:16:3e:00:00:02"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("br-missing"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace nwg::ovs
