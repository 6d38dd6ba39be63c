#include "daemon/rpc_spoke_status_api.h"

namespace nwg::daemon {

monitor::SpokeStatusApi::Answer RpcSpokeStatusApi::updateSpokeStatus(
    const std::vector<monitor::SpokeReport>& reports) {
  std::vector<rpc::SpokeStatus> spokes;
  spokes.reserve(reports.size());
  for (const auto& r : reports) {
    spokes.push_back({r.hub_id, r.spoke_id, r.active, r.latest_handshake,
                      r.endpoint ? std::optional<std::string>(r.endpoint->toString()) : std::nullopt,
                      r.rx_bytes, r.tx_bytes});
  }
  auto answer = wireguard_.updateSpokeStatus(spokes);
  if (answer.ok()) return {};
  const auto& e = answer.error();
  return {e.kind == rpc::RpcErrorKind::kUnsupportedVersion ? Outcome::kUnsupported : Outcome::kFailed,
          e.message};
}

}  // namespace nwg::daemon
