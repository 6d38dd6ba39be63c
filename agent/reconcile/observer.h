// Reads the actual state: which namespaces may hold managed devices (the agent's own, tun-*, qrouter-*),
// the links named like ours in each, and for the devices of interest their addresses and WireGuard
// configuration.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "base/result.h"
#include "netlink/links.h"
#include "netns/namespaces.h"
#include "ovs/ovs_bridge.h"
#include "reconcile/observation.h"
#include "wireguard/backend.h"

namespace nwg::reconcile {

class Observer {
 public:
  // `ovs` (may be null: no OVN-routed hub can then be realized) lists the integration bridge's plugs.
  Observer(Links& links, Namespaces& namespaces, wg::Backend& backend, ovs::OvsBridge* ovs = nullptr)
      : links_(links), namespaces_(namespaces), backend_(backend), ovs_(ovs) {}

  // Lists every namespace that may hold managed devices and the links in each; then reads the details
  // (see fillDetails) of the managed devices named in `details_for`, or of all of them and of every
  // project namespace when it is absent. With `only_in`, links are listed only in those namespaces
  // ("" is the agent's own): the others are known to exist, with no links or devices seen.
  Result<HostObservation> observe(const std::optional<std::set<std::string>>& details_for,
                                  const std::set<std::string>* only_in = nullptr);

  // Reads the addresses and WireGuard configuration of the named devices, and the routing sysctls of
  // the named project namespaces. A device whose state cannot be read for a reason other than "not
  // a WireGuard device" is marked `unreadable` (with why): that fails its hub only, never the pass,
  // and never makes it look absent.
  // Also reads, for the devices in OVN hubs' namespaces and the plug links named in `devices`, their
  // routes (and the plug links' addresses).
  void fillDetails(HostObservation& host, const std::set<std::string>& devices,
                   const std::set<std::string>& namespaces);

  // Lists the integration bridge's plug ports into host.ovs_ports (or host.ovs_unreadable), once a pass.
  void readOvsPorts(HostObservation& host);

 private:
  Links& links_;
  Namespaces& namespaces_;
  wg::Backend& backend_;
  ovs::OvsBridge* ovs_;
};

}  // namespace nwg::reconcile
