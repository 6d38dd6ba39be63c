// What the loop tells whoever watches the agent's health (the daemon wires the metrics to it):
// each pass with its kind, report and duration, and how long notified changes took to apply.
// Called on the loop's thread, outside its lock; implementations must be quick.
#pragma once

#include <chrono>

#include "reconcile/reconciler.h"

namespace nwg::reconcile {

class LoopObserver {
 public:
  enum class PassKind { kQuick, kDeep, kPartial };  // full syncs (quick, deep) or changed hubs only

  virtual ~LoopObserver() = default;
  virtual void passEnded(PassKind kind, const PassReport& report,
                         std::chrono::steady_clock::duration took) = 0;
  // A hub named by a hubs_changed notification was realized (or removed) `latency` after the
  // notification arrived, retries included.
  virtual void notificationApplied(std::chrono::steady_clock::duration latency) = 0;
};

}  // namespace nwg::reconcile
