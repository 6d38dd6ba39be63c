// The agent's main loop: level-triggered passes of the Reconciler, driven by
//   - a deep full sync at start (retried with backoff until it succeeds), on reconnects and `revived`,
//     and every deep_interval; a quick full sync every polling_interval in between (Depth),
//   - fanout notifications, which only mark the named hubs dirty (the loop re-fetches the truth),
//   - per-hub retries with exponential backoff for hubs that failed.
// Triggers are thread-safe; passes run on the thread that called run().
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "reconcile/log_sink.h"
#include "reconcile/loop_observer.h"
#include "reconcile/reconciler.h"

namespace nwg::reconcile {

struct LoopOptions {
  std::chrono::milliseconds polling_interval{30000};
  std::chrono::milliseconds deep_interval{300000};  // 0: every full sync is deep
  std::chrono::milliseconds min_retry{1000};
  std::chrono::milliseconds max_retry{60000};
};

class AgentLoop {
 public:
  using Clock = std::chrono::steady_clock;

  AgentLoop(Reconciler& reconciler, LogSink& log, LoopOptions options)
      : reconciler_(reconciler), log_(log), options_(options) {}

  // Before run(): who hears about each pass (metrics). Optional.
  void setObserver(LoopObserver* observer) { observer_ = observer; }

  // From any thread.
  void hubsChanged(const std::vector<std::string>& hub_ids);
  void requestFullSync(const std::string& why);
  void stop();

  // Runs passes until stop(). The first action is a full sync.
  void run();
  // One full sync (for --once): true when it completed and every hub was realized.
  bool runOnce();

  // For the heartbeat: realized hubs and their spokes as of the last full pass.
  struct Counts {
    size_t hubs = 0;
    size_t peers = 0;
    size_t failed = 0;
  };
  Counts counts() const;

 private:
  void afterPass(const PassReport& report, bool full);
  // The notified hubs a pass covers, with when each was first notified (taken out of notified_).
  std::map<std::string, Clock::time_point> takeNotified(bool full, const std::set<std::string>& hubs);
  // After the pass: latencies of the covered hubs it realized or removed; those it failed wait on.
  void settleNotified(std::map<std::string, Clock::time_point> covered, const PassReport& report,
                      bool after_first_sync);
  bool stopRequested() const;
  std::chrono::milliseconds backoff(int attempts) const;

  Reconciler& reconciler_;
  LogSink& log_;
  LoopOptions options_;
  LoopObserver* observer_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool full_requested_ = true;
  std::string full_reason_ = "start";
  bool had_full_sync_ = false;
  int full_failures_ = 0;
  Clock::time_point next_full_{};
  Clock::time_point next_deep_{};
  std::set<std::string> dirty_;
  std::map<std::string, Clock::time_point> notified_;  // hubs notified and not applied yet: since when
  struct Retry {
    int attempts = 0;
    Clock::time_point due{};
  };
  std::map<std::string, Retry> retries_;
  Counts counts_;
};

}  // namespace nwg::reconcile
