// The RPC client's options from the agent's configuration: [DEFAULT] transport_url, control_exchange,
// rpc_response_timeout, host and [oslo_messaging_rabbit]. Here, not in rpc/, so that the RPC library
// does not depend on the whole agent configuration.
#pragma once

#include "config/agent_config.h"
#include "rpc/rpc_client.h"

namespace nwg::daemon {

rpc::RpcClientOptions rpcClientOptions(const config::AgentConfig& config);

}  // namespace nwg::daemon
