#include "monitor/liveness.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_set>

namespace nwg::monitor {

bool isActive(const wg::PeerStats& stats, WallClock::time_point now, std::chrono::seconds window) {
  if (stats.last_handshake_sec <= 0) return false;
  const auto handshake = WallClock::time_point(std::chrono::seconds(stats.last_handshake_sec));
  return now - handshake <= window;
}

LivenessTracker::Decision LivenessTracker::decide(const PeerReading& reading, Steady now) {
  Decision decision;
  std::vector<SpokeReport>& due = decision.reports;
  struct Refresh {
    Steady last;
    SpokeReport report;
  };
  std::vector<Refresh> refreshes;
  std::set<std::string_view> realized;
  counts_ = {};
  for (const HubReading& h : reading.hubs) {
    const std::string& hub_id = h.hub->port_id;
    realized.insert(hub_id);
    if (h.failure) continue;  // unknown this time: nothing changes
    HubRecords& records = records_[hub_id];
    auto& keys = keys_[hub_id];
    keys.clear();
    std::unordered_set<std::string_view> listed;
    auto& leaving = leaving_[hub_id];
    for (size_t i = 0; i < h.hub->spokes.size(); ++i) {
      const reconcile::RealizedSpoke& spoke = h.hub->spokes[i];
      listed.insert(spoke.port_id);
      leaving.erase(spoke.port_id);  // back on the hub
      const PeerSample& sample = h.peers[i];
      if (!sample.present) continue;
      keys.emplace(spoke.port_id, spoke.public_key);
      SpokeReport r;
      r.hub_id = hub_id;
      r.spoke_id = spoke.port_id;
      r.active = isActive(sample.stats, reading.at, options_.active_window);
      if (sample.stats.last_handshake_sec > 0) {
        r.latest_handshake = sample.stats.last_handshake_sec;
        r.endpoint = sample.endpoint;
      }
      r.rx_bytes = sample.stats.rx_bytes;
      r.tx_bytes = sample.stats.tx_bytes;
      ++(r.active ? counts_.active : counts_.down);
      auto it = records.find(spoke.port_id);
      if (it == records.end() || !(it->second.public_key == spoke.public_key) ||
          it->second.last.active != r.active) {
        due.push_back(std::move(r));
      } else if (!(it->second.last == r) && now - it->second.at >= options_.report_interval) {
        refreshes.push_back({it->second.at, std::move(r)});
      }
    }
    for (auto it = records.begin(); it != records.end();) {
      if (listed.count(it->first)) {
        ++it;
        continue;
      }
      // No longer a peer of this hub (disabled, moved to another hub): if the server last heard
      // it was active here, say it no longer is.
      if (it->second.last.active) {
        SpokeReport last = it->second.last;
        last.active = false;
        leaving[it->first] = std::move(last);
      }
      it = records.erase(it);
    }
    for (const auto& [id, report] : leaving) due.push_back(report);
  }
  // Hubs no longer realized here: their spokes are another agent's now, or gone with the hub.
  auto forget = [&](auto& by_hub) {
    for (auto it = by_hub.begin(); it != by_hub.end();) {
      it = realized.count(it->first) ? std::next(it) : by_hub.erase(it);
    }
  };
  forget(records_);
  forget(leaving_);
  forget(keys_);

  // The longest-unrefreshed first, so that a steady stream of changes reaches every spoke in turn.
  std::sort(refreshes.begin(), refreshes.end(),
            [](const Refresh& a, const Refresh& b) { return a.last < b.last; });
  if (refreshes.size() > options_.max_refreshes_per_reading)
    refreshes.resize(options_.max_refreshes_per_reading);
  decision.urgent = due.size();
  for (auto& r : refreshes) due.push_back(std::move(r.report));
  return decision;
}

void LivenessTracker::reported(const std::vector<SpokeReport>& reports, Steady now) {
  for (const auto& r : reports) {
    if (auto hub = leaving_.find(r.hub_id); hub != leaving_.end()) {
      if (auto it = hub->second.find(r.spoke_id); it != hub->second.end() && it->second == r) {
        hub->second.erase(it);
        continue;
      }
    }
    auto keys = keys_.find(r.hub_id);
    if (keys == keys_.end()) continue;
    auto key = keys->second.find(r.spoke_id);
    if (key == keys->second.end()) continue;
    records_[r.hub_id][r.spoke_id] = Record{key->second, r, now};
  }
}

}  // namespace nwg::monitor
