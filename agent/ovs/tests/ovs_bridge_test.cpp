// VsctlBridge without ovs-vsctl: the argv of each operation, the parsing of its output, its errors
// (through a scripted CommandRunner); and FakeOvsBridge's idempotence.
#include "ovs/ovs_bridge.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <deque>

#include "base/strings.h"
#include "ovs/command_runner.h"
#include "ovs/fake_ovs_bridge.h"

namespace nwg::ovs {
namespace {

class ScriptedRunner : public CommandRunner {
 public:
  Result<CommandOutput> run(const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) override {
    calls.push_back(argv);
    timeouts.push_back(timeout);
    if (answers.empty()) return CommandOutput{};
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
  std::deque<Result<CommandOutput>> answers;
  std::vector<std::vector<std::string>> calls;
  std::vector<std::chrono::milliseconds> timeouts;
};

const OvsPort kPort{"wgo-0b0b0000-11", "0b0b0000-1111-2222-3333-444455556666", "fa:16:3e:00:00:01", "node-1"};

TEST(VsctlArgv, AddPortIsIdempotentAndSetsTheExternalIds) {
  VsctlOptions options;
  options.ovs_vsctl = "/usr/bin/ovs-vsctl";
  EXPECT_EQ(join(addPortArgv(options, kPort), " "),
            "/usr/bin/ovs-vsctl --db=unix:/var/run/openvswitch/db.sock --timeout=10 --no-wait -- --may-exist "
            "add-port br-int wgo-0b0b0000-11 -- set Interface wgo-0b0b0000-11 "
            "external_ids:iface-id=0b0b0000-1111-2222-3333-444455556666 "
            "external_ids:attached-mac=fa:16:3e:00:00:01 external_ids:iface-status=active "
            "external_ids:neutron-wireguard-agent=node-1");
  OvsPort unmarked = kPort;
  unmarked.owner.clear();
  EXPECT_EQ(addPortArgv(options, unmarked).back(), "external_ids:iface-status=active");
}

TEST(VsctlArgv, DeleteAndListFollowTheOptions) {
  VsctlOptions options;
  options.ovs_vsctl = "ovs-vsctl";
  options.bridge = "br-x";
  options.db = "tcp:127.0.0.1:6640";
  options.timeout_seconds = 3;
  EXPECT_EQ(join(deletePortArgv(options, "wgo-a"), " "),
            "ovs-vsctl --db=tcp:127.0.0.1:6640 --timeout=3 --no-wait -- --if-exists del-port br-x wgo-a");
  options.db.clear();  // ovs-vsctl's own default
  EXPECT_EQ(join(listPortsArgv(options), " "),
            "ovs-vsctl --timeout=3 --format=json --columns=name,external_ids list Interface");
}

TEST(ParseListPorts, KeepsOnlyPlugPortsWithTheirExternalIds) {
  const char* out = R"({"data":[["br-int",["map",[]]],
      ["wgo-0b0b0000-11",["map",[["attached-mac","fa:16:3e:00:00:01"],["iface-id","0b0b0000-1111"],
                                 ["neutron-wireguard-agent","node-1"]]]],
      ["wgo-bare",["map",[]]],
      ["tap1234",["map",[["iface-id","x"]]]]],"headings":["name","external_ids"]})";
  auto ports = parseListPorts(out);
  ASSERT_TRUE(ports.ok()) << ports.error().message;
  EXPECT_EQ(*ports,
            (std::map<std::string, OvsPort>{
                {"wgo-0b0b0000-11", {"wgo-0b0b0000-11", "0b0b0000-1111", "fa:16:3e:00:00:01", "node-1"}},
                {"wgo-bare", {"wgo-bare", "", "", ""}}}));
  // Columns in another order are found by their headings.
  auto swapped =
      parseListPorts(R"({"data":[[["map",[["iface-id","p"]]],"wgo-x"]],"headings":["external_ids","name"]})");
  ASSERT_TRUE(swapped.ok()) << swapped.error().message;
  EXPECT_EQ(swapped->at("wgo-x").iface_id, "p");
  EXPECT_EQ(swapped->at("wgo-x").owner, "") << "no mark";
}

