// The backend contract suite (see backend_contract.h): the WireGuard semantics the agent relies on,
// stated once and checked against every backend so the fake cannot drift from the real transports.
#include "wireguard/contract/backend_contract.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>

#include "testing/testing.h"
#include "wireguard/diff.h"

namespace nwg::wg::contract {
namespace {

Key randomPublicKey() {
  return publicKeyOf(generatePrivateKey());
}

IpPrefix prefix(const char* text) {
  return IpPrefix::parse(text).value();
}
Endpoint endpoint(const char* text) {
  return Endpoint::parse(text).value();
}

// A peer of the kind the agent configures: one /32 in 10.64.0.0/10 from its index.
Peer hostPeer(int index) {
  Peer p;
  p.public_key = randomPublicKey();
  auto i = static_cast<uint32_t>(index);
  p.allowed_ips.push_back(
      IpPrefix(IpAddress::v4({10, static_cast<uint8_t>(64 + ((i >> 16) & 63)),
                              static_cast<uint8_t>((i >> 8) & 255), static_cast<uint8_t>(i & 255)}),
               32));
  return p;
}

const Peer* findPeer(const Device& d, const Key& key) {
  for (const Peer& p : d.peers) {
    if (p.public_key == key) return &p;
  }
  return nullptr;
}

std::vector<IpPrefix> ips(std::initializer_list<const char*> texts) {
  std::vector<IpPrefix> out;
  for (const char* t : texts) out.push_back(prefix(t));
  return canonicalAllowedIps(out);
}

}  // namespace

Device canonical(Device device) {
  device.public_key.reset();
  device.replace_peers = false;
  for (Peer& p : device.peers) {
    p.allowed_ips = canonicalAllowedIps(p.allowed_ips);
    p.stats = {};
    p.remove = p.update_only = p.replace_allowed_ips = false;
  }
  std::sort(device.peers.begin(), device.peers.end(),
            [](const Peer& a, const Peer& b) { return a.public_key < b.public_key; });
  return device;
}

std::string backendFactoryName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

void BackendContractTest::SetUp() {
  ASSERT_TRUE(initCrypto().ok());
  ut_ = GetParam().make();
  NWG_REQUIRE(ut_.unavailable.empty(), GetParam().name + " backend: " + ut_.unavailable);
  ASSERT_NE(ut_.backend, nullptr);
  ASSERT_TRUE(ut_.fresh_name);
}

void BackendContractTest::TearDown() {
  if (ut_.backend) {
    for (const std::string& name : created_) {
      Status s = ut_.backend->destroy(ref(name));
      EXPECT_TRUE(s.ok()) << "cleanup of " << name << ": " << s.error().message;
    }
  }
  if (ut_.cleanup) ut_.cleanup();
}

std::string BackendContractTest::createDevice() {
  std::string name = ut_.fresh_name();
  created_.push_back(name);
  Status s = backend().create(name, {});
  EXPECT_TRUE(s.ok()) << "create " << name << ": " << s.error().message;
  if (s.ok() && ut_.after_create) ut_.after_create(name);
  return name;
}

uint16_t BackendContractTest::setFreeListenPort(const std::string& ifname) {
  // Ports 20000-29999 are outside Linux's ephemeral range; retry on the rare collision with another
  // user of the host.
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto port = static_cast<uint16_t>(20000 + rng() % 10000);
    Device update;
    update.listen_port = port;
    Status s = backend().set(ref(ifname), update);
    if (s.ok()) return port;
    if (s.error().code != EADDRINUSE) {
      ADD_FAILURE() << "set listen_port on " << ifname << ": " << s.error().message;
      return 0;
    }
  }
  ADD_FAILURE() << "no free listen port found for " << ifname;
  return 0;
}

TEST_P(BackendContractTest, CreatedDeviceHasNoKeyAndNoPeers) {
  std::string name = createDevice();
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->private_key.has_value());
  EXPECT_FALSE(d->public_key.has_value());
  EXPECT_TRUE(d->peers.empty());
  EXPECT_EQ(d->fwmark.value_or(0), 0u);
}

