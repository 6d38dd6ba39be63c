// Device-state diff: the smallest update, field by field, and incremental at 10,000 peers.
#include "wireguard/diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace nwg::wg {
namespace {

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(initCrypto().ok()); }

  static Key key(uint8_t seed) {
    std::array<uint8_t, 32> b{};
    b.fill(seed);
    return Key(b);
  }
  static IpPrefix ip(const char* text) { return IpPrefix::parse(text).value(); }
  // A peer as Backend::get returns it: every field present.
  static Peer readBack(uint8_t seed, std::vector<IpPrefix> ips) {
    Peer p;
    p.public_key = key(seed);
    p.preshared_key = Key();
    p.persistent_keepalive = 0;
    p.allowed_ips = std::move(ips);
    return p;
  }
  static Peer wantedPeer(uint8_t seed, std::vector<IpPrefix> ips) {
    Peer p;
    p.public_key = key(seed);
    p.allowed_ips = std::move(ips);
    return p;
  }
};

TEST_F(DiffTest, IdenticalStatesGiveAnEmptyUpdate) {
  Device current;
  current.private_key = key(1);
  current.listen_port = 51820;
  current.fwmark = 0;
  current.peers = {readBack(2, {ip("10.0.0.2/32")})};
  current.peers[0].stats.rx_bytes = 99;  // statistics never make a difference
  Device wanted;
  wanted.private_key = key(1);
  wanted.listen_port = 51820;
  wanted.peers = {wantedPeer(2, {ip("10.0.0.2/32")})};
  Device update = diff(current, wanted);
  EXPECT_TRUE(isEmptyUpdate(update));
  EXPECT_EQ(update, Device{});
}

TEST_F(DiffTest, OnlyChangedDeviceFieldsAreSent) {
  Device current;
  current.private_key = key(1);
  current.listen_port = 51820;
  current.fwmark = 0;
  Device wanted;
  wanted.private_key = key(1);
  wanted.listen_port = 51821;
  Device update = diff(current, wanted);
  EXPECT_FALSE(update.private_key.has_value());
  EXPECT_EQ(update.listen_port, 51821);
  EXPECT_FALSE(update.fwmark.has_value());
  EXPECT_FALSE(update.replace_peers);
  EXPECT_TRUE(update.peers.empty());

  wanted.private_key = key(3);
  wanted.listen_port.reset();  // absent = don't care
  wanted.fwmark = 7;
  update = diff(current, wanted);
  ASSERT_TRUE(update.private_key.has_value());
  EXPECT_TRUE(*update.private_key == key(3));
  EXPECT_FALSE(update.listen_port.has_value());
  EXPECT_EQ(update.fwmark, 7u);
}

TEST_F(DiffTest, ListenPortIsSentWhenTheDeviceLostItsSocket) {
  Device current;  // wireguard-go after EADDRINUSE: no listen_port at all
  Device wanted;
  wanted.listen_port = 51820;
  EXPECT_EQ(diff(current, wanted).listen_port, 51820);
}

