// WireguardServerApi: calls to networking_wireguard.rpc.WireGuardRpcCallback.
#include "rpc/neutron/wireguard_server_api.h"

#include <algorithm>

namespace nwg::rpc {
namespace {

RpcError malformed(const char* method, const nlohmann::json& answer) {
  return RpcError{
      RpcErrorKind::kMalformedReply,
      str(WireguardServerApi::kTopic, ".", method, ": unexpected answer ", answer.dump().substr(0, 200)),
      {}};
}

}  // namespace

namespace {

// {"hubs": [{"id": "...", ...}, ...]}: what get_hubs answers, whatever its version. (Through at(), not
// find(): GCC 12 at -O2 reports a null dereference in the inlined find() iterator, and -Werror.)
bool isHubList(const nlohmann::json& answer) {
  if (!answer.is_object() || !answer.contains("hubs")) return false;
  const nlohmann::json& hubs = answer.at("hubs");
  if (!hubs.is_array()) return false;
  return std::all_of(hubs.begin(), hubs.end(), [](const nlohmann::json& hub) {
    return hub.is_object() && hub.contains("id") && hub.at("id").is_string();
  });
}

}  // namespace

RpcResult<nlohmann::json> WireguardServerApi::getHubs(const std::optional<std::vector<std::string>>& hub_ids,
                                                      const std::map<std::string, std::string>* digests) {
  nlohmann::json args = {{"host", host_},
                         {"hub_ids", hub_ids ? nlohmann::json(*hub_ids) : nlohmann::json(nullptr)}};
  if (digests) args["digests"] = *digests;
  auto answer = rpc_.call(target(digests ? "1.4" : "1.3"), "get_hubs", std::move(args));
  if (!answer.ok()) return answer;
  if (!isHubList(*answer)) return malformed("get_hubs", *answer);
  return answer;
}

RpcResult<nlohmann::json> WireguardServerApi::getHubsSince(
    const std::optional<std::vector<std::string>>& hub_ids, const std::map<std::string, uint64_t>& revisions,
    size_t spokes_limit) {
  nlohmann::json args = {{"host", host_},
                         {"hub_ids", hub_ids ? nlohmann::json(*hub_ids) : nlohmann::json(nullptr)},
                         {"revisions", revisions},
                         {"spokes_limit", spokes_limit}};
  auto answer = rpc_.call(target("1.6"), "get_hubs", std::move(args));
  if (!answer.ok()) return answer;
  if (!isHubList(*answer)) return malformed("get_hubs", *answer);
  return answer;
}

RpcResult<nlohmann::json> WireguardServerApi::getHubSpokes(const std::string& hub_id,
                                                           const std::string& marker, size_t limit,
                                                           std::optional<uint64_t> base_revision) {
  nlohmann::json args = {
      {"host", host_},
      {"hub_id", hub_id},
      {"marker", marker},
      {"limit", limit},
      {"base_revision", base_revision ? nlohmann::json(*base_revision) : nlohmann::json(nullptr)}};
  auto answer = rpc_.call(target("1.6"), "get_hub_spokes", std::move(args));
  if (!answer.ok()) return answer;
  if (!answer->is_object() || !answer->contains("spokes") || !(*answer)["spokes"].is_array()) {
    return malformed("get_hub_spokes", *answer);
  }
  return answer;
}

RpcStatus WireguardServerApi::updateHubPort(const std::string& port_id,
                                            const std::optional<std::string>& endpoint,
                                            const std::string& public_key) {
  nlohmann::json args = {{"port_id", port_id},
                         {"endpoint", endpoint ? nlohmann::json(*endpoint) : nlohmann::json(nullptr)},
                         {"public_key", public_key}};
  auto answer = rpc_.call(target("1.2"), "update_hub_port", std::move(args));
  if (!answer.ok()) return std::move(answer).error();
  return std::monostate{};
}

RpcStatus WireguardServerApi::updateSpokeStatus(const std::vector<SpokeStatus>& spokes) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& s : spokes) {
    entries.push_back({{"hub_id", s.hub_id},
                       {"spoke_id", s.spoke_id},
                       {"active", s.active},
                       {"latest_handshake", s.latest_handshake > 0 ? nlohmann::json(s.latest_handshake)
                                                                   : nlohmann::json(nullptr)},
                       {"endpoint", s.endpoint ? nlohmann::json(*s.endpoint) : nlohmann::json(nullptr)},
                       {"rx_bytes", s.rx_bytes},
                       {"tx_bytes", s.tx_bytes}});
  }
  auto answer =
      rpc_.call(target("1.5"), "update_spoke_status", {{"host", host_}, {"spokes", std::move(entries)}});
  if (!answer.ok()) return std::move(answer).error();
  return std::monostate{};
}

RpcResult<nlohmann::json> WireguardServerApi::getPortsForAgent() {
  auto answer = rpc_.call(target("1.2"), "get_ports_for_agent", {{"agent", host_}});
  if (answer.ok() && !answer->is_array()) return malformed("get_ports_for_agent", *answer);
  return answer;
}

RpcResult<nlohmann::json> WireguardServerApi::getSubnet(const std::string& subnet_id) {
  auto answer = rpc_.call(target("1.2"), "get_subnet", {{"subnet_id", subnet_id}});
  if (answer.ok() && !answer->is_null() && !answer->is_object()) return malformed("get_subnet", *answer);
  return answer;
}

}  // namespace nwg::rpc
