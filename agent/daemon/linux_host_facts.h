// The real HostFacts (reconcile/host_facts.h) and DNS lookup: /proc/self/net/udp{,6}, getifaddrs(3)
// and getaddrinfo(3), all in the calling thread's network namespace (the agent's own).
#pragma once

#include <string>
#include <string_view>

#include "reconcile/host_facts.h"

namespace nwg::daemon {

class LinuxHostFacts final : public reconcile::HostFacts {
 public:
  std::set<uint16_t> udpPortsInUse() override;
  Result<std::set<IpAddress>> localAddresses() override;
};

// The first address getaddrinfo gives for `host` (numeric or DNS name), as wg(8) takes it. Blocking:
// the agent calls it only from EndpointResolver's worker threads.
Result<IpAddress> resolveHostName(const std::string& host);

// Parses the text of /proc/net/udp or /proc/net/udp6 (pure, for tests).
std::set<uint16_t> parseProcNetUdp(std::string_view text);

}  // namespace nwg::daemon
