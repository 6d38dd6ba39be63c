// Every option of neutron-wireguard-agent (docs/configuration.md), read from oslo.config-style files:
// typically --config-file /etc/neutron/neutron.conf --config-file
// /etc/neutron/plugins/ml2/wireguard_agent.ini. Loading validates every value; an error names the file, the
// section and the option.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "config/command_line.h"
#include "config/config_sources.h"
#include "config/option_reader.h"
#include "config/option_types.h"
#include "config/rabbit_options.h"
#include "config/transport_url.h"

namespace nwg::config {

enum class Backend { kAuto, kKernel, kUserspace };
std::string_view backendName(Backend backend);  // auto | kernel | userspace

// The longest [DEFAULT] host: the agent marks its devices with the alias "networking-wireguard:<host>"
// (docs/agent.md, the ownership mark), and a link alias holds at most 255 bytes.
inline constexpr size_t kMaxHostLength = 255 - 21;

struct AgentConfig {
  // [DEFAULT]
  std::string host;            // default: this machine's hostname
  TransportUrl transport_url;  // default "rabbit://" (guest@localhost:5672)
  std::string control_exchange = "neutron";
  int rpc_response_timeout = 60;  // seconds
  bool debug = false;
  std::string log_file;
  std::string log_dir;
  bool use_stderr = false;

  // [AGENT]
  int polling_interval = 30;      // seconds between full resyncs
  double report_interval = 30.0;  // seconds between report_state heartbeats; 0 disables them
  std::optional<Endpoint> metrics_bind;  // Prometheus /metrics on this address:port; unset: off

  // [wireguard]
  std::optional<IpAddress> endpoint;  // address advertised to spokes; unset: no endpoint reported
  Backend backend = Backend::kAuto;
  std::string state_path = "/var/lib/neutron/wireguard";
  PortRange listen_port_range{51820, 52820};
  std::vector<std::string> ignored_devices;
  bool allow_root_device = false;               // honour root_device hubs (the node's own namespace)
  std::vector<IpPrefix> denied_endpoint_cidrs;  // spoke endpoints the hubs never send to
  bool dry_run = false;
  int deep_resync_interval = 300;  // seconds between full syncs that re-read everything; 0: always
  int mtu = 0;                     // 0: underlay_mtu minus WireGuard's overhead
  int underlay_mtu = 1500;
  std::string wireguard_go = "wireguard-go";
  std::string wireguard_go_memory_limit;  // GOMEMLIMIT for wireguard-go, or "auto"; "" leaves it unset
  int peer_read_interval = 15;            // seconds between readings of every hub's peers; 0: never
  int spoke_active_window = 180;          // a spoke is ACTIVE with a handshake this recent
  int spoke_report_interval = 300;        // a spoke's handshake/endpoint/bytes sent at most this often

  // [ovs] (OVN-routed hubs only: their plug's root end is a port of this bridge)
  std::string integration_bridge = "br-int";
  std::string ovsdb_connection = "unix:/var/run/openvswitch/db.sock";

  // [oslo_messaging_rabbit]
  RabbitOptions rabbit;

  // Command line only.
  bool once = false;
  std::vector<std::string> config_files;  // the files read, in order (for the startup log)

  // Reads the files the command line names (or the default files that exist), applies --debug and
  // --dry-run, validates. `default_host` replaces the hostname lookup (tests).
  static Result<AgentConfig> load(const CommandLine& command_line,
                                  const std::optional<std::string>& default_host = std::nullopt);
  // The same from already parsed files.
  static Result<AgentConfig> fromSources(const ConfigSources& sources, const std::string& default_host);

  // Every registered option with its default (also what substitution like "$state_path" can name).
  static std::vector<OptionSpec> options(const std::string& default_host);
};

// The files a command line names: --config-file paths as given, --config-dir DIR as DIR/*.conf sorted;
// with neither, the default files that exist.
Result<std::vector<std::string>> configFilePaths(const CommandLine& command_line);

// gethostname(), as oslo's default for [DEFAULT] host.
std::string machineHostname();

}  // namespace nwg::config
