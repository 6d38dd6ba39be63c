// A real WireGuard tunnel between two network namespaces, both ends wireguard-go configured through
// UapiBackend, carrying ping: proves the whole userspace data plane, not just its configuration.
//
//   netns A: veth 198.51.100.1/24, wireguard-go "wgt-…a" (UDP :51820 bound in A), 10.77.0.1/24
//   netns B: veth 198.51.100.2/24, wireguard-go "wgt-…b" (UDP :51820 bound in B), 10.77.0.2/24
#include <gtest/gtest.h>

#include <cerrno>

#include "wireguard/diff.h"
#include "wireguard/tests/integration_support.h"
#include "wireguard/uapi/uapi_backend.h"

namespace nwg::wg {
namespace {

namespace ts = testsupport;

class TunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = ts::wireguardGoMissing();
    NWG_REQUIRE(missing.empty(), missing);
    NWG_REQUIRE(ts::sh("command -v ping") == 0, "ping (iputils-ping) not installed");
    ASSERT_TRUE(initCrypto().ok());
    backend_ = std::make_unique<UapiBackend>(ts::testOptions());
    for (char side : {'a', 'b'}) {
      std::string ns = str("nwg-", testing::runToken(), "-t", side);
      ASSERT_EQ(ts::sh("ip netns add " + ns), 0) << ns;
      netns_.push_back(ns);
      ASSERT_EQ(ts::sh(str("ip -n ", ns, " link set lo up")), 0);
    }
    // The veth ends are created directly inside the namespaces: no name ever exists in ours.
    ASSERT_EQ(ts::sh(str("ip link add veth-a netns ", netns_[0], " type veth peer name veth-b netns ", netns_[1])), 0);
    for (size_t i = 0; i < 2; ++i) {
      const char* dev = i == 0 ? "veth-a" : "veth-b";
      ASSERT_EQ(ts::sh(str("ip -n ", netns_[i], " addr add 198.51.100.", i + 1, "/24 dev ", dev)), 0);
      ASSERT_EQ(ts::sh(str("ip -n ", netns_[i], " link set ", dev, " up")), 0);
    }
  }
  void TearDown() override {
    if (backend_) {
      for (const auto& name : devices_) {
        Status s = backend_->destroy(DeviceRef{"", name});
        EXPECT_TRUE(s.ok()) << s.error().message;
      }
    }
    for (const auto& ns : netns_) ts::sh("ip netns del " + ns);
  }

  // Creates a device whose daemon runs (and binds its UDP socket) inside `netns`.
  std::string createIn(const std::string& netns, char side) {
    std::string name = str("wgt-", testing::runToken(), "-t", side);
    devices_.push_back(name);
    Status s = ts::inNetns(netns, [&] { return backend_->create(name, {}); });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return name;
  }

  std::unique_ptr<UapiBackend> backend_;
  std::vector<std::string> netns_;
  std::vector<std::string> devices_;
};

TEST_F(TunnelTest, PingCrossesATunnelConfiguredThroughUapiBackend) {
  std::string a = createIn(netns_[0], 'a');
  std::string b = createIn(netns_[1], 'b');
  ASSERT_FALSE(HasFailure());
  Key key_a = generatePrivateKey(), key_b = generatePrivateKey();

  auto configure = [&](const std::string& dev, const Key& own, const Key& other, const char* other_underlay,
                       const char* other_inner, const std::string& ns, const char* inner) {
    Device wanted;
    wanted.private_key = own;
    wanted.listen_port = 51820;  // per namespace: no clash with the host or the other side
    Peer peer;
    peer.public_key = publicKeyOf(other);
    peer.endpoint = Endpoint::parse(other_underlay).value();
    peer.allowed_ips = {IpPrefix::parse(other_inner).value()};
    wanted.peers = {peer};
    auto current = backend_->get(DeviceRef{ns, dev});
    ASSERT_TRUE(current.ok()) << current.error().message;
    Status s = backend_->set(DeviceRef{ns, dev}, diff(*current, wanted));
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(ts::sh(str("ip -n ", ns, " addr add ", inner, " dev ", dev)), 0);
    ASSERT_EQ(ts::sh(str("ip -n ", ns, " link set ", dev, " up")), 0);
  };
  configure(a, key_a, key_b, "198.51.100.2:51820", "10.77.0.2/32", netns_[0], "10.77.0.1/24");
  configure(b, key_b, key_a, "198.51.100.1:51820", "10.77.0.1/32", netns_[1], "10.77.0.2/24");
  ASSERT_FALSE(HasFailure());

  // The first echo waits for the handshake; ping exits 0 once any reply arrived.
  EXPECT_EQ(ts::sh(str("ip netns exec ", netns_[0], " ping -c 3 -i 0.2 -W 3 10.77.0.2")), 0);
  EXPECT_EQ(ts::sh(str("ip netns exec ", netns_[1], " ping -c 2 -i 0.2 -W 3 10.77.0.1")), 0);

  // The statistics read back through the UAPI show the session.
  auto got = backend_->get(DeviceRef{netns_[0], a});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->peers.size(), 1u);
  const Peer& peer = got->peers[0];
  EXPECT_GT(peer.stats.last_handshake_sec, 0);
  EXPECT_GT(peer.stats.rx_bytes, 0u);
  EXPECT_GT(peer.stats.tx_bytes, 0u);
  EXPECT_EQ(peer.endpoint->toString(), "198.51.100.2:51820");
  // Reading back and diffing against the same wanted state changes nothing (no needless writes that
  // would reset handshake timers).
  Device wanted;
  wanted.private_key = key_a;
  wanted.listen_port = 51820;
  Peer p;
  p.public_key = publicKeyOf(key_b);
  p.endpoint = Endpoint::parse("198.51.100.2:51820").value();
  p.allowed_ips = {IpPrefix::parse("10.77.0.2/32").value()};
  wanted.peers = {p};
  EXPECT_TRUE(isEmptyUpdate(diff(*got, wanted)));

  // Removing the peer on one side breaks the tunnel: the traffic really went through WireGuard.
  Peer removal;
  removal.public_key = publicKeyOf(key_b);
  removal.remove = true;
  Device update;
  update.peers = {removal};
  ASSERT_TRUE(backend_->set(DeviceRef{netns_[0], a}, update).ok());
  EXPECT_NE(ts::sh(str("ip netns exec ", netns_[0], " ping -c 1 -W 1 10.77.0.2")), 0);
}

}  // namespace
}  // namespace nwg::wg
