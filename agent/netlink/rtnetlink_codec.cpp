// rtnetlink link and address messages (see rtnetlink_codec.h).
#include "netlink/rtnetlink_codec.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "base/mac.h"
#include "netlink/attributes.h"
#include "netlink/message_builder.h"

namespace nwg {

std::string describeRoute(const Route& route) {
  if (!route.gateway) return route.destination.toString();
  return str(route.destination, " via ", *route.gateway);
}

}  // namespace nwg

namespace nwg::netlink::rtnl {

namespace {

// Requests here are tiny and their inputs validated, so running out of room is a bug.
void mustFit(bool fitted) {
  assert(fitted);
  (void)fitted;
}

MessageBuilder linkMessage(uint16_t type, uint16_t flags, int index) {
  MessageBuilder b(type, flags, 1024);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  mustFit(b.putHeader(ifi));
  return b;
}

MessageBuilder addressMessage(uint16_t type, uint16_t flags, int index, const IpPrefix& prefix,
                              uint8_t ifa_flags = 0) {
  MessageBuilder b(type, flags, 1024);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<uint8_t>(prefix.address().isV4() ? AF_INET : AF_INET6);
  ifa.ifa_flags = ifa_flags;
  ifa.ifa_prefixlen = static_cast<uint8_t>(prefix.length());
  ifa.ifa_index = static_cast<uint32_t>(index);
  mustFit(b.putHeader(ifa));
  const IpAddress& a = prefix.address();
  if (a.isV4()) mustFit(b.put(IFA_LOCAL, a.data(), a.size()));
  mustFit(b.put(IFA_ADDRESS, a.data(), a.size()));
  return b;
}

template <size_t N>
using Policy = std::array<AttrRule, N>;

const Policy<IFLA_MAX + 1> kLinkPolicy = [] {
  Policy<IFLA_MAX + 1> p{};
  p[IFLA_IFNAME] = {AttrKind::kString, 1, IFNAMSIZ - 1};
  p[IFLA_MTU] = {AttrKind::kU32};
  p[IFLA_LINKINFO] = {AttrKind::kNested};
  p[IFLA_IFALIAS] = {AttrKind::kString, 0, IFALIASZ - 1};
  p[IFLA_ADDRESS] = {AttrKind::kBinary, 0, 32};
  return p;
}();

const Policy<IFLA_INFO_MAX + 1> kLinkInfoPolicy = [] {
  Policy<IFLA_INFO_MAX + 1> p{};
  p[IFLA_INFO_KIND] = {AttrKind::kString, 0, 64};
  return p;
}();

const Policy<IFA_MAX + 1> kAddressPolicy = [] {
  Policy<IFA_MAX + 1> p{};
  p[IFA_ADDRESS] = {AttrKind::kBinary, 4, 16};
  p[IFA_LOCAL] = {AttrKind::kBinary, 4, 16};
  p[IFA_FLAGS] = {AttrKind::kU32};
  return p;
}();

const Policy<RTA_MAX + 1> kRoutePolicy = [] {
  Policy<RTA_MAX + 1> p{};
  p[RTA_DST] = {AttrKind::kBinary, 4, 16};
  p[RTA_GATEWAY] = {AttrKind::kBinary, 4, 16};
  p[RTA_OIF] = {AttrKind::kU32};
  p[RTA_TABLE] = {AttrKind::kU32};
  p[RTA_MULTIPATH] = {AttrKind::kBinary, 0, 65535};
  return p;
}();

MessageBuilder routeMessage(uint16_t type, uint16_t flags, int index, const Route& route, bool adding) {
  MessageBuilder b(type, flags, 1024);
  const IpAddress& dst = route.destination.address();
  rtmsg rtm{};
  rtm.rtm_family = static_cast<uint8_t>(dst.isV4() ? AF_INET : AF_INET6);
  rtm.rtm_dst_len = static_cast<uint8_t>(route.destination.length());
  rtm.rtm_table = RT_TABLE_MAIN;
  if (adding) {
    rtm.rtm_protocol = RTPROT_STATIC;
    rtm.rtm_scope = route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rtm.rtm_type = RTN_UNICAST;
  } else {
    rtm.rtm_scope = RT_SCOPE_NOWHERE;  // as iproute2: match any scope, protocol and type
  }
  mustFit(b.putHeader(rtm));
  if (route.destination.length() > 0) mustFit(b.put(RTA_DST, dst.data(), dst.size()));
  if (route.gateway) mustFit(b.put(RTA_GATEWAY, route.gateway->data(), route.gateway->size()));
  mustFit(b.putU32(RTA_OIF, static_cast<uint32_t>(index)));
  return b;
}

IpAddress addressFrom(const uint8_t* bytes, bool v4) {
  if (v4) {
    std::array<uint8_t, 4> a{};
    std::memcpy(a.data(), bytes, 4);
    return IpAddress::v4(a);
  }
  std::array<uint8_t, 16> a{};
  std::memcpy(a.data(), bytes, 16);
  return IpAddress::v6(a);
}

}  // namespace

Status validateLinkName(const std::string& name) {
  bool bad = name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..";
  for (char c : name) {
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n') bad = true;
  }
  if (bad) return Error(str("invalid interface name '", name, "'"), EINVAL);
  return okStatus();
}

Status validateAlias(const std::string& alias) {
  if (alias.size() >= IFALIASZ) {
    return Error(str("alias of ", alias.size(), " bytes is too long (at most ", IFALIASZ - 1, ")"), EINVAL);
  }
  if (alias.find('\0') != std::string::npos) return Error("alias contains a NUL byte", EINVAL);
  return okStatus();
}

std::vector<uint8_t> dumpLinksRequest() {
  MessageBuilder b = linkMessage(RTM_GETLINK, 0, 0);
  // Link statistics (and IPv6's per-link counters) are most of what the kernel builds and copies
  // for a link, and we read none of them. Older kernels ignore the flag and send them anyway.
  mustFit(b.putU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS));
  return std::move(b).take();
}

