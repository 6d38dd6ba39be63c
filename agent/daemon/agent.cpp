#include "daemon/agent.h"

#include <atomic>
#include <cstdlib>

#include "daemon/backend_choice.h"
#include "daemon/heartbeat.h"
#include "daemon/linux_host_facts.h"
#include "daemon/log_sink_adapter.h"
#include "daemon/metered_caller.h"
#include "daemon/metrics_loop_observer.h"
#include "daemon/rpc_client_options.h"
#include "daemon/rpc_server_api.h"
#include "daemon/rpc_spoke_status_api.h"
#include "logging/log.h"
#include "metrics/agent_metrics.h"
#include "metrics/metrics_server.h"
#include "monitor/peer_monitor.h"
#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "ovs/command_runner.h"
#include "ovs/ovs_bridge.h"
#include "reconcile/agent_loop.h"
#include "reconcile/identity_store.h"
#include "reconcile/observer.h"
#include "reconcile/reconciler.h"
#include "rpc/neutron/hub_notification_consumer.h"
#include "rpc/neutron/state_reporter.h"
#include "rpc/rpc_client.h"
#include "wireguard/genl/genl_backend.h"
#include "wireguard/uapi/uapi_backend.h"

#ifndef NWG_VERSION
#define NWG_VERSION "unknown"
#endif