TEST_F(DiffTest, RemovesAddsAndChangesPeers) {
  Device current;
  current.peers = {readBack(1, {ip("10.0.0.1/32")}), readBack(2, {ip("10.0.0.2/32")}),
                   readBack(3, {ip("10.0.0.3/32")})};
  Device wanted;
  wanted.peers = {wantedPeer(2, {ip("10.0.0.2/32")}), wantedPeer(3, {ip("10.0.0.3/32"), ip("10.1.0.0/16")}),
                  wantedPeer(4, {ip("10.0.0.4/32")})};
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 3u);
  // Removal first, with nothing but the key and the flag.
  EXPECT_TRUE(update.peers[0].public_key == key(1));
  EXPECT_TRUE(update.peers[0].remove);
  EXPECT_TRUE(update.peers[0].allowed_ips.empty());
  // Changed: the whole new allowed-IP set with replace_allowed_ips, nothing else.
  EXPECT_TRUE(update.peers[1].public_key == key(3));
  EXPECT_TRUE(update.peers[1].replace_allowed_ips);
  EXPECT_EQ(update.peers[1].allowed_ips, (std::vector<IpPrefix>{ip("10.0.0.3/32"), ip("10.1.0.0/16")}));
  EXPECT_FALSE(update.peers[1].preshared_key || update.peers[1].persistent_keepalive ||
               update.peers[1].endpoint);
  EXPECT_FALSE(update.peers[1].remove);
  // New: in full, no flags.
  EXPECT_TRUE(update.peers[2].public_key == key(4));
  EXPECT_FALSE(update.peers[2].replace_allowed_ips || update.peers[2].remove || update.peers[2].update_only);
  EXPECT_EQ(update.peers[2].allowed_ips, std::vector<IpPrefix>{ip("10.0.0.4/32")});
  EXPECT_FALSE(update.replace_peers);
}

TEST_F(DiffTest, ChangedPeerCarriesOnlyChangedFields) {
  Peer cur = readBack(1, {ip("10.0.0.1/32")});
  cur.endpoint = Endpoint::parse("198.51.100.1:51820").value();
  cur.persistent_keepalive = 25;
  cur.preshared_key = key(9);
  Device current;
  current.peers = {cur};

  Peer want = wantedPeer(1, {ip("10.0.0.1/32")});
  want.endpoint = cur.endpoint;
  want.persistent_keepalive = 0;  // explicit 0: clear it
  want.preshared_key = Key();     // explicit zero key: clear it
  Device wanted;
  wanted.peers = {want};
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 1u);
  const Peer& p = update.peers[0];
  EXPECT_EQ(p.persistent_keepalive, 0);
  ASSERT_TRUE(p.preshared_key.has_value());
  EXPECT_TRUE(p.preshared_key->isZero());
  EXPECT_FALSE(p.endpoint.has_value());
  EXPECT_FALSE(p.replace_allowed_ips);
  EXPECT_TRUE(p.allowed_ips.empty());
}

TEST_F(DiffTest, AbsentWantedFieldsAreLeftAlone) {
  Peer cur = readBack(1, {ip("10.0.0.1/32")});
  cur.endpoint = Endpoint::parse("203.0.113.9:4444").value();  // learnt by roaming
  cur.persistent_keepalive = 25;
  cur.preshared_key = key(9);
  Device current;
  current.peers = {cur};
  Device wanted;
  wanted.peers = {wantedPeer(1, {ip("10.0.0.1/32")})};
  EXPECT_TRUE(isEmptyUpdate(diff(current, wanted)));
}

TEST_F(DiffTest, AllowedIpsAreComparedMaskedAndAsSets) {
  Device current;
  current.peers = {readBack(1, {ip("10.7.3.0/24"), ip("fd00::/64"), ip("10.0.0.1/32")})};
  Device wanted;
  // Different order, host bits set, a duplicate: the same set as WireGuard stores it.
  wanted.peers = {
      wantedPeer(1, {ip("10.0.0.1/32"), ip("fd00::99/64"), ip("10.7.3.5/24"), ip("10.0.0.1/32")})};
  EXPECT_TRUE(isEmptyUpdate(diff(current, wanted)));

  wanted.peers[0].allowed_ips.push_back(ip("10.9.9.9/16"));
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 1u);
  EXPECT_TRUE(update.peers[0].replace_allowed_ips);
  // Sent masked and de-duplicated.
  EXPECT_EQ(update.peers[0].allowed_ips,
            canonicalAllowedIps({ip("10.0.0.1/32"), ip("10.7.3.0/24"), ip("10.9.0.0/16"), ip("fd00::/64")}));
  EXPECT_EQ(update.peers[0].allowed_ips.size(), 4u);
}

