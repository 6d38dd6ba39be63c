#include "daemon/rpc_server_api.h"

namespace nwg::daemon {

Result<nlohmann::json> RpcServerApi::getHubs(const std::optional<std::vector<std::string>>& hub_ids) {
  return wireguard_.getHubs(hub_ids).toResult();
}

Status RpcServerApi::updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                                   const std::string& public_key) {
  auto r = wireguard_.updateHubPort(port_id, endpoint, public_key);
  if (!r.ok()) return r.error().toError();
  return okStatus();
}

Status RpcServerApi::updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>& down) {
  auto r = plugin_.updateDeviceList(up, down);
  if (!r.ok()) return r.error().toError();
  // The server names the devices it could not update (e.g. a port bound elsewhere by now).
  if (!r->failed_devices_up.empty() || !r->failed_devices_down.empty()) {
    return fail("neutron-server could not update ports: up [", join(r->failed_devices_up, ", "), "], down [",
                join(r->failed_devices_down, ", "), "]");
  }
  return okStatus();
}

}  // namespace nwg::daemon
