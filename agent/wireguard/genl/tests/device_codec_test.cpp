// Unit tests of the WireGuard generic netlink codec: golden bytes, splitting large updates under small
// message limits (flags and device attributes where they belong), and coalescing split dumps.
#include "wireguard/genl/device_codec.h"

#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "netlink/attributes.h"
#include "wireguard/genl/genl_family.h"

namespace nwg::wg::genl {
namespace {

using ByteVec = std::vector<uint8_t>;
using netlink::Attr;
using netlink::AttrKind;
using netlink::AttrRule;
using netlink::Attrs;

constexpr uint16_t kFamily = 0x20;

ByteVec hex(const std::string& text) {
  ByteVec out;
  std::string d;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) d += c;
  }
  for (size_t i = 0; i + 1 < d.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoul(d.substr(i, 2), nullptr, 16)));
  return out;
}

Key keyFilled(uint8_t first, uint8_t second = 0) {
  std::array<uint8_t, 32> b{};
  b[0] = first;
  b[1] = second;
  return Key(b);
}

IpPrefix prefix(const std::string& t) {
  return *IpPrefix::parse(t);
}

netlink::Message messageOf(const ByteVec& bytes) {
  return *netlink::messageOf(bytes);
}

// A SET message re-labelled as a GET reply: the attribute layout is the same, so decoding what we
// encode checks splitting and coalescing against each other.
ByteVec asDumpReply(ByteVec bytes) {
  bytes[netlink::kMessageHeaderLen] = WG_CMD_GET_DEVICE;
  const uint16_t multi = NLM_F_MULTI;
  std::memcpy(bytes.data() + 6, &multi, 2);
  return bytes;
}

