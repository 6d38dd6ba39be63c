// Kernel WireGuard end to end, inside the test VM: large round trips through split messages, moved
// devices configured through a socket in their namespace, the UDP socket staying where the device was
// created, a tunnel between two namespaces carrying traffic, and the Links/Namespaces contracts
// against this kernel (wireguard and veth links).
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "netlink/rtnetlink_links.h"
#include "netlink/tests/links_contract.h"
#include "netns/linux_namespaces.h"
#include "netns/tests/namespaces_contract.h"
#include "testing/testing.h"
#include "wireguard/diff.h"
#include "wireguard/genl/device_codec.h"
#include "wireguard/genl/genl_backend.h"
#include "wireguard/genl/genl_family.h"

namespace nwg::testing {

// The Links and Namespaces contracts against the VM's kernel.
LinksHarness vmLinks() {
  auto namespaces = std::make_unique<LinuxNamespaces>();
  auto links = std::make_unique<RtnetlinkLinks>(*namespaces);
  LinksHarness h;
  h.namespaces = std::move(namespaces);
  h.links = std::move(links);
  return h;
}
INSTANTIATE_TEST_SUITE_P(Kernel, LinksContract,
                         ::testing::Values(LinksTarget{"wireguard", vmLinks, "wireguard", true},
                                           LinksTarget{"veth", vmLinks, "veth", true}),
                         linksTargetName);
INSTANTIATE_TEST_SUITE_P(Kernel, NamespacesContract,
                         ::testing::Values(NamespacesTarget{
                             "linux", [] { return std::make_unique<LinuxNamespaces>(); }, true}),
                         namespacesTargetName);

}  // namespace nwg::testing

namespace nwg::wg {
namespace {

IpPrefix prefix(const std::string& text) {
  return *IpPrefix::parse(text);
}

// Any 32 bytes are a valid Curve25519 public key for WireGuard; drawing them from a PRNG instead of
// deriving them from private keys keeps thousands of peers cheap under emulation.
Key fastRandomKey() {
  static std::mt19937_64 rng(std::random_device{}());
  std::array<uint8_t, 32> bytes{};
  for (size_t i = 0; i < bytes.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(bytes.data() + i, &v, 8);
  }
  return Key(bytes);
}

Peer randomPeer(int index, int extra_ips) {
  Peer p;
  p.public_key = fastRandomKey();
  const auto i = static_cast<uint32_t>(index);
  p.allowed_ips.push_back(IpPrefix(IpAddress::v4({10, static_cast<uint8_t>(64 + (i >> 16)),
                                                  static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}),
                                   32));
  for (int k = 0; k < extra_ips; ++k) p.allowed_ips.push_back(prefix(str("fd00:", index, ":", k, "::/64")));
  return p;
}

Device canonical(Device d) {
  d.public_key.reset();
  d.listen_port.reset();
  d.fwmark.reset();
  for (Peer& p : d.peers) {
    p.allowed_ips = canonicalAllowedIps(p.allowed_ips);
    p.stats = {};
    p.remove = p.update_only = p.replace_allowed_ips = false;
    if (!p.preshared_key) p.preshared_key = Key();
    if (!p.persistent_keepalive) p.persistent_keepalive = 0;
  }
  std::sort(d.peers.begin(), d.peers.end(),
            [](const Peer& a, const Peer& b) { return a.public_key < b.public_key; });
  return d;
}

// Lines of /proc/net/udp and udp6 as seen from `netns` that bind `port`.
int udpSocketsOn(const LinuxNamespaces& ns, const std::string& netns, uint16_t port) {
  int found = 0;
  Status s = ns.runIn(netns, [&]() -> Status {
    for (const char* file : {"/proc/thread-self/net/udp", "/proc/thread-self/net/udp6"}) {
      std::ifstream in(file);
      std::string line;
      std::getline(in, line);  // header
      char want[8];
      std::snprintf(want, sizeof want, ":%04X", port);
      while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local;
        fields >> slot >> local;
        if (local.size() >= 5 && local.compare(local.size() - 5, 5, want) == 0) ++found;
      }
    }
    return okStatus();
  });
  EXPECT_TRUE(s.ok());
  return found;
}

class GenlKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NWG_REQUIRE_ROOT();
    NWG_REQUIRE(GenlBackend::available(), "kernel WireGuard (run through scripts/kernel-vm)");
    ASSERT_TRUE(initCrypto().ok());
  }
  void TearDown() override {
    for (const auto& [netns, name] : devices_) (void)backend_.destroy(DeviceRef{netns, name});
    for (const auto& n : netns_) EXPECT_TRUE(namespaces_.remove(n).ok());
  }
  std::string device(const std::string& suffix) {
    std::string name = "wgk" + runToken() + suffix;
    devices_.push_back({"", name});
    return name;
  }
  std::string makeNamespace(const std::string& suffix) {
    std::string name = "nwg-" + runToken() + "-" + suffix;
    netns_.push_back(name);
    EXPECT_TRUE(namespaces_.create(name).ok());
    return name;
  }
  // Remembers that device `name` now lives in `netns`, for cleanup.
  void movedTo(const std::string& name, const std::string& netns) {
    for (auto& d : devices_) {
      if (d.second == name) d.first = netns;
    }
  }
  static const std::string& runToken() { return nwg::testing::runToken(); }

  LinuxNamespaces namespaces_;
  RtnetlinkLinks links_{namespaces_};
  GenlBackend backend_{namespaces_, links_};
  std::vector<std::pair<std::string, std::string>> devices_;
  std::vector<std::string> netns_;
};

