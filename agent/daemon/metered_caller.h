// An RpcCaller that counts the calls and casts that fail, by method and kind of failure, into the
// agent's metrics (neutron_wireguard_agent_rpc_errors_total), then passes everything through. It
// wraps the RPC client for every Neutron API the agent uses.
#pragma once

#include "metrics/agent_metrics.h"
#include "rpc/rpc_caller.h"

namespace nwg::daemon {

class MeteredCaller final : public rpc::RpcCaller {
 public:
  MeteredCaller(rpc::RpcCaller& inner, metrics::AgentMetrics& metrics) : inner_(inner), metrics_(metrics) {}

  rpc::RpcResult<nlohmann::json> call(
      const rpc::RpcTarget& target, const std::string& method, nlohmann::json args,
      std::optional<std::chrono::milliseconds> timeout = std::nullopt) override;
  rpc::RpcStatus cast(const rpc::RpcTarget& target, const std::string& method, nlohmann::json args) override;

 private:
  rpc::RpcCaller& inner_;
  metrics::AgentMetrics& metrics_;
};

}  // namespace nwg::daemon
