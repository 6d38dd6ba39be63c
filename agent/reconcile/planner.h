// The planner: desired × actual → the ordered, idempotent actions that make actual equal desired.
// A pure function of its inputs (no system calls, no clock, no randomness): everything it needs is
// passed in, so every decision is unit-tested without root.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reconcile/hub_spec.h"
#include "reconcile/identity_store.h"
#include "reconcile/observation.h"
#include "reconcile/plan.h"

namespace nwg::reconcile {

struct PlannerOptions {
  uint32_t mtu = 0;              // [wireguard] mtu: 0 = derive from the network and the underlay
  uint32_t underlay_mtu = 1500;  // [wireguard] underlay_mtu
  bool underlay_ipv6 = false;    // the advertised endpoint is IPv6: WireGuard then adds 80 bytes, not 60
  std::string host = {};         // [DEFAULT] host: devices are marked ownerAlias(host) (names.h)
};

// What the agent remembers of each peer of a hub across passes (keyed by the spoke's public key):
// - `applied`: Neutron's endpoint as last written (or found in place), so that a roaming spoke's
//   endpoint is not reset every pass: Neutron's endpoint is written when a peer is created, when
//   Neutron's value changes, or when the peer has no endpoint at all;
// - `seen`: the endpoint the device last reported for the peer (often learned from the spoke's
//   handshakes, for spokes behind NAT). When the device must be re-created (wireguard-go killed), the
//   peer gets it back, so the hub can reach the spoke without waiting for the spoke to reconnect.
struct PeerMemory {
  std::optional<Endpoint> applied;
  bool applied_known = false;
  std::optional<Endpoint> seen;
};
using PeerMemories = std::map<Key, PeerMemory>;

// The MTU a hub's device gets: the configured one, else the smaller of the tenant network's MTU and
// what fits in the underlay after WireGuard's overhead (60 bytes over IPv4, 80 over IPv6).
uint32_t hubMtu(const HubSpec& hub, const PlannerOptions& options);

// The namespace a hub's device belongs in now: its own "wghub-<hub ID>" when OVN-routed (ovn_plug);
// else its router's namespace once the L3 agent created it, else the agent's own namespace for
// root_device hubs, else the project namespace.
std::string hubNamespace(const HubSpec& hub, const HostObservation& host);

// The WireGuard configuration the hub should have, given what the device has now (fields the agent
// does not manage, such as a peer's learned endpoint or keepalive, are carried over unchanged).
// `current` is null for a device being created.
wg::Device wantedConfig(const HubSpec& hub, const HubIdentity& identity, const wg::Device* current,
                        const PeerMemories* memory);

HubPlan planHub(const HubSpec& hub, const HubIdentity& identity, const HostObservation& host,
                const PlannerOptions& options, const PeerMemories* memory);

// The plan for spokes that changed on a hub whose device the agent trusts: it applied `before`, and
// the device's link is as it verified it since (docs/scale.md). Only the peers of the spokes in
// `changed` are compared, from what the agent applied (`before`, the endpoints in `memory`) to what
// `after` wants: a removed spoke's peer removed by its old key, a re-keyed spoke's old peer removed
// and the new one added, allowed IPs replaced, Neutron's endpoint written when it changed. Nothing is
// read from the device, and the cost follows the change, not the hub. `after`'s endpoints must be
// usable already (resolved and allowed). Empty when nothing changes on the device.
HubPlan planSpokeChanges(const HubSpec& before, const HubSpec& after, const std::set<std::string>& changed,
                         const wg::DeviceRef& where, const PeerMemories* memory);

// What a cleanup does, and what it leaves alone.
struct CleanupPlan {
  std::vector<Action> actions;
  // Unclaimed devices whose ownership mark names another host, by that host: another agent on this
  // machine realizes them (or did), so they are not ours to remove.
  std::map<std::string, std::vector<wg::DeviceRef>> foreign;
};

// After a successful full sync: destroy managed devices no hub claims (never those in `ignored`, nor
// those marked as another host's; unmarked ones, from older agents or crashes, are ours), and remove
// project namespaces that then hold nothing. `claimed` holds device names of every hub the server
// listed, including hubs that could not be realized; `agent_host` is this agent's [DEFAULT] host.
// OVN plugs ("wgo-*", "wgp-*" links and "wgo-*" OVS ports) no hub claims (`claimed_plugs`: the
// listed hubs' plug links) go too, with their port, when host.ovs_ports was read; those in a wanted
// namespace are its hub's, and those of another agent stay. An OVS port is removed only when it
// carries this agent's mark (external_ids:neutron-wireguard-agent = `agent_host`).
CleanupPlan planCleanup(const HostObservation& host, const std::set<std::string>& claimed,
                        const std::set<std::string>& ignored, const std::set<std::string>& wanted_namespaces,
                        const std::string& agent_host, const std::set<std::string>& claimed_plugs = {});

}  // namespace nwg::reconcile