Device decodeAll(const std::vector<ByteVec>& messages) {
  DeviceDumpDecoder decoder(kFamily);
  for (const auto& m : messages) {
    ByteVec reply = asDumpReply(m);
    Status s = decoder.add(messageOf(reply));
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  auto d = std::move(decoder).finish();
  EXPECT_TRUE(d.ok());
  return d.ok() ? *d : Device{};
}

// The peers of one message, as (key first byte, flags or -1, allowed IP count, has preshared key).
struct PeerChunk {
  uint8_t key0;
  int64_t flags;
  size_t ips;
  bool psk;
  bool endpoint;
};

std::vector<PeerChunk> chunksOf(const ByteVec& bytes, Attrs* device_attrs = nullptr) {
  static const AttrRule kDev[] = {{},
                                  {AttrKind::kU32},
                                  {AttrKind::kString},
                                  {AttrKind::kBinary},
                                  {AttrKind::kBinary},
                                  {AttrKind::kU32},
                                  {AttrKind::kU16},
                                  {AttrKind::kU32},
                                  {AttrKind::kNested}};
  static const AttrRule kPeer[] = {{},
                                   {AttrKind::kBinary},
                                   {AttrKind::kBinary},
                                   {AttrKind::kU32},
                                   {AttrKind::kBinary},
                                   {AttrKind::kU16},
                                   {},
                                   {},
                                   {},
                                   {AttrKind::kNested}};
  netlink::Message m = messageOf(bytes);
  auto attrs = Attrs::parse(m.payload.subspan(4), kDev, "test");
  EXPECT_TRUE(attrs.ok());
  if (device_attrs) *device_attrs = *attrs;
  std::vector<PeerChunk> out;
  if (!attrs->has(WGDEVICE_A_PEERS)) return out;
  auto peers = netlink::splitAttributes(attrs->get(WGDEVICE_A_PEERS)->payload(), "peers");
  EXPECT_TRUE(peers.ok());
  if (!peers.ok()) return out;
  for (const Attr& p : *peers) {
    auto pa = Attrs::parse(p.payload(), kPeer, "peer");
    EXPECT_TRUE(pa.ok());
    PeerChunk c{};
    c.key0 = pa->get(WGPEER_A_PUBLIC_KEY)->payload()[0];
    c.flags = pa->has(WGPEER_A_FLAGS) ? int64_t{pa->get(WGPEER_A_FLAGS)->u32()} : int64_t{-1};
    if (pa->has(WGPEER_A_ALLOWEDIPS)) {
      auto ips = netlink::splitAttributes(pa->get(WGPEER_A_ALLOWEDIPS)->payload(), "ips");
      c.ips = ips.ok() ? ips->size() : 0;
    }
    c.psk = pa->has(WGPEER_A_PRESHARED_KEY);
    c.endpoint = pa->has(WGPEER_A_ENDPOINT);
    out.push_back(c);
  }
  return out;
}

TEST(DeviceCodec, GoldenGetRequest) {
  EXPECT_EQ(getDeviceRequest(kFamily, "wg0"),
            hex("1c000000 2000 0100 00000000 00000000"  // nlmsghdr: family 0x20, NLM_F_REQUEST
                "00 01 0000"                            // genlmsghdr: WG_CMD_GET_DEVICE, version 1
                "0800 0200 77673000"));                 // WGDEVICE_A_IFNAME "wg0"
}

TEST(DeviceCodec, GoldenSetRequest) {
  Device d;
  d.listen_port = 51820;
  Peer p;
  p.public_key = keyFilled(0xaa);
  p.replace_allowed_ips = true;
  p.endpoint = *Endpoint::parse("198.51.100.7:51821");
  p.persistent_keepalive = 25;
  p.allowed_ips = {prefix("10.0.0.0/8")};
  d.peers = {p};
  auto messages = setDeviceRequests(kFamily, "wg0", d);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ(messages->front(),
            hex("94000000 2000 0100 00000000 00000000"
                "01 01 0000"                                  // WG_CMD_SET_DEVICE
                "0800 0200 77673000"                          // IFNAME
                "0600 0600 6cca 0000"                         // LISTEN_PORT 51820
                "7000 0880"                                   // PEERS (nested)
                "6c00 0080"                                   //   peer 0 (nested)
                "2400 0100 aa000000000000000000000000000000"  //     PUBLIC_KEY
                "          00000000000000000000000000000000"
                "0800 0300 02000000"                             //     FLAGS: REPLACE_ALLOWEDIPS
                "1400 0400 0200 ca6d c6336407 0000000000000000"  // ENDPOINT sockaddr_in
                "0600 0500 1900 0000"                            //     KEEPALIVE 25
                "2000 0980"                                      //     ALLOWEDIPS
                "1c00 0080"                                      //       ip 0
                "0600 0100 0200 0000"                            //         FAMILY AF_INET
                "0800 0200 0a000000"                             //         IPADDR
                "0500 0300 08 000000"));                         //         CIDR 8
}

TEST(DeviceCodec, EmptyUpdateIsOneMessageWithTheName) {
  auto messages = setDeviceRequests(kFamily, "wg0", Device{});
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_TRUE(chunksOf(messages->front()).empty());
}

TEST(DeviceCodec, SplitsAPeerAcrossMessagesTheWayWireguardToolsDoes) {
  Device d;
  d.private_key = keyFilled(1);
  d.listen_port = 4000;
  d.replace_peers = true;
  Peer small;
  small.public_key = keyFilled(0x10);
  small.allowed_ips = {prefix("10.1.0.1/32")};
  Peer big;
  big.public_key = keyFilled(0x20);
  big.replace_allowed_ips = true;
  big.preshared_key = keyFilled(9);
  big.endpoint = *Endpoint::parse("[2001:db8::1]:51820");
  for (int i = 0; i < 60; ++i) big.allowed_ips.push_back(prefix(str("10.2.", i, ".0/24")));
  d.peers = {small, big};

  auto messages = setDeviceRequests(kFamily, "wg-test", d, 512);
  ASSERT_TRUE(messages.ok()) << messages.error().message;
  ASSERT_GE(messages->size(), 3u);
  size_t total_ips = 0;
  for (size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    EXPECT_LE(m.size(), 512u);
    Attrs dev;
    auto chunks = chunksOf(m, &dev);
    // Device attributes only in the first message; the name in every one.
    EXPECT_TRUE(dev.has(WGDEVICE_A_IFNAME));
    EXPECT_EQ(dev.has(WGDEVICE_A_PRIVATE_KEY), i == 0);
    EXPECT_EQ(dev.has(WGDEVICE_A_LISTEN_PORT), i == 0);
    EXPECT_EQ(dev.has(WGDEVICE_A_FLAGS), i == 0);
    for (const PeerChunk& c : chunks) {
      if (c.key0 == 0x20) {
        total_ips += c.ips;
        const bool first_chunk = total_ips == c.ips;
        // Flags, preshared key and endpoint only in the peer's first chunk.
        EXPECT_EQ(c.flags, first_chunk ? int64_t{WGPEER_F_REPLACE_ALLOWEDIPS} : -1) << "message " << i;
        EXPECT_EQ(c.psk, first_chunk);
        EXPECT_EQ(c.endpoint, first_chunk);
        EXPECT_GT(c.ips, 0u);
      }
    }
  }
  EXPECT_EQ(total_ips, 60u);
  // Decoding what we send gives back the device (flags aside).
  Device back = decodeAll(*messages);
  ASSERT_EQ(back.peers.size(), 2u);
  EXPECT_EQ(back.peers[1].allowed_ips, big.allowed_ips);
  EXPECT_EQ(back.peers[1].endpoint, big.endpoint);
  EXPECT_TRUE(back.peers[1].preshared_key == big.preshared_key);
  EXPECT_EQ(back.peers[0].allowed_ips, small.allowed_ips);
  EXPECT_TRUE(back.private_key == d.private_key);
}

TEST(DeviceCodec, UpdateOnlyIsRepeatedInEveryChunk) {
  Device d;
  Peer p;
  p.public_key = keyFilled(0x30);
  p.update_only = true;
  p.replace_allowed_ips = true;
  for (int i = 0; i < 40; ++i) p.allowed_ips.push_back(prefix(str("fd00:", i, "::/64")));
  d.peers = {p};
  auto messages = setDeviceRequests(kFamily, "wg0", d, 400);
  ASSERT_TRUE(messages.ok());
  ASSERT_GE(messages->size(), 2u);
  for (size_t i = 0; i < messages->size(); ++i) {
    auto chunks = chunksOf((*messages)[i]);
    ASSERT_EQ(chunks.size(), 1u);
    const int64_t want = i == 0 ? (WGPEER_F_UPDATE_ONLY | WGPEER_F_REPLACE_ALLOWEDIPS) : WGPEER_F_UPDATE_ONLY;
    EXPECT_EQ(chunks[0].flags, want) << "message " << i;
  }
}

TEST(DeviceCodec, ManyPeersRoundTripThroughSmallMessages) {
  Device d;
  for (int i = 0; i < 300; ++i) {
    Peer p;
    p.public_key = keyFilled(static_cast<uint8_t>(i & 0xff), static_cast<uint8_t>(i >> 8));
    p.persistent_keepalive = static_cast<uint16_t>(i % 3 == 0 ? 25 : 0);
    p.allowed_ips = {prefix(str("10.9.", i % 256, ".", i / 256, "/32"))};
    if (i % 4 == 0) p.allowed_ips.push_back(prefix(str("fd00:9::", i, "/128")));
    if (i % 5 == 0) p.remove = true, p.allowed_ips.clear();
    d.peers.push_back(p);
  }
  for (size_t limit : {size_t{200}, size_t{1000}, kDefaultSetLimit, size_t{65535}}) {
    auto messages = setDeviceRequests(kFamily, "wg0", d, limit);
    ASSERT_TRUE(messages.ok()) << limit;
    for (const auto& m : *messages) EXPECT_LE(m.size(), limit);
    Device back = decodeAll(*messages);
    ASSERT_EQ(back.peers.size(), d.peers.size()) << limit;
    for (size_t i = 0; i < d.peers.size(); ++i) {
      EXPECT_TRUE(back.peers[i].public_key == d.peers[i].public_key);
      EXPECT_EQ(back.peers[i].allowed_ips, d.peers[i].allowed_ips);
      EXPECT_EQ(back.peers[i].persistent_keepalive.value_or(0), d.peers[i].persistent_keepalive.value_or(0));
    }
  }
}

TEST(DeviceCodec, LimitTooSmallForOneAllowedIpIsEmsgsize) {
  Device d;
  Peer p;
  p.public_key = keyFilled(1);
  p.allowed_ips = {prefix("fd00::/64")};
  d.peers = {p};
  auto messages = setDeviceRequests(kFamily, "wg0", d, 80);
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, EMSGSIZE);
  EXPECT_NE(messages.error().message.find("wg0"), std::string::npos);
}