TEST_P(BackendContractTest, CreateExistingFailsWithEexist) {
  std::string name = createDevice();
  Status again = backend().create(name, {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EEXIST) << again.error().message;
  EXPECT_NE(again.error().message.find(name), std::string::npos) << again.error().message;
  EXPECT_TRUE(backend().get(ref(name)).ok()) << "the existing device must survive";
}

TEST_P(BackendContractTest, CreateRejectsInvalidNames) {
  for (std::string bad : {std::string("--help"), std::string("-x"), std::string(16, 'a'), std::string(""),
                          std::string("a/b"), std::string("a b")}) {
    Status s = backend().create(bad, {});
    ASSERT_FALSE(s.ok()) << "'" << bad << "' was accepted";
    EXPECT_EQ(s.error().code, EINVAL) << s.error().message;
    if (s.ok()) created_.push_back(bad);
  }
}

TEST_P(BackendContractTest, PrivateKeyAndListenPortRoundTrip) {
  std::string name = createDevice();
  Key priv = generatePrivateKey();
  Device update;
  update.private_key = priv;
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  uint16_t port = setFreeListenPort(name);
  ASSERT_NE(port, 0);
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_TRUE(d->private_key.has_value());
  EXPECT_TRUE(*d->private_key == priv);
  ASSERT_TRUE(d->public_key.has_value());
  EXPECT_TRUE(*d->public_key == publicKeyOf(priv));
  EXPECT_EQ(d->listen_port, port);
}

// The public key read back always belongs to the private key the device has now, also when a
// backend derives it (wireguard-go does not report it) and remembers the derivation.
TEST_P(BackendContractTest, PublicKeyFollowsAChangedPrivateKey) {
  std::string name = createDevice();
  for (int i = 0; i < 3; ++i) {
    Key priv = generatePrivateKey();
    Device update;
    update.private_key = priv;
    ASSERT_TRUE(backend().set(ref(name), update).ok());
    for (int reads = 0; reads < 2; ++reads) {
      auto d = backend().get(ref(name));
      ASSERT_TRUE(d.ok()) << d.error().message;
      ASSERT_TRUE(d->public_key.has_value());
      EXPECT_TRUE(*d->public_key == publicKeyOf(priv)) << "key " << i << ", read " << reads;
    }
  }
  // A device re-created under the same name starts without a key.
  ASSERT_TRUE(backend().destroy(ref(name)).ok());
  ASSERT_TRUE(backend().create(name, {}).ok());
  if (ut_.after_create) ut_.after_create(name);
  auto fresh = backend().get(ref(name));
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_FALSE(fresh->public_key.has_value());
}

TEST_P(BackendContractTest, FwmarkRoundTripsAndClears) {
  std::string name = createDevice();
  Device update;
  update.fwmark = 0x51820;
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  EXPECT_EQ(backend().get(ref(name))->fwmark.value_or(0), 0x51820u);
  update.fwmark = 0;
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  EXPECT_EQ(backend().get(ref(name))->fwmark.value_or(0), 0u);
}

TEST_P(BackendContractTest, PeersWithEveryFieldRoundTrip) {
  std::string name = createDevice();
  Device update;
  update.private_key = generatePrivateKey();
  Peer a;
  a.public_key = randomPublicKey();
  a.preshared_key = generatePrivateKey();
  a.endpoint = endpoint("127.0.0.1:9");  // loopback discard port: keepalives go nowhere
  a.persistent_keepalive = 25;
  // Non-canonical prefixes: WireGuard stores them masked.
  a.allowed_ips = {prefix("10.7.3.5/24"), prefix("10.8.0.1/32"), prefix("fd00:1:2::7/64")};
  Peer b;
  b.public_key = randomPublicKey();
  b.endpoint = endpoint("[::1]:9");
  b.allowed_ips = {prefix("fd00:99::/48")};
  update.peers = {a, b};
  Status s = backend().set(ref(name), update);
  ASSERT_TRUE(s.ok()) << s.error().message;

  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->peers.size(), 2u);
  const Peer* ga = findPeer(*d, a.public_key);
  const Peer* gb = findPeer(*d, b.public_key);
  ASSERT_TRUE(ga && gb);
  EXPECT_TRUE(ga->preshared_key == a.preshared_key);
  EXPECT_EQ(ga->endpoint, a.endpoint);
  EXPECT_EQ(ga->persistent_keepalive, 25);
  EXPECT_EQ(canonicalAllowedIps(ga->allowed_ips), ips({"10.7.3.0/24", "10.8.0.1/32", "fd00:1:2::/64"}));
  // Read back, absent fields have WireGuard's defaults: no preshared key (all zero), keepalive off.
  ASSERT_TRUE(gb->preshared_key.has_value());
  EXPECT_TRUE(gb->preshared_key->isZero());
  EXPECT_EQ(gb->persistent_keepalive, 0);
  EXPECT_EQ(gb->endpoint, b.endpoint);
  EXPECT_EQ(canonicalAllowedIps(gb->allowed_ips), ips({"fd00:99::/48"}));
}

