#include "reconcile/agent_loop.h"

#include <algorithm>

namespace nwg::reconcile {

void AgentLoop::hubsChanged(const std::vector<std::string>& hub_ids) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_.insert(hub_ids.begin(), hub_ids.end());
  }
  wake_.notify_all();
}

void AgentLoop::requestFullSync(const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    full_requested_ = true;
    full_reason_ = why;
  }
  wake_.notify_all();
}

void AgentLoop::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  reconciler_.cancel();  // a pass in progress ends at its next hub
  wake_.notify_all();
}

bool AgentLoop::stopRequested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

AgentLoop::Counts AgentLoop::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

std::chrono::milliseconds AgentLoop::backoff(int attempts) const {
  auto delay = options_.min_retry;
  for (int i = 1; i < attempts && delay < options_.max_retry; ++i) delay *= 2;
  return std::min(delay, options_.max_retry);
}

bool AgentLoop::runOnce() {
  PassReport report = reconciler_.syncAll();
  if (!report.complete) {
    log_.error(str("full sync failed: ", report.failure));
    return false;
  }
  afterPass(report, true);
  return report.failed.empty();
}

void AgentLoop::afterPass(const PassReport& report, bool full) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (full) {
    counts_ = {report.realized.size(), report.peers, report.failed.size()};
    // Retries are only for what failed in this pass.
    for (auto it = retries_.begin(); it != retries_.end();) {
      it = report.failed.count(it->first) ? std::next(it) : retries_.erase(it);
    }
  }
  for (const auto& id : report.realized) retries_.erase(id);
  for (const auto& id : report.removed) retries_.erase(id);
  for (const auto& [id, why] : report.failed) {
    Retry& r = retries_[id];
    ++r.attempts;
    r.due = now + backoff(r.attempts);
  }
}

void AgentLoop::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    Clock::time_point next = next_full_;
    std::set<std::string> hubs;
    if (had_full_sync_) {
      hubs.insert(dirty_.begin(), dirty_.end());
      for (const auto& [id, r] : retries_) {
        if (r.due <= now) {
          hubs.insert(id);
        } else {
          next = std::min(next, r.due);
        }
      }
    }
    bool full = full_requested_ || now >= next_full_;
    if (!full && hubs.empty()) {
      // Notifications before the first full sync wait for it (never act before the first full answer).
      wake_.wait_until(lock, next, [&] {
        return stopping_ || full_requested_ || (had_full_sync_ && !dirty_.empty()) || Clock::now() >= next;
      });
      continue;
    }
    std::string reason = full_requested_ ? full_reason_ : "polling interval";
    const bool deep = full && (full_requested_ || !had_full_sync_ || options_.deep_interval.count() == 0 ||
                               now >= next_deep_);
    if (deep && !full_requested_ && had_full_sync_) reason = "deep resync interval";
    full_requested_ = false;
    if (full) {
      dirty_.clear();  // a full pass covers them
    } else {
      for (const auto& id : hubs) dirty_.erase(id);
    }
    lock.unlock();

    const auto t0 = Clock::now();
    PassReport report =
        full ? reconciler_.syncAll(deep ? Depth::kDeep : Depth::kQuick) : reconciler_.syncHubs(hubs);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    if (report.cancelled || (!report.complete && stopRequested())) {
      lock.lock();
      break;  // stop() was called: end quietly, changing nothing more
    }
    if (!report.complete) {
      log_.warning(str(full ? "full sync" : "sync of changed hubs", " failed (", report.failure,
                       "); nothing changed on the host"));
    } else {
      log_.log(report.actions ? Severity::Info : Severity::Debug,
               str(full ? str(deep ? "deep" : "quick", " full sync (", reason, ")")
                        : str("sync of ", hubs.size(), " hub(s)"),
                   ": ", report.realized.size(), " realized, ", report.failed.size(), " failed, ",
                   report.removed.size(), " removed, ", report.actions, " action(s) in ", ms, " ms"));
      afterPass(report, full);
    }

    lock.lock();
    if (full) {
      if (report.complete) {
        had_full_sync_ = true;
        full_failures_ = 0;
        next_full_ = Clock::now() + options_.polling_interval;
        if (deep) next_deep_ = Clock::now() + options_.deep_interval;
      } else {
        ++full_failures_;
        next_full_ = Clock::now() + backoff(full_failures_);
      }
    } else if (!report.complete) {
      // The server or the host could not be read: try these hubs again later, not in a hot loop.
      for (const auto& id : hubs) {
        Retry& r = retries_[id];
        ++r.attempts;
        r.due = Clock::now() + backoff(r.attempts);
      }
    }
  }
}

}  // namespace nwg::reconcile
