// Neutron's agent heartbeat: report_state on q-reports-plugin (version 1.2), as neutron's
// PluginReportStateAPI sends it with use_call=True (SPEC §6.1). The first report carries start_flag and
// resource_versions, until one succeeds. The answer tells whether the server had considered the agent
// dead: kRevived means the agent must do a full resync.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rpc/rpc_caller.h"

namespace nwg::rpc {

enum class AgentStatus {
  kNew,      // "new": first registration of this (agent_type, host)
  kAlive,    // "alive"
  kRevived,  // "revived": the server had marked the agent down; resync everything
  kStale,    // null: the report's time is older than the server's start (clock skew or a slow report)
};
std::string_view agentStatusName(AgentStatus status);

struct StateReporterOptions {
  std::string host;
  std::string binary = "neutron-wireguard-agent";
  std::string agent_type = "wireguard agent";
  // The topic the agent listens on, shown by `openstack network agent show`: the driver's notifications.
  std::string topic = "q-wireguard-notifier";
  std::optional<std::string> availability_zone;
  // Where reports go: Neutron's q-reports-plugin (another topic only for tests against a stand-in).
  std::string rpc_topic = "q-reports-plugin";
  // Neutron uses report_interval as this call's timeout (and message expiration).
  std::chrono::milliseconds timeout{30000};
  // Versioned objects this agent consumes through Neutron's push notifications: none. An empty dict
  // makes the server skip its version bookkeeping for us; claiming versions we do not consume could
  // hold back what the server pushes to other agents during an upgrade.
  nlohmann::json resource_versions = nlohmann::json::object();
};

class StateReporter {
 public:
  static constexpr const char* kTopic = "q-reports-plugin";
  static constexpr const char* kVersion = "1.2";

  StateReporter(RpcCaller& rpc, StateReporterOptions options) : rpc_(rpc), options_(std::move(options)) {}

  // One report_state call. `configurations` is the agent's free-form status dict (shown by the API).
  RpcResult<AgentStatus> report(const nlohmann::json& configurations,
                                std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  // The keyword arguments of the next report (tests use it to check the wire shape).
  nlohmann::json buildArgs(const nlohmann::json& configurations,
                           std::chrono::system_clock::time_point now) const;

  bool registered() const { return registered_; }

 private:
  RpcCaller& rpc_;
  StateReporterOptions options_;
  bool registered_ = false;  // a report succeeded: no more start_flag / resource_versions
};

}  // namespace nwg::rpc
