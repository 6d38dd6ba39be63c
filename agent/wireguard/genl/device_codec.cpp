// WireGuard generic netlink codec (see device_codec.h).
#include "wireguard/genl/device_codec.h"

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "netlink/attributes.h"

namespace nwg::wg::genl {

namespace {

using netlink::Attr;
using netlink::AttrKind;
using netlink::AttrRule;
using netlink::Attrs;
using netlink::MessageBuilder;

template <size_t N>
using Policy = std::array<AttrRule, N>;

const Policy<WGDEVICE_A_MAX + 1> kDevicePolicy = [] {
  Policy<WGDEVICE_A_MAX + 1> p{};
  p[WGDEVICE_A_IFINDEX] = {AttrKind::kU32};
  p[WGDEVICE_A_IFNAME] = {AttrKind::kString, 1, 15};
  p[WGDEVICE_A_PRIVATE_KEY] = {AttrKind::kBinary, WG_KEY_LEN, WG_KEY_LEN};
  p[WGDEVICE_A_PUBLIC_KEY] = {AttrKind::kBinary, WG_KEY_LEN, WG_KEY_LEN};
  p[WGDEVICE_A_FLAGS] = {AttrKind::kU32};
  p[WGDEVICE_A_LISTEN_PORT] = {AttrKind::kU16};
  p[WGDEVICE_A_FWMARK] = {AttrKind::kU32};
  p[WGDEVICE_A_PEERS] = {AttrKind::kNested};
  return p;
}();

const Policy<WGPEER_A_MAX + 1> kPeerPolicy = [] {
  Policy<WGPEER_A_MAX + 1> p{};
  p[WGPEER_A_PUBLIC_KEY] = {AttrKind::kBinary, WG_KEY_LEN, WG_KEY_LEN};
  p[WGPEER_A_PRESHARED_KEY] = {AttrKind::kBinary, WG_KEY_LEN, WG_KEY_LEN};
  p[WGPEER_A_FLAGS] = {AttrKind::kU32};
  p[WGPEER_A_ENDPOINT] = {AttrKind::kBinary, sizeof(sockaddr_in), sizeof(sockaddr_in6)};
  p[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL] = {AttrKind::kU16};
  p[WGPEER_A_LAST_HANDSHAKE_TIME] = {AttrKind::kBinary, sizeof(__kernel_timespec), sizeof(__kernel_timespec)};
  p[WGPEER_A_RX_BYTES] = {AttrKind::kU64};
  p[WGPEER_A_TX_BYTES] = {AttrKind::kU64};
  p[WGPEER_A_ALLOWEDIPS] = {AttrKind::kNested};
  p[WGPEER_A_PROTOCOL_VERSION] = {AttrKind::kU32};
  return p;
}();

const Policy<WGALLOWEDIP_A_MAX + 1> kAllowedIpPolicy = [] {
  Policy<WGALLOWEDIP_A_MAX + 1> p{};
  p[WGALLOWEDIP_A_FAMILY] = {AttrKind::kU16};
  p[WGALLOWEDIP_A_IPADDR] = {AttrKind::kBinary, 4, 16};
  p[WGALLOWEDIP_A_CIDR_MASK] = {AttrKind::kU8};
  return p;
}();

Key keyOf(const Attr& attr) {
  std::array<uint8_t, Key::kSize> bytes{};
  std::memcpy(bytes.data(), attr.payload().data(), bytes.size());
  return Key(bytes);
}

MessageBuilder wgMessage(uint16_t family, uint8_t cmd, uint16_t flags, size_t limit) {
  MessageBuilder b(family, flags, limit);
  genlmsghdr g{};
  g.cmd = cmd;
  g.version = WG_GENL_VERSION;
  (void)b.putHeader(g);  // the limit is checked to hold header and name before any use
  return b;
}

bool putEndpoint(MessageBuilder& b, const Endpoint& endpoint) {
  const IpAddress& a = endpoint.address();
  if (a.isV4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(endpoint.port());
    std::memcpy(&sin.sin_addr, a.data(), 4);
    return b.put(WGPEER_A_ENDPOINT, &sin, sizeof sin);
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(endpoint.port());
  std::memcpy(&sin6.sin6_addr, a.data(), 16);
  return b.put(WGPEER_A_ENDPOINT, &sin6, sizeof sin6);
}

bool putAllowedIp(MessageBuilder& b, const IpPrefix& prefix) {
  auto nest = b.nest(0);
  const IpAddress& a = prefix.address();
  if (nest.ok() && b.putU16(WGALLOWEDIP_A_FAMILY, a.isV4() ? AF_INET : AF_INET6) &&
      b.put(WGALLOWEDIP_A_IPADDR, a.data(), a.size()) &&
      b.putU8(WGALLOWEDIP_A_CIDR_MASK, static_cast<uint8_t>(prefix.length()))) {
    return true;
  }
  nest.cancel();
  return false;
}

uint32_t firstChunkFlags(const Peer& p) {
  uint32_t flags = 0;
  if (p.remove) flags |= WGPEER_F_REMOVE_ME;
  if (p.replace_allowed_ips) flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
  if (p.update_only) flags |= WGPEER_F_UPDATE_ONLY;
  return flags;
}

// Puts the first-chunk fields of a peer (everything but its allowed IPs).
bool putPeerHead(MessageBuilder& b, const Peer& p) {
  const uint32_t flags = firstChunkFlags(p);
  if (flags != 0 && !b.putU32(WGPEER_A_FLAGS, flags)) return false;
  if (p.preshared_key && !b.put(WGPEER_A_PRESHARED_KEY, p.preshared_key->bytes().data(), Key::kSize))
    return false;
  if (p.endpoint && !putEndpoint(b, *p.endpoint)) return false;
  if (p.persistent_keepalive && !b.putU16(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, *p.persistent_keepalive)) {
    return false;
  }
  return true;
}

}  // namespace

std::vector<uint8_t> getDeviceRequest(uint16_t family, const std::string& ifname) {
  MessageBuilder b = wgMessage(family, WG_CMD_GET_DEVICE, 0, 256);
  (void)b.putString(WGDEVICE_A_IFNAME, ifname.substr(0, 15));
  return std::move(b).take();
}

Result<std::vector<std::vector<uint8_t>>> setDeviceRequests(uint16_t family, const std::string& ifname,
                                                            const Device& update, size_t limit) {
  if (limit > MessageBuilder::kMaxLimit) limit = MessageBuilder::kMaxLimit;
  std::vector<std::vector<uint8_t>> messages;
  const auto too_small = [&] {
    return Error(str("device ", ifname, ": a netlink message of ", limit, " bytes cannot hold the update"),
                 EMSGSIZE);
  };
  size_t peer_i = 0;       // the next peer to put
  size_t ip_i = 0;         // its next allowed IP
  bool head_sent = false;  // its first chunk (flags, keys, endpoint, keepalive) went out already
  for (;;) {
    const bool first = messages.empty();
    const size_t peer_before = peer_i, ip_before = ip_i;
    const bool head_before = head_sent;
    MessageBuilder b = wgMessage(family, WG_CMD_SET_DEVICE, 0, limit);
    if (b.size() <= netlink::kMessageHeaderLen || !b.putString(WGDEVICE_A_IFNAME, ifname)) return too_small();
    if (first) {
      bool ok = true;
      if (update.private_key)
        ok = ok && b.put(WGDEVICE_A_PRIVATE_KEY, update.private_key->bytes().data(), Key::kSize);
      if (update.listen_port) ok = ok && b.putU16(WGDEVICE_A_LISTEN_PORT, *update.listen_port);
      if (update.fwmark) ok = ok && b.putU32(WGDEVICE_A_FWMARK, *update.fwmark);
      if (update.replace_peers) ok = ok && b.putU32(WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS);
      if (!ok) return too_small();
    }
    if (peer_i < update.peers.size()) {
      auto peers = b.nest(WGDEVICE_A_PEERS);
      if (!peers.ok()) return too_small();
      size_t peers_in_message = 0;
      while (peer_i < update.peers.size()) {
        const Peer& p = update.peers[peer_i];
        const size_t peer_mark = b.mark();
        auto peer = b.nest(0);
        bool ok = peer.ok() && b.put(WGPEER_A_PUBLIC_KEY, p.public_key.bytes().data(), Key::kSize);
        if (ok) {
          ok = !head_sent ? putPeerHead(b, p)
                          : (!p.update_only || b.putU32(WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY));
        }
        if (!ok) {  // not even the peer's key and head fit: it starts the next message
          peer.cancel();
          b.rollback(peer_mark);
          break;
        }
        size_t put_here = 0;
        if (ip_i < p.allowed_ips.size()) {
          const size_t ips_mark = b.mark();
          auto ips = b.nest(WGPEER_A_ALLOWEDIPS);
          while (ips.ok() && ip_i < p.allowed_ips.size() && putAllowedIp(b, p.allowed_ips[ip_i])) {
            ++ip_i;
            ++put_here;
          }
          if (put_here == 0) {
            ips.cancel();
            b.rollback(ips_mark);
          } else {
            ips.close();
          }
        }
        if (ip_i < p.allowed_ips.size() && head_sent && put_here == 0) {
          // A continuation with no allowed IP would only repeat the key: leave it to the next message.
          peer.cancel();
          b.rollback(peer_mark);
          break;
        }
        peer.close();
        ++peers_in_message;
        head_sent = true;
        if (ip_i < p.allowed_ips.size()) break;  // the message is full; the peer continues
        ++peer_i;
        ip_i = 0;
        head_sent = false;
      }
      if (peers_in_message == 0) peers.cancel();
    }
    const bool progressed = peer_i != peer_before || ip_i != ip_before || head_sent != head_before;
    if (!first && !progressed) return too_small();
    messages.push_back(std::move(b).take());
    if (peer_i >= update.peers.size()) break;
  }
  return messages;
}

Status DeviceDumpDecoder::add(const netlink::Message& message) {
  if (message.type != family_)
    return fail("wireguard dump: message of type ", message.type, ", expected ", family_);
  if (message.payload.size() < sizeof(genlmsghdr))
    return fail("wireguard dump: message shorter than genlmsghdr");
  genlmsghdr g{};
  std::memcpy(&g, message.payload.data(), sizeof g);
  if (g.cmd != WG_CMD_GET_DEVICE) return fail("wireguard dump: unexpected command ", int{g.cmd});
  NWG_ASSIGN_OR_RETURN(auto attrs, Attrs::parse(message.payload.subspan(netlink::align4(sizeof g)),
                                                kDevicePolicy, "wireguard device"));
  ++messages_;
  if (const Attr* name = attrs.get(WGDEVICE_A_IFNAME)) {
    if (!ifname_.empty() && ifname_ != name->str()) {
      return fail("wireguard dump: messages for both ", ifname_, " and ", name->str());
    }
    ifname_ = std::string(name->str());
  }
  if (const Attr* a = attrs.get(WGDEVICE_A_PRIVATE_KEY)) device_.private_key = keyOf(*a);
  if (const Attr* a = attrs.get(WGDEVICE_A_PUBLIC_KEY)) device_.public_key = keyOf(*a);
  if (const Attr* a = attrs.get(WGDEVICE_A_LISTEN_PORT)) {
    if (a->u16() != 0) device_.listen_port = a->u16();
  }
  if (const Attr* a = attrs.get(WGDEVICE_A_FWMARK)) device_.fwmark = a->u32();
  if (const Attr* peers = attrs.get(WGDEVICE_A_PEERS)) {
    NWG_ASSIGN_OR_RETURN(auto list, netlink::splitAttributes(peers->payload(), "wireguard peers"));
    for (const Attr& peer : list) NWG_RETURN_IF_ERROR(addPeer(peer.payload()));
  }
  return okStatus();
}

Status DeviceDumpDecoder::addPeer(netlink::Bytes bytes) {
  NWG_ASSIGN_OR_RETURN(auto attrs, Attrs::parse(bytes, kPeerPolicy, "wireguard peer"));
  const Attr* key_attr = attrs.get(WGPEER_A_PUBLIC_KEY);
  if (key_attr == nullptr) return fail("wireguard dump: peer without a public key");
  const Key key = keyOf(*key_attr);
  auto [it, inserted] = peer_index_.try_emplace(key, device_.peers.size());
  if (inserted) {
    device_.peers.emplace_back();
    device_.peers.back().public_key = key;
  }
  Peer& peer = device_.peers[it->second];
  if (const Attr* a = attrs.get(WGPEER_A_PRESHARED_KEY)) peer.preshared_key = keyOf(*a);
  if (const Attr* a = attrs.get(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL)) peer.persistent_keepalive = a->u16();
  if (const Attr* a = attrs.get(WGPEER_A_RX_BYTES)) peer.stats.rx_bytes = a->u64();
  if (const Attr* a = attrs.get(WGPEER_A_TX_BYTES)) peer.stats.tx_bytes = a->u64();
  if (const Attr* a = attrs.get(WGPEER_A_LAST_HANDSHAKE_TIME)) {
    __kernel_timespec ts{};
    std::memcpy(&ts, a->payload().data(), sizeof ts);
    peer.stats.last_handshake_sec = ts.tv_sec;
    peer.stats.last_handshake_nsec = ts.tv_nsec;
  }
  if (const Attr* a = attrs.get(WGPEER_A_ENDPOINT)) {
    sa_family_t family = 0;
    std::memcpy(&family, a->payload().data(), sizeof family);
    if (family == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, a->payload().data(), sizeof sin);  // the policy guarantees at least this much
      std::array<uint8_t, 4> addr{};
      std::memcpy(addr.data(), &sin.sin_addr, 4);
      peer.endpoint = Endpoint(IpAddress::v4(addr), ntohs(sin.sin_port));
    } else if (family == AF_INET6) {
      if (a->payload().size() < sizeof(sockaddr_in6)) return fail("wireguard dump: short IPv6 endpoint");
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, a->payload().data(), sizeof sin6);
      std::array<uint8_t, 16> addr{};
      std::memcpy(addr.data(), &sin6.sin6_addr, 16);
      peer.endpoint = Endpoint(IpAddress::v6(addr), ntohs(sin6.sin6_port));
    } else {
      return fail("wireguard dump: endpoint of address family ", family);
    }
  }
  if (const Attr* ips = attrs.get(WGPEER_A_ALLOWEDIPS)) {
    NWG_ASSIGN_OR_RETURN(auto list, netlink::splitAttributes(ips->payload(), "wireguard allowed IPs"));
    for (const Attr& entry : list) {
      NWG_ASSIGN_OR_RETURN(auto ip, Attrs::parse(entry.payload(), kAllowedIpPolicy, "wireguard allowed IP"));
      const Attr* fam = ip.get(WGALLOWEDIP_A_FAMILY);
      const Attr* addr = ip.get(WGALLOWEDIP_A_IPADDR);
      const Attr* cidr = ip.get(WGALLOWEDIP_A_CIDR_MASK);
      if (!fam || !addr || !cidr) return fail("wireguard dump: incomplete allowed IP");
      IpAddress address;
      if (fam->u16() == AF_INET && addr->payload().size() == 4) {
        std::array<uint8_t, 4> b{};
        std::memcpy(b.data(), addr->payload().data(), 4);
        address = IpAddress::v4(b);
      } else if (fam->u16() == AF_INET6 && addr->payload().size() == 16) {
        std::array<uint8_t, 16> b{};
        std::memcpy(b.data(), addr->payload().data(), 16);
        address = IpAddress::v6(b);
      } else {
        return fail("wireguard dump: allowed IP of family ", fam->u16(), " with ", addr->payload().size(),
                    " bytes");
      }
      if (cidr->u8() > address.bits())
        return fail("wireguard dump: allowed IP prefix length ", int{cidr->u8()});
      peer.allowed_ips.emplace_back(address, cidr->u8());
    }
  }
  return okStatus();
}

Result<Device> DeviceDumpDecoder::finish() && {
  if (messages_ == 0) return Error("wireguard dump: no device in the reply", ENODEV);
  for (Peer& p : device_.peers) {
    if (!p.preshared_key) p.preshared_key = Key();
    if (!p.persistent_keepalive) p.persistent_keepalive = 0;
  }
  if (!device_.fwmark) device_.fwmark = 0;
  return std::move(device_);
}

}  // namespace nwg::wg::genl
