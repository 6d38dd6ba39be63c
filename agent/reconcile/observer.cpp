#include "reconcile/observer.h"

#include <algorithm>
#include <cerrno>

#include "reconcile/names.h"
#include "reconcile/plan.h"

namespace nwg::reconcile {

namespace {

bool sysctlIs(Namespaces& namespaces, const std::string& netns, const std::string& key,
              std::string_view value) {
  auto v = namespaces.sysctl(netns, key);
  return v.ok() && trim(*v) == value;
}

}  // namespace

Result<HostObservation> Observer::observe(const std::optional<std::set<std::string>>& details_for,
                                          const std::set<std::string>* only_in) {
  HostObservation host;
  std::vector<std::string> scan;
  if (!only_in || only_in->count("")) scan.push_back("");
  NWG_ASSIGN_OR_RETURN(auto names, namespaces_.list());
  for (const auto& ns : names) {
    if (!isProjectNamespace(ns) && !isRouterNamespace(ns) && !isOvnHubNamespace(ns)) continue;
    if (only_in && !only_in->count(ns)) {
      host.namespaces[ns];  // exists (where a hub belongs depends on it); its links were not listed
      continue;
    }
    scan.push_back(ns);
  }
  for (const auto& ns : scan) {
    auto links = links_.list(ns);
    if (!links) {
      // A namespace deleted between list() and now (the L3 agent removing a router) is simply gone.
      if (!ns.empty() && links.error().code == ENOENT) continue;
      return std::move(links).error().context(
          str("list links in ", ns.empty() ? "the agent's namespace" : ns));
    }
    if (!ns.empty()) {
      NamespaceObservation& seen = host.namespaces[ns];
      for (const auto& l : *links) {
        if (l.name != "lo") seen.links.push_back(l.name);
      }
    }
    for (const auto& l : *links) {
      const bool device = isManagedDeviceName(l.name);
      if (!device && !isPlugLinkName(l.name)) continue;
      DeviceObservation d;
      d.netns = ns;
      d.link = l;
      (device ? host.devices : host.plug_links).push_back(std::move(d));
    }
  }
  std::set<std::string> devices;
  std::set<std::string> namespaces;
  if (details_for) {
    devices = *details_for;
  } else {
    for (const auto& d : host.devices) devices.insert(d.link.name);
    for (const auto& [ns, seen] : host.namespaces) namespaces.insert(ns);
  }
  fillDetails(host, devices, namespaces);
  return host;
}

void Observer::fillDetails(HostObservation& host, const std::set<std::string>& devices,
                           const std::set<std::string>& namespaces) {
  for (auto& d : host.devices) {
    if (d.detailed || !devices.count(d.link.name)) continue;
    d.detailed = true;
    d.unreadable.reset();
    auto config = backend_.get({d.netns, d.link.name});
    if (config) {
      d.config = std::move(*config);
    } else if (config.error().code != ENODEV) {
      d.unreadable = std::move(config).error().context(str("read WireGuard device ", d.link.name));
      continue;
    }
    auto addresses = links_.addresses(d.netns, d.link.name);
    if (!addresses) {
      d.unreadable = std::move(addresses).error().context(str("read the addresses of ", d.link.name));
      continue;
    }
    d.addresses = std::move(*addresses);
    std::sort(d.addresses.begin(), d.addresses.end());
    if (isOvnHubNamespace(d.netns)) {
      auto routes = links_.routes(d.netns, d.link.name);
      if (!routes) {
        d.unreadable = std::move(routes).error().context(str("read the routes of ", d.link.name));
        continue;
      }
      d.routes = std::move(*routes);
    }
  }
  // Only a plug's namespace end is planned on by its details (the root end's, or an end not moved yet,
  // would be dumps of the node's own addresses and routes that nothing reads).
  for (auto& p : host.plug_links) {
    if (p.detailed || p.netns.empty() || !devices.count(p.link.name)) continue;
    p.detailed = true;
    p.unreadable.reset();
    auto addresses = links_.addresses(p.netns, p.link.name);
    auto routes =
        addresses ? links_.routes(p.netns, p.link.name) : Result<std::vector<Route>>(addresses.error());
    if (!routes) {
      p.unreadable = std::move(routes).error().context(str("read the addresses and routes of ", p.link.name));
      continue;
    }
    p.addresses = std::move(*addresses);
    p.routes = std::move(*routes);
  }
  for (auto& [ns, seen] : host.namespaces) {
    if (seen.forwarding_read || !(isProjectNamespace(ns) || isOvnHubNamespace(ns)) || !namespaces.count(ns))
      continue;
    seen.forwarding =
        std::all_of(std::begin(kRoutingSysctls), std::end(kRoutingSysctls),
                    [&, n = ns](const auto& kv) { return sysctlIs(namespaces_, n, kv.first, kv.second); });
    seen.forwarding_read = true;
  }
}

void Observer::readOvsPorts(HostObservation& host) {
  if (host.ovs_ports || host.ovs_unreadable) return;
  if (ovs_ == nullptr) {
    host.ovs_unreadable = Error("no OVS integration bridge is configured", ENOTSUP);
    return;
  }
  auto ports = ovs_->listPorts();
  if (ports) {
    host.ovs_ports = std::move(*ports);
  } else {
    host.ovs_unreadable = std::move(ports).error();
  }
}

}  // namespace nwg::reconcile
