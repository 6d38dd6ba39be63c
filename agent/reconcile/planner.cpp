#include "reconcile/planner.h"

#include <algorithm>
#include <cassert>

#include "reconcile/names.h"
#include "wireguard/diff.h"
#include "wireguard/peer_key_index.h"

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

// The device's peers by public key: a deep pass of a 10,000-peer hub looks up every spoke once.
class PeersByKey {
 public:
  explicit PeersByKey(const wg::Device* device) : device_(device), index_(device ? device->peers.size() : 0) {
    if (!device) return;
    for (uint32_t i = 0; i < device->peers.size(); ++i) {
      const Key& key = device->peers[i].public_key;
      (void)index_.insert(key, wg::PeerKeyIndex::hashOf(key), i, KeyAt{device_});
    }
  }
  const wg::Peer* find(const Key& key) const {
    if (!device_) return nullptr;
    const uint32_t at = index_.find(key, wg::PeerKeyIndex::hashOf(key), KeyAt{device_});
    return at == wg::PeerKeyIndex::kAbsent ? nullptr : &device_->peers[at];
  }

 private:
  struct KeyAt {
    const wg::Device* device;
    const Key& operator()(uint32_t at) const { return device->peers[at].public_key; }
  };
  const wg::Device* device_;
  wg::PeerKeyIndex index_;  // flat: 8 bytes a peer
};

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

// The routes an OVN-routed hub's device carries: one per hub subnet, straight through the device.
std::vector<Route> deviceRoutes(const HubSpec& hub) {
  std::vector<Route> routes;
  for (const auto& p : masked(hub.addresses)) {
    Route r{p, std::nullopt};
    if (std::find(routes.begin(), routes.end(), r) == routes.end()) routes.push_back(r);
  }
  return routes;
}

