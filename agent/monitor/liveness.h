// Spoke liveness: from the peer readings to the reports neutron-server gets (update_spoke_status,
// docs/rpc.md). Pure: the tests drive it with readings and times.
//
// A spoke is active while its latest handshake with the hub is within spoke_active_window (180 s:
// WireGuard's REJECT_AFTER_TIME, after which a session without a new handshake is dead). Only what
// changed is reported, so 10,000 idle spokes cost nothing per reading:
//   - at once: a spoke never reported (the agent started, the spoke or its key is new), a status
//     that flipped, a spoke that left a hub while reported active (a last report, inactive);
//   - at a bounded rate: a spoke whose status stands but whose handshake, endpoint or bytes moved
//     is refreshed at most every spoke_report_interval, oldest first, at most
//     max_refreshes_per_reading in one reading (a burst of 10,000 active spokes is spread out).
// A hub whose device could not be read changes nothing (never report on doubt); a hub no longer
// realized here is forgotten (its spokes are another agent's, or gone).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/ip.h"
#include "keys/key.h"
#include "monitor/peer_reading.h"

namespace nwg::monitor {

struct LivenessOptions {
  std::chrono::seconds active_window{180};
  std::chrono::seconds report_interval{300};
  size_t max_refreshes_per_reading = 1000;
};

// What the server is told about one spoke of one hub.
struct SpokeReport {
  std::string hub_id;
  std::string spoke_id;
  bool active = false;
  int64_t latest_handshake = 0;      // unix seconds; 0: never
  std::optional<Endpoint> endpoint;  // where its packets come from; only once it has handshaken
  uint64_t rx_bytes = 0;             // received by the hub from the spoke
  uint64_t tx_bytes = 0;             // sent by the hub to the spoke
  bool operator==(const SpokeReport&) const = default;
};

// Active: a handshake within the window (a handshake time ahead of the clock counts as now).
bool isActive(const wg::PeerStats& stats, WallClock::time_point now, std::chrono::seconds window);

class LivenessTracker {
 public:
  using Steady = std::chrono::steady_clock::time_point;

  explicit LivenessTracker(LivenessOptions options) : options_(options) {}

  // The reports due after `reading`, taken at monotonic time `now`: first the `urgent` ones (new,
  // flipped, leaving), then the refreshes. Nothing is marked reported until reported() says the
  // server took them, so a report that failed is due again at the next reading.
  struct Decision {
    std::vector<SpokeReport> reports;
    size_t urgent = 0;
  };
  Decision decide(const PeerReading& reading, Steady now);
  // The server accepted these reports.
  void reported(const std::vector<SpokeReport>& reports, Steady now);

  // Spokes active and down in the last decided reading (hubs read successfully only).
  struct Counts {
    size_t active = 0;
    size_t down = 0;
  };
  Counts counts() const { return counts_; }

 private:
  struct Record {
    Key public_key;  // the key the report was about: a new key is a new peer
    SpokeReport last;
    Steady at;
  };
  using HubRecords = std::unordered_map<std::string, Record>;  // spoke ID -> what was reported

  LivenessOptions options_;
  std::map<std::string, HubRecords> records_;  // hub ID ->
  // Spokes that left a hub while reported active, whose last (inactive) report is pending.
  std::map<std::string, std::map<std::string, SpokeReport>> leaving_;
  // The keys of the spokes in the last reading, for reported() to record.
  std::map<std::string, std::unordered_map<std::string, Key>> keys_;
  Counts counts_;
};

}  // namespace nwg::monitor
