#include "daemon/rpc_server_api.h"

namespace nwg::daemon {

// The newest get_hubs the server serves, learnt from UnsupportedVersion answers during an upgrade:
// 1.6 (revisions, paging), else 1.4 (digests), else 1.3. A server never goes back to an older version
// while the agent runs; a restarted agent asks the newest again.
Result<nlohmann::json> RpcServerApi::getHubs(const reconcile::HubsQuery& query) {
  if (server_has_revisions_) {
    auto answer = wireguard_.getHubsSince(query.hub_ids, query.revisions, query.spokes_limit);
    if (answer.ok() || answer.error().kind != rpc::RpcErrorKind::kUnsupportedVersion)
      return std::move(answer).toResult();
    server_has_revisions_ = false;
  }
  if (!query.digests.empty() && server_has_digests_) {
    auto answer = wireguard_.getHubs(query.hub_ids, &query.digests);
    if (answer.ok() || answer.error().kind != rpc::RpcErrorKind::kUnsupportedVersion)
      return std::move(answer).toResult();
    // A driver older than get_hubs 1.4 (during an upgrade): full answers from now on.
    server_has_digests_ = false;
  }
  return wireguard_.getHubs(query.hub_ids).toResult();
}

Result<nlohmann::json> RpcServerApi::getHubSpokes(const std::string& hub_id, const std::string& marker,
                                                  size_t limit, std::optional<uint64_t> base_revision) {
  return wireguard_.getHubSpokes(hub_id, marker, limit, base_revision).toResult();
}

Status RpcServerApi::updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                                   const std::string& public_key) {
  auto r = wireguard_.updateHubPort(port_id, endpoint, public_key);
  if (!r.ok()) return r.error().toError();
  return okStatus();
}

Status RpcServerApi::updateDeviceList(const std::vector<std::string>& up,
                                      const std::vector<std::string>& down) {
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
