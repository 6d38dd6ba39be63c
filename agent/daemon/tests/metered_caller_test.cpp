#include "daemon/metered_caller.h"

#include <gtest/gtest.h>

#include "daemon/tests/scripted_caller.h"

namespace nwg::daemon {
namespace {

TEST(MeteredCaller, FailuresAreCountedByMethodAndKindAndEverythingPassesThrough) {
  ScriptedCaller inner;
  metrics::AgentMetrics metrics({"h", "kernel", "1"});
  MeteredCaller caller(inner, metrics);
  inner.answer(nlohmann::json{{"hubs", nlohmann::json::array()}});
  inner.answer(rpc::RpcError{rpc::RpcErrorKind::kConnectionLost, "lost", {}});
  inner.answer(rpc::RpcError{rpc::RpcErrorKind::kConnectionLost, "lost", {}});
  auto ok = caller.call(rpc::RpcTarget("q-wireguard", "1.4"), "get_hubs", {{"host", "h"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["hubs"], nlohmann::json::array());
  EXPECT_FALSE(caller.call(rpc::RpcTarget("q-wireguard", "1.4"), "get_hubs", {}).ok());
  auto lost = caller.call(rpc::RpcTarget("q-plugin", "1.9"), "update_device_list", {});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind, rpc::RpcErrorKind::kConnectionLost);
  EXPECT_TRUE(caller.cast(rpc::RpcTarget("q-reports-plugin", "1.2"), "report_state", {}).ok());
  EXPECT_EQ(inner.sent().size(), 4u);
  std::string text;
  metrics.write(text, 0);
  EXPECT_NE(
      text.find("neutron_wireguard_agent_rpc_errors_total{method=\"get_hubs\",kind=\"connection_lost\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("neutron_wireguard_agent_rpc_errors_total{method=\"update_device_list\",kind="
                      "\"connection_lost\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace nwg::daemon
