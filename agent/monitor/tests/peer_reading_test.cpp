#include "monitor/peer_reading.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "monitor/tests/support.h"
#include "wireguard/fake/fake_backend.h"

namespace nwg::monitor {
namespace {

using namespace testing;

wg::Device deviceWith(std::initializer_list<int> spokes) {
  wg::Device d;
  for (int n : spokes) {
    wg::Peer p;
    p.public_key = keyOf(n);
    p.stats = handshakeAt(1766000000 + n, 100u * static_cast<uint64_t>(n), 7);
    p.endpoint = *Endpoint::parse(str("198.51.100.", n, ":51820"));
    d.peers.push_back(p);
  }
  return d;
}

TEST(JoinPeers, SpokesAreMatchedByKeyWhateverTheDeviceOrder) {
  auto hub = hubWith(1, 1, 3);
  // The device lists the peers in its own order, has one the hub no longer has (left out), and
  // lacks spoke 2 (not configured yet: not present).
  HubReading r = joinPeers(hub, deviceWith({3, 99, 1}));
  ASSERT_FALSE(r.failure);
  ASSERT_EQ(r.peers.size(), 3u);
  EXPECT_TRUE(r.peers[0].present);
  EXPECT_EQ(r.peers[0].stats.last_handshake_sec, 1766000001);
  EXPECT_EQ(r.peers[0].stats.rx_bytes, 100u);
  EXPECT_EQ(r.peers[0].endpoint->toString(), "198.51.100.1:51820");
  EXPECT_FALSE(r.peers[1].present);
  EXPECT_TRUE(r.peers[2].present);
  EXPECT_EQ(r.peers[2].stats.rx_bytes, 300u);
}

TEST(JoinPeers, ADeviceThatCannotBeReadMakesEverySpokeUnknown) {
  HubReading r =
      joinPeers(hubWith(1, 1, 2), Result<wg::Device>(Error("device wg-x: get: timed out", ETIMEDOUT)));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, ETIMEDOUT);
  EXPECT_TRUE(r.peers.empty());
}

TEST(JoinPeers, TenThousandSpokes) {
  auto hub = hubWith(1, 0, 10000);
  wg::Device d;
  for (int n = 9999; n >= 0; --n) {
    wg::Peer p;
    p.public_key = keyOf(n);
    p.stats.rx_bytes = static_cast<uint64_t>(n);
    d.peers.push_back(p);
  }
  HubReading r = joinPeers(hub, d);
  for (int n = 0; n < 10000; ++n) {
    ASSERT_TRUE(r.peers[static_cast<size_t>(n)].present);
    ASSERT_EQ(r.peers[static_cast<size_t>(n)].stats.rx_bytes, static_cast<uint64_t>(n));
  }
}

TEST(ReadPeers, EveryRealizedHubIsReadOnceThroughTheBackend) {
  wg::FakeBackend backend;
  auto a = hubWith(1, 1, 2);
  auto b = hubWith(2, 3, 1);
  ASSERT_TRUE(backend.create(a->device.ifname, {}).ok());
  wg::Device update;
  for (const auto& s : a->spokes) {
    wg::Peer p;
    p.public_key = s.public_key;
    p.allowed_ips = s.allowed_ips;
    update.peers.push_back(p);
  }
  ASSERT_TRUE(backend.set(a->device, update).ok());
  ASSERT_TRUE(backend.setPeerStats(a->device.ifname, keyOf(2), handshakeAt(1766000000, 5, 6)));
  backend.resetCounts();
  // b's device does not exist (vanished): its hub fails, a's is read.
  PeerReading reading = readPeers(backend, {a, b}, WallClock::time_point(std::chrono::seconds(1766000010)));
  EXPECT_EQ(backend.counts().get, 2);
  EXPECT_EQ(backend.counts().writes(), 0);
  ASSERT_EQ(reading.hubs.size(), 2u);
  EXPECT_FALSE(reading.hubs[0].failure);
  EXPECT_TRUE(reading.hubs[1].failure);
  EXPECT_EQ(reading.failedHubs(), 1u);
  EXPECT_EQ(reading.hubs[0].peers[1].stats.tx_bytes, 6u);
  EXPECT_EQ(reading.hubs[0].peers[0].stats.last_handshake_sec, 0);
}

}  // namespace
}  // namespace nwg::monitor
