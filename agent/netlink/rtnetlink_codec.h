// Pure encoders and decoders of the rtnetlink messages RtnetlinkLinks uses (links and addresses):
// bytes in, bytes out, so they are unit-tested with golden bytes and fuzzed without a kernel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "netlink/links.h"
#include "netlink/reply.h"

namespace nwg::netlink::rtnl {

// An interface name the kernel accepts: 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
// Fails with EINVAL.
Status validateLinkName(const std::string& name);
// A link alias the kernel stores as given: at most 255 bytes (IFALIASZ - 1), no NUL. Fails with EINVAL.
Status validateAlias(const std::string& alias);

// Both ask the kernel to leave out link statistics (RTEXT_FILTER_SKIP_STATS): nothing here reads them.
std::vector<uint8_t> dumpLinksRequest();
// RTM_GETLINK for one link by name (the kernel answers ENODEV when it does not exist).
std::vector<uint8_t> getLinkRequest(const std::string& name);
// RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL, IFLA_IFNAME and IFLA_LINKINFO/IFLA_INFO_KIND.
std::vector<uint8_t> createLinkRequest(const std::string& name, const std::string& kind);
std::vector<uint8_t> deleteLinkRequest(int index);
std::vector<uint8_t> setUpRequest(int index, bool up);
std::vector<uint8_t> setMtuRequest(int index, uint32_t mtu);
// RTM_NEWLINK with IFLA_IFALIAS holding the alias without a NUL, as iproute2 sends it: the kernel
// stores exactly those bytes, and an empty attribute clears the alias. `alias` must be valid.
// Refuses an alias the kernel would not take (validateAlias), whoever the caller.
Result<std::vector<uint8_t>> setAliasRequest(int index, const std::string& alias);
// Moves the link into the namespace that `netns_fd` refers to (IFLA_NET_NS_FD).
std::vector<uint8_t> moveRequest(int index, int netns_fd);

// RTM_NEWLINK creating a veth pair `name` <-> `peer` in the socket's namespace (NLM_F_CREATE|NLM_F_EXCL).
std::vector<uint8_t> createVethRequest(const std::string& name, const std::string& peer);
// RTM_NEWLINK setting IFLA_ADDRESS.
std::vector<uint8_t> setMacRequest(int index, const std::array<uint8_t, 6>& mac);

// Decodes an RTM_NEWLINK message.
Result<LinkInfo> decodeLink(const Message& message);

// One address of one link.
struct AddressEntry {
  int index = 0;
  IpPrefix prefix;
  uint32_t flags = 0;  // IFA_F_* (IFA_FLAGS when present, else ifa_flags): e.g. IFA_F_TENTATIVE
  bool operator==(const AddressEntry&) const = default;
};
std::vector<uint8_t> dumpAddressesRequest();
// RTM_NEWADDR (add or replace) or RTM_DELADDR for `prefix` on link `index`. `flags` go in ifa_flags
// (IFA_F_NODAD: an IPv6 address usable at once, without duplicate address detection).
std::vector<uint8_t> addAddressRequest(int index, const IpPrefix& prefix, uint8_t flags = 0);
std::vector<uint8_t> deleteAddressRequest(int index, const IpPrefix& prefix);
// Decodes an RTM_NEWADDR message; nullopt for families other than IPv4/IPv6.
Result<std::optional<AddressEntry>> decodeAddress(const Message& message);

// Routes of the main table. Ours are added with protocol "static" (as `ip route add ... proto static`).
struct RouteEntry {
  int oif = 0;
  Route route;
  bool operator==(const RouteEntry&) const = default;
};
std::vector<uint8_t> dumpRoutesRequest();
// RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE: scope link without a gateway, universe with one.
std::vector<uint8_t> replaceRouteRequest(int index, const Route& route);
std::vector<uint8_t> deleteRouteRequest(int index, const Route& route);
// Decodes an RTM_NEWROUTE message; nullopt for what Links::routes leaves out (other tables, types,
// families, the kernel's own routes, multipath routes).
Result<std::optional<RouteEntry>> decodeRoute(const Message& message);

}  // namespace nwg::netlink::rtnl
