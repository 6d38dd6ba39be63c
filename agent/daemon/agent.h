// The composition root: the only place that builds the real implementations (namespaces, rtnetlink,
// the WireGuard backend, the RPC client) from the configuration and wires them into the reconcile loop.
#pragma once

#include <memory>

#include "base/result.h"
#include "config/agent_config.h"

namespace nwg::daemon {

class Agent {
 public:
  // Builds everything (nothing touches the host or the network yet). Errors name what is wrong.
  static Result<std::unique_ptr<Agent>> create(const config::AgentConfig& config);
  virtual ~Agent() = default;

  // Connects, registers, then runs the loop until stop(). Returns the process exit code.
  virtual int run() = 0;
  // --once: connect, register, one full sync; 0 when every hub was realized, else 1.
  virtual int runOnce() = 0;
  // From any thread (the signal thread): ends run() after the current pass.
  virtual void stop() = 0;
};

}  // namespace nwg::daemon
