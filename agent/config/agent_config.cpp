// AgentConfig: the option table (names, groups, deprecated aliases, defaults) and validation.
#include "config/agent_config.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace nwg::config {
namespace {

constexpr const char* kDefault = "DEFAULT";
constexpr const char* kAgent = "AGENT";
constexpr const char* kWireguard = "wireguard";
constexpr const char* kRabbit = "oslo_messaging_rabbit";
constexpr const char* kOvs = "ovs";

const std::vector<std::string> kDefaultConfigFiles = {"/etc/neutron/neutron.conf",
                                                      "/etc/neutron/plugins/ml2/wireguard_agent.ini"};

// Narrowing after a range-checked read.
template <typename T>
Status readInt(const OptionReader& r, const char* group, const char* name, int64_t min, int64_t max, T& out) {
  NWG_ASSIGN_OR_RETURN(int64_t v, r.getInt(group, name, min, max));
  out = static_cast<T>(v);
  return okStatus();
}

// An error about an option whose value passed its type but not a rule of ours.
Error optionError(const OptionReader& r, const char* group, const char* name, std::string_view cause) {
  auto found = r.raw(group, name);
  if (found.ok() && found->has_value()) return OptionReader::valueError(**found, cause);
  return fail("[", group, "] ", name, ": ", cause);
}

}  // namespace

std::string_view backendName(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kKernel:
      return "kernel";
    case Backend::kUserspace:
      return "userspace";
  }
  return "auto";
}

std::string machineHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::vector<OptionSpec> AgentConfig::options(const std::string& default_host) {
  return {
      {kDefault, "host", default_host},
      {kDefault, "transport_url", "rabbit://", {}, /*secret=*/true},
      {kDefault, "control_exchange", "neutron"},
      {kDefault, "rpc_response_timeout", "60"},
      {kDefault, "debug", "false"},
      {kDefault, "log_file", "", {{kDefault, "logfile"}}},
      {kDefault, "log_dir", "", {{kDefault, "logdir"}}},
      {kDefault, "use_stderr", "false"},
      {kAgent, "polling_interval", "30"},
      {kAgent, "report_interval", "30"},
      {kAgent, "metrics_bind", ""},
      {kWireguard, "endpoint", ""},
      {kWireguard, "backend", "auto"},
      {kWireguard, "state_path", "/var/lib/neutron/wireguard"},
      {kWireguard, "listen_port_range", "51820:52820"},
      {kWireguard, "ignored_devices", ""},
      {kWireguard, "allow_root_device", "false"},
      {kWireguard, "denied_endpoint_cidrs", ""},
      {kWireguard, "deep_resync_interval", "300"},
      {kWireguard, "dry_run", "false"},
      {kWireguard, "mtu", "0"},
      {kWireguard, "underlay_mtu", "1500"},
      {kWireguard, "wireguard_go", "wireguard-go"},
      {kWireguard, "wireguard_go_memory_limit", "auto"},
      {kWireguard, "peer_read_interval", "15"},
      {kWireguard, "spoke_active_window", "180"},
      {kWireguard, "spoke_report_interval", "300"},
      {kOvs, "integration_bridge", "br-int"},
      {kOvs, "ovsdb_connection", "unix:/var/run/openvswitch/db.sock"},
      {kRabbit, "ssl", "false", {{kRabbit, "rabbit_use_ssl"}}},
      {kRabbit, "ssl_version", "", {{kRabbit, "kombu_ssl_version"}}},
      {kRabbit, "ssl_key_file", "", {{kRabbit, "kombu_ssl_keyfile"}}},
      {kRabbit, "ssl_cert_file", "", {{kRabbit, "kombu_ssl_certfile"}}},
      {kRabbit, "ssl_ca_file", "", {{kRabbit, "kombu_ssl_ca_certs"}}},
      {kRabbit, "ssl_enforce_hostname_verification", "true"},
      {kRabbit, "ssl_verify_broker_certificate", "true"},
      {kRabbit, "heartbeat_timeout_threshold", "60"},
      {kRabbit, "heartbeat_rate", "2"},
      {kRabbit, "amqp_durable_queues", "false"},
      {kRabbit, "amqp_auto_delete", "false", {{kDefault, "amqp_auto_delete"}}},
      {kRabbit, "rabbit_quorum_queue", "false"},
      {kRabbit, "rabbit_ha_queues", "false", {{kDefault, "rabbit_ha_queues"}}},
      {kRabbit, "rabbit_transient_queues_ttl", "1800"},
      {kRabbit, "rabbit_qos_prefetch_count", "0"},
      {kRabbit, "rabbit_retry_interval", "1"},
      {kRabbit, "rabbit_retry_backoff", "2", {{kDefault, "rabbit_retry_backoff"}}},
      {kRabbit, "rabbit_interval_max", "30"},
      {kRabbit, "kombu_failover_strategy", "round-robin"},
      {kRabbit, "rabbit_login_method", "AMQPLAIN", {{kDefault, "rabbit_login_method"}}},
      {kRabbit, "direct_mandatory_flag", "true"},
  };
}

