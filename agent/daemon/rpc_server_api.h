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

  Result<nlohmann::json> getHubs(const reconcile::HubsQuery& query) override;
  Result<nlohmann::json> getHubSpokes(const std::string& hub_id, const std::string& marker, size_t limit,
                                      std::optional<uint64_t> base_revision) override;
  Status updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                       const std::string& public_key) override;
  Status updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>& down) override;

 private:
  rpc::WireguardServerApi wireguard_;
  bool server_has_revisions_ = true;  // false once a server answered get_hubs 1.6 with UnsupportedVersion
  bool server_has_digests_ = true;    // likewise for 1.4
  rpc::PluginApi plugin_;
};

}  // namespace nwg::daemon
