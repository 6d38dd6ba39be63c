#include "daemon/heartbeat.h"

#include <exception>
#include <system_error>

namespace nwg::daemon {

bool Heartbeat::reportNow() {
  nlohmann::json configurations = configurations_ ? configurations_() : nlohmann::json::object();
  auto status = reporter_.report(configurations);
  if (!status.ok()) {
    if (!failing_)
      log_.warning("report_state failed (retrying every report_interval): ", status.error().message);
    failing_ = true;
    return false;
  }
  if (failing_) log_.info("report_state works again");
  failing_ = false;
  if (*status == rpc::AgentStatus::kRevived) {
    log_.warning("neutron-server had marked this agent down; resyncing everything");
    if (on_revived_) on_revived_("the server revived this agent");
  } else if (*status == rpc::AgentStatus::kNew) {
    log_.info("registered with neutron-server as a new agent");
  }
  return true;
}

Status Heartbeat::start(bool report_now) {
  try {
    thread_ = std::thread([this, report_now] {
      std::unique_lock<std::mutex> lock(mu_);
      bool wait = !report_now;
      while (!stopping_) {
        if (wait) wake_.wait_for(lock, interval_, [this] { return stopping_; });
        wait = true;
        if (stopping_) break;
        lock.unlock();
        try {
          reportNow();
        } catch (const std::exception& e) {
          // One bad report (an allocation failure, a bug) must not end the heartbeats: Neutron
          // would declare the agent dead 75 s later and stop binding its hubs.
          log_.error("report_state raised an exception (", e.what(), "); reporting again next interval");
        }
        lock.lock();
      }
    });
  } catch (const std::system_error& e) {
    return fail("cannot start the heartbeat thread: ", e.what());
  }
  return okStatus();
}

void Heartbeat::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace nwg::daemon
