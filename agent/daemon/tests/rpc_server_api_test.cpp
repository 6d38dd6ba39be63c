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

TEST(RpcServerApiTest, AnOlderDriverIsAskedWithoutDigestsFromThenOn) {
  ScriptedCaller caller;
  RpcServerApi api(caller, "node-1");
  const std::map<std::string, std::string> digests{{"hub-1", "d1"}};
  caller.answer(unsupportedVersion());
  caller.answer(json{{"hubs", json::array()}});
  caller.answer(json{{"hubs", json::array()}});
  ASSERT_TRUE(api.getHubs(std::nullopt, &digests).ok());
  ASSERT_TRUE(api.getHubs(std::nullopt, &digests).ok());
  auto sent = caller.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].target.version, "1.4");
  EXPECT_TRUE(sent[0].args.contains("digests"));
  EXPECT_EQ(sent[1].target.version, "1.3");  // the same pass, asked again the old way
  EXPECT_FALSE(sent[1].args.contains("digests"));
  EXPECT_EQ(sent[2].target.version, "1.3");  // and no more 1.4 attempts afterwards
}

TEST(RpcServerApiTest, OtherErrorsAreNotAVersionProblem) {
  ScriptedCaller caller;
  RpcServerApi api(caller, "node-1");
  const std::map<std::string, std::string> digests{{"hub-1", "d1"}};
  caller.answer(rpc::RpcError{rpc::RpcErrorKind::kTimeout, "q-wireguard.get_hubs: no reply", {}});
  caller.answer(json{{"hubs", json::array()}});
  EXPECT_FALSE(api.getHubs(std::nullopt, &digests).ok());  // a timeout fails the pass
  ASSERT_TRUE(api.getHubs(std::nullopt, &digests).ok());
  auto sent = caller.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].target.version, "1.4");  // still the new API
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
