#include "daemon/heartbeat.h"

namespace nwg::daemon {

nlohmann::json Heartbeat::configurations() const {
  auto counts = loop_.counts();
  // "devices" is what Neutron's own agents report; the rest is ours, shown by `network agent show`.
  return {{"devices", counts.hubs}, {"hubs", counts.hubs}, {"peers", counts.peers},
          {"failed_hubs", counts.failed}, {"backend", backend_}};
}

bool Heartbeat::reportNow() {
  auto status = reporter_.report(configurations());
  if (!status.ok()) {
    if (!failing_) log_.warning("report_state failed (retrying every report_interval): ", status.error().message);
    failing_ = true;
    return false;
  }
  if (failing_) log_.info("report_state works again");
  failing_ = false;
  if (*status == rpc::AgentStatus::kRevived) {
    log_.warning("neutron-server had marked this agent down; resyncing everything");
    loop_.requestFullSync("the server revived this agent");
  } else if (*status == rpc::AgentStatus::kNew) {
    log_.info("registered with neutron-server as a new agent");
  }
  return true;
}

void Heartbeat::start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      reportNow();
      lock.lock();
    }
  });
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
