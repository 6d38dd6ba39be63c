#include "monitor/liveness.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "monitor/tests/support.h"

namespace nwg::monitor {
namespace {

using namespace testing;
using std::chrono::seconds;

constexpr int64_t kT0 = 1766000000;  // wall clock of the first reading (unix seconds)

class LivenessTest : public ::testing::Test {
 protected:
  LivenessOptions options() {
    LivenessOptions o;
    o.active_window = seconds(180);
    o.report_interval = seconds(300);
    o.max_refreshes_per_reading = 1000;
    return o;
  }

  // A reading at kT0 + `t` seconds: every spoke of `hub` present with the stats given (default:
  // never handshaken).
  PeerReading readingAt(int64_t t, const std::vector<std::shared_ptr<const reconcile::RealizedHub>>& hubs,
                        std::map<std::string, wg::PeerStats> stats = {}) {
    PeerReading r;
    r.at = WallClock::time_point(seconds(kT0 + t));
    for (const auto& hub : hubs) {
      HubReading h;
      h.hub = hub;
      for (const auto& spoke : hub->spokes) {
        PeerSample s;
        s.present = true;
        if (auto it = stats.find(spoke.port_id); it != stats.end()) {
          s.stats = it->second;
          s.endpoint = *Endpoint::parse("203.0.113.7:40000");
        }
        h.peers.push_back(s);
      }
      r.hubs.push_back(std::move(h));
    }
    return r;
  }

  // decide() then reported() at the same time, as the monitor does after a successful call.
  LivenessTracker::Decision step(LivenessTracker& t, const PeerReading& r, int64_t at) {
    auto d = t.decide(r, steadyAt(at));
    t.reported(d.reports, steadyAt(at));
    return d;
  }

