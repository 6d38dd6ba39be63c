#include "reconcile/applier.h"

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace nwg::reconcile {

Status Applier::apply(const Action& action) {
  ++applied_;
  if (dry_run_) {
    log_.info(str("dry run: would ", line(action)));
    return okStatus();
  }
  // Every change to the host is worth a line at INFO (an idle pass makes none): an operator must be able
  // to see what the agent did, deletions above all.
  log_.info(line(action));
  const auto t0 = std::chrono::steady_clock::now();
  Status s = perform(action);
  if (!s.ok()) return std::move(s).error().context(describe(action));
  // When the host took the change (its time stamp), and what the write cost: how long a change takes
  // from the API to the kernel is read from here (tests/e2e/bench_scale.py).
  log_.debug(str(
      "applied in ",
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count(),
      " us"));
  return s;
}

std::string Applier::line(const Action& action) const {
  std::string text = describe(action);
  if (ovs_ == nullptr) return text;
  if (const auto* add = std::get_if<AddOvsPort>(&action))
    return str(text, ": ", ovs_->describeAdd(add->port));
  if (const auto* del = std::get_if<DeleteOvsPort>(&action))
    return str(text, ": ", ovs_->describeDelete(del->name));
  return text;
}

Status Applier::setRoutes(const SetRoutes& x) {
  NWG_ASSIGN_OR_RETURN(std::vector<Route> current, links_.routes(x.link.netns, x.link.ifname));
  // Routes no longer wanted first (a replaced default route must not linger), then the wanted ones in
  // their order: a gateway's own route before the routes via it.
  for (const Route& r : current) {
    if (std::find(x.routes.begin(), x.routes.end(), r) != x.routes.end()) continue;
    NWG_RETURN_IF_ERROR(links_.deleteRoute(x.link.netns, x.link.ifname, r));
  }
  for (const Route& r : x.routes) {
    if (std::find(current.begin(), current.end(), r) != current.end()) continue;
    NWG_RETURN_IF_ERROR(links_.replaceRoute(x.link.netns, x.link.ifname, r));
  }
  return okStatus();
}

Status Applier::perform(const Action& action) {
  struct Performer {
    Applier& a;
    Status operator()(const CreateNamespace& x) { return a.namespaces_.create(x.netns); }
    Status operator()(const EnableForwarding& x) {
      for (const auto& [key, value] : kRoutingSysctls) {
        NWG_RETURN_IF_ERROR(a.namespaces_.setSysctl(x.netns, key, value));
      }
      return okStatus();
    }
    Status operator()(const CreateDevice& x) { return a.backend_.create(x.ifname, {x.expected_peers}); }
    Status operator()(const SetAlias& x) {
      return a.links_.setAlias(x.device.netns, x.device.ifname, x.alias);
    }
    Status operator()(const DestroyDevice& x) { return a.backend_.destroy(x.device); }
    Status operator()(const ConfigureDevice& x) { return a.backend_.set(x.device, x.update); }
    Status operator()(const MoveDevice& x) { return a.links_.moveTo(x.from, x.ifname, x.to); }
    Status operator()(const SetMtu& x) { return a.links_.setMtu(x.device.netns, x.device.ifname, x.mtu); }
    Status operator()(const SetAddresses& x) {
      return a.links_.replaceAddresses(x.device.netns, x.device.ifname, x.addresses, x.options);
    }
    Status operator()(const SetLinkUp& x) { return a.links_.setUp(x.device.netns, x.device.ifname, x.up); }
    Status operator()(const GreetPeers& x) {
      wg::Device update;
      update.peers.reserve(x.peers.size());
      for (const auto& key : x.peers) {
        wg::Peer p;
        p.public_key = key;
        p.update_only = true;  // a peer removed meanwhile stays removed
        p.persistent_keepalive = kGreetingKeepalive;
        update.peers.push_back(std::move(p));
      }
      NWG_RETURN_IF_ERROR(a.backend_.set(x.device, update));
      for (auto& p : update.peers) p.persistent_keepalive = 0;
      return a.backend_.set(x.device, update);
    }
    Status operator()(const RemoveNamespace& x) { return a.namespaces_.remove(x.netns); }
    Status operator()(const CreateVethPair& x) { return a.links_.createVethPair("", x.name, x.peer); }
    Status operator()(const DestroyLink& x) { return a.links_.remove(x.link.netns, x.link.ifname); }
    Status operator()(const SetMacAddress& x) {
      return a.links_.setMacAddress(x.link.netns, x.link.ifname, x.mac);
    }
    Status operator()(const SetRoutes& x) { return a.setRoutes(x); }
    Status operator()(const AddOvsPort& x) {
      if (a.ovs_ == nullptr) return Error("no OVS integration bridge is configured", ENOTSUP);
      return a.ovs_->addPort(x.port);
    }
    Status operator()(const DeleteOvsPort& x) {
      if (a.ovs_ == nullptr) return Error("no OVS integration bridge is configured", ENOTSUP);
      return a.ovs_->deletePort(x.name);
    }
  };
  return std::visit(Performer{*this}, action);
}

}  // namespace nwg::reconcile
