#include "monitor/peer_reading.h"

#include "wireguard/peer_key_index.h"

namespace nwg::monitor {

size_t PeerReading::failedHubs() const {
  size_t n = 0;
  for (const auto& h : hubs) {
    if (h.failure) ++n;
  }
  return n;
}

HubReading joinPeers(std::shared_ptr<const reconcile::RealizedHub> hub, const Result<wg::Device>& device) {
  HubReading out;
  out.hub = std::move(hub);
  if (!device.ok()) {
    out.failure = device.error();
    return out;
  }
  const auto& spokes = out.hub->spokes;
  out.peers.resize(spokes.size());
  // 10,000 spokes: one flat index of their keys, then one probe per device peer.
  wg::PeerKeyIndex index(spokes.size());
  auto key_at = [&](uint32_t position) -> const Key& { return spokes[position].public_key; };
  for (uint32_t i = 0; i < spokes.size(); ++i) {
    index.insert(spokes[i].public_key, wg::PeerKeyIndex::hashOf(spokes[i].public_key), i, key_at);
  }
  for (const auto& peer : device->peers) {
    uint32_t at = index.find(peer.public_key, wg::PeerKeyIndex::hashOf(peer.public_key), key_at);
    if (at == wg::PeerKeyIndex::kAbsent) continue;
    PeerSample& sample = out.peers[at];
    sample.present = true;
    sample.stats = peer.stats;
    sample.endpoint = peer.endpoint;
  }
  return out;
}

PeerReading readPeers(wg::Backend& backend, const reconcile::RealizedHubs& hubs, WallClock::time_point at,
                      const std::atomic<bool>* cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  PeerReading reading;
  reading.at = at;
  reading.hubs.reserve(hubs.size());
  for (const auto& hub : hubs) {
    if (cancel && cancel->load()) break;
    reading.hubs.push_back(joinPeers(hub, backend.get(hub->device)));
  }
  reading.took = std::chrono::steady_clock::now() - t0;
  return reading;
}

}  // namespace nwg::monitor