  static LivenessTracker::Steady steadyAt(int64_t t) { return LivenessTracker::Steady(seconds(1000 + t)); }
};

TEST_F(LivenessTest, EverySpokeIsReportedOnceThenIdleSpokesCostNothing) {
  LivenessTracker t(options());
  auto hub = hubWith(1, 1, 10000);
  std::map<std::string, wg::PeerStats> stats = {{spokeId(7), handshakeAt(kT0 - 10, 1000, 2000)}};
  auto first = step(t, readingAt(0, {hub}, stats), 0);
  // After a start the server hears what the agent sees, once: it compares and writes only changes.
  ASSERT_EQ(first.reports.size(), 10000u);
  EXPECT_EQ(first.urgent, 10000u);
  const SpokeReport& seven = first.reports[6];
  EXPECT_EQ(seven.spoke_id, spokeId(7));
  EXPECT_EQ(seven.hub_id, hubId(1));
  EXPECT_TRUE(seven.active);
  EXPECT_EQ(seven.latest_handshake, kT0 - 10);
  EXPECT_EQ(seven.endpoint->toString(), "203.0.113.7:40000");
  EXPECT_EQ(seven.rx_bytes, 1000u);
  EXPECT_EQ(seven.tx_bytes, 2000u);
  const SpokeReport& idle = first.reports[0];
  EXPECT_FALSE(idle.active);
  EXPECT_EQ(idle.latest_handshake, 0);
  EXPECT_FALSE(idle.endpoint);  // never handshaken: no endpoint seen
  EXPECT_EQ(t.counts().active, 1u);
  EXPECT_EQ(t.counts().down, 9999u);
  // Then, reading after reading, nothing (the active spoke's numbers did not move).
  for (int64_t at : {15, 30, 60, 120, 165}) {
    EXPECT_TRUE(t.decide(readingAt(at, {hub}, stats), steadyAt(at)).reports.empty()) << at;
  }
}

TEST_F(LivenessTest, AStatusThatFlipsIsReportedAtOnce) {
  LivenessTracker t(options());
  auto hub = hubWith(1, 1, 2);
  step(t, readingAt(0, {hub}), 0);
  // Spoke 1 handshakes: ACTIVE at the next reading.
  auto up = step(t, readingAt(15, {hub}, {{spokeId(1), handshakeAt(kT0 + 12, 148, 92)}}), 15);
  ASSERT_EQ(up.reports.size(), 1u);
  EXPECT_EQ(up.urgent, 1u);
  EXPECT_TRUE(up.reports[0].active);
  EXPECT_EQ(up.reports[0].spoke_id, spokeId(1));
  // Its device goes away: the handshake ages; still active at 180 s, down past it.
  std::map<std::string, wg::PeerStats> quiet = {{spokeId(1), handshakeAt(kT0 + 12, 148, 92)}};
  EXPECT_TRUE(step(t, readingAt(12 + 180, {hub}, quiet), 12 + 180).reports.empty());
  auto down = step(t, readingAt(12 + 181, {hub}, quiet), 12 + 181);
  ASSERT_EQ(down.reports.size(), 1u);
  EXPECT_FALSE(down.reports[0].active);
  EXPECT_EQ(down.reports[0].latest_handshake, kT0 + 12);  // when it was last seen, kept
  EXPECT_TRUE(step(t, readingAt(400, {hub}, quiet), 400).reports.empty());
}

TEST_F(LivenessTest, TrafficIsRefreshedAtABoundedRate) {
  LivenessTracker t(options());
  auto hub = hubWith(1, 1, 1);
  auto at = [&](int64_t s, uint64_t bytes) {
    return readingAt(s, {hub}, {{spokeId(1), handshakeAt(kT0 + s - 5, bytes, bytes / 2)}});
  };
  EXPECT_EQ(step(t, at(0, 1000), 0).reports.size(), 1u);
  // Bytes and handshakes move at every reading; nothing is sent before report_interval...
  for (int64_t s = 15; s < 300; s += 15)
    EXPECT_TRUE(step(t, at(s, 1000 + static_cast<uint64_t>(s)), s).reports.empty()) << s;
  // ... then one refresh with the latest numbers, not urgent.
  auto refresh = step(t, at(300, 99999), 300);
  ASSERT_EQ(refresh.reports.size(), 1u);
  EXPECT_EQ(refresh.urgent, 0u);
  EXPECT_EQ(refresh.reports[0].rx_bytes, 99999u);
  EXPECT_TRUE(step(t, at(315, 100000), 315).reports.empty());
}

TEST_F(LivenessTest, ABurstOfRefreshesIsSpreadOldestFirst) {
  auto o = options();
  o.max_refreshes_per_reading = 400;
  LivenessTracker t(o);
  auto hub = hubWith(1, 0, 1000);
  std::map<std::string, wg::PeerStats> busy;
  auto busyAt = [&](int64_t s) {
    for (int i = 0; i < 1000; ++i) busy[spokeId(i)] = handshakeAt(kT0 + s - 1, static_cast<uint64_t>(s), 0);
    return readingAt(s, {hub}, busy);
  };
  EXPECT_EQ(step(t, busyAt(0), 0).reports.size(), 1000u);
  auto first = step(t, busyAt(300), 300);
  EXPECT_EQ(first.reports.size(), 400u);
  EXPECT_EQ(first.urgent, 0u);
  auto second = step(t, busyAt(315), 315);
  ASSERT_EQ(second.reports.size(), 400u);
  // Those not refreshed at 300 come first at 315.
  std::set<std::string> refreshed;
  for (const auto& r : first.reports) refreshed.insert(r.spoke_id);
  for (const auto& r : second.reports) EXPECT_FALSE(refreshed.count(r.spoke_id)) << r.spoke_id;
  EXPECT_EQ(step(t, busyAt(330), 330).reports.size(), 200u);
  EXPECT_TRUE(step(t, busyAt(345), 345).reports.empty());
}

TEST_F(LivenessTest, AReportTheServerDidNotTakeIsDueAgain) {
  LivenessTracker t(options());
  auto hub = hubWith(1, 1, 1);
  step(t, readingAt(0, {hub}), 0);
  auto r = readingAt(15, {hub}, {{spokeId(1), handshakeAt(kT0 + 14)}});
  EXPECT_EQ(t.decide(r, steadyAt(15)).reports.size(), 1u);  // the call failed: no reported()
  EXPECT_EQ(t.decide(r, steadyAt(30)).reports.size(), 1u);
}

TEST_F(LivenessTest, AHubThatCannotBeReadChangesNothingAndOneNoLongerHereIsForgotten) {
  LivenessTracker t(options());
  auto hub = hubWith(1, 1, 2);
  auto other = hubWith(2, 10, 1);
  step(t, readingAt(0, {hub, other}, {{spokeId(1), handshakeAt(kT0)}}), 0);
  // hub's device does not answer while spoke 1's handshake ages out: no report about it.
  auto unreadable = readingAt(400, {hub, other});
  unreadable.hubs[0].failure = Error("device wg-c0ffee00-00: get: timed out");
  unreadable.hubs[0].peers.clear();
  EXPECT_TRUE(step(t, unreadable, 400).reports.empty());
  EXPECT_EQ(t.counts().down, 1u);  // only what was read counts
  // `other` is no longer realized here (deleted, or moved to another agent): forgotten, no report;
  // if it comes back, its spokes are reported afresh.
  EXPECT_EQ(step(t, readingAt(415, {hub}), 415).reports.size(), 1u);  // spoke 1 now DOWN, at last
  EXPECT_EQ(step(t, readingAt(430, {hub, other}), 430).reports.size(), 1u);
}

TEST_F(LivenessTest, ASpokeThatLeavesAHubWhileActiveGetsALastInactiveReport) {
  LivenessTracker t(options());
  auto both = hubWith(1, 1, 2);
  std::map<std::string, wg::PeerStats> stats = {{spokeId(1), handshakeAt(kT0, 10, 20)},
                                                {spokeId(2), handshakeAt(kT0, 30, 40)}};
  step(t, readingAt(0, {both}, stats), 0);
  // Spoke 2 was disabled (or peers with another hub now): gone from this hub's spokes.
  auto one = hubWith(1, 1, 1, "d2");
  auto d = t.decide(readingAt(15, {one}, stats), steadyAt(15));
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_EQ(d.reports[0].spoke_id, spokeId(2));
  EXPECT_FALSE(d.reports[0].active);
  EXPECT_EQ(d.reports[0].rx_bytes, 30u);
  // Not accepted: due again; accepted: done.
  EXPECT_EQ(t.decide(readingAt(30, {one}, stats), steadyAt(30)).reports.size(), 1u);
  t.reported(d.reports, steadyAt(30));
  EXPECT_TRUE(t.decide(readingAt(45, {one}, stats), steadyAt(45)).reports.empty());
}

TEST_F(LivenessTest, ANewKeyIsANewPeer) {
  LivenessTracker t(options());
  step(t, readingAt(0, {hubWith(1, 1, 1)}, {{spokeId(1), handshakeAt(kT0)}}), 0);
  // The spoke rotated its key: the hub's peer is a new one, which never handshook. Its status
  // flips to DOWN, reported at once.
  auto rotated = withSpokeEdited(*hubWith(1, 1, 1, "d2"), 0, [](auto& s) { s.public_key = keyOf(4242); });
  auto d = step(t, readingAt(15, {rotated}), 15);
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_FALSE(d.reports[0].active);
  // Even a key whose status happens to be the same is reported once (the server keeps its stats).
  auto again = withSpokeEdited(*rotated, 0, [](auto& s) { s.public_key = keyOf(4243); });
  EXPECT_EQ(step(t, readingAt(30, {again}), 30).reports.size(), 1u);
}

TEST_F(LivenessTest, AHandshakeAheadOfTheClockCountsAsNowAndAbsentPeersAreUnknown) {
  EXPECT_TRUE(isActive(handshakeAt(kT0 + 5), WallClock::time_point(seconds(kT0)), seconds(180)));
  EXPECT_FALSE(isActive(handshakeAt(0), WallClock::time_point(seconds(kT0)), seconds(180)));
  LivenessTracker t(options());
  auto r = readingAt(0, {hubWith(1, 1, 2)});
  r.hubs[0].peers[1].present = false;  // not on the device yet
  auto d = t.decide(r, steadyAt(0));
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_EQ(d.reports[0].spoke_id, spokeId(1));
}

}  // namespace
}  // namespace nwg::monitor
