// The agent's data-plane move on this host (root, wireguard-go): a device created in the agent's own
// namespace, moved into namespace A and on into B with RtnetlinkLinks. Its UDP socket stays where the
// device was created; each move sets the link down and drops its addresses, which are re-applied.
#include <linux/netlink.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "testing/testing.h"
#include "wireguard/uapi/uapi_backend.h"

namespace nwg {
namespace {

IpPrefix prefix(const char* text) {
  return *IpPrefix::parse(text);
}

// UDP sockets bound to `port` in /proc/net/udp{,6} as seen from inside `netns` ("" = ours).
int udpSocketsOn(const LinuxNamespaces& ns, const std::string& netns, uint16_t port) {
  int found = 0;
  Status s = ns.runIn(netns, [&]() -> Status {
    char want[8];
    std::snprintf(want, sizeof want, ":%04X", port);
    for (const char* file : {"/proc/thread-self/net/udp", "/proc/thread-self/net/udp6"}) {
      std::ifstream in(file);
      if (!in) return Error(str("cannot read ", file));
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local;
        fields >> slot >> local;
        if (local.size() >= 5 && local.compare(local.size() - 5, 5, want) == 0) ++found;
      }
    }
    return okStatus();
  });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return found;
}

class WireguardGoMoves : public ::testing::Test {
 protected:
  void SetUp() override {
    NWG_REQUIRE_ROOT();
    NWG_REQUIRE(wg::UapiBackend::available("/usr/bin/wireguard-go"), "wireguard-go and /dev/net/tun");
    ASSERT_TRUE(initCrypto().ok());
    a_ = "nwg-" + testing::runToken() + "-ga";
    b_ = "nwg-" + testing::runToken() + "-gb";
    device_ = "wgm" + testing::runToken();
    ASSERT_TRUE(namespaces_.create(a_).ok());
    ASSERT_TRUE(namespaces_.create(b_).ok());
  }
  void TearDown() override {
    if (created_) {
      Status s = backend_.destroy(wg::DeviceRef{where_, device_});
      EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    }
    for (const auto& n : {a_, b_}) {
      if (!n.empty()) {
        EXPECT_TRUE(namespaces_.remove(n).ok());
      }
    }
  }

  // A listen port nothing else on the host uses (wireguard-go fails EADDRINUSE otherwise).
  uint16_t setFreePort() {
    std::mt19937 rng(std::random_device{}());
    for (int i = 0; i < 20; ++i) {
      auto port = static_cast<uint16_t>(30000 + rng() % 10000);
      wg::Device update;
      update.private_key = generatePrivateKey();
      update.listen_port = port;
      Status s = backend_.set(wg::DeviceRef{"", device_}, update);
      if (s.ok()) return port;
      if (s.error().code != EADDRINUSE) {
        ADD_FAILURE() << s.error().message;
        return 0;
      }
    }
    return 0;
  }

  // Moves the device from where it is to `target`, then checks and re-applies what the move dropped.
  void moveAndRestore(const std::string& target, const std::vector<IpPrefix>& addresses, uint16_t port) {
    const std::string from = where_;
    Status moved = links_.moveTo(from, device_, target);
    ASSERT_TRUE(moved.ok()) << moved.error().message;
    where_ = target;
    auto gone = links_.get(from, device_);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code, ENODEV);
    auto link = links_.get(target, device_);
    ASSERT_TRUE(link.ok()) << link.error().message;
    EXPECT_EQ(link->kind, "tun");
    EXPECT_FALSE(link->up) << "a move sets the link down";
    EXPECT_TRUE(links_.addresses(target, device_)->empty()) << "a move drops the addresses";

    ASSERT_TRUE(links_.replaceAddresses(target, device_, addresses).ok());
    ASSERT_TRUE(links_.setUp(target, device_, true).ok());
    EXPECT_TRUE(links_.get(target, device_)->up);
    auto now = links_.addresses(target, device_);
    ASSERT_TRUE(now.ok());
    std::vector<IpPrefix> want = addresses;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(*now, want);

    // The UDP socket never follows the link: it stays in the namespace wireguard-go was started in.
    EXPECT_GE(udpSocketsOn(namespaces_, "", port), 1);
    EXPECT_EQ(udpSocketsOn(namespaces_, target, port), 0);
    // And the device still answers, configured through its socket, from its new place.
    auto device = backend_.get(wg::DeviceRef{target, device_});
    ASSERT_TRUE(device.ok()) << device.error().message;
    EXPECT_EQ(device->listen_port, port);
  }

  LinuxNamespaces namespaces_;
  RtnetlinkLinks links_{namespaces_};
  wg::UapiBackend backend_;
  std::string a_, b_, device_, where_;
  bool created_ = false;
};

TEST_F(WireguardGoMoves, FromTheAgentsNamespaceIntoAAndOnIntoB) {
  Status created = backend_.create(device_, {});
  ASSERT_TRUE(created.ok()) << created.error().message;
  created_ = true;
  auto link = links_.get("", device_);
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link->kind, "tun");
  const uint16_t port = setFreePort();
  ASSERT_NE(port, 0);
  EXPECT_GE(udpSocketsOn(namespaces_, "", port), 1);
  EXPECT_EQ(udpSocketsOn(namespaces_, a_, port), 0);

  const std::vector<IpPrefix> addresses = {prefix("10.61.0.1/24"), prefix("fd00:61::1/64")};
  ASSERT_TRUE(links_.replaceAddresses("", device_, addresses).ok());
  ASSERT_TRUE(links_.setUp("", device_, true).ok());
  ASSERT_TRUE(links_.setMtu("", device_, 1380).ok());
  ASSERT_TRUE(links_.setAlias("", device_, "networking-wireguard:test").ok());

  moveAndRestore(a_, addresses, port);
  moveAndRestore(b_, addresses, port);
  EXPECT_EQ(links_.get(b_, device_)->mtu, 1380u) << "a move keeps the MTU";
  EXPECT_EQ(links_.get(b_, device_)->alias, "networking-wireguard:test") << "a move keeps the alias";
  EXPECT_EQ(links_.get(a_, device_).error().code, ENODEV);
}

}  // namespace
}  // namespace nwg
