#include "reconcile/observer.h"

#include <algorithm>
#include <cerrno>

#include "reconcile/names.h"
#include "reconcile/plan.h"

namespace nwg::reconcile {

namespace {

bool sysctlIs(Namespaces& namespaces, const std::string& netns, const std::string& key, std::string_view value) {
  auto v = namespaces.sysctl(netns, key);
  return v.ok() && trim(*v) == value;
}

}  // namespace

Result<HostObservation> Observer::observe(const std::optional<std::set<std::string>>& details_for) {
  HostObservation host;
  std::vector<std::string> scan{""};
  NWG_ASSIGN_OR_RETURN(auto names, namespaces_.list());
  for (const auto& ns : names) {
    if (isProjectNamespace(ns) || isRouterNamespace(ns)) scan.push_back(ns);
  }
  for (const auto& ns : scan) {
    auto links = links_.list(ns);
    if (!links) {
      // A namespace deleted between list() and now (the L3 agent removing a router) is simply gone.
      if (!ns.empty() && links.error().code == ENOENT) continue;
      return std::move(links).error().context(str("list links in ", ns.empty() ? "the agent's namespace" : ns));
    }
    if (!ns.empty()) {
      NamespaceObservation& seen = host.namespaces[ns];
      for (const auto& l : *links) {
        if (l.name != "lo") seen.links.push_back(l.name);
      }
      if (isProjectNamespace(ns)) {
        seen.forwarding = std::all_of(std::begin(kRoutingSysctls), std::end(kRoutingSysctls), [&](const auto& kv) {
          return sysctlIs(namespaces_, ns, kv.first, kv.second);
        });
      }
    }
    for (const auto& l : *links) {
      if (!isManagedDeviceName(l.name)) continue;
      DeviceObservation d;
      d.netns = ns;
      d.link = l;
      bool wanted = !details_for || details_for->count(l.name);
      if (wanted) {
        auto config = backend_.get({ns, l.name});
        if (config) {
          d.config = std::move(*config);
        } else if (config.error().code != ENODEV) {
          return std::move(config).error().context(str("read WireGuard device ", l.name));
        }
        NWG_ASSIGN_OR_RETURN(d.addresses, links_.addresses(ns, l.name));
        std::sort(d.addresses.begin(), d.addresses.end());
      }
      host.devices.push_back(std::move(d));
    }
  }
  return host;
}

}  // namespace nwg::reconcile
