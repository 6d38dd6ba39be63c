// The Neutron APIs send what neutron's own classes send (compared with the golden captures) and read the
// answers strictly: a malformed answer is an error, never an empty result.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "rpc/envelope.h"
#include "rpc/neutron/plugin_api.h"
#include "rpc/neutron/state_reporter.h"
#include "rpc/neutron/wireguard_server_api.h"
#include "rpc/rpc_request.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;

// Records every call and answers from a script.
class FakeCaller : public RpcCaller {
 public:
  struct Sent {
    RpcTarget target;
    std::string method;
    json args;
    std::optional<std::chrono::milliseconds> timeout;
  };
  RpcResult<json> call(const RpcTarget& target, const std::string& method, json args,
                       std::optional<std::chrono::milliseconds> timeout) override {
    sent.push_back({target, method, std::move(args), timeout});
    if (answers.empty()) return json(nullptr);
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
  RpcStatus cast(const RpcTarget& target, const std::string& method, json args) override {
    sent.push_back({target, method, std::move(args), std::nullopt});
    return std::monostate{};
  }
  std::vector<Sent> sent;
  std::deque<RpcResult<json>> answers;
};

json goldenArgs(const char* file) {
  std::ifstream in(std::filesystem::path(NWG_RPC_GOLDEN_DIR) / file);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str())["oslo_message_decoded"];
}

TEST(StateReporterTest, FirstReportHasStartFlagUntilOneSucceeds) {
  FakeCaller rpc;
  StateReporterOptions o;
  o.host = "wg-host-1";
  o.timeout = std::chrono::milliseconds(30000);
  StateReporter reporter(rpc, o);
  rpc.answers.push_back(RpcError{RpcErrorKind::kTimeout, "t", {}});
  rpc.answers.push_back(json("new"));
  rpc.answers.push_back(json("alive"));
  const json conf = {{"hubs", 2}};
  auto first = reporter.report(conf);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().kind, RpcErrorKind::kTimeout);
  EXPECT_FALSE(reporter.registered());
  EXPECT_EQ(*reporter.report(conf), AgentStatus::kNew);
  EXPECT_EQ(*reporter.report(conf), AgentStatus::kAlive);
  ASSERT_EQ(rpc.sent.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& s = rpc.sent[i];
    EXPECT_EQ(s.target.topic, "q-reports-plugin");
    EXPECT_EQ(s.target.version, "1.2");
    EXPECT_FALSE(s.target.ns.has_value());
    EXPECT_EQ(s.method, "report_state");
    EXPECT_EQ(s.timeout, std::chrono::milliseconds(30000));
    const json& state = s.args["agent_state"]["agent_state"];
    EXPECT_EQ(state.contains("start_flag"), i < 2) << i;
    EXPECT_EQ(state.contains("resource_versions"), i < 2) << i;
  }
}

TEST(StateReporterTest, ArgumentsHaveNeutronsShape) {
  FakeCaller rpc;
  StateReporterOptions o;
  o.host = "wg-host-1";
  StateReporter reporter(rpc, o);
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1795671909)) +
                 std::chrono::microseconds(641218);
  const json args = reporter.buildArgs(json{{"devices", 0}, {"extensions", json::array()}}, t);
  const json golden = goldenArgs("neutron_report_state_request.json")["args"];
  EXPECT_EQ(args["time"], golden["time"]);
  const json& ours = args["agent_state"]["agent_state"];
  const json& theirs = golden["agent_state"]["agent_state"];
  for (auto it = theirs.begin(); it != theirs.end(); ++it) EXPECT_TRUE(ours.contains(it.key())) << it.key();
  for (auto it = ours.begin(); it != ours.end(); ++it) EXPECT_TRUE(theirs.contains(it.key())) << it.key();
  EXPECT_EQ(ours["binary"], "neutron-wireguard-agent");
  EXPECT_EQ(ours["agent_type"], "wireguard agent");
  EXPECT_EQ(ours["topic"], "q-wireguard-notifier");
  EXPECT_EQ(ours["host"], "wg-host-1");
  EXPECT_EQ(ours["configurations"], theirs["configurations"]);
  EXPECT_EQ(ours["start_flag"], true);
  const std::string uuid = ours["uuid"].get<std::string>();
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid.find_first_not_of("0123456789abcdef-"), std::string::npos) << uuid;
}