TEST(ParseListPorts, MalformedOutputIsAnError) {
  for (
      const char* bad :
      {"", "not json", "[]", R"({"data":[]})", R"({"data":[["wgo-x"]],"headings":["name","external_ids"]})",
       R"({"data":[["wgo-x",["set",[]]]],"headings":["name","external_ids"]})",
       R"({"data":[[7,["map",[]]]],"headings":["name","external_ids"]})",
       R"({"data":[["wgo-x",["map",[["neutron-wireguard-agent",7]]]]],"headings":["name","external_ids"]})"}) {
    EXPECT_FALSE(parseListPorts(bad).ok()) << bad;
  }
}

TEST(VsctlBridge, RunsTheArgvAndParsesWhatItPrints) {
  ScriptedRunner runner;
  VsctlOptions options;
  options.ovs_vsctl = "/usr/bin/ovs-vsctl";
  VsctlBridge bridge(options, runner);
  ASSERT_TRUE(bridge.addPort(kPort).ok());
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0], addPortArgv(options, kPort));
  EXPECT_GT(runner.timeouts[0], std::chrono::seconds(10)) << "ovs-vsctl's own --timeout comes first";
  EXPECT_EQ(bridge.describeAdd(kPort), join(addPortArgv(options, kPort), " "));

  runner.answers.push_back(CommandOutput{
      0, R"({"data":[["wgo-a",["map",[["iface-id","p1"]]]]],"headings":["name","external_ids"]})", ""});
  auto listed = bridge.listPorts();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->at("wgo-a").iface_id, "p1");
}

TEST(VsctlBridge, AFailureCarriesTheCommandAndItsStderr) {
  ScriptedRunner runner;
  VsctlOptions options;
  VsctlBridge bridge(options, runner);
  runner.answers.push_back(CommandOutput{1, "", "ovs-vsctl: no bridge named br-int\n"});
  Status s = bridge.addPort(kPort);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no bridge named br-int"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("wgo-0b0b0000-11"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("status 1"), std::string::npos) << s.error().message;

  runner.answers.push_back(Error("ovs-vsctl did not finish within 15000 ms; killed it", ETIMEDOUT));
  auto timed_out = bridge.listPorts();
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, ETIMEDOUT);
}

TEST(VsctlBridge, WithoutOvsVsctlEveryOperationSaysSo) {
  ScriptedRunner runner;
  VsctlOptions options;
  options.ovs_vsctl = "";
  VsctlBridge bridge(options, runner);
  Status s = bridge.deletePort("wgo-a");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ENOENT);
  EXPECT_NE(s.error().message.find("ovs-vsctl is not installed"), std::string::npos) << s.error().message;
  EXPECT_TRUE(runner.calls.empty());
}

TEST(SpawnRunner, CapturesOutputExitStatusAndAMissingProgram) {
  SpawnRunner runner;
  auto ok = runner.run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(5));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->exit_code, 3);
  EXPECT_EQ(ok->out, "out\n");
  EXPECT_EQ(ok->err, "err\n");
  auto missing = runner.run({"/nonexistent/ovs-vsctl"}, std::chrono::seconds(5));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
  auto slow = runner.run({"/bin/sleep", "5"}, std::chrono::milliseconds(100));
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, ETIMEDOUT);
}

TEST(FakeOvsBridge, AddIsIdempotentDeleteOfAbsentIsSuccess) {
  FakeOvsBridge bridge;
  ASSERT_TRUE(bridge.addPort(kPort).ok());
  ASSERT_TRUE(bridge.addPort(kPort).ok());
  EXPECT_EQ(bridge.mutations(), 1);
  bridge.addExisting({"tap1", "x", ""});
  auto listed = bridge.listPorts();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::map<std::string, OvsPort>{{kPort.name, kPort}}));
  ASSERT_TRUE(bridge.deletePort(kPort.name).ok());
  ASSERT_TRUE(bridge.deletePort(kPort.name).ok());
  EXPECT_EQ(bridge.mutations(), 2);
}

}  // namespace
}  // namespace nwg::ovs