TEST_F(DiffTest, RemovingEveryAllowedIpIsAnExplicitEmptyReplacement) {
  Device current;
  current.peers = {readBack(1, {ip("10.0.0.1/32")})};
  Device wanted;
  wanted.peers = {wantedPeer(1, {})};
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 1u);
  EXPECT_TRUE(update.peers[0].replace_allowed_ips);
  EXPECT_TRUE(update.peers[0].allowed_ips.empty());
}

TEST_F(DiffTest, NewPeerOmitsDefaultsAndKeepsTheRest) {
  Device current;
  Peer want = wantedPeer(5, {ip("10.0.0.5/32")});
  want.preshared_key = Key();
  want.persistent_keepalive = 0;
  want.endpoint = Endpoint::parse("[2001:db8::1]:51820").value();
  Device wanted;
  wanted.peers = {want};
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 1u);
  EXPECT_FALSE(update.peers[0].preshared_key.has_value());
  EXPECT_FALSE(update.peers[0].persistent_keepalive.has_value());
  EXPECT_EQ(update.peers[0].endpoint, want.endpoint);

  want.preshared_key = key(8);
  want.persistent_keepalive = 25;
  wanted.peers = {want};
  update = diff(current, wanted);
  EXPECT_TRUE(update.peers[0].preshared_key == key(8));
  EXPECT_EQ(update.peers[0].persistent_keepalive, 25);
}

TEST_F(DiffTest, AllowedIpMovingBetweenPeersUpdatesBoth) {
  Device current;
  current.peers = {readBack(1, {ip("10.0.0.1/32"), ip("10.0.0.9/32")}), readBack(2, {ip("10.0.0.2/32")})};
  Device wanted;
  wanted.peers = {wantedPeer(1, {ip("10.0.0.1/32")}), wantedPeer(2, {ip("10.0.0.2/32"), ip("10.0.0.9/32")})};
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 2u);
  for (const Peer& p : update.peers) EXPECT_TRUE(p.replace_allowed_ips);
}

TEST_F(DiffTest, ReplacePeersOnlyWhenAsked) {
  Device current;
  current.peers = {readBack(1, {ip("10.0.0.1/32")})};
  Device wanted;
  wanted.peers = {wantedPeer(1, {ip("10.0.0.1/32")}), wantedPeer(2, {ip("10.0.0.2/32")})};
  Device update = diff(current, wanted);
  EXPECT_FALSE(update.replace_peers);
  EXPECT_EQ(update.peers.size(), 1u);

  wanted.replace_peers = true;
  update = diff(current, wanted);
  EXPECT_TRUE(update.replace_peers);
  ASSERT_EQ(update.peers.size(), 2u);
  for (const Peer& p : update.peers) {
    EXPECT_TRUE(p.replace_allowed_ips);
    EXPECT_FALSE(p.remove);
  }
}

TEST_F(DiffTest, DuplicateWantedKeysLastOneWins) {
  Device current;
  Device wanted;
  wanted.peers = {wantedPeer(1, {ip("10.0.0.1/32")}), wantedPeer(2, {}), wantedPeer(1, {ip("10.0.0.7/32")})};
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 2u);
  EXPECT_TRUE(update.peers[0].public_key == key(1));
  EXPECT_EQ(update.peers[0].allowed_ips, std::vector<IpPrefix>{ip("10.0.0.7/32")});
}

TEST_F(DiffTest, FlagsInWantedAreIgnored) {
  Device current;
  current.peers = {readBack(1, {ip("10.0.0.1/32")})};
  Device wanted;
  wanted.peers = {wantedPeer(1, {ip("10.0.0.1/32")})};
  wanted.peers[0].remove = true;
  wanted.peers[0].update_only = true;
  EXPECT_TRUE(isEmptyUpdate(diff(current, wanted)));
}

