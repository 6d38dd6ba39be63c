#include "reconcile/applier.h"

#include <chrono>

namespace nwg::reconcile {

Status Applier::apply(const Action& action) {
  ++applied_;
  if (dry_run_) {
    log_.info(str("dry run: would ", describe(action)));
    return okStatus();
  }
  // Every change to the host is worth a line at INFO (an idle pass makes none): an operator must be able
  // to see what the agent did, deletions above all.
  log_.info(describe(action));
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
      return a.links_.replaceAddresses(x.device.netns, x.device.ifname, x.addresses);
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
  };
  return std::visit(Performer{*this}, action);
}

}  // namespace nwg::reconcile
