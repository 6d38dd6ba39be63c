// The agent's heartbeat: report_state every report_interval on its own thread (a long reconcile pass
// must not make Neutron think the agent died), with what `configurations` returns (hub and peer
// counts, the backend, the advertised endpoint address). A `revived` answer means the server had
// marked the agent down (it may have rebound or changed ports meanwhile): `on_revived` then asks for a
// deep full sync. Failures are logged once per outage, not every interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/result.h"
#include "logging/log.h"
#include "rpc/neutron/state_reporter.h"

namespace nwg::daemon {

class Heartbeat {
 public:
  using Configurations = std::function<nlohmann::json()>;
  using OnRevived = std::function<void(const std::string& why)>;

  Heartbeat(rpc::StateReporter& reporter, std::chrono::milliseconds interval, Configurations configurations,
            OnRevived on_revived, logging::Log log)
      : reporter_(reporter),
        interval_(interval),
        configurations_(std::move(configurations)),
        on_revived_(std::move(on_revived)),
        log_(std::move(log)) {}
  ~Heartbeat() { stop(); }

  // One report now; true when the server answered.
  bool reportNow();
  // Starts the reporting thread; its first report is at once when `report_now`, else after one
  // interval. (The first report runs on the thread too: with the broker away it waits for its
  // timeout, which must not hold up the agent's start or its stop.)
  Status start(bool report_now = true);
  // Ends the thread at once (a report in flight ends at its own timeout, at most one interval).
  void stop();

 private:
  rpc::StateReporter& reporter_;
  std::chrono::milliseconds interval_;
  Configurations configurations_;
  OnRevived on_revived_;
  logging::Log log_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool failing_ = false;
  std::thread thread_;
};

}  // namespace nwg::daemon
