// What the reconciler reads about the network node itself, beyond links and WireGuard devices: a seam,
// so that the core stays pure. The composition root wires the real one (daemon/linux_host_facts.h);
// tests pass a fake.
#pragma once

#include <cstdint>
#include <set>

#include "base/ip.h"
#include "base/result.h"

namespace nwg::reconcile {

class HostFacts {
 public:
  virtual ~HostFacts() = default;
  // UDP ports bound in the agent's namespace (a new hub's listen port avoids them).
  virtual std::set<uint16_t> udpPortsInUse() = 0;
  // Every address configured in the agent's namespace (spoke endpoints must not name one).
  virtual Result<std::set<IpAddress>> localAddresses() = 0;
};

}  // namespace nwg::reconcile