std::vector<IpPrefix> plugAddresses(const OvnPlug& plug) {
  std::vector<IpPrefix> out;
  for (const auto& ip : plug.fixed_ips) out.push_back(IpPrefix::host(ip.ip_address));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// In the order they are added: each router address through the plug, then one default route per
// family via the first router address of that family.
std::vector<Route> plugRoutes(const OvnPlug& plug) {
  std::vector<Route> out;
  for (const auto& ip : plug.fixed_ips) {
    Route r{IpPrefix::host(ip.router_ip), std::nullopt};
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  bool v4 = false, v6 = false;
  for (const auto& ip : plug.fixed_ips) {
    bool& done = ip.router_ip.isV4() ? v4 : v6;
    if (done) continue;
    done = true;
    const IpAddress any = ip.router_ip.isV4() ? IpAddress::v4({}) : IpAddress::v6({});
    out.push_back(Route{IpPrefix(any, 0), ip.router_ip});
  }
  return out;
}

std::vector<Route> sortedRoutes(std::vector<Route> routes) {
  std::sort(routes.begin(), routes.end());
  return routes;
}

// The plug's veth, addresses, routes and OVS port (docs/agent.md, OVN-routed hubs), after the device.
void planPlug(const HubSpec& hub, const HostObservation& host, const PlannerOptions& options,
              const std::string& target, HubPlan& plan) {
  const OvnPlug& plug = *hub.ovn_plug;
  const std::string root = plugRootName(plug.port_id);
  const std::string peer = plugPeerName(plug.port_id);
  const std::string alias = ownerAlias(options.host);
  const DeviceObservation* r = host.findPlugLink(root, "");
  const DeviceObservation* p = host.findPlugLink(peer, target);
  const bool pair_in_place = r && r->netns.empty() && r->link.kind == "veth" && p &&
                             (p->netns == target || p->netns.empty()) && p->link.kind == "veth";
  LinkInfo root_link;
  LinkInfo peer_link;
  std::string peer_at;
  std::vector<IpPrefix> peer_addresses;
  std::vector<Route> peer_routes;
  if (pair_in_place) {
    root_link = r->link;
    peer_link = p->link;
    peer_at = p->netns;
    peer_addresses = p->addresses;
    peer_routes = p->routes;
  } else {
    // Half a pair, or links of another kind under our names: start again (deleting one end of a veth
    // deletes the other).
    for (const auto& l : host.plug_links) {
      if (l.link.name == root || l.link.name == peer)
        plan.actions.push_back(DestroyLink{{l.netns, l.link.name}});
    }
    plan.actions.push_back(CreateVethPair{root, peer});
    root_link = LinkInfo{root, 0, "veth", false, 0};
    peer_link = LinkInfo{peer, 0, "veth", false, 0};
  }
  if (root_link.alias != alias) plan.actions.push_back(SetAlias{{"", root}, alias});
  if (peer_link.alias != alias) plan.actions.push_back(SetAlias{{peer_at, peer}, alias});
  if (peer_at != target) {
    plan.actions.push_back(MoveDevice{peer, peer_at, target});
    peer_at = target;
    peer_link.up = false;  // the kernel sets a moved link down and drops its addresses and routes
    peer_addresses.clear();
    peer_routes.clear();
  }
  const wg::DeviceRef root_ref{"", root};
  const wg::DeviceRef peer_ref{target, peer};
  if (peer_link.mac != plug.mac_address) plan.actions.push_back(SetMacAddress{peer_ref, plug.mac_address});
  if (hub.network_mtu != 0) {
    if (root_link.mtu != hub.network_mtu) plan.actions.push_back(SetMtu{root_ref, hub.network_mtu});
    if (peer_link.mtu != hub.network_mtu) plan.actions.push_back(SetMtu{peer_ref, hub.network_mtu});
  }
  if (!root_link.up) plan.actions.push_back(SetLinkUp{root_ref, true});
  if (!peer_link.up) {
    plan.actions.push_back(SetLinkUp{peer_ref, true});
    peer_routes.clear();
  }
  const std::vector<IpPrefix> addresses = plugAddresses(plug);
  // No DAD: the router resolves the plug's IPv6 address at once, as a router port's (docs/agent.md).
  if (peer_addresses != addresses) {
    plan.actions.push_back(SetAddresses{peer_ref, addresses, AddressOptions{.no_dad = true}});
  }
  const std::vector<Route> routes = plugRoutes(plug);
  if (sortedRoutes(peer_routes) != sortedRoutes(routes)) plan.actions.push_back(SetRoutes{peer_ref, routes});
  // Bound to the plug, with its MAC, and marked as this agent's (a port that differs in any of them,
  // an unmarked one included, is set again).
  const ovs::OvsPort wanted{root, plug.port_id, plug.mac_address, options.host};
  const ovs::OvsPort* seen = nullptr;
  if (host.ovs_ports) {
    if (auto it = host.ovs_ports->find(root); it != host.ovs_ports->end()) seen = &it->second;
  }
  if (!seen || *seen != wanted) plan.actions.push_back(AddOvsPort{wanted});
}

// Plugs in the hub's own namespace that it no longer wants (ovn_plug gone or replaced), and the
// namespace itself once the hub has left it.
void planStalePlugs(const HubSpec& hub, const HostObservation& host, const std::string& target,
                    HubPlan& plan) {
  const std::string ns = ovnHubNamespace(hub.port_id);
  auto seen = host.namespaces.find(ns);
  if (seen == host.namespaces.end()) return;
  const std::string wanted = hub.ovn_plug ? plugPeerName(hub.ovn_plug->port_id) : "";
  std::set<std::string> leaving;
  for (const auto& l : host.plug_links) {
    if (l.netns != ns || l.link.name == wanted) continue;
    plan.actions.push_back(DeleteOvsPort{plugRootOf(l.link.name)});
    plan.actions.push_back(DestroyLink{{ns, l.link.name}});
    leaving.insert(l.link.name);
  }
  if (target == ns) return;
  const std::string ifname = deviceName(hub.port_id);
  const bool empty = std::all_of(seen->second.links.begin(), seen->second.links.end(),
                                 [&](const std::string& l) { return l == ifname || leaving.count(l); });
  if (empty) plan.actions.push_back(RemoveNamespace{ns});
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
  if (hub.ovn_plug) return ovnHubNamespace(hub.port_id);
  if (hub.router_id) {
    std::string router_ns = routerNamespace(*hub.router_id);
    // Until the L3 agent has created the router's namespace the hub serves its spokes from the project
    // namespace; the next pass moves it.
    if (host.hasNamespace(router_ns)) return router_ns;
  }
  if (hub.root_device) return "";
  return projectNamespace(hub.project_id);
}

wg::Device wantedConfig(const HubSpec& hub, const HubIdentity& identity, const wg::Device* current,
                        const PeerMemories* memory) {
  wg::Device wanted;
  wanted.private_key = identity.private_key;
  wanted.listen_port = identity.listen_port;
  if (current) wanted.fwmark = current->fwmark;  // not managed: keep whatever the operator set
  const PeersByKey peers(current);
  wanted.peers.reserve(hub.spokes.size());  // exact: growing by doubling would hold ~1.5 copies at once
  for (const auto& spoke : hub.spokes) {
    const wg::Peer* now = peers.find(spoke.public_key);
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

  // Where the device is as the plan progresses, and what it has there: `current` points into the
  // observation (a 10,000-peer device is ~2 MB: never copied), null when the device is (re)created.
  std::string location;
  const wg::Device* current = nullptr;
  LinkInfo link;
  std::vector<IpPrefix> addresses;
  std::vector<Route> routes;
  if (seen && seen->config) {
    location = seen->netns;
    current = &*seen->config;
    link = seen->link;
    addresses = seen->addresses;
    routes = seen->routes;
  } else if (seen) {
    // Named like this hub's device but not a working WireGuard device (e.g. a tun left behind):
    // replace it.
    plan.actions.push_back(DestroyDevice{{seen->netns, plan.ifname}});
  }

  if (!current) {
    plan.actions.push_back(CreateDevice{plan.ifname, hub.spokes.size()});
    location = "";
    link = LinkInfo{plan.ifname, 0, "", false, 0};
    addresses.clear();
    routes.clear();
  }

  // The ownership mark right after creation, so another agent on this host leaves the device alone
  // from then on; the kernel keeps it across moves. Also marks devices of agents that set none.
  const std::string alias = ownerAlias(options.host);
  if (link.alias != alias) plan.actions.push_back(SetAlias{{location, plan.ifname}, alias});

  // WireGuard first: a (re)created device starts answering spokes as early as possible.
  wg::Device wanted = wantedConfig(hub, identity, current, memory);
  const wg::Device none;  // an lvalue like *current: `cond ? *current : wg::Device{}` would copy *current
  wg::Device update = wg::diff(current ? *current : none, wanted);
  if (!wg::isEmptyUpdate(update)) {
    plan.actions.push_back(ConfigureDevice{{location, plan.ifname}, std::move(update)});
  }

  if (location != target && !target.empty() && !host.hasNamespace(target)) {
    plan.actions.push_back(CreateNamespace{target});
  }
  if (isProjectNamespace(target) || isOvnHubNamespace(target)) {
    auto ns = host.namespaces.find(target);
    if (ns == host.namespaces.end() || !ns->second.forwarding)
      plan.actions.push_back(EnableForwarding{target});
  }
  if (location != target) {
    plan.actions.push_back(MoveDevice{plan.ifname, location, target});
    location = target;
    link.up = false;  // the kernel sets a moved link down and drops its addresses
    addresses.clear();
    routes.clear();
  }

  const wg::DeviceRef here{location, plan.ifname};
  const uint32_t mtu = hubMtu(hub, options);
  if (link.mtu != mtu) plan.actions.push_back(SetMtu{here, mtu});
  // An OVN-routed hub's device has no address: the OVN router owns the hub's IP; the device only
  // carries the routes to the spokes' subnets.
  const std::vector<IpPrefix> wanted_addresses = hub.ovn_plug ? std::vector<IpPrefix>{} : hub.addresses;
  if (addresses != wanted_addresses) plan.actions.push_back(SetAddresses{here, wanted_addresses});
  if (link.up != hub.admin_state_up) {
    plan.actions.push_back(SetLinkUp{here, hub.admin_state_up});
    if (hub.admin_state_up) {
      GreetPeers greet{here, {}};
      for (const auto& p : wanted.peers) {
        if (p.endpoint && p.persistent_keepalive.value_or(0) == 0) greet.peers.push_back(p.public_key);
      }
      if (!greet.peers.empty()) plan.actions.push_back(std::move(greet));
    }
    routes.clear();  // a link set down lost its routes; one set up has none yet
  }
  // Routes need the link up (the kernel refuses them through a link that is down).
  if (hub.ovn_plug && hub.admin_state_up && sortedRoutes(routes) != sortedRoutes(deviceRoutes(hub))) {
    plan.actions.push_back(SetRoutes{here, deviceRoutes(hub)});
  }
  if (hub.ovn_plug) planPlug(hub, host, options, target, plan);
  planStalePlugs(hub, host, target, plan);
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
                        const std::string& agent_host, const std::set<std::string>& claimed_plugs) {
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
  // OVN plugs: only when this pass could read the integration bridge (a plug's OVS port must go
  // with its veth, and an unreadable bridge is doubt).
  if (host.ovs_ports) {
    // A plug in a wanted namespace is its hub's (planHub removes the ones it no longer wants), and so
    // is the root end of its veth.
    std::set<std::string> kept = claimed_plugs;
    for (const auto& l : host.plug_links) {
      if (!l.netns.empty() && wanted_namespaces.count(l.netns)) {
        kept.insert(l.link.name);
        kept.insert(plugRootOf(l.link.name));
      }
    }
    // Only a port marked as this agent's is removed: one with no mark or another host's is never
    // touched (its link may be gone, so the port's own mark is all there is to go by).
    std::set<std::string> ports_deleted;
    auto deletePort = [&](const std::string& root) {
      auto it = host.ovs_ports->find(root);
      if (it != host.ovs_ports->end() && it->second.owner == agent_host &&
          ports_deleted.insert(root).second) {
        plan.actions.push_back(DeleteOvsPort{root});
      }
    };
    // A veth one of whose ends is another agent's (or ignored) is kept whole, with its port: removing
    // either end removes both.
    std::set<std::string> kept_roots;
    for (const auto& l : host.plug_links) {
      const std::string& name = l.link.name;
      if (auto owner = otherAgentsHost(l.link.alias, agent_host)) {
        plan.foreign[std::string(*owner)].push_back({l.netns, name});
        kept_roots.insert(plugRootOf(name));
      } else if (ignored.count(name) || kept.count(name)) {
        kept_roots.insert(plugRootOf(name));
      }
    }
    kept.insert(kept_roots.begin(), kept_roots.end());
    for (const auto& l : host.plug_links) {
      const std::string& name = l.link.name;
      if (ignored.count(name) || kept.count(name) || kept_roots.count(plugRootOf(name))) continue;
      deletePort(plugRootOf(name));
      plan.actions.push_back(DestroyLink{{l.netns, name}});
      leaving[l.netns].insert(name);
    }
    // Ports whose veth is gone (deleted by hand, or the host rebooted).
    for (const auto& [port, listed] : *host.ovs_ports) {
      if (ignored.count(port) || kept.count(port)) continue;
      deletePort(port);
    }
  }
  for (const auto& [netns, ns] : host.namespaces) {
    if (!(isProjectNamespace(netns) || isOvnHubNamespace(netns)) || wanted_namespaces.count(netns)) continue;
    bool empty = std::all_of(ns.links.begin(), ns.links.end(),
                             [&, n = netns](const std::string& l) { return leaving[n].count(l) > 0; });
    if (empty) plan.actions.push_back(RemoveNamespace{netns});
  }
  return plan;
}

}  // namespace nwg::reconcile
