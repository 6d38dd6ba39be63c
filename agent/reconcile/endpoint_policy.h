// Which addresses a hub may send handshakes to. A spoke's endpoint comes from a tenant (through the
// API) or from a DNS name the tenant controls; the hub's UDP socket lives in the network node's own
// namespace, so an endpoint on loopback, link-local (169.254.169.254: the metadata service),
// multicast, broadcast, unspecified or one of the node's own addresses would make the node send
// packets to itself or its management neighbourhood on the tenant's behalf. Such an endpoint is
// dropped (the spoke is configured without one and can still reach the hub itself); operators add
// their own ranges with [wireguard] denied_endpoint_cidrs. Pure.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/ip.h"

namespace nwg::reconcile {

class EndpointPolicy {
 public:
  EndpointPolicy() = default;
  explicit EndpointPolicy(std::vector<IpPrefix> denied) : denied_(std::move(denied)) {}

  // Why a hub must not send to `address`, or nothing when it may. `node_addresses` are the network
  // node's own addresses (every address in the agent's namespace and the advertised endpoint).
  std::optional<std::string> refusal(const IpAddress& address,
                                     const std::set<IpAddress>& node_addresses) const;

  const std::vector<IpPrefix>& denied() const { return denied_; }

 private:
  std::vector<IpPrefix> denied_;
};

// The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for; other addresses as given.
IpAddress unmapped(const IpAddress& address);

}  // namespace nwg::reconcile