TEST_P(BackendContractTest, UpdatingOneFieldLeavesTheOthersUnchanged) {
  std::string name = createDevice();
  Key priv = generatePrivateKey();
  Peer p;
  p.public_key = randomPublicKey();
  p.preshared_key = generatePrivateKey();
  p.endpoint = endpoint("127.0.0.1:9");
  p.allowed_ips = {prefix("10.1.0.0/16")};
  Device first;
  first.private_key = priv;
  first.peers = {p};
  ASSERT_TRUE(backend().set(ref(name), first).ok());
  auto before = backend().get(ref(name));
  ASSERT_TRUE(before.ok());

  Peer change;  // only the keepalive
  change.public_key = p.public_key;
  change.persistent_keepalive = 30;
  Device update;
  update.peers = {change};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  uint16_t port = setFreeListenPort(name);  // a device field alone
  ASSERT_NE(port, 0);

  auto after = backend().get(ref(name));
  ASSERT_TRUE(after.ok());
  Device expected = canonical(*before);
  expected.listen_port = port;
  expected.peers[0].persistent_keepalive = 30;
  EXPECT_EQ(canonical(*after), expected);
}

TEST_P(BackendContractTest, ZeroKeepaliveAndZeroPresharedKeyClear) {
  std::string name = createDevice();
  Peer p;
  p.public_key = randomPublicKey();
  p.preshared_key = generatePrivateKey();
  p.persistent_keepalive = 25;
  p.endpoint = endpoint("127.0.0.1:9");
  Device update;
  update.peers = {p};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  Peer clear;
  clear.public_key = p.public_key;
  clear.preshared_key = Key();
  clear.persistent_keepalive = 0;
  update.peers = {clear};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_TRUE(d->peers[0].preshared_key->isZero());
  EXPECT_EQ(d->peers[0].persistent_keepalive, 0);
  EXPECT_EQ(d->peers[0].endpoint, p.endpoint);
}

TEST_P(BackendContractTest, RemovePeerRemovesOnlyThatPeer) {
  std::string name = createDevice();
  Peer a = hostPeer(1), b = hostPeer(2);
  Device update;
  update.peers = {a, b};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  Peer removal;
  removal.public_key = a.public_key;
  removal.remove = true;
  update.peers = {removal};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_TRUE(d->peers[0].public_key == b.public_key);
  EXPECT_EQ(canonicalAllowedIps(d->peers[0].allowed_ips), canonicalAllowedIps(b.allowed_ips));
  // Removing a peer that does not exist is harmless.
  removal.public_key = randomPublicKey();
  update.peers = {removal};
  EXPECT_TRUE(backend().set(ref(name), update).ok());
  EXPECT_EQ(backend().get(ref(name))->peers.size(), 1u);
}

TEST_P(BackendContractTest, AllowedIpsAddUnlessReplaced) {
  std::string name = createDevice();
  Peer p;
  p.public_key = randomPublicKey();
  p.allowed_ips = {prefix("10.1.0.1/32")};
  Device update;
  update.peers = {p};
  ASSERT_TRUE(backend().set(ref(name), update).ok());

  p.allowed_ips = {prefix("10.1.0.2/32")};  // without replace_allowed_ips: added
  update.peers = {p};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  EXPECT_EQ(canonicalAllowedIps(backend().get(ref(name))->peers.at(0).allowed_ips),
            ips({"10.1.0.1/32", "10.1.0.2/32"}));

  p.replace_allowed_ips = true;
  p.allowed_ips = {prefix("10.2.0.0/16"), prefix("fd00::/64")};
  update.peers = {p};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  EXPECT_EQ(canonicalAllowedIps(backend().get(ref(name))->peers.at(0).allowed_ips),
            ips({"10.2.0.0/16", "fd00::/64"}));

  p.allowed_ips.clear();  // replace with nothing: the peer keeps no allowed IP
  update.peers = {p};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  EXPECT_TRUE(backend().get(ref(name))->peers.at(0).allowed_ips.empty());
}

