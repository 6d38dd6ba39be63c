#include "reconcile/agent_loop.h"

#include <algorithm>

namespace nwg::reconcile {

void AgentLoop::hubsChanged(const std::vector<std::string>& hub_ids) {
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_.insert(hub_ids.begin(), hub_ids.end());
    // Notifications name the changed hubs of every host; entries of hubs that are not this host's
    // go when the pass that covers them ends (settleNotified).
    if (observer_) {
      for (const auto& id : hub_ids) notified_.try_emplace(id, now);
    }
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

std::map<std::string, AgentLoop::Clock::time_point> AgentLoop::takeNotified(bool full,
                                                                           const std::set<std::string>& hubs) {
  std::map<std::string, Clock::time_point> covered;
  if (full) {
    covered.swap(notified_);
  } else {
    for (const auto& id : hubs) {
      if (auto it = notified_.find(id); it != notified_.end()) covered.insert(notified_.extract(it));
    }
  }
  return covered;
}

void AgentLoop::settleNotified(std::map<std::string, Clock::time_point> covered, const PassReport& report,
                               bool after_first_sync) {
  // The first full sync covers what was notified during start-up: that is not a notification's
  // latency, and every hub is applied by then anyway.
  if (covered.empty() || !after_first_sync) return;
  const auto now = Clock::now();
  std::vector<Clock::duration> applied;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto done = [&](const std::vector<std::string>& ids) {
      for (const auto& id : ids) {
        if (auto it = covered.find(id); it != covered.end()) {
          applied.push_back(now - it->second);
          covered.erase(it);
        }
      }
    };
    done(report.realized);
    done(report.removed);
    for (auto& [id, since] : covered) {
      // Not applied yet (failed, or the pass did not complete): the retry's success counts from
      // the first notification. Anything else was not this host's hub.
      if (!report.complete || report.failed.count(id)) notified_.try_emplace(id, since);
    }
  }
  for (auto latency : applied) observer_->notificationApplied(latency);
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
    auto covered = takeNotified(full, hubs);
    const bool after_first_sync = had_full_sync_;
    lock.unlock();

    const auto t0 = Clock::now();
    PassReport report =
        full ? reconciler_.syncAll(deep ? Depth::kDeep : Depth::kQuick) : reconciler_.syncHubs(hubs);
    const auto took = Clock::now() - t0;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
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
    if (observer_) {
      observer_->passEnded(!full  ? LoopObserver::PassKind::kPartial
                           : deep ? LoopObserver::PassKind::kDeep
                                  : LoopObserver::PassKind::kQuick,
                           report, took);
      settleNotified(std::move(covered), report, after_first_sync);
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