std::vector<uint8_t> getLinkRequest(const std::string& name) {
  MessageBuilder b = linkMessage(RTM_GETLINK, 0, 0);
  mustFit(b.putString(IFLA_IFNAME, name));
  mustFit(b.putU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS));
  return std::move(b).take();
}

std::vector<uint8_t> createLinkRequest(const std::string& name, const std::string& kind) {
  MessageBuilder b = linkMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mustFit(b.putString(IFLA_IFNAME, name));
  {
    auto info = b.nest(IFLA_LINKINFO);
    mustFit(info.ok());
    mustFit(b.putString(IFLA_INFO_KIND, kind));
  }
  return std::move(b).take();
}

std::vector<uint8_t> deleteLinkRequest(int index) {
  return std::move(linkMessage(RTM_DELLINK, 0, index)).take();
}

std::vector<uint8_t> setUpRequest(int index, bool up) {
  MessageBuilder b(RTM_NEWLINK, 0, 1024);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  ifi.ifi_flags = up ? IFF_UP : 0;
  ifi.ifi_change = IFF_UP;  // only this flag changes
  mustFit(b.putHeader(ifi));
  return std::move(b).take();
}

std::vector<uint8_t> setMtuRequest(int index, uint32_t mtu) {
  MessageBuilder b = linkMessage(RTM_NEWLINK, 0, index);
  mustFit(b.putU32(IFLA_MTU, mtu));
  return std::move(b).take();
}

Result<std::vector<uint8_t>> setAliasRequest(int index, const std::string& alias) {
  NWG_RETURN_IF_ERROR(validateAlias(alias));
  MessageBuilder b = linkMessage(RTM_NEWLINK, 0, index);
  mustFit(b.put(IFLA_IFALIAS, alias.data(), alias.size()));
  return std::move(b).take();
}

std::vector<uint8_t> moveRequest(int index, int netns_fd) {
  MessageBuilder b = linkMessage(RTM_NEWLINK, 0, index);
  mustFit(b.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd)));
  return std::move(b).take();
}