TEST_F(DiffTest, OnePeerAddedToTenThousandIsAOnePeerUpdate) {
  Device current;
  Device wanted;
  for (uint32_t i = 0; i < 10000; ++i) {
    std::array<uint8_t, 32> b{};
    b[0] = static_cast<uint8_t>(i & 0xff);
    b[1] = static_cast<uint8_t>(i >> 8);
    b[2] = 0x5a;
    IpPrefix host(IpAddress::v4({10, 64, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i & 0xff)}), 32);
    Peer cur;
    cur.public_key = Key(b);
    cur.preshared_key = Key();
    cur.persistent_keepalive = 0;
    cur.allowed_ips = {host};
    current.peers.push_back(cur);
    Peer want;
    want.public_key = Key(b);
    want.allowed_ips = {host};
    wanted.peers.push_back(want);
  }
  wanted.peers.push_back(wantedPeer(0xee, {ip("10.99.0.1/32")}));
  Device update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 1u);
  EXPECT_TRUE(update.peers[0].public_key == key(0xee));

  wanted.peers.erase(wanted.peers.begin() + 1234);
  wanted.peers.pop_back();
  update = diff(current, wanted);
  ASSERT_EQ(update.peers.size(), 1u);
  EXPECT_TRUE(update.peers[0].remove);
  EXPECT_TRUE(update.peers[0].public_key == current.peers[1234].public_key);
}

// The rules of diff.h written the plain way (linear scans, no index): on random devices with shared,
// missing, repeated and changed peers in unrelated orders, the real diff must give exactly this.
Device referenceDiff(const Device& current, const Device& wanted) {
  Device update;
  if (wanted.private_key && current.private_key != wanted.private_key)
    update.private_key = wanted.private_key;
  if (wanted.listen_port && current.listen_port != wanted.listen_port)
    update.listen_port = wanted.listen_port;
  if (wanted.fwmark && current.fwmark != wanted.fwmark) update.fwmark = wanted.fwmark;
  auto firstIn = [](const std::vector<Peer>& peers, const Key& k) -> const Peer* {
    for (const Peer& p : peers) {
      if (p.public_key == k) return &p;
    }
    return nullptr;
  };
  auto lastIn = [](const std::vector<Peer>& peers, const Key& k) -> const Peer* {
    const Peer* found = nullptr;
    for (const Peer& p : peers) {
      if (p.public_key == k) found = &p;
    }
    return found;
  };
  std::vector<const Peer*> distinct;  // wanted keys in first-seen order, each with its last entry
  for (const Peer& p : wanted.peers) {
    if (firstIn(wanted.peers, p.public_key) == &p) distinct.push_back(lastIn(wanted.peers, p.public_key));
  }
  auto full = [](const Peer& w, bool replace) {
    Peer out;
    out.public_key = w.public_key;
    if (w.preshared_key && !w.preshared_key->isZero()) out.preshared_key = w.preshared_key;
    out.endpoint = w.endpoint;
    if (w.persistent_keepalive && *w.persistent_keepalive != 0)
      out.persistent_keepalive = w.persistent_keepalive;
    out.allowed_ips = canonicalAllowedIps(w.allowed_ips);
    out.replace_allowed_ips = replace;
    return out;
  };
  if (wanted.replace_peers) {
    update.replace_peers = true;
    for (const Peer* w : distinct) update.peers.push_back(full(*w, true));
    return update;
  }
  for (const Peer& c : current.peers) {
    if (firstIn(current.peers, c.public_key) != &c) continue;  // a repeat: the first entry counts
    if (firstIn(wanted.peers, c.public_key)) continue;
    Peer removal;
    removal.public_key = c.public_key;
    removal.remove = true;
    update.peers.push_back(removal);
  }
  for (const Peer* w : distinct) {
    const Peer* c = firstIn(current.peers, w->public_key);
    if (!c) {
      update.peers.push_back(full(*w, false));
      continue;
    }
    Peer out;
    out.public_key = w->public_key;
    bool changed = false;
    if (w->preshared_key && c->preshared_key != w->preshared_key) {
      out.preshared_key = w->preshared_key;
      changed = true;
    }
    if (w->persistent_keepalive && c->persistent_keepalive != w->persistent_keepalive) {
      out.persistent_keepalive = w->persistent_keepalive;
      changed = true;
    }
    if (w->endpoint && c->endpoint != w->endpoint) {
      out.endpoint = w->endpoint;
      changed = true;
    }
    if (canonicalAllowedIps(c->allowed_ips) != canonicalAllowedIps(w->allowed_ips)) {
      out.replace_allowed_ips = true;
      out.allowed_ips = canonicalAllowedIps(w->allowed_ips);
      changed = true;
    }
    if (changed) update.peers.push_back(out);
  }
  return update;
}