TEST_P(BackendContractTest, ReplacePeersMakesThePeerListExact) {
  std::string name = createDevice();
  Device update;
  update.peers = {hostPeer(1), hostPeer(2), hostPeer(3)};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  Device replace;
  replace.replace_peers = true;
  replace.peers = {hostPeer(4)};
  ASSERT_TRUE(backend().set(ref(name), replace).ok());
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_TRUE(d->peers[0].public_key == replace.peers[0].public_key);
  // An empty replacement removes every peer.
  replace.peers.clear();
  ASSERT_TRUE(backend().set(ref(name), replace).ok());
  EXPECT_TRUE(backend().get(ref(name))->peers.empty());
}

TEST_P(BackendContractTest, UpdateOnlyDoesNotCreate) {
  std::string name = createDevice();
  Peer existing = hostPeer(1);
  Device update;
  update.peers = {existing};
  ASSERT_TRUE(backend().set(ref(name), update).ok());

  Peer ghost = hostPeer(2);
  ghost.update_only = true;
  ghost.persistent_keepalive = 15;
  Peer change;
  change.public_key = existing.public_key;
  change.update_only = true;
  change.persistent_keepalive = 15;
  update.peers = {ghost, change};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_TRUE(d->peers[0].public_key == existing.public_key);
  EXPECT_EQ(d->peers[0].persistent_keepalive, 15) << "update_only must still update an existing peer";
}

TEST_P(BackendContractTest, AllowedIpMovesToThePeerThatClaimsItLast) {
  std::string name = createDevice();
  Peer a, b;
  a.public_key = randomPublicKey();
  b.public_key = randomPublicKey();
  a.allowed_ips = {prefix("10.5.0.1/32"), prefix("10.5.1.0/24")};
  b.allowed_ips = {prefix("10.5.0.2/32")};
  Device update;
  update.peers = {a, b};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  Peer claim;
  claim.public_key = b.public_key;
  claim.allowed_ips = {prefix("10.5.1.77/24")};  // the same prefix as a's, not masked
  update.peers = {claim};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(canonicalAllowedIps(findPeer(*d, a.public_key)->allowed_ips), ips({"10.5.0.1/32"}));
  EXPECT_EQ(canonicalAllowedIps(findPeer(*d, b.public_key)->allowed_ips),
            ips({"10.5.0.2/32", "10.5.1.0/24"}));
}

TEST_P(BackendContractTest, PeerWithTheDevicesOwnKeyIsIgnored) {
  std::string name = createDevice();
  Key priv = generatePrivateKey();
  Device update;
  update.private_key = priv;
  Peer self;
  self.public_key = publicKeyOf(priv);
  self.allowed_ips = {prefix("10.9.0.1/32")};
  update.peers = {self, hostPeer(1)};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_FALSE(d->peers[0].public_key == self.public_key);
}

TEST_P(BackendContractTest, TwoThousandPeersReadBackIdentical) {
  std::string name = createDevice();
  Device wanted;
  wanted.private_key = generatePrivateKey();
  for (int i = 0; i < 2000; ++i) {
    Peer p = hostPeer(i);
    if (i % 3 == 0) p.allowed_ips.push_back(prefix(str("fd00:", i, "::/64").c_str()));
    if (i % 5 == 0) p.persistent_keepalive = static_cast<uint16_t>(i % 60 + 1);
    if (i % 7 == 0) p.preshared_key = generatePrivateKey();
    wanted.peers.push_back(std::move(p));
  }
  Status s = backend().set(ref(name), wanted);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto got = backend().get(ref(name));
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->peers.size(), 2000u);
  // As WireGuard reports them: unset keepalive and preshared key read back as 0.
  Device expected = canonical(wanted);
  for (Peer& p : expected.peers) {
    if (!p.preshared_key) p.preshared_key = Key();
    if (!p.persistent_keepalive) p.persistent_keepalive = 0;
  }
  Device actual = canonical(*got);
  actual.listen_port.reset();
  actual.fwmark.reset();
  EXPECT_TRUE(actual == expected) << "the 2,000 peers read back differ from those configured";
  // The diff of what was read against what was wanted is empty: nothing would be re-sent.
  EXPECT_TRUE(isEmptyUpdate(diff(*got, wanted)));
}