std::vector<uint8_t> createVethRequest(const std::string& name, const std::string& peer) {
  MessageBuilder b = linkMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mustFit(b.putString(IFLA_IFNAME, name));
  {
    auto info = b.nest(IFLA_LINKINFO);
    mustFit(info.ok());
    mustFit(b.putString(IFLA_INFO_KIND, "veth"));
    auto data = b.nest(IFLA_INFO_DATA);
    mustFit(data.ok());
    auto peer_info = b.nest(VETH_INFO_PEER);  // an ifinfomsg, then the peer's own attributes
    mustFit(peer_info.ok());
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    mustFit(b.putHeader(ifi));
    mustFit(b.putString(IFLA_IFNAME, peer));
  }
  return std::move(b).take();
}

std::vector<uint8_t> setMacRequest(int index, const std::array<uint8_t, 6>& mac) {
  MessageBuilder b = linkMessage(RTM_NEWLINK, 0, index);
  mustFit(b.put(IFLA_ADDRESS, mac.data(), mac.size()));
  return std::move(b).take();
}

Result<LinkInfo> decodeLink(const Message& message) {
  if (message.type != RTM_NEWLINK) return fail("link message: unexpected type ", message.type);
  if (message.payload.size() < sizeof(ifinfomsg)) return fail("link message: shorter than ifinfomsg");
  ifinfomsg ifi{};
  std::memcpy(&ifi, message.payload.data(), sizeof ifi);
  NWG_ASSIGN_OR_RETURN(
      auto attrs, Attrs::parse(message.payload.subspan(align4(sizeof ifi)), kLinkPolicy, "link message"));
  LinkInfo link;
  link.index = ifi.ifi_index;
  link.up = (ifi.ifi_flags & IFF_UP) != 0;
  const Attr* name = attrs.get(IFLA_IFNAME);
  if (name == nullptr) return fail("link message: link ", ifi.ifi_index, " has no name");
  link.name = std::string(name->str());
  if (const Attr* mtu = attrs.get(IFLA_MTU)) link.mtu = mtu->u32();
  if (const Attr* alias = attrs.get(IFLA_IFALIAS)) link.alias = std::string(alias->str());
  // Only Ethernet-like addresses: a tunnel's IFLA_ADDRESS (if any) is not a MAC.
  if (const Attr* address = attrs.get(IFLA_ADDRESS); address != nullptr && address->payload().size() == 6) {
    link.mac = formatMac(address->payload().data(), 6);
  }
  if (const Attr* info = attrs.get(IFLA_LINKINFO)) {
    NWG_ASSIGN_OR_RETURN(auto info_attrs,
                         Attrs::parse(info->payload(), kLinkInfoPolicy, str("link ", link.name, " info")));
    if (const Attr* kind = info_attrs.get(IFLA_INFO_KIND)) link.kind = std::string(kind->str());
  }
  return link;
}

std::vector<uint8_t> dumpAddressesRequest() {
  MessageBuilder b(RTM_GETADDR, 0, 1024);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  mustFit(b.putHeader(ifa));
  return std::move(b).take();
}

std::vector<uint8_t> addAddressRequest(int index, const IpPrefix& prefix, uint8_t flags) {
  // NLM_F_REPLACE makes re-adding an existing address a success rather than EEXIST.
  return std::move(addressMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, index, prefix, flags)).take();
}

std::vector<uint8_t> deleteAddressRequest(int index, const IpPrefix& prefix) {
  return std::move(addressMessage(RTM_DELADDR, 0, index, prefix)).take();
}

