// The wireguard ML2 driver's agent API on q-wireguard (docs/rpc.md): get_hubs (1.3, 1.4 digests, 1.6
// revisions and paging), get_hub_spokes (1.6), update_spoke_status (1.5) and the original 1.2 methods.
// Answers are returned as JSON (the reconcile layer decodes them into its model); an answer of the wrong
// shape is a kMalformedReply, never an empty result, so a bad answer cannot cause deletions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rpc/rpc_caller.h"

namespace nwg::rpc {

// One spoke of one hub as its agent sees it, for update_spoke_status.
struct SpokeStatus {
  std::string hub_id;
  std::string spoke_id;
  bool active = false;                  // a handshake within the agent's spoke_active_window
  int64_t latest_handshake = 0;         // unix seconds; 0: never (sent as null)
  std::optional<std::string> endpoint;  // "ip:port" / "[v6]:port" its packets come from, or null
  uint64_t rx_bytes = 0;                // received by the hub from the spoke
  uint64_t tx_bytes = 0;                // sent by the hub to the spoke
};

class WireguardServerApi {
 public:
  static constexpr const char* kTopic = "q-wireguard";

  // `topic` is q-wireguard except in tests against a stand-in server.
  WireguardServerApi(RpcCaller& rpc, std::string host, std::string topic = kTopic)
      : rpc_(rpc), host_(std::move(host)), topic_(std::move(topic)) {}

  // get_hubs(host, hub_ids): {"hubs": [...]} for every hub bound to this host (hub_ids absent) or for
  // those of `hub_ids` that are. With `digests` ({hub ID: digest}), a 1.4 call: hubs whose digest still
  // matches come back as {"id", "digest", "unchanged": true}; an older server answers
  // kUnsupportedVersion (the caller then asks again without digests).
  RpcResult<nlohmann::json> getHubs(const std::optional<std::vector<std::string>>& hub_ids = std::nullopt,
                                    const std::map<std::string, std::string>* digests = nullptr);
  // get_hubs 1.6 (docs/scale.md): hubs listed in `revisions` come back as deltas since them; at most
  // `spokes_limit` spokes in the answer (entries that did not fit carry "spokes_next").
  RpcResult<nlohmann::json> getHubsSince(const std::optional<std::vector<std::string>>& hub_ids,
                                         const std::map<std::string, uint64_t>& revisions,
                                         size_t spokes_limit);
  // get_hub_spokes 1.6: the next page of a hub's spokes (or of a delta, with `base_revision`).
  RpcResult<nlohmann::json> getHubSpokes(const std::string& hub_id, const std::string& marker, size_t limit,
                                         std::optional<uint64_t> base_revision);
  // update_hub_port(port_id, endpoint, public_key); endpoint "host:port" / "[v6]:port", or null.
  RpcStatus updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                          const std::string& public_key);
  // update_spoke_status(host, spokes) 1.5: the liveness and counters of spokes of this host's hubs.
  // A server older than 1.5 answers kUnsupportedVersion.
  RpcStatus updateSpokeStatus(const std::vector<SpokeStatus>& spokes);
  // get_ports_for_agent(agent): [{"hub": port, "spokes": [port...]}] (kept for compatibility).
  RpcResult<nlohmann::json> getPortsForAgent();
  // get_subnet(subnet_id): the subnet dict, or null when it does not exist.
  RpcResult<nlohmann::json> getSubnet(const std::string& subnet_id);

 private:
  RpcTarget target(const char* version) const { return RpcTarget(topic_, version); }

  RpcCaller& rpc_;
  std::string host_;
  std::string topic_;
};

}  // namespace nwg::rpc
