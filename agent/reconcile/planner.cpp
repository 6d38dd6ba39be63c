#include "reconcile/planner.h"

#include <algorithm>
#include <cassert>

#include "reconcile/names.h"
#include "wireguard/diff.h"

namespace nwg::reconcile {

namespace {

constexpr uint32_t kOverheadIpv4 = 60;  // IPv4 20 + UDP 8 + WireGuard 32
constexpr uint32_t kOverheadIpv6 = 80;  // IPv6 40 + UDP 8 + WireGuard 32
constexpr uint32_t kMinimumMtu = 1280;  // IPv6's minimum; below it a hub with IPv6 subnets breaks

std::vector<IpPrefix> masked(std::vector<IpPrefix> prefixes) {
  for (auto& p : prefixes) p = p.masked();
  std::sort(prefixes.begin(), prefixes.end());
  return prefixes;
}

const wg::Peer* findPeer(const std::optional<wg::Device>& device, const Key& key) {
  if (!device) return nullptr;
  for (const auto& p : device->peers) {
    if (p.public_key == key) return &p;
  }
  return nullptr;
}

// The endpoint to write for a spoke's peer, if any (see PeerMemory).
std::optional<Endpoint> endpointToWrite(const SpokeSpec& spoke, const wg::Peer* current,
                                        const PeerMemory* memory) {
  if (!spoke.endpoint) {
    // WireGuard cannot clear an endpoint; the spoke's handshakes set it. A peer being (re)created gets
    // back what the device had learned before.
    if (!current && memory && memory->seen) return memory->seen;
    return std::nullopt;
  }
  if (!current || !current->endpoint) return spoke.endpoint;
  if (memory && memory->applied_known) {
    return memory->applied != spoke.endpoint ? spoke.endpoint : std::nullopt;
  }
  // First sight of an existing peer (e.g. after an agent restart): trust what the device has, so that
  // a restart writes nothing and a roaming spoke keeps its learned endpoint.
  return std::nullopt;
}

}  // namespace

uint32_t hubMtu(const HubSpec& hub, const PlannerOptions& options) {
  if (options.mtu != 0) return options.mtu;
  uint32_t overhead = options.underlay_ipv6 ? kOverheadIpv6 : kOverheadIpv4;
  uint32_t fits = options.underlay_mtu > overhead ? options.underlay_mtu - overhead : 0;
  uint32_t mtu = hub.network_mtu != 0 ? std::min(hub.network_mtu, fits) : fits;
  return std::max(mtu, std::min(kMinimumMtu, fits));
}

std::string hubNamespace(const HubSpec& hub, const HostObservation& host) {
  if (hub.router_id) {
    std::string router_ns = routerNamespace(*hub.router_id);
    // Until the L3 agent has created the router's namespace the hub serves its spokes from the project
    // namespace; the next pass moves it.
    if (host.hasNamespace(router_ns)) return router_ns;
  }
  if (hub.root_device) return "";
  return projectNamespace(hub.project_id);
}

wg::Device wantedConfig(const HubSpec& hub, const HubIdentity& identity,
                        const std::optional<wg::Device>& current, const PeerMemories* memory) {
  wg::Device wanted;
  wanted.private_key = identity.private_key;
  wanted.listen_port = identity.listen_port;
  if (current) wanted.fwmark = current->fwmark;  // not managed: keep whatever the operator set
  for (const auto& spoke : hub.spokes) {
    const wg::Peer* now = findPeer(current, spoke.public_key);
    wg::Peer peer;
    peer.public_key = spoke.public_key;
    peer.allowed_ips = masked(spoke.allowed_ips);
    const PeerMemory* remembered = nullptr;
    if (memory) {
      auto it = memory->find(spoke.public_key);
      if (it != memory->end()) remembered = &it->second;
    }
    if (auto endpoint = endpointToWrite(spoke, now, remembered)) {
      peer.endpoint = endpoint;
    } else if (now) {
      peer.endpoint = now->endpoint;
    }
    if (now) {
      peer.preshared_key = now->preshared_key;
      peer.persistent_keepalive = now->persistent_keepalive;
    }
    wanted.peers.push_back(std::move(peer));
  }
  return wanted;
}

HubPlan planHub(const HubSpec& hub, const HubIdentity& identity, const HostObservation& host,
                const PlannerOptions& options, const PeerMemories* memory) {
  HubPlan plan;
  plan.port_id = hub.port_id;
  plan.ifname = deviceName(hub.port_id);
  const std::string target = hubNamespace(hub, host);
  const DeviceObservation* seen = host.findDevice(plan.ifname, target);
  assert((!seen || seen->detailed) && "plan only hubs whose device details were read");

  // Where the device is as the plan progresses, and what it has there.
  std::string location;
  std::optional<wg::Device> config;
  LinkInfo link;
  std::vector<IpPrefix> addresses;
  bool exists = false;
  if (seen && seen->config) {
    exists = true;
    location = seen->netns;
    config = seen->config;
    link = seen->link;
    addresses = seen->addresses;
  } else if (seen) {
    // Named like this hub's device but not a working WireGuard device (e.g. a tun left behind):
    // replace it.
    plan.actions.push_back(DestroyDevice{{seen->netns, plan.ifname}});
  }

  if (!exists) {
    plan.actions.push_back(CreateDevice{plan.ifname, hub.spokes.size()});
    location = "";
    config = wg::Device{};
    link = LinkInfo{plan.ifname, 0, "", false, 0};
    addresses.clear();
  }

  // The ownership mark right after creation, so another agent on this host leaves the device alone
  // from then on; the kernel keeps it across moves. Also marks devices of agents that set none.
  const std::string alias = ownerAlias(options.host);
  if (link.alias != alias) plan.actions.push_back(SetAlias{{location, plan.ifname}, alias});

  // WireGuard first: a (re)created device starts answering spokes as early as possible.
  wg::Device wanted = wantedConfig(hub, identity, exists ? config : std::nullopt, memory);
  wg::Device update = wg::diff(*config, wanted);
  if (!wg::isEmptyUpdate(update)) {
    plan.actions.push_back(ConfigureDevice{{location, plan.ifname}, std::move(update)});
  }

  if (location != target && !target.empty() && !host.hasNamespace(target)) {
    plan.actions.push_back(CreateNamespace{target});
  }
  if (isProjectNamespace(target)) {
    auto ns = host.namespaces.find(target);
    if (ns == host.namespaces.end() || !ns->second.forwarding)
      plan.actions.push_back(EnableForwarding{target});
  }
  if (location != target) {
    plan.actions.push_back(MoveDevice{plan.ifname, location, target});
    location = target;
    link.up = false;  // the kernel sets a moved link down and drops its addresses
    addresses.clear();
  }

  const wg::DeviceRef here{location, plan.ifname};
  const uint32_t mtu = hubMtu(hub, options);
  if (link.mtu != mtu) plan.actions.push_back(SetMtu{here, mtu});
  if (addresses != hub.addresses) plan.actions.push_back(SetAddresses{here, hub.addresses});
  if (link.up != hub.admin_state_up) {
    plan.actions.push_back(SetLinkUp{here, hub.admin_state_up});
    if (hub.admin_state_up) {
      GreetPeers greet{here, {}};
      for (const auto& p : wanted.peers) {
        if (p.endpoint && p.persistent_keepalive.value_or(0) == 0) greet.peers.push_back(p.public_key);
      }
      if (!greet.peers.empty()) plan.actions.push_back(std::move(greet));
    }
  }
  plan.final_location = here;
  return plan;
}

HubPlan planSpokeChanges(const HubSpec& before, const HubSpec& after, const std::set<std::string>& changed,
                         const wg::DeviceRef& where, const PeerMemories* memory) {
  HubPlan plan;
  plan.port_id = after.port_id;
  plan.ifname = where.ifname;
  plan.final_location = where;
  // The changed peers as the device has them (what the agent applied), and as they should be.
  wg::Device current;
  wg::Device wanted;
  for (const auto& id : changed) {
    if (const SpokeSpec* old = findSpoke(before, id)) {
      wg::Peer peer;
      peer.public_key = old->public_key;
      peer.allowed_ips = masked(old->allowed_ips);
      if (memory) {
        if (auto m = memory->find(old->public_key); m != memory->end()) {
          peer.endpoint = m->second.applied_known && m->second.applied ? m->second.applied : m->second.seen;
        }
      }
      current.peers.push_back(std::move(peer));
    }
  }
  for (const auto& id : changed) {
    const SpokeSpec* now = findSpoke(after, id);
    if (!now) continue;
    const wg::Peer* had = nullptr;
    for (const auto& p : current.peers) {
      if (p.public_key == now->public_key) had = &p;
    }
    const PeerMemory* remembered = nullptr;
    if (memory) {
      if (auto m = memory->find(now->public_key); m != memory->end()) remembered = &m->second;
    }
    wg::Peer peer;
    peer.public_key = now->public_key;
    peer.allowed_ips = masked(now->allowed_ips);
    if (auto endpoint = endpointToWrite(*now, had, remembered)) {
      peer.endpoint = endpoint;
    } else if (had) {
      peer.endpoint = had->endpoint;
    }
    wanted.peers.push_back(std::move(peer));
  }
  wg::Device update = wg::diff(current, wanted);
  if (!wg::isEmptyUpdate(update)) plan.actions.push_back(ConfigureDevice{where, std::move(update)});
  return plan;
}

CleanupPlan planCleanup(const HostObservation& host, const std::set<std::string>& claimed,
                        const std::set<std::string>& ignored, const std::set<std::string>& wanted_namespaces,
                        const std::string& agent_host) {
  CleanupPlan plan;
  std::map<std::string, std::set<std::string>> leaving;  // namespace -> links this cleanup destroys
  for (const auto& d : host.devices) {
    const std::string& name = d.link.name;
    // Every copy of a claimed name is kept (kernel devices may share a name across namespaces):
    // never delete on doubt.
    if (ignored.count(name) || claimed.count(name)) continue;
    if (auto owner = otherAgentsHost(d.link.alias, agent_host)) {
      plan.foreign[std::string(*owner)].push_back({d.netns, name});
      continue;
    }
    plan.actions.push_back(DestroyDevice{{d.netns, name}});
    leaving[d.netns].insert(name);
  }
  for (const auto& [netns, ns] : host.namespaces) {
    if (!isProjectNamespace(netns) || wanted_namespaces.count(netns)) continue;
    bool empty = std::all_of(ns.links.begin(), ns.links.end(),
                             [&, n = netns](const std::string& l) { return leaving[n].count(l) > 0; });
    if (empty) plan.actions.push_back(RemoveNamespace{netns});
  }
  return plan;
}

}  // namespace nwg::reconcile