// A dump reply as the kernel builds it, by hand (not through our encoder).
struct KernelDump {
  std::vector<ByteVec> messages;
  static ByteVec attr(uint16_t type, const ByteVec& v) {
    ByteVec out(netlink::align4(4 + v.size()), 0);
    const auto len = static_cast<uint16_t>(4 + v.size());
    std::memcpy(out.data(), &len, 2);
    std::memcpy(out.data() + 2, &type, 2);
    if (!v.empty()) std::memcpy(out.data() + 4, v.data(), v.size());
    return out;
  }
  template <typename T>
  static ByteVec pod(const T& v) {
    ByteVec out(sizeof v);
    std::memcpy(out.data(), &v, sizeof v);
    return out;
  }
  static ByteVec cat(std::initializer_list<ByteVec> parts) {
    ByteVec out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  }
  static ByteVec key(uint8_t b) { return ByteVec(32, b); }
  static ByteVec ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t cidr) {
    return attr(NLA_F_NESTED,
                cat({attr(WGALLOWEDIP_A_FAMILY, pod(uint16_t{AF_INET})),
                     attr(WGALLOWEDIP_A_IPADDR, {a, b, c, d}), attr(WGALLOWEDIP_A_CIDR_MASK, {cidr})}));
  }
  void add(const ByteVec& attrs) {
    ByteVec m(16 + 4, 0);
    m[16] = WG_CMD_GET_DEVICE;
    m[17] = 1;
    m.insert(m.end(), attrs.begin(), attrs.end());
    const auto len = static_cast<uint32_t>(m.size());
    std::memcpy(m.data(), &len, 4);
    std::memcpy(m.data() + 4, &kFamily, 2);
    const uint16_t flags = NLM_F_MULTI;
    std::memcpy(m.data() + 6, &flags, 2);
    messages.push_back(m);
  }
};

