#include "metrics/agent_metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace nwg::metrics {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

std::string render(const AgentMetrics& m, uint64_t reconnects = 0) {
  std::string out;
  m.write(out, reconnects);
  return out;
}

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(AgentMetrics, EveryFamilyIsWrittenOnceEvenBeforeAnythingHappened) {
  AgentMetrics m({"net1", "userspace", "0.1.0"});
  std::string text = render(m);
  std::multiset<std::string> families;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) families.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  for (std::string_view name : names::kAllFamilies) {
    if (name.rfind("wireguard_", 0) == 0) continue;  // per peer: rendered from the peer reading
    EXPECT_EQ(families.count(std::string(name)), 1u) << name;
  }
  EXPECT_EQ(families.size(), names::kAllFamilies.size() - 3);
  EXPECT_TRUE(
      has(text, R"(neutron_wireguard_agent_info{host="net1",backend="userspace",version="0.1.0"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_syncs_total{kind="deep",result="failed"} 0)"));
  EXPECT_TRUE(has(text, "neutron_wireguard_agent_last_full_sync_timestamp_seconds 0"));
}

TEST(AgentMetrics, SyncsByKindAndResultWithDurations) {
  AgentMetrics m({"net1", "kernel", "1"});
  const auto at = system_clock::time_point(seconds(1766000000));
  m.syncDone(AgentMetrics::SyncKind::kDeep, true, std::chrono::milliseconds(120), at);
  m.syncDone(AgentMetrics::SyncKind::kQuick, true, std::chrono::milliseconds(2), at + seconds(30));
  m.syncDone(AgentMetrics::SyncKind::kQuick, false, std::chrono::milliseconds(3), at + seconds(60));
  m.syncDone(AgentMetrics::SyncKind::kPartial, true, std::chrono::milliseconds(9), at + seconds(90));
  std::string text = render(m, 3);
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_syncs_total{kind="quick",result="complete"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_syncs_total{kind="quick",result="failed"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_syncs_total{kind="deep",result="complete"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_syncs_total{kind="partial",result="complete"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_sync_duration_seconds_bucket{kind="deep",le="0.1"} 0)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_sync_duration_seconds_bucket{kind="deep",le="0.25"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_sync_duration_seconds_count{kind="quick"} 2)"));
  // The last *complete full* sync: not the failed quick one, not the partial one.
  EXPECT_TRUE(has(text, "neutron_wireguard_agent_last_full_sync_timestamp_seconds 1766000030"));
  EXPECT_TRUE(has(text, "neutron_wireguard_agent_rpc_reconnects_total 3"));
}

TEST(AgentMetrics, HubsRpcErrorsLatencySpokesAndReports) {
  AgentMetrics m({"net1", "kernel", "1"});
  m.hubs(98, 2, 9800);
  m.rpcError("get_hubs", "timeout");
  m.rpcError("get_hubs", "timeout");
  m.rpcError("update_spoke_status", "unsupported_version");
  m.notificationApplied(std::chrono::milliseconds(14));
  m.spokes(7000, 2800);
  m.spokeReport(AgentMetrics::ReportResult::kSent, 1000);
  m.spokeReport(AgentMetrics::ReportResult::kSent, 24);
  m.spokeReport(AgentMetrics::ReportResult::kFailed, 5);
  m.peerRead(1, std::chrono::milliseconds(25), system_clock::time_point(seconds(1766000100)));
  std::string text = render(m);
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_hubs{state="realized"} 98)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_hubs{state="failed"} 2)"));
  EXPECT_TRUE(has(text, "neutron_wireguard_agent_peers 9800"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_rpc_errors_total{method="get_hubs",kind="timeout"} 2)"));
  EXPECT_TRUE(has(
      text,
      R"(neutron_wireguard_agent_rpc_errors_total{method="update_spoke_status",kind="unsupported_version"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_notification_to_applied_seconds_bucket{le="0.025"} 1)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_spokes{status="active"} 7000)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_spoke_reports_total{result="sent"} 2)"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_spoke_reports_total{result="failed"} 1)"));
  EXPECT_TRUE(has(text, "neutron_wireguard_agent_spoke_report_entries_total 1024"));
  EXPECT_TRUE(has(text, R"(neutron_wireguard_agent_peer_reads_total{result="partial"} 1)"));
  EXPECT_TRUE(has(text, "neutron_wireguard_agent_peer_read_duration_seconds 0.025"));
  EXPECT_TRUE(has(text, "neutron_wireguard_agent_last_peer_read_timestamp_seconds 1766000100"));
}

}  // namespace
}  // namespace nwg::metrics