TEST_F(GenlKernelTest, TwoThousandPeersThroughSmallMessagesReadBackIdentical) {
  GenlBackend small(namespaces_, links_, 1024);  // forces peers to split across messages
  const std::string name = device("big");
  ASSERT_TRUE(small.create(name, {}).ok());
  Device wanted;  // no private key: under TCG each peer's precomputed DH would dominate the run
  for (int i = 0; i < 2000; ++i) wanted.peers.push_back(randomPeer(i, i % 10 == 0 ? 3 : 0));
  // One peer with more allowed IPs than one dump message holds: the kernel splits it when reading.
  Peer wide = randomPeer(5000, 0);
  for (int k = 0; k < 400; ++k) wide.allowed_ips.push_back(prefix(str("fd10:", k, "::/48")));
  wanted.peers.push_back(wide);
  Status s = small.set(DeviceRef{"", name}, wanted);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto got = small.get(DeviceRef{"", name});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->peers.size(), 2001u);
  EXPECT_TRUE(canonical(*got) == canonical(wanted));
  EXPECT_TRUE(isEmptyUpdate(diff(*got, wanted)));
  ASSERT_TRUE(small.destroy(DeviceRef{"", name}).ok());
  EXPECT_EQ(small.get(DeviceRef{"", name}).error().code, ENODEV);
}

TEST_F(GenlKernelTest, RemovalReplaceAllowedIpsAndUpdateOnly) {
  const std::string name = device("ops");
  ASSERT_TRUE(backend_.create(name, {}).ok());
  const DeviceRef ref{"", name};
  Peer a = randomPeer(1, 0), b = randomPeer(2, 2);
  Device update;
  update.peers = {a, b};
  ASSERT_TRUE(backend_.set(ref, update).ok());

  Peer replace;
  replace.public_key = b.public_key;
  replace.replace_allowed_ips = true;
  for (int k = 0; k < 250; ++k) replace.allowed_ips.push_back(prefix(str("10.100.", k, ".0/24")));
  Peer ghost = randomPeer(3, 200);  // update-only, and big enough to be split: must not appear
  ghost.update_only = true;
  Peer gone;
  gone.public_key = a.public_key;
  gone.remove = true;
  update.peers = {replace, ghost, gone};
  GenlBackend small(namespaces_, links_, 600);
  Status s = small.set(ref, update);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto d = backend_.get(ref);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_TRUE(d->peers[0].public_key == b.public_key);
  EXPECT_EQ(canonicalAllowedIps(d->peers[0].allowed_ips), canonicalAllowedIps(replace.allowed_ips));
}

