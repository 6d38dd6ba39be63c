#include "monitor/peer_metrics.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "metrics/exposition.h"
#include "metrics/names.h"

namespace nwg::monitor {

using metrics::ExpositionWriter;
using metrics::Label;
using metrics::MetricType;
namespace names = metrics::names;

const PeerMetricsRenderer::HubLabels& PeerMetricsRenderer::labelsFor(
    const std::shared_ptr<const reconcile::RealizedHub>& hub) {
  HubLabels& entry = labels_[hub->port_id];
  if (entry.hub == hub) return entry;
  entry.hub = hub;
  entry.spokes.clear();
  entry.spokes.reserve(hub->spokes.size());
  std::string key;
  std::string allowed;
  for (const auto& spoke : hub->spokes) {
    key.clear();
    spoke.public_key.appendBase64(key);
    allowed.clear();
    for (const auto& prefix : spoke.allowed_ips) {
      if (!allowed.empty()) allowed += ',';
      allowed += prefix.toString();
    }
    const Label labels[] = {{"interface", hub->device.ifname}, {"public_key", key},
                            {"allowed_ips", allowed},          {"port_id", spoke.port_id},
                            {"hub_port_id", hub->port_id},     {"project_id", hub->project_id},
                            {"network_id", hub->network_id}};
    entry.spokes.push_back(metrics::labelSet(labels));
  }
  return entry;
}

std::shared_ptr<const std::string> PeerMetricsRenderer::render(const PeerReading& reading) {
  // Label sets of hubs no longer realized go.
  std::set<std::string_view> hubs;
  for (const auto& h : reading.hubs) hubs.insert(h.hub->port_id);
  for (auto it = labels_.begin(); it != labels_.end();) {
    it = hubs.count(it->first) ? std::next(it) : labels_.erase(it);
  }
  std::vector<const HubLabels*> labels;
  labels.reserve(reading.hubs.size());
  for (const auto& h : reading.hubs) labels.push_back(&labelsFor(h.hub));

  auto out = std::make_shared<std::string>();
  out->reserve(last_size_ + last_size_ / 8);
  ExpositionWriter w(*out);
  struct Family {
    std::string_view name;
    MetricType type;
    std::string_view help;
  };
  const Family families[] = {
      {names::kSentBytes, MetricType::kCounter, "Bytes sent to the peer (by the hub's device)"},
      {names::kReceivedBytes, MetricType::kCounter, "Bytes received from the peer (by the hub's device)"},
      {names::kLatestHandshake, MetricType::kGauge,
       "Unix time of the latest handshake with the peer; 0: never since the device was created"},
  };
  for (const Family& f : families) {
    w.family(f.name, f.type, f.help);
    for (size_t h = 0; h < reading.hubs.size(); ++h) {
      const HubReading& hub = reading.hubs[h];
      if (hub.failure) continue;
      for (size_t i = 0; i < hub.peers.size(); ++i) {
        const PeerSample& s = hub.peers[i];
        if (!s.present) continue;
        const std::string& set = labels[h]->spokes[i];
        if (f.name == names::kSentBytes) {
          w.sampleWithLabelSet(f.name, set, s.stats.tx_bytes);
        } else if (f.name == names::kReceivedBytes) {
          w.sampleWithLabelSet(f.name, set, s.stats.rx_bytes);
        } else {
          w.sampleWithLabelSet(f.name, set,
                               static_cast<uint64_t>(std::max<int64_t>(0, s.stats.last_handshake_sec)));
        }
      }
    }
  }
  last_size_ = out->size();
  return out;
}

}  // namespace nwg::monitor
