// What the reconcile loop needs from neutron-server (docs/rpc.md), bound to this agent's host. The
// daemon implements it over oslo.messaging RPC; unit tests use a scripted fake.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace nwg::reconcile {

class ServerApi {
 public:
  virtual ~ServerApi() = default;

  // get_hubs(host, hub_ids, digests): every hub bound to this host when hub_ids is absent. With
  // `digests` ({hub ID: digest} the agent holds), hubs still matching come back as
  // {"id", "digest", "unchanged": true} stubs (get_hubs 1.4; an older server ignores them).
  virtual Result<nlohmann::json> getHubs(const std::optional<std::vector<std::string>>& hub_ids,
                                         const std::map<std::string, std::string>* digests = nullptr) = 0;
  // update_hub_port(port_id, endpoint, public_key): what spokes need to reach the hub.
  virtual Status updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                               const std::string& public_key) = 0;
  // update_device_list on q-plugin: ACTIVE for `up`, DOWN for `down`.
  virtual Status updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>& down) = 0;
};

}  // namespace nwg::reconcile