TEST_F(GenlKernelTest, InterruptedDumpsAreRetriedWhole) {
  const std::string name = device("intr");
  ASSERT_TRUE(backend_.create(name, {}).ok());
  const DeviceRef ref{"", name};
  Device wanted;
  for (int i = 0; i < 400; ++i) wanted.peers.push_back(randomPeer(i, 1));
  ASSERT_TRUE(backend_.set(ref, wanted).ok());

  auto socket = netlink::NetlinkSocket::open(NETLINK_GENERIC);
  ASSERT_TRUE(socket.ok());
  auto family = genl::resolveFamily(*socket, "wireguard");
  ASSERT_TRUE(family.ok());
  const auto request = genl::getDeviceRequest(*family, name);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(socket->dump(request).ok());
  const auto dump_time = std::chrono::steady_clock::now() - t0;

  // A writer that changes the device every three dump-times: some dump attempts see a change (the
  // kernel flags them NLM_F_DUMP_INTR) and are retried, and a retry soon gets a quiet window.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    GenlBackend other(namespaces_, links_);
    for (uint16_t keepalive = 1; !stop; ++keepalive) {
      Peer change;
      change.public_key = wanted.peers[0].public_key;
      change.persistent_keepalive = keepalive;
      Device u;
      u.peers = {change};
      (void)other.set(ref, u);
      std::this_thread::sleep_for(dump_time * 3);
    }
  });
  int good = 0;
  for (int i = 0; i < 40 && socket->interruptedDumps() < 2; ++i) {
    auto replies = socket->dump(request);
    if (!replies.ok()) continue;
    genl::DeviceDumpDecoder decoder(*family);
    for (const auto& bytes : *replies) EXPECT_TRUE(decoder.add(*netlink::messageOf(bytes)).ok());
    auto d = std::move(decoder).finish();
    EXPECT_TRUE(d.ok());
    if (d.ok() && d->peers.size() == 400u) ++good;
  }
  stop = true;
  writer.join();
  EXPECT_GE(socket->interruptedDumps(), 1u) << "no dump was ever interrupted: the test proved nothing";
  EXPECT_GE(good, 1);
}

TEST_F(GenlKernelTest, MovedDeviceIsConfiguredInItsNamespaceAndKeepsItsSocketAtHome) {
  const std::string a = makeNamespace("ma");
  const std::string b = makeNamespace("mb");
  const std::string name = device("mv");
  ASSERT_TRUE(backend_.create(name, {}).ok());
  Device first;
  first.private_key = generatePrivateKey();
  first.listen_port = 38211;
  ASSERT_TRUE(backend_.set(DeviceRef{"", name}, first).ok());
  EXPECT_GE(udpSocketsOn(namespaces_, "", 38211), 1);

  for (const std::string& target : {a, b}) {
    const std::string from = target == a ? "" : a;
    ASSERT_TRUE(links_.moveTo(from, name, target).ok());
    movedTo(name, target);
    // Where it was is now ENODEV; where it is, it answers, with its key and peers.
    auto old_place = backend_.get(DeviceRef{from, name});
    ASSERT_FALSE(old_place.ok());
    EXPECT_EQ(old_place.error().code, ENODEV);
    Peer p = randomPeer(target == a ? 1 : 2, 0);
    Device update;
    update.peers = {p};
    Status s = backend_.set(DeviceRef{target, name}, update);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE(links_.replaceAddresses(target, name, {prefix("10.77.0.1/24")}).ok());
    ASSERT_TRUE(links_.setUp(target, name, true).ok());
    auto d = backend_.get(DeviceRef{target, name});
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_TRUE(d->private_key == first.private_key);
    EXPECT_EQ(d->listen_port, 38211);
    EXPECT_EQ(d->peers.size(), target == a ? 1u : 2u);
    // The UDP socket lives where the device was created, never where the link went.
    EXPECT_GE(udpSocketsOn(namespaces_, "", 38211), 1);
    EXPECT_EQ(udpSocketsOn(namespaces_, target, 38211), 0);
  }
  ASSERT_TRUE(backend_.destroy(DeviceRef{b, name}).ok());
  EXPECT_EQ(links_.get(b, name).error().code, ENODEV);
}