TEST(StateReporterTest, AnswersMapToStatuses) {
  FakeCaller rpc;
  StateReporter reporter(rpc, StateReporterOptions{});
  rpc.answers.push_back(json("revived"));
  rpc.answers.push_back(json(nullptr));
  rpc.answers.push_back(json("zombie"));
  rpc.answers.push_back(json(42));
  EXPECT_EQ(*reporter.report(json::object()), AgentStatus::kRevived);
  EXPECT_EQ(*reporter.report(json::object()), AgentStatus::kStale);
  EXPECT_EQ(reporter.report(json::object()).error().kind, RpcErrorKind::kMalformedReply);
  EXPECT_EQ(reporter.report(json::object()).error().kind, RpcErrorKind::kMalformedReply);
}

TEST(PluginApiTest, UpdateDeviceListMatchesNeutronAndChunks) {
  FakeCaller rpc;
  PluginApi api(rpc, "wg-host-1", "wg-agent-id");
  rpc.answers.push_back(json{{"devices_up", {"tap1"}},
                             {"failed_devices_up", json::array()},
                             {"devices_down", {{{"device", "tap2"}, {"exists", true}}}},
                             {"failed_devices_down", json::array()}});
  auto r = api.updateDeviceList({"tap1"}, {"tap2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(rpc.sent.size(), 1u);
  const json golden = goldenArgs("neutron_update_device_list_request.json");
  EXPECT_EQ(rpc.sent[0].args, golden["args"]);
  EXPECT_EQ(rpc.sent[0].method, golden["method"]);
  EXPECT_EQ(rpc.sent[0].target.version, golden["version"]);
  EXPECT_EQ(rpc.sent[0].target.topic, "q-plugin");
  EXPECT_EQ(r->devices_up, std::vector<std::string>{"tap1"});
  ASSERT_EQ(r->devices_down.size(), 1u);
  EXPECT_TRUE(r->devices_down[0].exists);

  FakeCaller chunked;
  PluginApi api2(chunked, "h", "a");
  std::vector<std::string> up;
  for (int i = 0; i < 45; ++i) up.push_back("p" + std::to_string(i));
  for (int i = 0; i < 3; ++i) chunked.answers.push_back(json{{"devices_up", json::array()}});
  ASSERT_TRUE(api2.updateDeviceList(up, {"d1", "d2", "d3"}).ok());
  ASSERT_EQ(chunked.sent.size(), 3u);
  EXPECT_EQ(chunked.sent[0].args["devices_up"].size(), 20u);
  EXPECT_EQ(chunked.sent[0].args["devices_down"].size(), 3u);
  EXPECT_EQ(chunked.sent[2].args["devices_up"].size(), 5u);
  EXPECT_EQ(chunked.sent[2].args["devices_down"].size(), 0u);
  EXPECT_EQ(chunked.sent[2].args["devices_up"][0], "p40");

  FakeCaller none;
  EXPECT_TRUE(PluginApi(none, "h", "a").updateDeviceList({}, {}).ok());
  EXPECT_TRUE(none.sent.empty());
}

TEST(PluginApiTest, OtherMethodsMatchNeutron) {
  FakeCaller rpc;
  PluginApi api(rpc, "wg-host-1", "wg-agent-id");
  rpc.answers.push_back(json(nullptr));
  rpc.answers.push_back(json{{"device", "tap2"}, {"exists", false}});
  rpc.answers.push_back(json::array({{{"device", "tap1"}}}));
  ASSERT_TRUE(api.updateDeviceUp("tap1").ok());
  auto down = api.updateDeviceDown("tap2");
  ASSERT_TRUE(down.ok());
  EXPECT_FALSE(down->exists);
  ASSERT_TRUE(api.getDevicesDetailsList({"tap1"}).ok());
  const char* files[] = {"neutron_update_device_up_request.json", "neutron_update_device_down_request.json",
                         "neutron_get_devices_details_list_request.json"};
  for (size_t i = 0; i < 3; ++i) {
    const json golden = goldenArgs(files[i]);
    EXPECT_EQ(rpc.sent[i].method, golden["method"]) << files[i];
    EXPECT_EQ(rpc.sent[i].target.version, golden["version"]) << files[i];
    for (auto it = golden["args"].begin(); it != golden["args"].end(); ++it) {
      EXPECT_TRUE(rpc.sent[i].args.contains(it.key())) << files[i] << " " << it.key();
    }
    EXPECT_EQ(rpc.sent[i].args.size(), golden["args"].size()) << files[i];
  }
}

TEST(PluginApiTest, MalformedAnswersAreErrors) {
  FakeCaller rpc;
  PluginApi api(rpc, "h", "a");
  rpc.answers.push_back(json("nope"));
  rpc.answers.push_back(json{{"devices_up", "tap1"}});
  rpc.answers.push_back(json{{"devices_down", {"tap1"}}});
  rpc.answers.push_back(json::object());
  EXPECT_EQ(api.updateDeviceList({"a"}, {}).error().kind, RpcErrorKind::kMalformedReply);
  EXPECT_EQ(api.updateDeviceList({"a"}, {}).error().kind, RpcErrorKind::kMalformedReply);
  EXPECT_EQ(api.updateDeviceList({"a"}, {}).error().kind, RpcErrorKind::kMalformedReply);
  EXPECT_EQ(api.getDevicesDetailsList({"a"}).error().kind, RpcErrorKind::kMalformedReply);
}

TEST(WireguardServerApiTest, GetHubsArgumentsAndValidation) {
  FakeCaller rpc;
  WireguardServerApi api(rpc, "net-1");
  const json hubs = {{"hubs", {{{"id", "c0ffee00-1111-2222-3333-444455556666"}, {"spokes", json::array()}}}}};
  rpc.answers.push_back(hubs);
  rpc.answers.push_back(json{{"hubs", json::array()}});
  auto all = api.getHubs();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, hubs);
  ASSERT_TRUE(api.getHubs(std::vector<std::string>{"a", "b"}).ok());
  EXPECT_EQ(rpc.sent[0].target.topic, "q-wireguard");
  EXPECT_EQ(rpc.sent[0].target.version, "1.3");
  EXPECT_EQ(rpc.sent[0].method, "get_hubs");
  EXPECT_EQ(rpc.sent[0].args, (json{{"host", "net-1"}, {"hub_ids", nullptr}}));
  EXPECT_EQ(rpc.sent[1].args, (json{{"host", "net-1"}, {"hub_ids", {"a", "b"}}}));

  for (const json& bad : {json(nullptr), json::array(), json{{"hubs", nullptr}}, json{{"hubs", {1}}},
                          json{{"hubs", {{{"noid", 1}}}}}}) {
    FakeCaller r2;
    r2.answers.push_back(bad);
    auto got = WireguardServerApi(r2, "h").getHubs();
    ASSERT_FALSE(got.ok()) << bad.dump();
    EXPECT_EQ(got.error().kind, RpcErrorKind::kMalformedReply) << bad.dump();
  }
}

TEST(WireguardServerApiTest, DigestsMakeItAVersionOneFourCall) {
  FakeCaller rpc;
  WireguardServerApi api(rpc, "net-1");
  const json stub = {{"id", "h1"}, {"digest", std::string(64, 'a')}, {"unchanged", true}};
  rpc.answers.push_back(json{{"hubs", {stub}}});
  rpc.answers.push_back(RpcError{RpcErrorKind::kUnsupportedVersion, "old server", {}});
  const std::map<std::string, std::string> digests{{"h1", std::string(64, 'a')}};
  auto r = api.getHubs(std::nullopt, &digests);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["hubs"][0], stub);
  EXPECT_EQ(rpc.sent[0].target.version, "1.4");
  EXPECT_EQ(rpc.sent[0].args,
            (json{{"host", "net-1"}, {"hub_ids", nullptr}, {"digests", {{"h1", std::string(64, 'a')}}}}));
  // An older driver refuses 1.4; the error is typed so the caller can ask again without digests.
  auto old = api.getHubs(std::vector<std::string>{"h1"}, &digests);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().kind, RpcErrorKind::kUnsupportedVersion);
}