Result<std::optional<AddressEntry>> decodeAddress(const Message& message) {
  if (message.type != RTM_NEWADDR) return fail("address message: unexpected type ", message.type);
  if (message.payload.size() < sizeof(ifaddrmsg)) return fail("address message: shorter than ifaddrmsg");
  ifaddrmsg ifa{};
  std::memcpy(&ifa, message.payload.data(), sizeof ifa);
  if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) return std::optional<AddressEntry>();
  NWG_ASSIGN_OR_RETURN(auto attrs, Attrs::parse(message.payload.subspan(align4(sizeof ifa)), kAddressPolicy,
                                                "address message"));
  // For IPv4, IFA_LOCAL is the address itself (IFA_ADDRESS is the peer on point-to-point links).
  const Attr* attr =
      ifa.ifa_family == AF_INET && attrs.has(IFA_LOCAL) ? attrs.get(IFA_LOCAL) : attrs.get(IFA_ADDRESS);
  if (attr == nullptr) return fail("address message: link ", ifa.ifa_index, " address has no IFA_ADDRESS");
  const size_t want = ifa.ifa_family == AF_INET ? 4 : 16;
  if (attr->payload().size() != want) {
    return fail("address message: ", attr->payload().size(), "-byte address for family ",
                int{ifa.ifa_family});
  }
  const int max_len = ifa.ifa_family == AF_INET ? 32 : 128;
  if (ifa.ifa_prefixlen > max_len) return fail("address message: prefix length ", int{ifa.ifa_prefixlen});
  IpAddress address;
  if (ifa.ifa_family == AF_INET) {
    std::array<uint8_t, 4> b{};
    std::memcpy(b.data(), attr->payload().data(), 4);
    address = IpAddress::v4(b);
  } else {
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), attr->payload().data(), 16);
    address = IpAddress::v6(b);
  }
  // IFA_FLAGS holds all 32 bits; ifa_flags only the low 8.
  const uint32_t flags = attrs.has(IFA_FLAGS) ? attrs.get(IFA_FLAGS)->u32() : uint32_t{ifa.ifa_flags};
  return std::optional<AddressEntry>(
      AddressEntry{static_cast<int>(ifa.ifa_index), IpPrefix(address, ifa.ifa_prefixlen), flags});
}

std::vector<uint8_t> dumpRoutesRequest() {
  MessageBuilder b(RTM_GETROUTE, 0, 1024);
  rtmsg rtm{};
  rtm.rtm_family = AF_UNSPEC;
  mustFit(b.putHeader(rtm));
  return std::move(b).take();
}

std::vector<uint8_t> replaceRouteRequest(int index, const Route& route) {
  return std::move(routeMessage(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, index, route, true)).take();
}

std::vector<uint8_t> deleteRouteRequest(int index, const Route& route) {
  return std::move(routeMessage(RTM_DELROUTE, 0, index, route, false)).take();
}

Result<std::optional<RouteEntry>> decodeRoute(const Message& message) {
  if (message.type != RTM_NEWROUTE) return fail("route message: unexpected type ", message.type);
  if (message.payload.size() < sizeof(rtmsg)) return fail("route message: shorter than rtmsg");
  rtmsg rtm{};
  std::memcpy(&rtm, message.payload.data(), sizeof rtm);
  if (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6) return std::optional<RouteEntry>();
  NWG_ASSIGN_OR_RETURN(
      auto attrs, Attrs::parse(message.payload.subspan(align4(sizeof rtm)), kRoutePolicy, "route message"));
  const uint32_t table = attrs.has(RTA_TABLE) ? attrs.get(RTA_TABLE)->u32() : rtm.rtm_table;
  if (table != RT_TABLE_MAIN || rtm.rtm_type != RTN_UNICAST || rtm.rtm_protocol == RTPROT_KERNEL ||
      attrs.has(RTA_MULTIPATH) || !attrs.has(RTA_OIF)) {
    return std::optional<RouteEntry>();
  }
  const bool v4 = rtm.rtm_family == AF_INET;
  const size_t want = v4 ? 4 : 16;
  const int max_len = v4 ? 32 : 128;
  if (rtm.rtm_dst_len > max_len) return fail("route message: prefix length ", int{rtm.rtm_dst_len});
  RouteEntry entry;
  entry.oif = static_cast<int>(attrs.get(RTA_OIF)->u32());
  IpAddress dst = v4 ? IpAddress::v4({}) : IpAddress::v6({});
  if (const Attr* d = attrs.get(RTA_DST)) {
    if (d->payload().size() != want) return fail("route message: ", d->payload().size(), "-byte destination");
    dst = addressFrom(d->payload().data(), v4);
  }
  entry.route.destination = IpPrefix(dst, rtm.rtm_dst_len).masked();
  if (const Attr* g = attrs.get(RTA_GATEWAY)) {
    if (g->payload().size() != want) return fail("route message: ", g->payload().size(), "-byte gateway");
    entry.route.gateway = addressFrom(g->payload().data(), v4);
  }
  return std::optional<RouteEntry>(entry);
}

}  // namespace nwg::netlink::rtnl
