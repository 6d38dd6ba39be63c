// One reading of the peers of every realized hub: each spoke's latest handshake, bytes each way and
// the endpoint its packets come from, as the hub's device reports them. Shared by the spoke
// liveness (liveness.h) and the per-peer metrics (peer_metrics.h), so the devices are read once
// per peer_read_interval whatever asks for them.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "reconcile/realized_hubs.h"
#include "wireguard/backend.h"

namespace nwg::monitor {

using WallClock = std::chrono::system_clock;  // WireGuard's handshake times are wall-clock times

struct PeerSample {
  bool present = false;  // the device lists this spoke (a spoke just added may not be there yet)
  wg::PeerStats stats;
  std::optional<Endpoint> endpoint;  // where the spoke's packets last came from (or Neutron's)
};

struct HubReading {
  std::shared_ptr<const reconcile::RealizedHub> hub;
  std::optional<Error> failure;   // the device could not be read: its spokes are unknown this time
  std::vector<PeerSample> peers;  // one per hub->spokes, in the same order
};

struct PeerReading {
  WallClock::time_point at;
  std::chrono::steady_clock::duration took{};
  std::vector<HubReading> hubs;  // ordered as the realized hubs

  size_t failedHubs() const;
};

// Pure: a device as read back, matched with the hub's spokes by public key (peers the hub has no
// spoke for are left out).
HubReading joinPeers(std::shared_ptr<const reconcile::RealizedHub> hub, const Result<wg::Device>& device);

// Reads every hub's device through `backend` (a get each) and joins them. When `cancel` becomes
// true the reading ends at the next hub (incomplete: the caller drops it).
PeerReading readPeers(wg::Backend& backend, const reconcile::RealizedHubs& hubs, WallClock::time_point at,
                      const std::atomic<bool>* cancel = nullptr);

}  // namespace nwg::monitor