Result<AgentConfig> AgentConfig::fromSources(const ConfigSources& sources, const std::string& default_host) {
  const OptionReader r(sources, options(default_host));
  AgentConfig c;
  for (const auto& f : sources.files()) c.config_files.push_back(f.path());

  // [DEFAULT]
  NWG_ASSIGN_OR_RETURN(c.host, r.getString(kDefault, "host"));
  c.host = std::string(trim(c.host));
  if (c.host.empty()) return optionError(r, kDefault, "host", "must not be empty");
  // The ownership mark on each device, "networking-wireguard:<host>", must fit a link alias (255 bytes).
  if (c.host.size() > kMaxHostLength) {
    return optionError(r, kDefault, "host", str("is longer than ", kMaxHostLength, " characters"));
  }
  {
    NWG_ASSIGN_OR_RETURN(std::string url, r.getString(kDefault, "transport_url"));
    auto parsed = TransportUrl::parse(url);
    if (!parsed.ok()) return optionError(r, kDefault, "transport_url", parsed.error().message);
    c.transport_url = std::move(parsed).value();
  }
  NWG_ASSIGN_OR_RETURN(c.control_exchange, r.getString(kDefault, "control_exchange"));
  if (trim(c.control_exchange).empty())
    return optionError(r, kDefault, "control_exchange", "must not be empty");
  NWG_RETURN_IF_ERROR(readInt(r, kDefault, "rpc_response_timeout", 1, 86400, c.rpc_response_timeout));
  NWG_ASSIGN_OR_RETURN(c.debug, r.getBool(kDefault, "debug"));
  NWG_ASSIGN_OR_RETURN(c.log_file, r.getString(kDefault, "log_file"));
  NWG_ASSIGN_OR_RETURN(c.log_dir, r.getString(kDefault, "log_dir"));
  NWG_ASSIGN_OR_RETURN(c.use_stderr, r.getBool(kDefault, "use_stderr"));

  // [AGENT]
  NWG_RETURN_IF_ERROR(readInt(r, kAgent, "polling_interval", 1, 86400, c.polling_interval));
  NWG_ASSIGN_OR_RETURN(c.report_interval, r.getFloat(kAgent, "report_interval", 0.0, 86400.0));
  {
    NWG_ASSIGN_OR_RETURN(std::string bind, r.getString(kAgent, "metrics_bind"));
    const std::string_view b = trim(bind);
    if (!b.empty()) {
      auto endpoint = Endpoint::parse(b);
      if (!endpoint.ok() || endpoint->port() == 0) {
        return optionError(r, kAgent, "metrics_bind",
                           str("'", b, "' is not address:port (e.g. 127.0.0.1:9586 or [::1]:9586)"));
      }
      c.metrics_bind = *endpoint;
    }
  }

  // [wireguard]
  {
    NWG_ASSIGN_OR_RETURN(std::string endpoint, r.getString(kWireguard, "endpoint"));
    const std::string_view e = trim(endpoint);
    if (!e.empty()) {
      auto ip = IpAddress::parse(e);
      if (!ip.ok()) {
        return optionError(
            r, kWireguard, "endpoint",
            str("'", e, "' is not an IPv4 or IPv6 address (the address spokes connect to; no port)"));
      }
      c.endpoint = *ip;
    }
  }
  {
    NWG_ASSIGN_OR_RETURN(std::string backend,
                         r.getChoice(kWireguard, "backend", {"auto", "kernel", "userspace"}));
    c.backend = backend == "kernel"      ? Backend::kKernel
                : backend == "userspace" ? Backend::kUserspace
                                         : Backend::kAuto;
  }
  NWG_ASSIGN_OR_RETURN(c.state_path, r.getString(kWireguard, "state_path"));
  if (c.state_path.empty() || c.state_path.front() != '/') {
    return optionError(r, kWireguard, "state_path", str("'", c.state_path, "' is not an absolute path"));
  }
  {
    NWG_ASSIGN_OR_RETURN(std::string range, r.getString(kWireguard, "listen_port_range"));
    auto parsed = parsePortRange(range);
    if (!parsed.ok()) return optionError(r, kWireguard, "listen_port_range", parsed.error().message);
    c.listen_port_range = *parsed;
  }
  NWG_ASSIGN_OR_RETURN(c.ignored_devices, r.getList(kWireguard, "ignored_devices"));
  for (const auto& d : c.ignored_devices) {
    if (d.empty() || d.size() > 15 || d.find_first_of("/ \t\n") != std::string::npos) {
      return optionError(r, kWireguard, "ignored_devices",
                         str("'", d, "' is not an interface name (1 to 15 characters, no '/' or spaces)"));
    }
  }
  NWG_ASSIGN_OR_RETURN(c.allow_root_device, r.getBool(kWireguard, "allow_root_device"));
  {
    NWG_ASSIGN_OR_RETURN(std::vector<std::string> cidrs, r.getList(kWireguard, "denied_endpoint_cidrs"));
    for (const auto& text : cidrs) {
      auto prefix = IpPrefix::parse(text);
      if (!prefix.ok()) {
        return optionError(
            r, kWireguard, "denied_endpoint_cidrs",
            str("'", text, "' is not a CIDR such as 10.0.0.0/8 or fd00::/8 (", prefix.error().message, ")"));
      }
      c.denied_endpoint_cidrs.push_back(prefix->masked());
    }
  }
  NWG_ASSIGN_OR_RETURN(c.dry_run, r.getBool(kWireguard, "dry_run"));
  NWG_RETURN_IF_ERROR(readInt(r, kWireguard, "deep_resync_interval", 0, 86400 * 7, c.deep_resync_interval));
  NWG_RETURN_IF_ERROR(readInt(r, kWireguard, "mtu", 0, 65535, c.mtu));
  if (c.mtu != 0 && c.mtu < 68)
    return optionError(r, kWireguard, "mtu",
                       str(c.mtu, " is below 68, the smallest IPv4 MTU (0 means automatic)"));
  NWG_RETURN_IF_ERROR(readInt(r, kWireguard, "underlay_mtu", 576, 65535, c.underlay_mtu));
  NWG_ASSIGN_OR_RETURN(c.wireguard_go, r.getString(kWireguard, "wireguard_go"));
  if (trim(c.wireguard_go).empty()) return optionError(r, kWireguard, "wireguard_go", "must not be empty");
  {
    NWG_ASSIGN_OR_RETURN(std::string limit, r.getString(kWireguard, "wireguard_go_memory_limit"));
    if (!trim(limit).empty()) {
      auto parsed = parseGoMemoryLimit(limit);
      if (!parsed.ok())
        return optionError(r, kWireguard, "wireguard_go_memory_limit", parsed.error().message);
      c.wireguard_go_memory_limit = *parsed;
    }
  }

  NWG_RETURN_IF_ERROR(readInt(r, kWireguard, "peer_read_interval", 0, 3600, c.peer_read_interval));
  NWG_RETURN_IF_ERROR(readInt(r, kWireguard, "spoke_active_window", 1, 86400, c.spoke_active_window));
  NWG_RETURN_IF_ERROR(readInt(r, kWireguard, "spoke_report_interval", 0, 86400, c.spoke_report_interval));

  // [ovs]
  NWG_ASSIGN_OR_RETURN(c.integration_bridge, r.getString(kOvs, "integration_bridge"));
  c.integration_bridge = std::string(trim(c.integration_bridge));
  // A bridge name is an interface name (the bridge's own internal port): 1..15 characters, and it
  // reaches ovs-vsctl's argv, so nothing an option parser would read.
  if (c.integration_bridge.empty() || c.integration_bridge.size() > 15 ||
      c.integration_bridge.front() == '-' ||
      c.integration_bridge.find_first_of("/ \t\n:") != std::string::npos) {
    return optionError(r, kOvs, "integration_bridge",
                       str("'", c.integration_bridge,
                           "' is not a bridge name (1 to 15 characters, no '/', ':' "
                           "or spaces, not starting with '-')"));
  }
  NWG_ASSIGN_OR_RETURN(c.ovsdb_connection, r.getString(kOvs, "ovsdb_connection"));
  c.ovsdb_connection = std::string(trim(c.ovsdb_connection));
  {
    const std::string& db = c.ovsdb_connection;
    const bool known = startsWith(db, "unix:") || startsWith(db, "tcp:") || startsWith(db, "ssl:");
    if (!known || db.find_first_of(" \t\n") != std::string::npos) {
      return optionError(
          r, kOvs, "ovsdb_connection",
          str("'", db, "' is not an OVSDB connection (unix:PATH, tcp:IP:PORT or ssl:IP:PORT)"));
    }
  }

  // [oslo_messaging_rabbit]
  RabbitOptions& q = c.rabbit;
  NWG_ASSIGN_OR_RETURN(q.ssl, r.getBool(kRabbit, "ssl"));
  NWG_ASSIGN_OR_RETURN(q.ssl_version, r.getChoice(kRabbit, "ssl_version", {"", "TLSv1_2", "SSLv23", "TLS"}));
  if (q.ssl_version == "SSLv23" || q.ssl_version == "TLS") q.ssl_version.clear();  // "negotiate": the default
  NWG_ASSIGN_OR_RETURN(q.ssl_key_file, r.getString(kRabbit, "ssl_key_file"));
  NWG_ASSIGN_OR_RETURN(q.ssl_cert_file, r.getString(kRabbit, "ssl_cert_file"));
  NWG_ASSIGN_OR_RETURN(q.ssl_ca_file, r.getString(kRabbit, "ssl_ca_file"));
  NWG_ASSIGN_OR_RETURN(q.ssl_enforce_hostname_verification,
                       r.getBool(kRabbit, "ssl_enforce_hostname_verification"));
  NWG_ASSIGN_OR_RETURN(q.ssl_verify_broker_certificate, r.getBool(kRabbit, "ssl_verify_broker_certificate"));
  if (q.ssl_cert_file.empty() != q.ssl_key_file.empty()) {
    return optionError(
        r, kRabbit, q.ssl_cert_file.empty() ? "ssl_key_file" : "ssl_cert_file",
        "ssl_cert_file and ssl_key_file must be set together (a client certificate and its key)");
  }
  NWG_RETURN_IF_ERROR(
      readInt(r, kRabbit, "heartbeat_timeout_threshold", 0, 65535, q.heartbeat_timeout_threshold));
  NWG_RETURN_IF_ERROR(readInt(r, kRabbit, "heartbeat_rate", 1, 100, q.heartbeat_rate));
  NWG_ASSIGN_OR_RETURN(q.amqp_durable_queues, r.getBool(kRabbit, "amqp_durable_queues"));
  NWG_ASSIGN_OR_RETURN(q.amqp_auto_delete, r.getBool(kRabbit, "amqp_auto_delete"));
  NWG_ASSIGN_OR_RETURN(q.rabbit_quorum_queue, r.getBool(kRabbit, "rabbit_quorum_queue"));
  NWG_ASSIGN_OR_RETURN(q.rabbit_ha_queues, r.getBool(kRabbit, "rabbit_ha_queues"));
  if (q.rabbit_quorum_queue && q.rabbit_ha_queues) {
    return optionError(
        r, kRabbit, "rabbit_quorum_queue",
        "rabbit_quorum_queue and rabbit_ha_queues cannot both be enabled (a queue is quorum or mirrored)");
  }
  NWG_RETURN_IF_ERROR(
      readInt(r, kRabbit, "rabbit_transient_queues_ttl", 1, 2147483, q.rabbit_transient_queues_ttl));
  NWG_RETURN_IF_ERROR(
      readInt(r, kRabbit, "rabbit_qos_prefetch_count", 0, 65535, q.rabbit_qos_prefetch_count));
  NWG_RETURN_IF_ERROR(readInt(r, kRabbit, "rabbit_retry_interval", 0, 3600, q.rabbit_retry_interval));
  NWG_RETURN_IF_ERROR(readInt(r, kRabbit, "rabbit_retry_backoff", 0, 3600, q.rabbit_retry_backoff));
  NWG_RETURN_IF_ERROR(readInt(r, kRabbit, "rabbit_interval_max", 1, 3600, q.rabbit_interval_max));
  NWG_ASSIGN_OR_RETURN(q.kombu_failover_strategy,
                       r.getChoice(kRabbit, "kombu_failover_strategy", {"round-robin", "shuffle"}));
  NWG_ASSIGN_OR_RETURN(
      q.rabbit_login_method,
      r.getChoice(kRabbit, "rabbit_login_method", {"PLAIN", "AMQPLAIN", "EXTERNAL", "RABBIT-CR-DEMO"}));
  if (q.rabbit_login_method == "RABBIT-CR-DEMO") {
    return optionError(r, kRabbit, "rabbit_login_method",
                       "RABBIT-CR-DEMO is not supported (use PLAIN, AMQPLAIN or EXTERNAL)");
  }
  if (q.rabbit_login_method == "EXTERNAL" && (!q.ssl || q.ssl_cert_file.empty())) {
    return optionError(r, kRabbit, "rabbit_login_method",
                       "EXTERNAL needs ssl = true and a client certificate (ssl_cert_file, ssl_key_file)");
  }
  NWG_ASSIGN_OR_RETURN(q.direct_mandatory_flag, r.getBool(kRabbit, "direct_mandatory_flag"));
  return c;
}

