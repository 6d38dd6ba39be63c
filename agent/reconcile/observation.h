// What the agent read from the host: its managed WireGuard devices (wherever they are) and the
// namespaces that may hold them. Produced by the Observer, consumed by the (pure) Planner.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "netlink/links.h"
#include "ovs/ovs_bridge.h"
#include "wireguard/device.h"

namespace nwg::reconcile {

struct DeviceObservation {
  std::string netns;  // "" = the agent's own
  LinkInfo link;
  bool detailed = false;            // addresses and config below were read (a quick pass lists links only)
  std::vector<IpPrefix> addresses;  // sorted, link-local excluded
  // Routes through the link (Links::routes), read for OVN-routed hubs' devices and plug links only.
  std::vector<Route> routes;
  std::optional<wg::Device>
      config;  // absent: the link is named like ours but is not a working WireGuard device
  // Set when the details could not be read (a wireguard-go that stopped answering, an address dump
  // that failed): the device exists but its state is unknown. Its hub fails this pass; it is never
  // treated as absent (which could destroy or re-create what is only slow).
  std::optional<Error> unreadable;
};

struct NamespaceObservation {
  std::vector<std::string> links;  // every link but "lo"
  bool forwarding = false;         // routing between spokes set up (kRoutingSysctls)
  bool forwarding_read = false;    // `forwarding` was read (a quick pass reads it only where needed)
};

struct HostObservation {
  std::vector<DeviceObservation> devices;  // links named like ours ("wg-" + 11)
  std::map<std::string, NamespaceObservation>
      namespaces;  // named namespaces seen (tun-*, qrouter-*, wghub-*)
  // OVN plugs' veth ends ("wgo-…", "wgp-…"), wherever seen; `config` is never set.
  std::vector<DeviceObservation> plug_links;
  // The integration bridge's "wgo-*" ports by name (iface-id, MAC, ownership mark), when this pass read
  // them; why not, if reading failed (then no OVN-routed hub is planned and no plug is cleaned up:
  // never on doubt).
  std::optional<std::map<std::string, ovs::OvsPort>> ovs_ports;
  std::optional<Error> ovs_unreadable;

  const DeviceObservation* findDevice(const std::string& ifname, const std::string& prefer_netns) const;
  const DeviceObservation* findPlugLink(const std::string& ifname, const std::string& prefer_netns) const;
  bool hasNamespace(const std::string& netns) const { return netns.empty() || namespaces.count(netns) > 0; }
};

}  // namespace nwg::reconcile
