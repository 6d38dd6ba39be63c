#include "monitor/peer_monitor.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "monitor/tests/support.h"
#include "wireguard/fake/fake_backend.h"

namespace nwg::monitor {
namespace {

using namespace testing;
using std::chrono::seconds;

class CapturedLog : public reconcile::LogSink {
 public:
  void log(reconcile::Severity severity, std::string_view message) override {
    std::lock_guard lock(mu);
    lines.push_back({severity, std::string(message)});
  }
  size_t count(reconcile::Severity severity, std::string_view part) {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& [s, m] : lines) n += s == severity && m.find(part) != std::string::npos;
    return n;
  }
  std::mutex mu;
  std::vector<std::pair<reconcile::Severity, std::string>> lines;
};

class ScriptedServer : public SpokeStatusApi {
 public:
  Answer updateSpokeStatus(const std::vector<SpokeReport>& reports) override {
    std::lock_guard lock(mu);
    calls.push_back(reports);
    called.notify_all();
    return next;
  }
  size_t callCount() {
    std::lock_guard lock(mu);
    return calls.size();
  }
  std::mutex mu;
  std::condition_variable called;
  std::vector<std::vector<SpokeReport>> calls;
  Answer next;
};

class PeerMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub = hubWith(1, 0, 2500);
    ASSERT_TRUE(backend.create(hub->device.ifname, {}).ok());
    wg::Device update;
    for (const auto& s : hub->spokes) {
      wg::Peer p;
      p.public_key = s.public_key;
      p.allowed_ips = s.allowed_ips;
      update.peers.push_back(p);
    }
    ASSERT_TRUE(backend.set(hub->device, update).ok());
    realized = std::make_shared<const reconcile::RealizedHubs>(reconcile::RealizedHubs{hub});
  }

  PeerMonitor make(PeerMonitorOptions options = {}) {
    options.max_batch = 1000;
    return PeerMonitor(
        backend, [this] { return realized; }, server, log, options, &metrics);
  }

  static WallClock::time_point wall(int64_t s) { return WallClock::time_point(seconds(1766000000 + s)); }
  static PeerMonitor::Steady steady(int64_t s) { return PeerMonitor::Steady(seconds(1000 + s)); }

  wg::FakeBackend backend;
  std::shared_ptr<const reconcile::RealizedHub> hub;
  std::shared_ptr<const reconcile::RealizedHubs> realized;
  ScriptedServer server;
  CapturedLog log;
  metrics::AgentMetrics metrics{{"h", "fake", "1"}};
};

TEST_F(PeerMonitorTest, ReportsInBatchesThenOnlyChanges) {
  PeerMonitor monitor = make();
  monitor.readOnce(wall(0), steady(0));
  ASSERT_EQ(server.calls.size(), 3u);  // 2,500 spokes: 1,000 per call
  EXPECT_EQ(server.calls[0].size(), 1000u);
  EXPECT_EQ(server.calls[2].size(), 500u);
  monitor.readOnce(wall(15), steady(15));
  EXPECT_EQ(server.calls.size(), 3u);  // idle: nothing
  ASSERT_TRUE(backend.setPeerStats(hub->device.ifname, keyOf(42), handshakeAt(1766000020, 148, 92),
                                   Endpoint::parse("203.0.113.9:1234").value()));
  monitor.readOnce(wall(30), steady(30));
  ASSERT_EQ(server.calls.size(), 4u);
  ASSERT_EQ(server.calls[3].size(), 1u);
  EXPECT_EQ(server.calls[3][0].spoke_id, spokeId(42));
  EXPECT_TRUE(server.calls[3][0].active);
  EXPECT_EQ(server.calls[3][0].endpoint->toString(), "203.0.113.9:1234");
  EXPECT_EQ(log.count(reconcile::Severity::Info, "1 new or changed (1 active, 0 down)"), 1u);
  std::string health;
  metrics.write(health, 0);
  EXPECT_NE(health.find("neutron_wireguard_agent_spokes{status=\"active\"} 1\n"), std::string::npos);
  EXPECT_NE(health.find("neutron_wireguard_agent_spoke_report_entries_total 2501\n"), std::string::npos);
  EXPECT_NE(monitor.peerMetrics()->find("wireguard_latest_handshake_seconds{interface=\"wg-c0ffee01-00\""),
            std::string::npos);
}

TEST_F(PeerMonitorTest, AFailedReportIsRetriedAtTheNextReadingAndSaidOnce) {
  PeerMonitor monitor = make();
  server.next = {SpokeStatusApi::Outcome::kFailed, "Timeout: no reply in 60 s"};
  monitor.readOnce(wall(0), steady(0));
  monitor.readOnce(wall(15), steady(15));
  EXPECT_EQ(server.calls.size(), 2u);  // each reading stops at the first failed call
  EXPECT_EQ(log.count(reconcile::Severity::Warning, "could not report spoke status"), 1u);
  server.next = {};
  monitor.readOnce(wall(30), steady(30));
  EXPECT_EQ(server.calls.size(), 5u);  // everything again, in three calls
  EXPECT_EQ(log.count(reconcile::Severity::Info, "work again"), 1u);
}

TEST_F(PeerMonitorTest, AnOlderServerIsAskedAgainOnlyAfterAWhile) {
  PeerMonitorOptions o;
  o.retry_unsupported = std::chrono::minutes(10);
  PeerMonitor monitor = make(o);
  server.next = {SpokeStatusApi::Outcome::kUnsupported, "UnsupportedVersion: 1.5"};
  monitor.readOnce(wall(0), steady(0));
  EXPECT_EQ(server.calls.size(), 1u);
  for (int64_t s = 15; s < 600; s += 15) monitor.readOnce(wall(s), steady(s));
  EXPECT_EQ(server.calls.size(), 1u);
  EXPECT_EQ(log.count(reconcile::Severity::Warning, "does not support update_spoke_status"), 1u);
  server.next = {};  // upgraded meanwhile
  monitor.readOnce(wall(600), steady(600));
  EXPECT_EQ(server.calls.size(), 4u);
  EXPECT_EQ(log.count(reconcile::Severity::Info, "now supports update_spoke_status"), 1u);
}

TEST_F(PeerMonitorTest, ADryRunReportsNothingButStillHasMetrics) {
  PeerMonitorOptions o;
  o.report_status = false;
  PeerMonitor monitor = make(o);
  monitor.readOnce(wall(0), steady(0));
  EXPECT_TRUE(server.calls.empty());
  EXPECT_FALSE(monitor.peerMetrics()->empty());
}

TEST_F(PeerMonitorTest, TheThreadReadsEveryIntervalAndStops) {
  PeerMonitorOptions o;
  o.interval = std::chrono::milliseconds(10);
  PeerMonitor monitor = make(o);
  EXPECT_TRUE(monitor.peerMetrics()->empty());
  ASSERT_TRUE(monitor.start().ok());
  {
    std::unique_lock lock(server.mu);
    ASSERT_TRUE(server.called.wait_for(lock, seconds(30), [&] { return server.calls.size() >= 3; }));
  }
  monitor.stop();
  const size_t calls = server.callCount();
  EXPECT_FALSE(monitor.peerMetrics()->empty());
  monitor.stop();  // twice is fine
  EXPECT_EQ(server.callCount(), calls);
}

}  // namespace
}  // namespace nwg::monitor