TEST(DeviceCodec, CoalescesAPeerSplitAcrossKernelMessages) {
  using K = KernelDump;
  K dump;
  __kernel_timespec ts{};
  ts.tv_sec = 1700000000;
  ts.tv_nsec = 5;
  const ByteVec peer_a_first =
      K::attr(NLA_F_NESTED,
              K::cat({K::attr(WGPEER_A_PUBLIC_KEY, K::key(0xa1)), K::attr(WGPEER_A_PRESHARED_KEY, K::key(0)),
                      K::attr(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, K::pod(uint16_t{25})),
                      K::attr(WGPEER_A_LAST_HANDSHAKE_TIME, K::pod(ts)),
                      K::attr(WGPEER_A_RX_BYTES, K::pod(uint64_t{100})),
                      K::attr(WGPEER_A_TX_BYTES, K::pod(uint64_t{200})),
                      K::attr(WGPEER_A_PROTOCOL_VERSION, K::pod(uint32_t{1})),
                      K::attr(WGPEER_A_ALLOWEDIPS | NLA_F_NESTED,
                              K::cat({K::ip4(10, 0, 0, 1, 32), K::ip4(10, 0, 0, 2, 32)}))}));
  dump.add(K::cat(
      {K::attr(WGDEVICE_A_IFINDEX, K::pod(uint32_t{5})), K::attr(WGDEVICE_A_IFNAME, {'w', 'g', '0', 0}),
       K::attr(WGDEVICE_A_PRIVATE_KEY, K::key(0x11)), K::attr(WGDEVICE_A_PUBLIC_KEY, K::key(0x22)),
       K::attr(WGDEVICE_A_LISTEN_PORT, K::pod(uint16_t{51820})),
       K::attr(WGDEVICE_A_FWMARK, K::pod(uint32_t{0})),
       K::attr(WGDEVICE_A_PEERS | NLA_F_NESTED, peer_a_first)}));
  // The continuation: only the name, then the same peer's key and its remaining allowed IPs, then a
  // second peer.
  const ByteVec peer_a_rest = K::attr(
      NLA_F_NESTED, K::cat({K::attr(WGPEER_A_PUBLIC_KEY, K::key(0xa1)),
                            K::attr(WGPEER_A_ALLOWEDIPS | NLA_F_NESTED, K::cat({K::ip4(10, 0, 0, 3, 32)}))}));
  const ByteVec peer_b =
      K::attr(NLA_F_NESTED,
              K::cat({K::attr(WGPEER_A_PUBLIC_KEY, K::key(0xb2)), K::attr(WGPEER_A_PRESHARED_KEY, K::key(7)),
                      K::attr(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, K::pod(uint16_t{0}))}));
  dump.add(K::cat({K::attr(WGDEVICE_A_IFINDEX, K::pod(uint32_t{5})),
                   K::attr(WGDEVICE_A_IFNAME, {'w', 'g', '0', 0}),
                   K::attr(WGDEVICE_A_PEERS | NLA_F_NESTED, K::cat({peer_a_rest, peer_b}))}));

  DeviceDumpDecoder decoder(kFamily);
  for (const auto& m : dump.messages) ASSERT_TRUE(decoder.add(messageOf(m)).ok());
  auto d = std::move(decoder).finish();
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(*d->private_key ==
              Key(std::array<uint8_t, 32>{0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                          0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                          0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11}));
  EXPECT_EQ(d->listen_port, 51820);
  EXPECT_EQ(d->fwmark, 0u);
  ASSERT_EQ(d->peers.size(), 2u);
  const Peer& a = d->peers[0];
  EXPECT_EQ(a.allowed_ips,
            (std::vector<IpPrefix>{prefix("10.0.0.1/32"), prefix("10.0.0.2/32"), prefix("10.0.0.3/32")}));
  EXPECT_EQ(a.persistent_keepalive, 25);
  EXPECT_TRUE(a.preshared_key->isZero());
  EXPECT_FALSE(a.endpoint.has_value());
  EXPECT_EQ(a.stats.last_handshake_sec, 1700000000);
  EXPECT_EQ(a.stats.rx_bytes, 100u);
  EXPECT_EQ(a.stats.tx_bytes, 200u);
  EXPECT_TRUE(d->peers[1].allowed_ips.empty());
  EXPECT_EQ(d->peers[1].persistent_keepalive, 0);
}

