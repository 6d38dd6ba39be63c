// The reconcile loop's passes and notification latencies, recorded into the agent's metrics.
#pragma once

#include "metrics/agent_metrics.h"
#include "reconcile/loop_observer.h"

namespace nwg::daemon {

class MetricsLoopObserver final : public reconcile::LoopObserver {
 public:
  explicit MetricsLoopObserver(metrics::AgentMetrics& metrics) : metrics_(metrics) {}

  void passEnded(PassKind kind, const reconcile::PassReport& report,
                 std::chrono::steady_clock::duration took) override {
    using Kind = metrics::AgentMetrics::SyncKind;
    const Kind k = kind == PassKind::kQuick  ? Kind::kQuick
                   : kind == PassKind::kDeep ? Kind::kDeep
                                             : Kind::kPartial;
    metrics_.syncDone(k, report.complete, took, std::chrono::system_clock::now());
    if (report.complete && kind != PassKind::kPartial) {
      metrics_.hubs(report.realized.size(), report.failed.size(), report.peers);
    }
  }
  void notificationApplied(std::chrono::steady_clock::duration latency) override {
    metrics_.notificationApplied(latency);
  }

 private:
  metrics::AgentMetrics& metrics_;
};

}  // namespace nwg::daemon