TEST_F(DiffTest, MatchesThePlainRulesOnRandomDevices) {
  std::mt19937 rng(20240601);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const std::vector<IpPrefix> pool_ips = {ip("10.0.0.1/32"), ip("10.0.0.2/32"), ip("10.0.1.0/24"),
                                          ip("10.0.1.7/24"), ip("fd00::1/128"), ip("fd00::/64")};
  auto ips = [&] {
    std::vector<IpPrefix> out;
    for (uint32_t n = pick(3); n > 0; --n)
      out.push_back(pool_ips[pick(static_cast<uint32_t>(pool_ips.size()))]);
    return out;
  };
  for (int round = 0; round < 400; ++round) {
    const uint32_t keys = 1 + pick(round % 8 == 0 ? 1000 : 60);  // few keys: many shared and repeated
    Device current;
    Device wanted;
    if (pick(2)) current.private_key = key(static_cast<uint8_t>(1 + pick(2)));
    if (pick(2)) wanted.private_key = key(static_cast<uint8_t>(1 + pick(2)));
    if (pick(2)) current.listen_port = static_cast<uint16_t>(51820 + pick(2));
    if (pick(2)) wanted.listen_port = static_cast<uint16_t>(51820 + pick(2));
    wanted.replace_peers = pick(10) == 0;
    auto keyOf = [&](uint32_t k) {
      std::array<uint8_t, 32> b{};
      b[0] = static_cast<uint8_t>(k);
      b[1] = static_cast<uint8_t>(k >> 8);
      b[31] = 0x77;
      return Key(b);
    };
    const uint32_t nc = pick(keys + 1);
    for (uint32_t i = 0; i < nc; ++i) {
      Peer p;
      p.public_key = keyOf(pick(keys));
      p.preshared_key = pick(4) == 0 ? key(9) : Key();
      p.persistent_keepalive = static_cast<uint16_t>(pick(3) == 0 ? 25 : 0);
      if (pick(2)) p.endpoint = Endpoint::parse(pick(2) ? "192.0.2.1:51820" : "[2001:db8::1]:1").value();
      p.allowed_ips = canonicalAllowedIps(ips());
      current.peers.push_back(p);
    }
    const uint32_t nw = pick(keys + 1);
    for (uint32_t i = 0; i < nw; ++i) {
      Peer p;
      p.public_key = keyOf(pick(keys));
      if (pick(3) == 0) p.preshared_key = pick(2) ? key(9) : Key();
      if (pick(3) == 0) p.persistent_keepalive = static_cast<uint16_t>(pick(2) ? 25 : 0);
      if (pick(3) == 0) p.endpoint = Endpoint::parse(pick(2) ? "192.0.2.1:51820" : "[2001:db8::1]:1").value();
      p.allowed_ips = ips();
      p.remove = pick(8) == 0;  // ignored
      wanted.peers.push_back(p);
    }
    const Device got = diff(current, wanted);
    const Device expected = referenceDiff(current, wanted);
    ASSERT_EQ(got.peers.size(), expected.peers.size()) << "round " << round;
    EXPECT_TRUE(got == expected) << "round " << round;
  }
}

}  // namespace
}  // namespace nwg::wg
