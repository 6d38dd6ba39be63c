// The actions a plan is made of: small, idempotent steps the Applier performs in order. Each action
// describes itself in one log line (dry_run prints exactly these), never showing a private key.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/ip.h"
#include "netlink/links.h"
#include "ovs/ovs_bridge.h"
#include "wireguard/backend.h"
#include "wireguard/device.h"

namespace nwg::reconcile {

struct CreateNamespace {
  std::string netns;
};
// A project namespace set up to route between spokes through the hub: IPv4 and IPv6 forwarding on,
// and no ICMP redirects (spoke-to-spoke traffic leaves by the interface it came in on, and a spoke
// cannot act on a redirect). Done before a device moves in: a moved link takes the namespace's defaults.
struct EnableForwarding {
  std::string netns;
};
// The sysctls EnableForwarding writes (and the observer checks), in order.
inline constexpr std::pair<const char*, const char*> kRoutingSysctls[] = {
    {"net/ipv4/ip_forward", "1"},
    {"net/ipv6/conf/all/forwarding", "1"},
    {"net/ipv4/conf/all/send_redirects", "0"},
    {"net/ipv4/conf/default/send_redirects", "0"},
};
// A new WireGuard device, always in the agent's own namespace: its UDP socket stays there.
struct CreateDevice {
  std::string ifname;
  size_t expected_peers = 0;  // the hub's spokes (wireguard-go's memory limit follows them)
};
// The device's alias (IFLA_IFALIAS): the ownership mark "networking-wireguard:<host>" (names.h).
// The kernel keeps it across moves, so it is set once.
struct SetAlias {
  wg::DeviceRef device;
  std::string alias;
};
struct DestroyDevice {
  wg::DeviceRef device;
};
struct ConfigureDevice {
  wg::DeviceRef device;
  wg::Device update;  // only what changes
};
// The kernel sets the link down and drops its addresses on a move; the plan re-applies both.
struct MoveDevice {
  std::string ifname;
  std::string from;
  std::string to;
};
struct SetMtu {
  wg::DeviceRef device;
  uint32_t mtu = 0;
};
struct SetAddresses {
  wg::DeviceRef device;
  std::vector<IpPrefix> addresses;
  AddressOptions options = {};  // an OVN plug's are added with no_dad (usable at once)
};
struct SetLinkUp {
  wg::DeviceRef device;
  bool up = true;
};
// A device that has just come up (created, re-created or moved) holds no WireGuard session, and the
// spokes' packets under their old sessions are dropped until each spoke handshakes again, which
// WireGuard does only 15 s after sending data that got no answer. Turning a peer's persistent
// keepalive on makes WireGuard send one at once, handshaking first (wireguard-go and the kernel
// alike); turning it back off leaves the peer as wanted. Only peers with a known endpoint and no
// keepalive of their own are greeted (those with one get it from WireGuard when the link comes up).
struct GreetPeers {
  wg::DeviceRef device;
  std::vector<Key> peers;
};
// The keepalive interval a greeting turns on, for as long as two UAPI/netlink writes take.
inline constexpr uint16_t kGreetingKeepalive = 25;
struct RemoveNamespace {
  std::string netns;
};

// OVN-routed hubs (docs/agent.md): the plug's veth pair, made in the agent's namespace (its namespace
// end is then moved like a device, with MoveDevice).
struct CreateVethPair {
  std::string name;  // stays in the agent's namespace: "wgo-…"
  std::string peer;  // "wgp-…"
};
// A link that is not a WireGuard device (a plug's veth: both ends go).
struct DestroyLink {
  wg::DeviceRef link;
};
struct SetMacAddress {
  wg::DeviceRef link;
  std::string mac;
};
// Makes the routes through the link (those someone added, main table) exactly `routes`, added in
// this order (a gateway's own route before the routes via it).
struct SetRoutes {
  wg::DeviceRef link;
  std::vector<Route> routes;
};
// The plug's root end as a port of the integration bridge, bound to the plug port (iface-id).
struct AddOvsPort {
  ovs::OvsPort port;
};
struct DeleteOvsPort {
  std::string name;
};

using Action =
    std::variant<CreateNamespace, EnableForwarding, CreateDevice, SetAlias, DestroyDevice, ConfigureDevice,
                 MoveDevice, SetMtu, SetAddresses, SetLinkUp, GreetPeers, RemoveNamespace, CreateVethPair,
                 DestroyLink, SetMacAddress, SetRoutes, AddOvsPort, DeleteOvsPort>;

// "wg-c0ffee00-11 (in tun-9a8b)", "wg-c0ffee00-11 (in the agent's namespace)": a device in log lines.
std::string describeDevice(const wg::DeviceRef& device);

// One line, e.g. "move wg-c0ffee00-11 from '' to tun-9a8b"; key material is shown as "(new key)".
std::string describe(const Action& action);

// The steps for one hub, applied in order; a failing step stops that hub only.
struct HubPlan {
  std::string port_id;
  std::string ifname;
  std::vector<Action> actions;
  // Where the device will be once the plan has run.
  wg::DeviceRef final_location;
};

}  // namespace nwg::reconcile
