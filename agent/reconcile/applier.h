// Performs plan actions through the narrow system interfaces. In dry_run it performs nothing and logs
// each action it would perform, one line each.
#pragma once

#include "base/result.h"
#include "netlink/links.h"
#include "netns/namespaces.h"
#include "ovs/ovs_bridge.h"
#include "reconcile/log_sink.h"
#include "reconcile/plan.h"
#include "wireguard/backend.h"

namespace nwg::reconcile {

class Applier {
 public:
  // `ovs` serves OVN-routed hubs' plugs; without one, their OVS actions fail.
  Applier(Links& links, Namespaces& namespaces, wg::Backend& backend, LogSink& log, bool dry_run,
          ovs::OvsBridge* ovs = nullptr)
      : links_(links), namespaces_(namespaces), backend_(backend), log_(log), dry_run_(dry_run), ovs_(ovs) {}

  Status apply(const Action& action);
  bool dryRun() const { return dry_run_; }
  // Actions performed (or, in dry_run, that would have been) since construction.
  size_t applied() const { return applied_; }

 private:
  Status perform(const Action& action);
  // The action's line, with the exact ovs-vsctl command for OVS actions.
  std::string line(const Action& action) const;
  Status setRoutes(const SetRoutes& action);

  Links& links_;
  Namespaces& namespaces_;
  wg::Backend& backend_;
  LogSink& log_;
  bool dry_run_;
  ovs::OvsBridge* ovs_;
  size_t applied_ = 0;
};

}  // namespace nwg::reconcile
