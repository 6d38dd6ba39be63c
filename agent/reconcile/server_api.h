// What the reconcile loop needs from neutron-server (docs/rpc.md), bound to this agent's host. The
// daemon implements it over oslo.messaging RPC; unit tests use a scripted fake.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace nwg::reconcile {

// What a get_hubs call asks for (docs/rpc.md). The implementation uses what the server supports:
// revisions and spokes_limit (1.6), else digests (1.4), else neither (1.3).
struct HubsQuery {
  std::optional<std::vector<std::string>> hub_ids;  // absent: every hub of this host
  // The digests of the entries the agent holds: hubs still matching come back as stubs (1.4).
  std::map<std::string, std::string> digests;
  // The revisions the agent holds: those hubs come back as deltas since them (1.6, docs/scale.md).
  std::map<std::string, uint64_t> revisions;
  size_t spokes_limit = 2000;  // at most this many spokes in one answer (1.6); the rest by paging
};

class ServerApi {
 public:
  virtual ~ServerApi() = default;

  // get_hubs: every hub bound to this host when hub_ids is absent. Full entries, stubs ({"id",
  // "digest", "unchanged": true}, for digests), or deltas ("base_revision", "spokes" changed since,
  // "removed_spokes", for revisions); an entry whose spokes did not all fit has "spokes_next".
  virtual Result<nlohmann::json> getHubs(const HubsQuery& query) = 0;
  // get_hub_spokes (1.6): the spokes of `hub_id` after `marker` (ordered by ID), at most `limit`; with
  // `base_revision`, only those changed since it (and the removals). {"revision", "spokes",
  // "removed_spokes", "spokes_next"}.
  virtual Result<nlohmann::json> getHubSpokes(const std::string& hub_id, const std::string& marker,
                                              size_t limit, std::optional<uint64_t> base_revision) = 0;
  // update_hub_port(port_id, endpoint, public_key): what spokes need to reach the hub.
  virtual Status updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                               const std::string& public_key) = 0;
  // update_device_list on q-plugin: ACTIVE for `up`, DOWN for `down`.
  virtual Status updateDeviceList(const std::vector<std::string>& up,
                                  const std::vector<std::string>& down) = 0;
};

}  // namespace nwg::reconcile
