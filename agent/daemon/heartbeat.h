// The agent's heartbeat: report_state every report_interval on its own thread (a long reconcile pass
// must not make Neutron think the agent died), with the hub and peer counts as configurations. A
// `revived` answer means the server had marked the agent down: the loop then does a full resync.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "logging/log.h"
#include "reconcile/agent_loop.h"
#include "rpc/neutron/state_reporter.h"

namespace nwg::daemon {

class Heartbeat {
 public:
  Heartbeat(rpc::StateReporter& reporter, reconcile::AgentLoop& loop, std::chrono::milliseconds interval,
            std::string backend, logging::Log log)
      : reporter_(reporter), loop_(loop), interval_(interval), backend_(std::move(backend)), log_(std::move(log)) {}
  ~Heartbeat() { stop(); }

  // One report now; true when the server answered.
  bool reportNow();
  void start();
  void stop();

 private:
  nlohmann::json configurations() const;

  rpc::StateReporter& reporter_;
  reconcile::AgentLoop& loop_;
  std::chrono::milliseconds interval_;
  std::string backend_;
  logging::Log log_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool failing_ = false;
  std::thread thread_;
};

}  // namespace nwg::daemon