TEST_P(BackendContractTest, DiffAppliedConvergesAndTouchesOnlyChanges) {
  std::string name = createDevice();
  Device wanted;
  wanted.private_key = generatePrivateKey();
  for (int i = 0; i < 50; ++i) wanted.peers.push_back(hostPeer(i));
  ASSERT_TRUE(backend().set(ref(name), diff(*backend().get(ref(name)), wanted)).ok());
  // Change a few things: drop peer 0, add one, move peer 1's IP to peer 2, set a keepalive.
  wanted.peers.erase(wanted.peers.begin());
  wanted.peers.push_back(hostPeer(1000));
  wanted.peers[1].allowed_ips.push_back(wanted.peers[0].allowed_ips[0]);
  wanted.peers[0].allowed_ips = {prefix("10.200.0.0/16")};
  wanted.peers[3].persistent_keepalive = 10;
  auto current = backend().get(ref(name));
  ASSERT_TRUE(current.ok());
  Device update = diff(*current, wanted);
  EXPECT_EQ(update.peers.size(), 5u);  // 1 removed, 1 added, 3 changed
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  auto after = backend().get(ref(name));
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(isEmptyUpdate(diff(*after, wanted)));
  EXPECT_EQ(after->peers.size(), 50u);
}

TEST_P(BackendContractTest, BusyListenPortFailsWithEaddrinuse) {
  std::string a = createDevice();
  std::string b = createDevice();
  uint16_t port = setFreeListenPort(a);
  ASSERT_NE(port, 0);
  Device update;
  update.listen_port = port;
  Status s = backend().set(ref(b), update);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EADDRINUSE) << s.error().message;
  EXPECT_NE(s.error().message.find(b), std::string::npos) << s.error().message;
  EXPECT_EQ(backend().get(ref(a))->listen_port, port) << "the owner keeps its port";
}

TEST_P(BackendContractTest, MissingDeviceFailsWithEnodev) {
  std::string name = ut_.fresh_name();
  auto got = backend().get(ref(name));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ENODEV) << got.error().message;
  EXPECT_NE(got.error().message.find(name), std::string::npos) << got.error().message;
  Device update;
  update.peers = {hostPeer(1)};
  Status s = backend().set(ref(name), update);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ENODEV) << s.error().message;
}

TEST_P(BackendContractTest, DestroyIsIdempotent) {
  std::string name = createDevice();
  Status s = backend().destroy(ref(name));
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto got = backend().get(ref(name));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ENODEV);
  EXPECT_TRUE(backend().destroy(ref(name)).ok());
  EXPECT_TRUE(backend().destroy(ref(ut_.fresh_name())).ok()) << "a never-created device";
  // The name is free again.
  ASSERT_TRUE(backend().create(name, {}).ok());
  if (ut_.after_create) ut_.after_create(name);
  EXPECT_TRUE(backend().get(ref(name))->peers.empty());
}

// The agent greets the spokes of a device that has just come up (reconcile/plan.h, GreetPeers) by
// turning their persistent keepalive on and straight off: WireGuard must send one at once, which
// starts with a handshake initiation, even though the keepalive is off again by then.
TEST_P(BackendHandshakeTest, TurningKeepaliveOnHandshakesAtOnce) {
  ASSERT_TRUE(ut_.set_link_up) << "the factory must say how to set a link up";
  std::string name = createDevice();
  Device device;
  device.private_key = generatePrivateKey();
  ASSERT_TRUE(backend().set(ref(name), device).ok());
  ASSERT_NE(setFreeListenPort(name), 0);
  ut_.set_link_up(name);
  Peer peer = hostPeer(1);
  peer.endpoint = endpoint("127.0.0.1:9");  // discard: nobody answers, the initiation still leaves
  peer.persistent_keepalive = 0;
  Device update;
  update.peers = {peer};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  auto sent = [&]() -> uint64_t {
    auto d = backend().get(ref(name));
    return d.ok() && d->peers.size() == 1 ? d->peers[0].stats.tx_bytes : 0;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(sent(), 0u) << "a peer without keepalive or traffic sends nothing";

  Peer greet;
  greet.public_key = peer.public_key;
  greet.update_only = true;
  greet.persistent_keepalive = 25;
  update.peers = {greet};
  ASSERT_TRUE(backend().set(ref(name), update).ok());
  greet.persistent_keepalive = 0;
  update.peers = {greet};
  ASSERT_TRUE(backend().set(ref(name), update).ok());

  uint64_t bytes = 0;
  for (int i = 0; i < 50 && bytes == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    bytes = sent();
  }
  EXPECT_GE(bytes, 148u) << "no handshake initiation (148 bytes) within 5 s";
  auto d = backend().get(ref(name));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->peers.at(0).persistent_keepalive, 0);
}
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BackendHandshakeTest);

}  // namespace nwg::wg::contract