TEST(WireguardServerApiTest, UpdateSpokeStatusIsAVersionOneFiveCall) {
  FakeCaller rpc;
  WireguardServerApi api(rpc, "net-1");
  rpc.answers.push_back(json(nullptr));
  rpc.answers.push_back(
      RpcError{RpcErrorKind::kUnsupportedVersion, "Endpoint does not support RPC version 1.5", {}});
  SpokeStatus up{"c0ffee00-1111-2222-3333-444455556666",
                 "5b0e0000-1111-2222-3333-444455556666",
                 true,
                 1766000000,
                 std::string("[2001:db8::7]:40000"),
                 18446744073709551615u,
                 92};
  SpokeStatus never{"c0ffee00-1111-2222-3333-444455556666",
                    "5b0e0001-1111-2222-3333-444455556666",
                    false,
                    0,
                    std::nullopt,
                    0,
                    0};
  ASSERT_TRUE(api.updateSpokeStatus({up, never}).ok());
  EXPECT_EQ(rpc.sent[0].target.topic, "q-wireguard");
  EXPECT_EQ(rpc.sent[0].target.version, "1.5");
  EXPECT_EQ(rpc.sent[0].method, "update_spoke_status");
  // The exact shape the driver reads (networking_wireguard/rpc.py, docs/rpc.md): byte counters as
  // JSON integers up to 2^64-1, no handshake and no endpoint as null.
  EXPECT_EQ(
      rpc.sent[0].args.dump(),
      R"({"host":"net-1","spokes":[)"
      R"({"active":true,"endpoint":"[2001:db8::7]:40000","hub_id":"c0ffee00-1111-2222-3333-444455556666",)"
      R"("latest_handshake":1766000000,"rx_bytes":18446744073709551615,"spoke_id":"5b0e0000-1111-2222-3333-444455556666",)"
      R"("tx_bytes":92},)"
      R"({"active":false,"endpoint":null,"hub_id":"c0ffee00-1111-2222-3333-444455556666",)"
      R"("latest_handshake":null,"rx_bytes":0,"spoke_id":"5b0e0001-1111-2222-3333-444455556666","tx_bytes":0}]})");
  auto old = api.updateSpokeStatus({up});
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().kind, RpcErrorKind::kUnsupportedVersion);
}

