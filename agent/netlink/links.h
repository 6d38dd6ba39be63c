// Network links and their addresses, per named network namespace ("" = the agent's own), over
// rtnetlink. RtnetlinkLinks is the real implementation; FakeLinks the unit tests' stand-in.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "base/result.h"

namespace nwg {

struct LinkInfo {
  std::string name;
  int index = 0;
  std::string kind;  // IFLA_INFO_KIND: "wireguard", "tun" (wireguard-go), "veth", "" for none
  bool up = false;   // administratively up (IFF_UP)
  uint32_t mtu = 0;
  // IFLA_IFALIAS, "" when none. The kernel keeps it when the link moves to another namespace.
  std::string alias = {};
  // IFLA_ADDRESS of an Ethernet-like link, "fa:16:3e:00:00:01"; "" for links without one (WireGuard).
  std::string mac = {};
  bool operator==(const LinkInfo&) const = default;
};

// A route of the main table through one link: directly (no gateway) or via a gateway on that link.
struct Route {
  IpPrefix destination;  // masked; 0.0.0.0/0 or ::/0 for a default route
  std::optional<IpAddress> gateway = {};
  auto operator<=>(const Route&) const = default;
  bool operator==(const Route&) const = default;
};
// "10.10.0.0/24", "0.0.0.0/0 via 10.10.0.1": a route in log lines.
std::string describeRoute(const Route& route);

// How replaceAddresses adds the addresses it adds.
struct AddressOptions {
  // IPv6 ones skip duplicate address detection (IFA_F_NODAD, `ip addr add ... nodad`): usable at once
  // rather than "tentative" for a second or two, as Neutron's agents add a router port's addresses.
  // IPv4 has no DAD: no effect there.
  bool no_dad = false;
};

class Links {
 public:
  virtual ~Links() = default;

  virtual Result<std::vector<LinkInfo>> list(const std::string& netns) = 0;
  // Fails with ENODEV when there is no such link in that namespace.
  virtual Result<LinkInfo> get(const std::string& netns, const std::string& name) = 0;

  // Creates a link of a kind that needs no extra attributes (e.g. "wireguard", "dummy").
  virtual Status create(const std::string& netns, const std::string& name, const std::string& kind) = 0;
  // An absent link is success.
  virtual Status remove(const std::string& netns, const std::string& name) = 0;
  // Moves the link into another named namespace. The kernel sets it down and drops its addresses.
  virtual Status moveTo(const std::string& netns, const std::string& name, const std::string& target) = 0;
  virtual Status setUp(const std::string& netns, const std::string& name, bool up) = 0;
  virtual Status setMtu(const std::string& netns, const std::string& name, uint32_t mtu) = 0;
  // Sets the link's alias (IFLA_IFALIAS, at most 255 bytes, no NUL; EINVAL otherwise); "" clears it.
  virtual Status setAlias(const std::string& netns, const std::string& name, const std::string& alias) = 0;

  // IPv4 and IPv6 addresses with their prefix length, link-local ones (fe80::/10) excluded.
  virtual Result<std::vector<IpPrefix>> addresses(const std::string& netns, const std::string& name) = 0;
  // Makes the link's addresses exactly `wanted` (link-local ones untouched): adds the missing and
  // removes the others, touching nothing when they already match. `options` apply to those it adds.
  virtual Status replaceAddresses(const std::string& netns, const std::string& name,
                                  const std::vector<IpPrefix>& wanted, AddressOptions options = {}) = 0;
  // The link's IPv6 addresses that duplicate address detection still holds (IFA_F_TENTATIVE: not
  // usable yet; it needs the link up with a carrier, then about a second), sorted.
  virtual Result<std::vector<IpPrefix>> tentativeAddresses(const std::string& netns,
                                                           const std::string& name) = 0;

  // A veth pair, both ends in `netns` (the caller moves one end where it belongs). EEXIST when either
  // name is taken.
  virtual Status createVethPair(const std::string& netns, const std::string& name,
                                const std::string& peer) = 0;
  // Sets the link's Ethernet address ("fa:16:3e:00:00:01"; EINVAL when malformed).
  virtual Status setMacAddress(const std::string& netns, const std::string& name, const std::string& mac) = 0;

  // The routes of the main table through this link that someone added (those the kernel derives from
  // the link's addresses, and multicast/local ones, are left out), sorted.
  virtual Result<std::vector<Route>> routes(const std::string& netns, const std::string& name) = 0;
  // Adds the route through this link, or replaces the main table's route to that destination.
  virtual Status replaceRoute(const std::string& netns, const std::string& name, const Route& route) = 0;
  // An absent route is success.
  virtual Status deleteRoute(const std::string& netns, const std::string& name, const Route& route) = 0;
};

}  // namespace nwg
