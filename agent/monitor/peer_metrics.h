// The per-peer part of /metrics, rendered once per reading (not per scrape): for each spoke of each
// realized hub, the names and labels of prometheus_wireguard_exporter (interface, public_key,
// allowed_ips), so existing WireGuard dashboards work, plus Neutron's identities (port_id,
// hub_port_id, project_id, network_id). Sent and received as the hub's device counts them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "monitor/peer_reading.h"

namespace nwg::monitor {

class PeerMetricsRenderer {
 public:
  // The exposition of `reading` (three families, one sample per spoke and family). Hubs whose
  // device could not be read and spokes not on their device yet have no samples.
  std::shared_ptr<const std::string> render(const PeerReading& reading);

 private:
  // The label set of each spoke of a hub entry ("{interface=...,network_id=...}"), made once per
  // entry: entries change only when the hub does.
  struct HubLabels {
    std::shared_ptr<const reconcile::RealizedHub> hub;
    std::vector<std::string> spokes;
  };
  const HubLabels& labelsFor(const std::shared_ptr<const reconcile::RealizedHub>& hub);

  std::map<std::string, HubLabels> labels_;  // hub ID ->
  size_t last_size_ = 0;                     // to reserve the next rendering's string
};

}  // namespace nwg::monitor
