#include "daemon/rpc_client_options.h"

namespace nwg::daemon {

rpc::RpcClientOptions rpcClientOptions(const config::AgentConfig& config) {
  rpc::RpcClientOptions o;
  o.transport_url = config.transport_url;
  o.rabbit = config.rabbit;
  o.control_exchange = config.control_exchange;
  o.host = config.host;
  o.default_timeout = std::chrono::seconds(config.rpc_response_timeout);
  return o;
}

}  // namespace nwg::daemon
