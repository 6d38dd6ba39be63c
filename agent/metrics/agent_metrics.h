// The agent's own health, as Prometheus metrics (docs/agent.md, "Metrics"): syncs by kind and
// result, pass durations, the last successful full sync, hubs by state, RPC errors and reconnects,
// notification-to-applied latency, and how the peer reading and the spoke status reports fare.
// The loop, the RPC layer and the peer monitor record into it from their threads; /metrics renders
// it (a few dozen lines) on each request. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/exposition.h"
#include "metrics/names.h"

namespace nwg::metrics {

class AgentMetrics {
 public:
  enum class SyncKind { kQuick, kDeep, kPartial };  // a quick or deep full sync, or changed hubs only
  using Seconds = std::chrono::duration<double>;
  using WallTime = std::chrono::system_clock::time_point;

  struct Identity {
    std::string host;
    std::string backend;  // kernel | userspace
    std::string version;
  };
  explicit AgentMetrics(Identity identity);

  // A pass ended (complete or not) after `took`; `at` is when (wall clock).
  void syncDone(SyncKind kind, bool complete, Seconds took, WallTime at);
  // After each complete full sync: hubs realized and failed, spokes configured on realized hubs.
  void hubs(size_t realized, size_t failed, size_t peers);
  // A hub named by a notification is as Neutron wants it, `latency` after the notification came.
  void notificationApplied(Seconds latency);
  // An RPC call or cast that failed: the method and the kind of failure (timeout, remote, ...).
  void rpcError(std::string_view method, std::string_view kind);
  // One reading of every hub's peers: whether every device could be read, how long it took.
  void peerRead(size_t hubs_failed, Seconds took, WallTime at);
  // Spokes seen active and down by the last reading (per the agent's spoke_active_window).
  void spokes(size_t active, size_t down);
  // A spoke status report to the server: sent (`entries` spokes), failed, or not supported by it.
  enum class ReportResult { kSent, kFailed, kUnsupported };
  void spokeReport(ReportResult result, size_t entries);

  // Appends every family; `reconnects` comes from the RPC client (its own counter).
  void write(std::string& out, uint64_t reconnects) const;

 private:
  Identity identity_;
  mutable std::mutex mu_;
  std::map<std::pair<SyncKind, bool>, uint64_t> syncs_;
  std::map<SyncKind, Histogram> durations_;
  double last_full_sync_ = 0;  // unix seconds; 0: none yet
  size_t realized_ = 0;
  size_t failed_ = 0;
  size_t peers_ = 0;
  Histogram notification_latency_;
  std::map<std::pair<std::string, std::string>, uint64_t> rpc_errors_;
  uint64_t peer_reads_ = 0;
  uint64_t peer_read_failures_ = 0;  // readings where some hub's device could not be read
  double last_peer_read_ = 0;
  double last_peer_read_seconds_ = 0;
  size_t spokes_active_ = 0;
  size_t spokes_down_ = 0;
  std::map<ReportResult, uint64_t> reports_;
  uint64_t reported_entries_ = 0;
};

}  // namespace nwg::metrics
