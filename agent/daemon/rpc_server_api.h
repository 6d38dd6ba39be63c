// The reconcile loop's view of neutron-server, over oslo.messaging: the driver's q-wireguard API and
// ML2's update_device_list, bound to this agent's host.
#pragma once

#include <string>

#include "reconcile/server_api.h"
#include "rpc/neutron/plugin_api.h"
#include "rpc/neutron/wireguard_server_api.h"

namespace nwg::daemon {

class RpcServerApi final : public reconcile::ServerApi {
 public:
  RpcServerApi(rpc::RpcCaller& rpc, const std::string& host)
      : wireguard_(rpc, host), plugin_(rpc, host, "wireguard-agent-" + host) {}

  Result<nlohmann::json> getHubs(const std::optional<std::vector<std::string>>& hub_ids,
                                 const std::map<std::string, std::string>* digests) override;
  Status updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                       const std::string& public_key) override;
  Status updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>& down) override;

 private:
  rpc::WireguardServerApi wireguard_;
  bool server_has_digests_ = true;  // false once a server answered get_hubs 1.4 with UnsupportedVersion
  rpc::PluginApi plugin_;
};

}  // namespace nwg::daemon
