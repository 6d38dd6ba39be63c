#include "monitor/peer_monitor.h"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <system_error>

namespace nwg::monitor {

PeerMonitor::PeerMonitor(wg::Backend& backend, RealizedSource hubs, SpokeStatusApi& server,
                         reconcile::LogSink& log, PeerMonitorOptions options,
                         metrics::AgentMetrics* agent_metrics)
    : backend_(backend),
      hubs_(std::move(hubs)),
      server_(server),
      log_(log),
      options_(options),
      metrics_(agent_metrics),
      tracker_(options.liveness) {}

PeerMonitor::~PeerMonitor() {
  stop();
}

Status PeerMonitor::start() {
  try {
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stopping_) {
        wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        try {
          readOnce();
        } catch (const std::exception& e) {
          // One bad reading (an allocation failure, a bug) must not end the readings for good.
          log_.error(
              str("reading the peers raised an exception (", e.what(), "); reading again next interval"));
        }
        lock.lock();
      }
    });
  } catch (const std::system_error& e) {
    return fail("cannot start the peer monitor thread: ", e.what());
  }
  return okStatus();
}

void PeerMonitor::stop() {
  cancelled_.store(true);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const std::string> PeerMonitor::peerMetrics() const {
  std::lock_guard lock(mu_);
  return peer_metrics_;
}

void PeerMonitor::readOnce(WallClock::time_point wall, Steady now) {
  auto hubs = hubs_();
  PeerReading reading = readPeers(backend_, *hubs, wall, &cancelled_);
  if (cancelled_.load()) return;  // incomplete: the hubs not read would look gone
  for (const auto& h : reading.hubs) {
    // The reconciler handles devices it cannot read (and says so); here it only means "unknown".
    if (h.failure) log_.debug(str("hub ", h.hub->port_id, ": peers not read: ", h.failure->message));
  }
  LivenessTracker::Decision decision = tracker_.decide(reading, now);
  if (metrics_) {
    metrics_->peerRead(reading.failedHubs(), reading.took, wall);
    auto counts = tracker_.counts();
    metrics_->spokes(counts.active, counts.down);
  }
  if (options_.render_metrics) {
    auto text = renderer_.render(reading);
    std::lock_guard lock(mu_);
    peer_metrics_ = std::move(text);
  }
  report(decision, now);
}

void PeerMonitor::report(const LivenessTracker::Decision& decision, Steady now) {
  const auto& due = decision.reports;
  if (!options_.report_status || due.empty()) return;
  if (unsupported_until_ && now < *unsupported_until_) return;
  size_t active = 0;
  for (size_t i = 0; i < decision.urgent; ++i) {
    if (due[i].active) ++active;
  }
  size_t sent = 0;
  for (size_t first = 0; first < due.size(); first += options_.max_batch) {
    std::vector<SpokeReport> batch(
        due.begin() + static_cast<std::ptrdiff_t>(first),
        due.begin() + static_cast<std::ptrdiff_t>(std::min(due.size(), first + options_.max_batch)));
    auto answer = server_.updateSpokeStatus(batch);
    if (answer.outcome == SpokeStatusApi::Outcome::kUnsupported) {
      if (metrics_) metrics_->spokeReport(metrics::AgentMetrics::ReportResult::kUnsupported, batch.size());
      if (!unsupported_until_) {
        log_.warning(
            str("neutron-server does not support update_spoke_status (q-wireguard 1.5): spoke "
                "status is not reported to Neutron; asking again every ",
                std::chrono::duration_cast<std::chrono::seconds>(options_.retry_unsupported).count(), " s (",
                answer.error, ")"));
      }
      unsupported_until_ = now + options_.retry_unsupported;
      return;
    }
    if (answer.outcome == SpokeStatusApi::Outcome::kFailed) {
      if (metrics_) metrics_->spokeReport(metrics::AgentMetrics::ReportResult::kFailed, batch.size());
      if (!failing_) {
        log_.warning(
            str("could not report spoke status to Neutron (retried at the next reading): ", answer.error));
      }
      failing_ = true;
      return;  // the rest is due again at the next reading
    }
    if (metrics_) metrics_->spokeReport(metrics::AgentMetrics::ReportResult::kSent, batch.size());
    tracker_.reported(batch, now);
    sent += batch.size();
  }
  if (unsupported_until_)
    log_.info("neutron-server now supports update_spoke_status: spoke status is reported");
  if (failing_) log_.info("spoke status reports work again");
  unsupported_until_.reset();
  failing_ = false;
  log_.log(decision.urgent ? reconcile::Severity::Info : reconcile::Severity::Debug,
           str("spoke status reported to Neutron: ", decision.urgent, " new or changed (", active,
               " active, ", decision.urgent - active, " down), ", sent - decision.urgent, " refreshed"));
}

}  // namespace nwg::monitor