Result<std::vector<std::string>> configFilePaths(const CommandLine& command_line) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  if (command_line.config.empty()) {
    for (const auto& p : kDefaultConfigFiles) {
      std::error_code ec;
      if (fs::is_regular_file(p, ec)) paths.push_back(p);
    }
    return paths;
  }
  for (const auto& loc : command_line.config) {
    if (loc.kind == ConfigLocation::Kind::kFile) {
      paths.push_back(loc.path);
      continue;
    }
    std::error_code ec;
    if (!fs::is_directory(loc.path, ec)) return fail("--config-dir ", loc.path, ": not a readable directory");
    std::vector<std::string> found;
    for (fs::directory_iterator it(loc.path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".conf" && it->is_regular_file()) found.push_back(it->path().string());
    }
    if (ec) return Error::fromErrno(ec.value(), str("--config-dir ", loc.path));
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  }
  return paths;
}

Result<AgentConfig> AgentConfig::load(const CommandLine& command_line,
                                      const std::optional<std::string>& default_host) {
  NWG_ASSIGN_OR_RETURN(std::vector<std::string> paths, configFilePaths(command_line));
  NWG_ASSIGN_OR_RETURN(ConfigSources sources, ConfigSources::load(paths));
  NWG_ASSIGN_OR_RETURN(AgentConfig c, fromSources(sources, default_host ? *default_host : machineHostname()));
  if (command_line.debug) c.debug = true;
  if (command_line.dry_run) c.dry_run = true;
  c.once = command_line.once;
  return c;
}

}  // namespace nwg::config