TEST(WireguardServerApiTest, VersionOneTwoMethods) {
  FakeCaller rpc;
  WireguardServerApi api(rpc, "net-1");
  rpc.answers.push_back(json(nullptr));
  rpc.answers.push_back(json(nullptr));
  rpc.answers.push_back(json::array());
  rpc.answers.push_back(json(nullptr));
  rpc.answers.push_back(json{{"id", "s"}});
  ASSERT_TRUE(api.updateHubPort("p1", std::string("[2001:db8::1]:51820"), "KEY=").ok());
  ASSERT_TRUE(api.updateHubPort("p1", std::nullopt, "KEY=").ok());
  ASSERT_TRUE(api.getPortsForAgent().ok());
  auto missing = api.getSubnet("s0");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_null());
  EXPECT_EQ((*api.getSubnet("s"))["id"], "s");
  EXPECT_EQ(rpc.sent[0].args,
            (json{{"port_id", "p1"}, {"endpoint", "[2001:db8::1]:51820"}, {"public_key", "KEY="}}));
  EXPECT_TRUE(rpc.sent[1].args["endpoint"].is_null());
  EXPECT_EQ(rpc.sent[2].args, (json{{"agent", "net-1"}}));
  EXPECT_EQ(rpc.sent[3].args, (json{{"subnet_id", "s0"}}));
  for (const auto& s : rpc.sent) EXPECT_EQ(s.target.version, "1.2") << s.method;
}

}  // namespace
}  // namespace nwg::rpc
