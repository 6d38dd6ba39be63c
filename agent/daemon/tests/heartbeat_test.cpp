#include "daemon/heartbeat.h"

#include <gtest/gtest.h>

#include <atomic>

#include "daemon/tests/scripted_caller.h"

namespace nwg::daemon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class HeartbeatTest : public ::testing::Test {
 protected:
  HeartbeatTest() : reporter_(caller_, options()) {}
  static rpc::StateReporterOptions options() {
    rpc::StateReporterOptions o;
    o.host = "node-1";
    return o;
  }
  Heartbeat make(std::chrono::milliseconds interval) {
    return Heartbeat(
        reporter_, interval,
        [] {
          return json{{"hubs", 3}};
        },
        [this](const std::string& why) {
          std::lock_guard lock(mu_);
          revived_.push_back(why);
        },
        logging::Log("test.heartbeat"));
  }
  size_t revivals() {
    std::lock_guard lock(mu_);
    return revived_.size();
  }

  ScriptedCaller caller_;
  rpc::StateReporter reporter_;
  std::mutex mu_;
  std::vector<std::string> revived_;
};

TEST_F(HeartbeatTest, ARevivedAnswerAsksForAFullSyncAndOthersDoNot) {
  Heartbeat heartbeat = make(1h);
  caller_.answer(json("new"));
  caller_.answer(json("alive"));
  caller_.answer(json("revived"));
  caller_.answer(rpc::RpcError{rpc::RpcErrorKind::kTimeout, "q-reports-plugin.report_state: timed out", {}});
  caller_.answer(json("alive"));
  EXPECT_TRUE(heartbeat.reportNow());
  EXPECT_TRUE(heartbeat.reportNow());
  EXPECT_EQ(revivals(), 0u);
  EXPECT_TRUE(heartbeat.reportNow());
  EXPECT_EQ(revivals(), 1u);
  EXPECT_FALSE(heartbeat.reportNow());
  EXPECT_TRUE(heartbeat.reportNow());
  EXPECT_EQ(revivals(), 1u);
  // The configurations reach the server.
  auto sent = caller_.sent();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0].method, "report_state");
  EXPECT_EQ(sent[0].args["agent_state"]["agent_state"]["configurations"]["hubs"], 3);
}

TEST_F(HeartbeatTest, TheThreadReportsAtOnceThenEveryIntervalAndSurvivesAnException) {
  Heartbeat heartbeat = make(10ms);
  caller_.answer(json("new"));
  caller_.answerWith([]() -> rpc::RpcResult<json> { throw std::runtime_error("injected"); });
  ASSERT_TRUE(heartbeat.start().ok());
  ASSERT_TRUE(caller_.waitForCalls(4));  // the exception did not end the heartbeats
  heartbeat.stop();
  const size_t calls = caller_.sent().size();
  heartbeat.stop();                         // idempotent
  EXPECT_EQ(caller_.sent().size(), calls);  // joined: nothing runs after stop() returned
}

TEST_F(HeartbeatTest, StopEndsAThreadThatWaitsForItsNextReport) {
  Heartbeat heartbeat = make(1h);
  ASSERT_TRUE(heartbeat.start().ok());
  ASSERT_TRUE(caller_.waitForCalls(1));  // the first report, at once
  heartbeat.stop();                      // returns although the next report is an hour away
  EXPECT_EQ(caller_.sent().size(), 1u);
}

}  // namespace
}  // namespace nwg::daemon
