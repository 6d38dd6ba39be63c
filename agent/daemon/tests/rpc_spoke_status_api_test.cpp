// The peer monitor's RPC: reports become one update_spoke_status call (q-wireguard 1.5); a server
// older than 1.5 (UnsupportedVersion) is "unsupported", any other failure "failed" (retried).
#include "daemon/rpc_spoke_status_api.h"

#include <gtest/gtest.h>

#include "daemon/tests/scripted_caller.h"

namespace nwg::daemon {
namespace {

using nlohmann::json;

std::vector<monitor::SpokeReport> twoReports() {
  monitor::SpokeReport up{"hub-1", "spoke-1", true, 1766000000, Endpoint::parse("203.0.113.7:40000").value(),
                          148,     92};
  monitor::SpokeReport never{"hub-1", "spoke-2", false, 0, std::nullopt, 0, 0};
  return {up, never};
}

TEST(RpcSpokeStatusApi, ReportsAreOneCallInTheDriversShape) {
  ScriptedCaller rpc;
  RpcSpokeStatusApi api(rpc, "net-1");
  auto answer = api.updateSpokeStatus(twoReports());
  EXPECT_EQ(answer.outcome, monitor::SpokeStatusApi::Outcome::kAccepted);
  auto sent = rpc.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target.version, "1.5");
  EXPECT_EQ(sent[0].method, "update_spoke_status");
  EXPECT_EQ(sent[0].args["host"], "net-1");
  ASSERT_EQ(sent[0].args["spokes"].size(), 2u);
  EXPECT_EQ(sent[0].args["spokes"][0], (json{{"hub_id", "hub-1"},
                                             {"spoke_id", "spoke-1"},
                                             {"active", true},
                                             {"latest_handshake", 1766000000},
                                             {"endpoint", "203.0.113.7:40000"},
                                             {"rx_bytes", 148},
                                             {"tx_bytes", 92}}));
  EXPECT_TRUE(sent[0].args["spokes"][1]["latest_handshake"].is_null());
  EXPECT_TRUE(sent[0].args["spokes"][1]["endpoint"].is_null());
}

TEST(RpcSpokeStatusApi, AnOlderServerIsUnsupportedAndOtherFailuresAreRetried) {
  ScriptedCaller rpc;
  RpcSpokeStatusApi api(rpc, "net-1");
  rpc.answer(rpc::RpcError{rpc::RpcErrorKind::kUnsupportedVersion,
                           "q-wireguard.update_spoke_status: Endpoint does not support RPC version 1.5",
                           {}});
  rpc.answer(
      rpc::RpcError{rpc::RpcErrorKind::kTimeout, "q-wireguard.update_spoke_status: no reply in 60 s", {}});
  rpc.answer(rpc::RpcError{rpc::RpcErrorKind::kRemoteError, "InvalidInput: spokes: a list expected", {}});
  auto old = api.updateSpokeStatus(twoReports());
  EXPECT_EQ(old.outcome, monitor::SpokeStatusApi::Outcome::kUnsupported);
  EXPECT_NE(old.error.find("1.5"), std::string::npos);
  EXPECT_EQ(api.updateSpokeStatus(twoReports()).outcome, monitor::SpokeStatusApi::Outcome::kFailed);
  EXPECT_EQ(api.updateSpokeStatus(twoReports()).outcome, monitor::SpokeStatusApi::Outcome::kFailed);
}

}  // namespace
}  // namespace nwg::daemon
