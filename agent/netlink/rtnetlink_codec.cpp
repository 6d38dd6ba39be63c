// rtnetlink link and address messages (see rtnetlink_codec.h).
#include "netlink/rtnetlink_codec.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "netlink/attributes.h"
#include "netlink/message_builder.h"

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

MessageBuilder addressMessage(uint16_t type, uint16_t flags, int index, const IpPrefix& prefix) {
  MessageBuilder b(type, flags, 1024);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<uint8_t>(prefix.address().isV4() ? AF_INET : AF_INET6);
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
  return p;
}();

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

std::vector<uint8_t> addAddressRequest(int index, const IpPrefix& prefix) {
  // NLM_F_REPLACE makes re-adding an existing address a success rather than EEXIST.
  return std::move(addressMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, index, prefix)).take();
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
  return std::optional<AddressEntry>(
      AddressEntry{static_cast<int>(ifa.ifa_index), IpPrefix(address, ifa.ifa_prefixlen)});
}

}  // namespace nwg::netlink::rtnl
