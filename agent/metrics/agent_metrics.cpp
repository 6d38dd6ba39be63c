#include "metrics/agent_metrics.h"

#include <array>

namespace nwg::metrics {
namespace {

// A quick pass costs milliseconds, a deep one of 100 hubs a few hundred, a start-up with DNS or a
// slow server seconds.
Histogram passBuckets() {
  return Histogram({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
}

std::string_view kindName(AgentMetrics::SyncKind kind) {
  switch (kind) {
    case AgentMetrics::SyncKind::kQuick:
      return "quick";
    case AgentMetrics::SyncKind::kDeep:
      return "deep";
    case AgentMetrics::SyncKind::kPartial:
      return "partial";
  }
  return "partial";
}

std::string_view resultName(AgentMetrics::ReportResult result) {
  switch (result) {
    case AgentMetrics::ReportResult::kSent:
      return "sent";
    case AgentMetrics::ReportResult::kFailed:
      return "failed";
    case AgentMetrics::ReportResult::kUnsupported:
      return "unsupported";
  }
  return "failed";
}

double unixSeconds(AgentMetrics::WallTime at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

constexpr std::array kKinds = {AgentMetrics::SyncKind::kQuick, AgentMetrics::SyncKind::kDeep,
                               AgentMetrics::SyncKind::kPartial};

}  // namespace

AgentMetrics::AgentMetrics(Identity identity)
    : identity_(std::move(identity)),
      // From a notification to the device: tens of milliseconds normally, seconds with retries.
      notification_latency_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}) {
  for (auto kind : kKinds) durations_.emplace(kind, passBuckets());
}

void AgentMetrics::syncDone(SyncKind kind, bool complete, Seconds took, WallTime at) {
  std::lock_guard lock(mu_);
  ++syncs_[{kind, complete}];
  durations_.at(kind).observe(took.count());
  if (complete && kind != SyncKind::kPartial) last_full_sync_ = unixSeconds(at);
}

void AgentMetrics::hubs(size_t realized, size_t failed, size_t peers) {
  std::lock_guard lock(mu_);
  realized_ = realized;
  failed_ = failed;
  peers_ = peers;
}

void AgentMetrics::notificationApplied(Seconds latency) {
  std::lock_guard lock(mu_);
  notification_latency_.observe(latency.count());
}

void AgentMetrics::rpcError(std::string_view method, std::string_view kind) {
  std::lock_guard lock(mu_);
  ++rpc_errors_[{std::string(method), std::string(kind)}];
}

void AgentMetrics::peerRead(size_t hubs_failed, Seconds took, WallTime at) {
  std::lock_guard lock(mu_);
  ++peer_reads_;
  if (hubs_failed) ++peer_read_failures_;
  last_peer_read_ = unixSeconds(at);
  last_peer_read_seconds_ = took.count();
}

void AgentMetrics::spokes(size_t active, size_t down) {
  std::lock_guard lock(mu_);
  spokes_active_ = active;
  spokes_down_ = down;
}

void AgentMetrics::spokeReport(ReportResult result, size_t entries) {
  std::lock_guard lock(mu_);
  ++reports_[result];
  if (result == ReportResult::kSent) reported_entries_ += entries;
}

void AgentMetrics::write(std::string& out, uint64_t reconnects) const {
  namespace n = names;
  ExpositionWriter w(out);
  std::lock_guard lock(mu_);
  w.family(n::kInfo, MetricType::kGauge, "The agent: its host, WireGuard backend and version (always 1)");
  w.sample(n::kInfo,
           {{"host", identity_.host}, {"backend", identity_.backend}, {"version", identity_.version}}, 1.0);

  w.family(n::kSyncs, MetricType::kCounter,
           "Reconcile passes by kind (quick or deep full sync, partial: changed hubs only) and result "
           "(complete: the server answered and the host could be read)");
  for (auto kind : kKinds) {
    for (bool complete : {true, false}) {
      auto it = syncs_.find({kind, complete});
      w.sample(n::kSyncs, {{"kind", kindName(kind)}, {"result", complete ? "complete" : "failed"}},
               it == syncs_.end() ? uint64_t{0} : it->second);
    }
  }
  w.family(n::kSyncDuration, MetricType::kHistogram, "Duration of reconcile passes by kind");
  for (auto kind : kKinds) {
    const Label kind_label[] = {{"kind", kindName(kind)}};
    durations_.at(kind).write(w, n::kSyncDuration, kind_label);
  }
  w.family(n::kLastFullSync, MetricType::kGauge,
           "Unix time of the last complete full sync (quick or deep); 0 before the first");
  w.sample(n::kLastFullSync, {}, last_full_sync_);

  w.family(n::kHubs, MetricType::kGauge, "Hubs of this host by state, as of the last complete full sync");
  w.sample(n::kHubs, {{"state", "realized"}}, static_cast<uint64_t>(realized_));
  w.sample(n::kHubs, {{"state", "failed"}}, static_cast<uint64_t>(failed_));
  w.family(n::kPeers, MetricType::kGauge, "Spokes configured on the realized hubs");
  w.sample(n::kPeers, {}, static_cast<uint64_t>(peers_));

  w.family(n::kNotificationLatency, MetricType::kHistogram,
           "From a hubs_changed notification to the named hub being as Neutron wants it");
  notification_latency_.write(w, n::kNotificationLatency, {});

  w.family(n::kRpcErrors, MetricType::kCounter, "RPC calls and casts that failed, by method and kind");
  for (const auto& [key, count] : rpc_errors_) {
    w.sample(n::kRpcErrors, {{"method", key.first}, {"kind", key.second}}, count);
  }
  w.family(n::kRpcReconnects, MetricType::kCounter, "Connections to RabbitMQ re-established after a loss");
  w.sample(n::kRpcReconnects, {}, reconnects);

  w.family(n::kPeerReads, MetricType::kCounter,
           "Readings of every hub's peers, by result (partial: some device could not be read)");
  w.sample(n::kPeerReads, {{"result", "complete"}}, peer_reads_ - peer_read_failures_);
  w.sample(n::kPeerReads, {{"result", "partial"}}, peer_read_failures_);
  w.family(n::kPeerReadDuration, MetricType::kGauge, "How long the last reading of every hub's peers took");
  w.sample(n::kPeerReadDuration, {}, last_peer_read_seconds_);
  w.family(n::kLastPeerRead, MetricType::kGauge,
           "Unix time of the last reading of the peers (what the per-peer metrics show); 0 before the first");
  w.sample(n::kLastPeerRead, {}, last_peer_read_);

  w.family(n::kSpokes, MetricType::kGauge,
           "Spokes of the realized hubs by status (active: a handshake within spoke_active_window)");
  w.sample(n::kSpokes, {{"status", "active"}}, static_cast<uint64_t>(spokes_active_));
  w.sample(n::kSpokes, {{"status", "down"}}, static_cast<uint64_t>(spokes_down_));
  w.family(n::kSpokeReports, MetricType::kCounter,
           "Spoke status reports to neutron-server (update_spoke_status) by result");
  for (auto result : {ReportResult::kSent, ReportResult::kFailed, ReportResult::kUnsupported}) {
    auto it = reports_.find(result);
    w.sample(n::kSpokeReports, {{"result", resultName(result)}},
             it == reports_.end() ? uint64_t{0} : it->second);
  }
  w.family(n::kSpokeReportEntries, MetricType::kCounter,
           "Spokes named in the reports neutron-server accepted");
  w.sample(n::kSpokeReportEntries, {}, reported_entries_);
}

}  // namespace nwg::metrics