TEST(DeviceCodec, RejectsMalformedKernelBytes) {
  using K = KernelDump;
  auto decodeOne = [](const ByteVec& attrs) {
    K dump;
    dump.add(attrs);
    DeviceDumpDecoder decoder(kFamily);
    Status s = decoder.add(messageOf(dump.messages[0]));
    return s.ok() ? std::move(decoder).finish().ok() : false;
  };
  EXPECT_TRUE(decodeOne(K::attr(WGDEVICE_A_IFNAME, {'w', 'g', 0})));
  EXPECT_FALSE(
      decodeOne(K::attr(WGDEVICE_A_PRIVATE_KEY, K::key(1).size() == 32 ? ByteVec(31, 1) : ByteVec{})));
  EXPECT_FALSE(decodeOne(K::attr(WGDEVICE_A_LISTEN_PORT, K::pod(uint32_t{1}))));
  // A peer without a key; an allowed IP with a /33; an IPv4 family with 16 address bytes.
  EXPECT_FALSE(
      decodeOne(K::attr(WGDEVICE_A_PEERS, K::attr(0, K::attr(WGPEER_A_RX_BYTES, K::pod(uint64_t{1}))))));
  EXPECT_FALSE(decodeOne(K::attr(
      WGDEVICE_A_PEERS, K::attr(0, K::cat({K::attr(WGPEER_A_PUBLIC_KEY, K::key(1)),
                                           K::attr(WGPEER_A_ALLOWEDIPS, K::ip4(10, 0, 0, 1, 33))})))));
  EXPECT_FALSE(decodeOne(K::attr(
      WGDEVICE_A_PEERS,
      K::attr(0, K::cat({K::attr(WGPEER_A_PUBLIC_KEY, K::key(1)),
                         K::attr(WGPEER_A_ALLOWEDIPS,
                                 K::attr(0, K::cat({K::attr(WGALLOWEDIP_A_FAMILY, K::pod(uint16_t{AF_INET})),
                                                    K::attr(WGALLOWEDIP_A_IPADDR, ByteVec(16, 1)),
                                                    K::attr(WGALLOWEDIP_A_CIDR_MASK, {8})})))})))));
  // An endpoint of an unknown family.
  EXPECT_FALSE(decodeOne(
      K::attr(WGDEVICE_A_PEERS, K::attr(0, K::cat({K::attr(WGPEER_A_PUBLIC_KEY, K::key(1)),
                                                   K::attr(WGPEER_A_ENDPOINT, ByteVec(16, 0x7f))})))));
  // An empty dump is no device.
  DeviceDumpDecoder empty(kFamily);
  auto none = std::move(empty).finish();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ENODEV);
}

TEST(GenlFamily, GoldenRequestAndReply) {
  EXPECT_EQ(familyRequest("wireguard"),
            hex("24000000 1000 0100 00000000 00000000"    // GENL_ID_CTRL
                "03 01 0000"                              // CTRL_CMD_GETFAMILY v1
                "0e00 0200 77697265677561726400 0000"));  // CTRL_ATTR_FAMILY_NAME
  ByteVec reply =
      hex("34000000 1000 0000 01000000 00000000"
          "01 02 0000"
          "0e00 0200 77697265677561726400 0000"
          "0600 0100 2300 0000"   // CTRL_ATTR_FAMILY_ID 0x23
          "0800 0300 01000000");  // CTRL_ATTR_VERSION (skipped)
  auto id = decodeFamilyId(messageOf(reply), "wireguard");
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, 0x23);
  EXPECT_FALSE(decodeFamilyId(messageOf(reply), "other").ok());
}

}  // namespace
}  // namespace nwg::wg::genl