namespace nwg::daemon {

namespace {

using std::chrono::milliseconds;

std::vector<std::string> toVector(const std::set<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

class AgentImpl final : public Agent {
 public:
  explicit AgentImpl(const config::AgentConfig& config) : config_(config) {}

  Status build() {
    const char* path_env = std::getenv("PATH");
    wireguard_go_ = resolveExecutable(config_.wireguard_go, path_env ? path_env : "").value_or("");
    NWG_ASSIGN_OR_RETURN(BackendKind kind,
                         chooseBackend(config_.backend, wg::GenlBackend::available(),
                                       wg::UapiBackend::available(wireguard_go_), config_.wireguard_go));
    // The peer monitor reads through a backend of its own: no lock, socket or cache is shared with
    // the reconcile thread's, so a reading never waits for a pass nor a pass for a reading.
    for (auto* backend : {&backend_, &monitor_backend_}) {
      if (kind == BackendKind::kKernel) {
        *backend = std::make_unique<wg::GenlBackend>(namespaces_, links_);
      } else {
        wg::UapiBackendOptions options;
        options.wireguard_go = wireguard_go_;
        options.memory_limit = config_.wireguard_go_memory_limit;
        // A reading is retried every peer_read_interval: a stopped wireguard-go must not hold it up.
        if (backend == &monitor_backend_) options.request_timeout = std::chrono::seconds(5);
        *backend = std::make_unique<wg::UapiBackend>(options);
      }
    }
    metrics_ = std::make_unique<metrics::AgentMetrics>(
        metrics::AgentMetrics::Identity{config_.host, std::string(backend_->kind()), NWG_VERSION});
    identities_ = std::make_unique<reconcile::IdentityStore>(config_.state_path);
    rpc_ = std::make_unique<rpc::RpcClient>(rpcClientOptions(config_));
    // Every Neutron API call goes through the meter (RPC errors by method and kind).
    caller_ = std::make_unique<MeteredCaller>(*rpc_, *metrics_);
    server_ = std::make_unique<RpcServerApi>(*caller_, config_.host);
    // OVN-routed hubs' plugs: ovs-vsctl from PATH; without it only those hubs fail (with why).
    ovs::VsctlOptions ovs_options;
    ovs_options.ovs_vsctl = resolveExecutable("ovs-vsctl", path_env ? path_env : "").value_or("");
    ovs_options.bridge = config_.integration_bridge;
    ovs_options.db = config_.ovsdb_connection;
    ovs_ = std::make_unique<ovs::VsctlBridge>(ovs_options, command_runner_);
    observer_ = std::make_unique<reconcile::Observer>(links_, namespaces_, *backend_, ovs_.get());
    applier_ = std::make_unique<reconcile::Applier>(links_, namespaces_, *backend_, sink_, config_.dry_run,
                                                    ovs_.get());

    // Spoke endpoints named by DNS resolve off the reconcile thread; a name whose answer arrives
    // (or changes) later makes the hubs using it sync again.
    resolver_ = std::make_unique<reconcile::EndpointResolver>(
        resolveHostName, reconcile::EndpointResolver::Options{},
        [this](const std::string& name) { loop_->hubsChanged(toVector(reconciler_->nameChanged(name))); });

    reconcile::ReconcilerOptions options;
    options.advertised_address = config_.endpoint;
    options.allow_root_device = config_.allow_root_device;
    options.endpoint_policy = reconcile::EndpointPolicy(config_.denied_endpoint_cidrs);
    options.listen_port_first = config_.listen_port_range.first;
    options.listen_port_last = config_.listen_port_range.last;
    options.ignored_devices.insert(config_.ignored_devices.begin(), config_.ignored_devices.end());
    options.planner.mtu = static_cast<uint32_t>(config_.mtu);
    options.planner.underlay_mtu = static_cast<uint32_t>(config_.underlay_mtu);
    options.planner.underlay_ipv6 = config_.endpoint && config_.endpoint->isV6();
    options.planner.host = config_.host;
    options.ovs_cleanup = !ovs_options.ovs_vsctl.empty();
    reconciler_ = std::make_unique<reconcile::Reconciler>(*server_, *observer_, *applier_, *identities_,
                                                          sink_, options, host_facts_, *resolver_);
    reconcile::LoopOptions loop_options;
    loop_options.polling_interval = std::chrono::seconds(config_.polling_interval);
    loop_options.deep_interval = std::chrono::seconds(config_.deep_resync_interval);
    loop_ = std::make_unique<reconcile::AgentLoop>(*reconciler_, sink_, loop_options);
    loop_observer_ = std::make_unique<MetricsLoopObserver>(*metrics_);
    loop_->setObserver(loop_observer_.get());

    if (config_.peer_read_interval > 0) {
      spoke_status_ = std::make_unique<RpcSpokeStatusApi>(*caller_, config_.host);
      monitor::PeerMonitorOptions monitor_options;
      monitor_options.interval = std::chrono::seconds(config_.peer_read_interval);
      monitor_options.liveness.active_window = std::chrono::seconds(config_.spoke_active_window);
      monitor_options.liveness.report_interval = std::chrono::seconds(config_.spoke_report_interval);
      monitor_options.report_status = !config_.dry_run;
      monitor_options.render_metrics = config_.metrics_bind.has_value();
      monitor_ = std::make_unique<monitor::PeerMonitor>(
          *monitor_backend_, [this] { return reconciler_->realizedHubs(); }, *spoke_status_, monitor_sink_,
          monitor_options, metrics_.get());
    }
    if (config_.metrics_bind) {
      metrics::MetricsServerOptions server_options;
      server_options.address = config_.metrics_bind->address();
      server_options.port = config_.metrics_bind->port();
      metrics_server_ = std::make_unique<metrics::MetricsServer>(server_options, [this] {
        // The agent's health now (a few dozen lines), then the peers as of the last reading.
        auto health = std::make_shared<std::string>();
        metrics_->write(*health, rpc_->reconnects());
        return metrics::Body{std::move(health), monitor_ ? monitor_->peerMetrics() : nullptr};
      });
    }

    rpc::StateReporterOptions reporter_options;
    reporter_options.host = config_.host;
    reporter_options.timeout = milliseconds(static_cast<int64_t>(config_.report_interval * 1000));
    reporter_ = std::make_unique<rpc::StateReporter>(*caller_, reporter_options);
    heartbeat_ = std::make_unique<Heartbeat>(
        *reporter_, milliseconds(static_cast<int64_t>(config_.report_interval * 1000)),
        [this] { return configurations(); }, [this](const std::string& why) { loop_->requestFullSync(why); },
        logging::Log("networking_wireguard.agent"));
    notifications_ = std::make_unique<rpc::HubNotificationConsumer>(
        [this](const std::optional<std::vector<std::string>>& hub_ids) {
          if (hub_ids) {
            loop_->hubsChanged(*hub_ids);
          } else {
            loop_->requestFullSync("a notification without hub IDs");
          }
        });
    return okStatus();
  }

  int run() override {
    // A SIGTERM during start-up makes the steps after it fail on purpose (the RPC client is
    // stopping): that is a clean stop, not a failure.
    if (!prepare()) return stop_requested_.load() ? 0 : 1;
    if (!waitConnected() && !stop_requested_.load()) {
      log_.warning("not connected to RabbitMQ yet; retrying in the background, tunnels are left as they are");
    }
    if (heartbeats() && !stop_requested_.load()) {
      if (Status s = heartbeat_->start(); !s.ok()) {
        log_.error(s.error().message);
        rpc_->stop();
        return 1;
      }
    }
    if (Status s = startObservability(); !s.ok()) {
      log_.error(s.error().message);
      rpc_->stop();
      heartbeat_->stop();
      return 1;
    }
    loop_->run();
    log_.info("stopping: devices and tunnels stay up");
    // The RPC client first: it fails a heartbeat or a spoke report in flight at once, which the
    // joins of their threads need.
    rpc_->stop();
    heartbeat_->stop();
    if (monitor_) monitor_->stop();
    if (metrics_server_) metrics_server_->stop();
    return 0;
  }

  int runOnce() override {
    if (!prepare()) return stop_requested_.load() ? 0 : 1;
    if (!waitConnected()) {
      if (!stop_requested_.load()) log_.error("could not connect to RabbitMQ");
      rpc_->stop();
      return 1;
    }
    if (heartbeats()) heartbeat_->reportNow();
    bool ok = loop_->runOnce();
    rpc_->stop();
    return ok ? 0 : 1;
  }

  // From the signal thread: ends a pass in progress at its next step, fails RPC calls in flight at
  // once (so nothing waits for a broker that is away), and ends run().
  void stop() override {
    stop_requested_.store(true);
    loop_->stop();
    rpc_->stop();
    if (monitor_) monitor_->cancel();  // a reading in progress ends at its next hub
  }

 private:
  bool heartbeats() const { return !config_.dry_run && config_.report_interval > 0; }

  // True once connected; false at rpc_response_timeout or as soon as stop() was called.
  bool waitConnected() {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(config_.rpc_response_timeout);
    while (!stop_requested_.load()) {
      if (rpc_->waitConnected(milliseconds(200))) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return false;
  }

  // The metrics endpoint (a bind that fails stops the agent: an operator asked for it) and the
  // peer monitor's thread.
  Status startObservability() {
    if (metrics_server_) {
      NWG_RETURN_IF_ERROR(metrics_server_->start());
      log_.info("serving Prometheus metrics on http://", config_.metrics_bind->toString(), "/metrics");
    }
    if (monitor_) NWG_RETURN_IF_ERROR(monitor_->start());
    return okStatus();
  }

  nlohmann::json configurations() const {
    auto counts = loop_->counts();
    // "devices" is what Neutron's own agents report; the rest is ours, shown by `network agent show`.
    // endpoint_address lets the driver refuse spoke endpoints that name a network node.
    nlohmann::json c = {{"devices", counts.hubs},
                        {"hubs", counts.hubs},
                        {"peers", counts.peers},
                        {"failed_hubs", counts.failed},
                        {"backend", std::string(backend_->kind())}};
    if (config_.endpoint) c["endpoint_address"] = config_.endpoint->toString();
    return c;
  }

  // Loads the state directory, subscribes to notifications and starts the RPC client.
  bool prepare() {
    log_.info("neutron-wireguard-agent starting: host ", config_.host, ", backend ", backend_->kind(),
              backend_->kind() == "userspace" ? " (" + wireguard_go_ + ")" : std::string(), ", state in ",
              config_.state_path, config_.dry_run ? ", DRY RUN (nothing will be changed)" : "",
              ", config files: ", config_.config_files.empty() ? "(none)" : join(config_.config_files, " "));
    if (Status s = identities_->load(); !s.ok()) {
      log_.error("state directory unusable: ", s.error().message);
      return false;
    }
    for (const auto& [port, why] : identities_->unreadable()) {
      log_.error("hub ", port, ": identity unreadable, the hub will stay down until fixed: ", why);
    }
    if (!config_.endpoint) {
      log_.warning("[wireguard] endpoint is not set: hubs will report no endpoint, spokes must be told it");
    }
    rpc_->onReconnect([this] { loop_->requestFullSync("reconnected to RabbitMQ"); });
    if (Status s = notifications_->subscribe(*rpc_); !s.ok()) {
      if (!stop_requested_.load()) log_.error("cannot subscribe to notifications: ", s.error().message);
      return false;
    }
    if (Status s = rpc_->start(); !s.ok()) {
      log_.error(s.error().message);
      return false;
    }
    return true;
  }

  config::AgentConfig config_;
  std::atomic<bool> stop_requested_{false};
  std::string wireguard_go_;  // [wireguard] wireguard_go resolved through PATH
  logging::Log log_{"networking_wireguard.agent"};
  LogSinkAdapter sink_{logging::Log("networking_wireguard.agent.reconcile")};
  LogSinkAdapter monitor_sink_{logging::Log("networking_wireguard.agent.monitor")};
  LinuxNamespaces namespaces_;
  RtnetlinkLinks links_{namespaces_};
  std::unique_ptr<wg::Backend> backend_;
  std::unique_ptr<wg::Backend> monitor_backend_;
  std::unique_ptr<metrics::AgentMetrics> metrics_;
  std::unique_ptr<reconcile::IdentityStore> identities_;
  std::unique_ptr<rpc::RpcClient> rpc_;
  std::unique_ptr<MeteredCaller> caller_;
  std::unique_ptr<RpcServerApi> server_;
  LinuxHostFacts host_facts_;
  ovs::SpawnRunner command_runner_;
  std::unique_ptr<ovs::OvsBridge> ovs_;
  std::unique_ptr<reconcile::Observer> observer_;
  std::unique_ptr<reconcile::Applier> applier_;
  std::unique_ptr<reconcile::Reconciler> reconciler_;
  std::unique_ptr<reconcile::AgentLoop> loop_;
  std::unique_ptr<MetricsLoopObserver> loop_observer_;
  // After the loop and the reconciler: destroyed before them, so its on_change (which uses both)
  // has ended for good by the time they go.
  std::unique_ptr<reconcile::EndpointResolver> resolver_;
  std::unique_ptr<rpc::StateReporter> reporter_;
  std::unique_ptr<Heartbeat> heartbeat_;
  std::unique_ptr<rpc::HubNotificationConsumer> notifications_;
  // Last: stopped and destroyed first (they read the reconciler, the metrics and the RPC client).
  std::unique_ptr<RpcSpokeStatusApi> spoke_status_;
  std::unique_ptr<monitor::PeerMonitor> monitor_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
};

}  // namespace

Result<std::unique_ptr<Agent>> Agent::create(const config::AgentConfig& config) {
  auto agent = std::make_unique<AgentImpl>(config);
  NWG_RETURN_IF_ERROR(agent->build());
  return std::unique_ptr<Agent>(std::move(agent));
}

}  // namespace nwg::daemon
