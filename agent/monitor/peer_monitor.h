// The peer monitor: a thread of its own that reads every realized hub's peers every
// peer_read_interval (not per scrape, not in reconcile passes: a get of 10,000 peers costs ~25-50 ms),
// then hands the reading to the spoke liveness (reports to neutron-server) and to the per-peer
// metrics (rendered once per reading). It reads through a backend of its own (a second UapiBackend
// or GenlBackend, no state shared with the reconcile thread's), so a reading never waits on the
// reconcile thread's locks nor the other way round (docs/agent.md, "Reading the peers").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "metrics/agent_metrics.h"
#include "monitor/liveness.h"
#include "monitor/peer_metrics.h"
#include "monitor/peer_reading.h"
#include "monitor/spoke_status_api.h"
#include "reconcile/log_sink.h"
#include "reconcile/realized_hubs.h"
#include "wireguard/backend.h"

namespace nwg::monitor {

struct PeerMonitorOptions {
  std::chrono::milliseconds interval{15000};  // [wireguard] peer_read_interval
  LivenessOptions liveness;
  bool report_status = true;   // false in dry_run: nothing is sent to the server
  bool render_metrics = true;  // false without [AGENT] metrics_bind
  size_t max_batch = 1000;     // spokes per update_spoke_status call (~200 kB)
  // After a server answered UnsupportedVersion (older than q-wireguard 1.5), ask again after this
  // long: the server may be upgraded meanwhile.
  std::chrono::milliseconds retry_unsupported{std::chrono::minutes(10)};
};

class PeerMonitor {
 public:
  using RealizedSource = std::function<std::shared_ptr<const reconcile::RealizedHubs>()>;
  using Steady = std::chrono::steady_clock::time_point;

  // `agent_metrics` (optional) records the readings and reports.
  PeerMonitor(wg::Backend& backend, RealizedSource hubs, SpokeStatusApi& server, reconcile::LogSink& log,
              PeerMonitorOptions options, metrics::AgentMetrics* agent_metrics = nullptr);
  ~PeerMonitor();
  PeerMonitor(const PeerMonitor&) = delete;
  PeerMonitor& operator=(const PeerMonitor&) = delete;

  // Starts the thread; its first reading comes one interval after the start.
  Status start();
  // Ends the thread; a reading in progress ends at its next hub (dropped), a report in progress at
  // its RPC's timeout, or at once when the RPC client was stopped before.
  void stop();
  // From any thread, without waiting: a reading in progress ends at its next hub (for a prompt
  // stop; stop() follows).
  void cancel() { cancelled_.store(true); }

  // One reading, its reports and its metrics, on the calling thread (the thread's body; tests).
  void readOnce(WallClock::time_point wall, Steady now);
  void readOnce() { readOnce(WallClock::now(), std::chrono::steady_clock::now()); }

  // The per-peer part of /metrics as of the last reading ("" before the first). Thread-safe.
  std::shared_ptr<const std::string> peerMetrics() const;

 private:
  void report(const LivenessTracker::Decision& decision, Steady now);

  wg::Backend& backend_;
  RealizedSource hubs_;
  SpokeStatusApi& server_;
  reconcile::LogSink& log_;
  PeerMonitorOptions options_;
  metrics::AgentMetrics* metrics_;

  LivenessTracker tracker_;
  PeerMetricsRenderer renderer_;
  std::optional<Steady> unsupported_until_;
  bool failing_ = false;  // reports fail: said once, until they work again

  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::shared_ptr<const std::string> peer_metrics_ = std::make_shared<const std::string>();
  std::thread thread_;
};

}  // namespace nwg::monitor