// The backend keeps one generic netlink socket per namespace. After the namespace is deleted and
// re-created under the same name behind its back (another LinuxNamespaces, as `ip netns` would), the
// device is gone for the backend, although the old namespace, kept alive by the old socket, still
// holds it: a stale socket would read and configure that device.
TEST_F(GenlKernelTest, ANamespaceReCreatedUnderTheSameNameIsNeverReachedThroughAnOldSocket) {
  const std::string a = makeNamespace("rc");
  const std::string name = device("rc");
  ASSERT_TRUE(backend_.create(name, {}).ok());
  Device keyed;
  keyed.private_key = generatePrivateKey();
  ASSERT_TRUE(backend_.set(DeviceRef{"", name}, keyed).ok());
  ASSERT_TRUE(links_.moveTo("", name, a).ok());
  movedTo(name, a);
  for (int i = 0; i < 3; ++i) {
    auto d = backend_.get(DeviceRef{a, name});
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_TRUE(d->private_key == keyed.private_key);
  }
  const size_t opened = backend_.sockets().opened();

  LinuxNamespaces other;
  ASSERT_TRUE(other.remove(a).ok());
  ASSERT_TRUE(other.create(a).ok());
  auto stale = backend_.get(DeviceRef{a, name});
  ASSERT_FALSE(stale.ok()) << "read the device in the deleted namespace";
  EXPECT_EQ(stale.error().code, ENODEV);
  Device update;
  update.listen_port = 38999;
  Status set = backend_.set(DeviceRef{a, name}, update);
  ASSERT_FALSE(set.ok()) << "configured the device in the deleted namespace";
  EXPECT_EQ(set.error().code, ENODEV);
  EXPECT_EQ(backend_.sockets().opened(), opened + 1);
}

TEST_F(GenlKernelTest, DestroyLeavesNonWireguardLinksAlone) {
  const std::string ns = makeNamespace("nw");
  ASSERT_TRUE(links_.create(ns, "wgnotwg", "veth").ok());
  Status s = backend_.destroy(DeviceRef{ns, "wgnotwg"});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(links_.get(ns, "wgnotwg").ok());
  auto got = backend_.get(DeviceRef{ns, "wgnotwg"});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ENODEV);
  EXPECT_TRUE(backend_.destroy(DeviceRef{"nwg-" + runToken() + "-none", "wgx"}).ok());
}

