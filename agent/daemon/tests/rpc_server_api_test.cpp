#include "daemon/rpc_server_api.h"

#include <gtest/gtest.h>

#include "daemon/tests/scripted_caller.h"

namespace nwg::daemon {
namespace {

using nlohmann::json;

rpc::RpcError unsupportedVersion() {
  return rpc::RpcError::fromRemote(
      rpc::RemoteError::make("UnsupportedVersion", "oslo_messaging.rpc.dispatcher",
                             "Endpoint does not support RPC version 1.4. Attempted method: get_hubs"),
      "q-wireguard.get_hubs");
}

reconcile::HubsQuery trustedQuery() {
  reconcile::HubsQuery q;
  q.digests = {{"hub-1", "d1"}};
  q.revisions = {{"hub-1", 7}};
  q.spokes_limit = 500;
  return q;
}

TEST(RpcServerApiTest, ACurrentDriverIsAskedForDeltasAndPages) {
  ScriptedCaller caller;
  RpcServerApi api(caller, "node-1");
  caller.answer(json{{"hubs", json::array()}});
  ASSERT_TRUE(api.getHubs(trustedQuery()).ok());
  auto sent = caller.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target.version, "1.6");
  EXPECT_EQ(sent[0].args["revisions"], json({{"hub-1", 7}}));
  EXPECT_EQ(sent[0].args["spokes_limit"], 500);
  EXPECT_FALSE(sent[0].args.contains("digests"));
}

TEST(RpcServerApiTest, OlderDriversAreAskedTheWayTheyUnderstandFromThenOn) {
  ScriptedCaller caller;
  RpcServerApi api(caller, "node-1");
  caller.answer(unsupportedVersion());  // no 1.6: digests
  caller.answer(json{{"hubs", json::array()}});
  caller.answer(json{{"hubs", json::array()}});
  caller.answer(unsupportedVersion());  // no 1.4 either: plain
  caller.answer(json{{"hubs", json::array()}});
  caller.answer(json{{"hubs", json::array()}});
  ASSERT_TRUE(api.getHubs(trustedQuery()).ok());
  ASSERT_TRUE(api.getHubs(trustedQuery()).ok());
  ASSERT_TRUE(api.getHubs(trustedQuery()).ok());
  ASSERT_TRUE(api.getHubs(trustedQuery()).ok());
  auto sent = caller.sent();
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[0].target.version, "1.6");
  EXPECT_EQ(sent[1].target.version, "1.4");  // the same pass, asked again the older way
  EXPECT_TRUE(sent[1].args.contains("digests"));
  EXPECT_EQ(sent[2].target.version, "1.4");  // and no more 1.6 attempts afterwards
  EXPECT_EQ(sent[3].target.version, "1.4");
  EXPECT_EQ(sent[4].target.version, "1.3");
  EXPECT_FALSE(sent[4].args.contains("digests"));
  EXPECT_EQ(sent[5].target.version, "1.3");
}

TEST(RpcServerApiTest, OtherErrorsAreNotAVersionProblem) {
  ScriptedCaller caller;
  RpcServerApi api(caller, "node-1");
  caller.answer(rpc::RpcError{rpc::RpcErrorKind::kTimeout, "q-wireguard.get_hubs: no reply", {}});
  caller.answer(json{{"hubs", json::array()}});
  EXPECT_FALSE(api.getHubs(trustedQuery()).ok());  // a timeout fails the pass
  ASSERT_TRUE(api.getHubs(trustedQuery()).ok());
  auto sent = caller.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].target.version, "1.6");  // still the newest API
}

TEST(RpcServerApiTest, ServerRefusalsToUpdatePortsAreErrors) {
  ScriptedCaller caller;
  RpcServerApi api(caller, "node-1");
  caller.answer(json{{"devices_up", {"a"}},
                     {"failed_devices_up", {"b"}},
                     {"devices_down", json::array()},
                     {"failed_devices_down", json::array()}});
  Status s = api.updateDeviceList({"a", "b"}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("up [b]"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace nwg::daemon
