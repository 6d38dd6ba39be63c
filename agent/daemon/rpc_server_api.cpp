#include "daemon/rpc_server_api.h"

namespace nwg::daemon {

Result<nlohmann::json> RpcServerApi::getHubs(const std::optional<std::vector<std::string>>& hub_ids,
                                             const std::map<std::string, std::string>* digests) {
  if (digests && server_has_digests_) {
    auto answer = wireguard_.getHubs(hub_ids, digests);
    if (answer.ok() || answer.error().kind != rpc::RpcErrorKind::kUnsupportedVersion) return std::move(answer).toResult();
    // A driver older than get_hubs 1.4 (during an upgrade): full answers from now on.
    server_has_digests_ = false;
  }
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