// Sends UDP datagrams from namespace `from` to `to_addr`:`port` until one arrives in namespace `to`.
bool udpThroughTunnel(const LinuxNamespaces& ns, const std::string& from, const std::string& to,
                      const char* to_addr, uint16_t port) {
  auto rx = ns.openSocket(to, AF_INET, SOCK_DGRAM, 0);
  auto tx = ns.openSocket(from, AF_INET, SOCK_DGRAM, 0);
  if (!rx.ok() || !tx.ok()) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, to_addr, &addr.sin_addr);
  if (::bind(rx->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  const char msg[] = "through the tunnel";
  for (int attempt = 0; attempt < 20; ++attempt) {
    (void)::sendto(tx->get(), msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    pollfd pfd{rx->get(), POLLIN, 0};
    if (::poll(&pfd, 1, 500) == 1) {
      char buf[64] = {};
      const ssize_t n = ::recv(rx->get(), buf, sizeof buf, 0);
      return n == sizeof msg && std::string(buf) == msg;
    }
  }
  return false;
}

// Pings `to_addr` from inside namespace `from` with a raw ICMP socket; true on an echo reply.
bool pingFrom(const LinuxNamespaces& ns, const std::string& from, const char* to_addr,
              uint16_t attempts = 10) {
  auto sock = ns.openSocket(from, AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (!sock.ok()) return false;
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  inet_pton(AF_INET, to_addr, &dst.sin_addr);
  const uint16_t id = static_cast<uint16_t>(getpid());
  for (uint16_t seq = 1; seq <= attempts; ++seq) {
    uint8_t packet[16] = {8, 0, 0, 0};  // echo request
    std::memcpy(packet + 4, &id, 2);
    std::memcpy(packet + 6, &seq, 2);
    std::memcpy(packet + 8, "nwg-ping", 8);
    uint32_t sum = 0;
    for (size_t i = 0; i < sizeof packet; i += 2)
      sum += static_cast<uint32_t>(packet[i] << 8 | packet[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const auto checksum = static_cast<uint16_t>(~sum);
    packet[2] = static_cast<uint8_t>(checksum >> 8);
    packet[3] = static_cast<uint8_t>(checksum & 0xff);
    (void)::sendto(sock->get(), packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    pollfd pfd{sock->get(), POLLIN, 0};
    while (::poll(&pfd, 1, 500) == 1) {
      uint8_t reply[128];
      const ssize_t n = ::recv(sock->get(), reply, sizeof reply, 0);
      if (n < 20) break;
      const size_t ihl = static_cast<size_t>(reply[0] & 0x0f) * 4;
      uint16_t reply_id = 0;
      if (static_cast<size_t>(n) >= ihl + 8) std::memcpy(&reply_id, reply + ihl + 4, 2);
      if (static_cast<size_t>(n) >= ihl + 8 && reply[ihl] == 0 && reply_id == id) return true;  // echo reply
    }
  }
  return false;
}

TEST_F(GenlKernelTest, TunnelBetweenTwoNamespacesCarriesTraffic) {
  const std::string ns1 = makeNamespace("t1");
  const std::string ns2 = makeNamespace("t2");
  const std::string w1 = device("t1");
  const std::string w2 = device("t2");
  ASSERT_TRUE(backend_.create(w1, {}).ok());
  ASSERT_TRUE(backend_.create(w2, {}).ok());
  const Key k1 = generatePrivateKey(), k2 = generatePrivateKey();
  // Both UDP sockets stay in the VM's root namespace (where the devices were born): the underlay is
  // its loopback, the clear-text sides live in ns1 and ns2.
  Device d1;
  d1.private_key = k1;
  d1.listen_port = 39001;
  Peer to2;
  to2.public_key = publicKeyOf(k2);
  to2.endpoint = *Endpoint::parse("127.0.0.1:39002");
  to2.allowed_ips = {prefix("10.99.0.2/32")};
  d1.peers = {to2};
  Device d2;
  d2.private_key = k2;
  d2.listen_port = 39002;
  Peer to1;
  to1.public_key = publicKeyOf(k1);
  to1.endpoint = *Endpoint::parse("127.0.0.1:39001");
  to1.allowed_ips = {prefix("10.99.0.1/32")};
  d2.peers = {to1};
  ASSERT_TRUE(backend_.set(DeviceRef{"", w1}, d1).ok());
  ASSERT_TRUE(backend_.set(DeviceRef{"", w2}, d2).ok());
  ASSERT_TRUE(links_.moveTo("", w1, ns1).ok());
  movedTo(w1, ns1);
  ASSERT_TRUE(links_.moveTo("", w2, ns2).ok());
  movedTo(w2, ns2);
  ASSERT_TRUE(links_.replaceAddresses(ns1, w1, {prefix("10.99.0.1/24")}).ok());
  ASSERT_TRUE(links_.replaceAddresses(ns2, w2, {prefix("10.99.0.2/24")}).ok());
  ASSERT_TRUE(links_.setUp(ns1, w1, true).ok());
  ASSERT_TRUE(links_.setUp(ns2, w2, true).ok());

  ASSERT_TRUE(udpThroughTunnel(namespaces_, ns1, ns2, "10.99.0.2", 7000));
  ASSERT_TRUE(udpThroughTunnel(namespaces_, ns2, ns1, "10.99.0.1", 7001));
  EXPECT_TRUE(pingFrom(namespaces_, ns1, "10.99.0.2"));
  EXPECT_FALSE(pingFrom(namespaces_, ns1, "10.99.0.3", 2)) << "no peer owns 10.99.0.3: nothing may answer";
  auto state = backend_.get(DeviceRef{ns1, w1});
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->peers.size(), 1u);
  EXPECT_GT(state->peers[0].stats.last_handshake_sec, 0);
  EXPECT_GT(state->peers[0].stats.rx_bytes, 0u);
  EXPECT_GT(state->peers[0].stats.tx_bytes, 0u);
}

TEST_F(GenlKernelTest, ErrorsNameTheDeviceAndCarryTheKernelsReason) {
  const std::string name = device("err");
  ASSERT_TRUE(backend_.create(name, {}).ok());
  Device bad;
  bad.fwmark = 1;
  Peer p;
  p.public_key = publicKeyOf(generatePrivateKey());
  p.allowed_ips = {prefix("10.0.0.0/8")};
  bad.peers = {p};
  // A set on a missing device: ENODEV, naming it.
  Status s = backend_.set(DeviceRef{"", name + "x"}, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ENODEV);
  EXPECT_NE(s.error().message.find(name + "x"), std::string::npos) << s.error().message;
  // The kernel's extended ack text reaches the message (unknown link kind).
  Status kind = links_.create("", "wgkbad" + runToken(), "nwg-no-such-kind");
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.error().message.find("Unknown device type"), std::string::npos) << kind.error().message;
}

}  // namespace
}  // namespace nwg::wg
