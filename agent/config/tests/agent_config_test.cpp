// AgentConfig: every option, its default, its validation; errors name file, section and option.
#include "config/agent_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>

namespace nwg::config {
namespace {

namespace fs = std::filesystem;

Result<AgentConfig> fromText(std::string_view text,
                             std::string path = "/etc/neutron/plugins/ml2/wireguard_agent.ini") {
  auto f = IniFile::parse(text, std::move(path));
  if (!f.ok()) return std::move(f).error();
  ConfigSources sources;
  sources.add(std::move(f).value());
  return AgentConfig::fromSources(sources, "node-1");
}

TEST(AgentConfigTest, DefaultsMatchTheDocumentation) {
  auto c = AgentConfig::fromSources(ConfigSources(), "node-1");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "node-1");
  EXPECT_EQ(c->transport_url.hosts()[0].host, "localhost");
  EXPECT_EQ(c->control_exchange, "neutron");
  EXPECT_EQ(c->rpc_response_timeout, 60);
  EXPECT_FALSE(c->debug);
  EXPECT_EQ(c->log_file, "");
  EXPECT_EQ(c->log_dir, "");
  EXPECT_FALSE(c->use_stderr);
  EXPECT_EQ(c->polling_interval, 30);
  EXPECT_DOUBLE_EQ(c->report_interval, 30.0);
  EXPECT_FALSE(c->endpoint.has_value());
  EXPECT_EQ(c->backend, Backend::kAuto);
  EXPECT_EQ(c->state_path, "/var/lib/neutron/wireguard");
  EXPECT_EQ(c->listen_port_range, (PortRange{51820, 52820}));
  EXPECT_TRUE(c->ignored_devices.empty());
  EXPECT_FALSE(c->allow_root_device);
  EXPECT_TRUE(c->denied_endpoint_cidrs.empty());
  EXPECT_FALSE(c->dry_run);
  EXPECT_EQ(c->deep_resync_interval, 300);
  EXPECT_EQ(c->mtu, 0);
  EXPECT_EQ(c->underlay_mtu, 1500);
  EXPECT_EQ(c->wireguard_go, "wireguard-go");
  EXPECT_EQ(c->wireguard_go_memory_limit, "auto");
  EXPECT_EQ(c->integration_bridge, "br-int");
  EXPECT_EQ(c->ovsdb_connection, "unix:/var/run/openvswitch/db.sock");
  EXPECT_FALSE(c->metrics_bind.has_value());  // metrics are off unless an operator chooses where
  EXPECT_EQ(c->peer_read_interval, 15);
  EXPECT_EQ(c->spoke_active_window, 180);
  EXPECT_EQ(c->spoke_report_interval, 300);
  const RabbitOptions d;
  EXPECT_EQ(c->rabbit.heartbeat_timeout_threshold, 60);
  EXPECT_EQ(c->rabbit.heartbeat_rate, d.heartbeat_rate);
  EXPECT_FALSE(c->rabbit.ssl);
  EXPECT_TRUE(c->rabbit.ssl_verify_broker_certificate);      // TLS verifies the broker by default,
  EXPECT_TRUE(c->rabbit.ssl_enforce_hostname_verification);  // its name too (oslo's default is false)
  EXPECT_FALSE(c->rabbit.amqp_durable_queues);
  EXPECT_FALSE(c->rabbit.amqp_auto_delete);
  EXPECT_FALSE(c->rabbit.rabbit_quorum_queue);
  EXPECT_EQ(c->rabbit.rabbit_transient_queues_ttl, 1800);
  EXPECT_EQ(c->rabbit.rabbit_retry_interval, 1);
  EXPECT_EQ(c->rabbit.rabbit_retry_backoff, 2);
  EXPECT_EQ(c->rabbit.rabbit_interval_max, 30);
  EXPECT_EQ(c->rabbit.kombu_failover_strategy, "round-robin");
  EXPECT_EQ(c->rabbit.rabbit_login_method, "AMQPLAIN");
  EXPECT_TRUE(c->rabbit.direct_mandatory_flag);
}

TEST(AgentConfigTest, ReadsEveryOption) {
  auto c = fromText(R"([DEFAULT]
host = net-node-7
transport_url = rabbit://neutron:pw@10.0.0.1:5672,neutron:pw@10.0.0.2:5672/neutron
control_exchange = neutron2
rpc_response_timeout = 90
debug = True
log_dir = /var/log/neutron
log_file = wg.log
use_stderr = yes

[agent]
polling_interval = 15
report_interval = 7.5

[wireguard]
endpoint = 2001:db8::7
backend = userspace
state_path = /srv/wg
listen_port_range = 40000:40100
ignored_devices = wg0, wg-manual,
  wg-extra
allow_root_device = true
denied_endpoint_cidrs = 10.0.0.0/8, fd00::1/8
dry_run = on
deep_resync_interval = 0
mtu = 1380
underlay_mtu = 9000
wireguard_go = /usr/local/bin/wireguard-go
wireguard_go_memory_limit = 256MiB

[oslo_messaging_rabbit]
ssl = true
ssl_ca_file = /etc/ssl/ca.pem
ssl_cert_file = /etc/ssl/c.pem
ssl_key_file = /etc/ssl/c.key
ssl_version = TLSv1_2
ssl_enforce_hostname_verification = true
ssl_verify_broker_certificate = false
heartbeat_timeout_threshold = 20
heartbeat_rate = 3
amqp_durable_queues = true
amqp_auto_delete = true
rabbit_quorum_queue = true
rabbit_transient_queues_ttl = 600
rabbit_qos_prefetch_count = 10
rabbit_retry_interval = 2
rabbit_retry_backoff = 3
rabbit_interval_max = 10
kombu_failover_strategy = shuffle
rabbit_login_method = PLAIN
direct_mandatory_flag = false
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "net-node-7");
  ASSERT_EQ(c->transport_url.hosts().size(), 2u);
  EXPECT_EQ(c->transport_url.virtualHost(), "neutron");
  EXPECT_EQ(c->control_exchange, "neutron2");
  EXPECT_EQ(c->rpc_response_timeout, 90);
  EXPECT_TRUE(c->debug);
  EXPECT_EQ(c->log_dir, "/var/log/neutron");
  EXPECT_EQ(c->log_file, "wg.log");
  EXPECT_TRUE(c->use_stderr);
  EXPECT_EQ(c->polling_interval, 15);
  EXPECT_DOUBLE_EQ(c->report_interval, 7.5);
  ASSERT_TRUE(c->endpoint.has_value());
  EXPECT_EQ(c->endpoint->toString(), "2001:db8::7");
  EXPECT_EQ(c->backend, Backend::kUserspace);
  EXPECT_EQ(c->state_path, "/srv/wg");
  EXPECT_EQ(c->listen_port_range, (PortRange{40000, 40100}));
  EXPECT_EQ(c->ignored_devices, (std::vector<std::string>{"wg0", "wg-manual", "wg-extra"}));
  EXPECT_TRUE(c->allow_root_device);
  EXPECT_EQ(join(c->denied_endpoint_cidrs, ","), "10.0.0.0/8,fd00::/8");  // host bits cleared
  EXPECT_TRUE(c->dry_run);
  EXPECT_EQ(c->deep_resync_interval, 0);
  EXPECT_EQ(c->mtu, 1380);
  EXPECT_EQ(c->underlay_mtu, 9000);
  EXPECT_EQ(c->wireguard_go, "/usr/local/bin/wireguard-go");
  EXPECT_EQ(c->wireguard_go_memory_limit, "256MiB");
  const RabbitOptions& q = c->rabbit;
  EXPECT_TRUE(q.ssl);
  EXPECT_EQ(q.ssl_ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(q.ssl_cert_file, "/etc/ssl/c.pem");
  EXPECT_EQ(q.ssl_key_file, "/etc/ssl/c.key");
  EXPECT_EQ(q.ssl_version, "TLSv1_2");
  EXPECT_TRUE(q.ssl_enforce_hostname_verification);
  EXPECT_FALSE(q.ssl_verify_broker_certificate);
  EXPECT_EQ(q.heartbeat_timeout_threshold, 20);
  EXPECT_EQ(q.heartbeat_rate, 3);
  EXPECT_TRUE(q.amqp_durable_queues);
  EXPECT_TRUE(q.amqp_auto_delete);
  EXPECT_TRUE(q.rabbit_quorum_queue);
  EXPECT_TRUE(q.durable());
  EXPECT_EQ(q.rabbit_transient_queues_ttl, 600);
  EXPECT_EQ(q.rabbit_qos_prefetch_count, 10);
  EXPECT_EQ(q.rabbit_retry_interval, 2);
  EXPECT_EQ(q.rabbit_retry_backoff, 3);
  EXPECT_EQ(q.rabbit_interval_max, 10);
  EXPECT_EQ(q.kombu_failover_strategy, "shuffle");
  EXPECT_EQ(q.rabbit_login_method, "PLAIN");
  EXPECT_FALSE(q.direct_mandatory_flag);
}

TEST(AgentConfigTest, MetricsAndLiveness) {
  auto c = fromText(
      "[AGENT]\nmetrics_bind = [::1]:9586\n[wireguard]\npeer_read_interval = 0\nspoke_active_window = 10\n"
      "spoke_report_interval = 60\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->metrics_bind.has_value());
  EXPECT_EQ(c->metrics_bind->toString(), "[::1]:9586");
  EXPECT_EQ(c->peer_read_interval, 0);
  EXPECT_EQ(c->spoke_active_window, 10);
  EXPECT_EQ(c->spoke_report_interval, 60);
  auto v4 = fromText("[AGENT]\nmetrics_bind = 10.0.0.5:9586\n");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->metrics_bind->toString(), "10.0.0.5:9586");
}

TEST(AgentConfigTest, Ipv4EndpointAndKernelBackend) {
  auto c = fromText("[wireguard]\nendpoint = 203.0.113.10\nbackend = kernel\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->endpoint->toString(), "203.0.113.10");
  EXPECT_EQ(c->backend, Backend::kKernel);
}

TEST(AgentConfigTest, DeprecatedRabbitOptionsStillWork) {
  auto c = fromText(
      "[DEFAULT]\namqp_auto_delete = true\nrabbit_retry_backoff = 5\n"
      "[oslo_messaging_rabbit]\nrabbit_use_ssl = true\nkombu_ssl_ca_certs = /ca.pem\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->rabbit.amqp_auto_delete);
  EXPECT_EQ(c->rabbit.rabbit_retry_backoff, 5);
  EXPECT_TRUE(c->rabbit.ssl);
  EXPECT_EQ(c->rabbit.ssl_ca_file, "/ca.pem");
}

TEST(AgentConfigTest, UnknownOptionsAndSectionsAreIgnored) {
  auto c = fromText(
      "[DEFAULT]\ncore_plugin = ml2\n[database]\nconnection = mysql://x\n[wireguard]\nfuture_option = 1\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
}

// That the ownership mark of the longest host fits a link alias: reconcile's planner_test (OwnerAlias).
TEST(AgentConfigTest, TheLongestHostIsAccepted) {
  auto c = fromText("[DEFAULT]\nhost = " + std::string(kMaxHostLength, 'h') + "\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host.size(), kMaxHostLength);
}

TEST(AgentConfigTest, EveryBadValueNamesFileSectionAndOption) {
  const std::string file = "/etc/neutron/plugins/ml2/wireguard_agent.ini";
  struct Case {
    std::string text;
    std::string prefix;  // "<file>: [<section>] <option>: "
  } cases[] = {
      {"[DEFAULT]\nhost =\n", "[DEFAULT] host: "},
      {"[DEFAULT]\nhost = " + std::string(kMaxHostLength + 1, 'h') + "\n", "[DEFAULT] host: "},
      {"[DEFAULT]\ntransport_url = amqp://u:pw@h/\n", "[DEFAULT] transport_url: "},
      {"[DEFAULT]\ncontrol_exchange =\n", "[DEFAULT] control_exchange: "},
      {"[DEFAULT]\nrpc_response_timeout = 0\n", "[DEFAULT] rpc_response_timeout: "},
      {"[DEFAULT]\nrpc_response_timeout = soon\n", "[DEFAULT] rpc_response_timeout: "},
      {"[DEFAULT]\ndebug = loud\n", "[DEFAULT] debug: "},
      {"[DEFAULT]\nuse_stderr = 2\n", "[DEFAULT] use_stderr: "},
      {"[AGENT]\npolling_interval = 0\n", "[AGENT] polling_interval: "},
      {"[AGENT]\nreport_interval = -1\n", "[AGENT] report_interval: "},
      {"[AGENT]\nreport_interval = often\n", "[AGENT] report_interval: "},
      {"[AGENT]\nmetrics_bind = 9586\n", "[AGENT] metrics_bind: "},
      {"[AGENT]\nmetrics_bind = localhost:9586\n", "[AGENT] metrics_bind: "},
      {"[AGENT]\nmetrics_bind = ::1:9586\n", "[AGENT] metrics_bind: "},
      {"[wireguard]\npeer_read_interval = -1\n", "[wireguard] peer_read_interval: "},
      {"[wireguard]\nspoke_active_window = 0\n", "[wireguard] spoke_active_window: "},
      {"[wireguard]\nspoke_report_interval = hourly\n", "[wireguard] spoke_report_interval: "},
      {"[wireguard]\nendpoint = wg.example.com\n", "[wireguard] endpoint: "},
      {"[wireguard]\nendpoint = 203.0.113.1:51820\n", "[wireguard] endpoint: "},
      {"[wireguard]\nbackend = magic\n", "[wireguard] backend: "},
      {"[wireguard]\nstate_path = relative/path\n", "[wireguard] state_path: "},
      {"[wireguard]\nlisten_port_range = 52820:51820\n", "[wireguard] listen_port_range: "},
      {"[wireguard]\nlisten_port_range = 51820\n", "[wireguard] listen_port_range: "},
      {"[wireguard]\nignored_devices = wg0,averyveryverylongname\n", "[wireguard] ignored_devices: "},
      {"[wireguard]\ndry_run = perhaps\n", "[wireguard] dry_run: "},
      {"[wireguard]\nallow_root_device = sometimes\n", "[wireguard] allow_root_device: "},
      {"[wireguard]\ndenied_endpoint_cidrs = 10.0.0.0/33\n", "[wireguard] denied_endpoint_cidrs: "},
      {"[wireguard]\ndenied_endpoint_cidrs = example.com\n", "[wireguard] denied_endpoint_cidrs: "},
      {"[wireguard]\nmtu = 40\n", "[wireguard] mtu: "},
      {"[wireguard]\nmtu = 70000\n", "[wireguard] mtu: "},
      {"[wireguard]\nunderlay_mtu = 100\n", "[wireguard] underlay_mtu: "},
      {"[wireguard]\nwireguard_go =\n", "[wireguard] wireguard_go: "},
      {"[wireguard]\nwireguard_go_memory_limit = 512MB\n", "[wireguard] wireguard_go_memory_limit: "},
      {"[ovs]\nintegration_bridge =\n", "[ovs] integration_bridge: "},
      {"[ovs]\nintegration_bridge = --help\n", "[ovs] integration_bridge: "},
      {"[ovs]\nintegration_bridge = br-int-but-far-too-long\n", "[ovs] integration_bridge: "},
      {"[ovs]\novsdb_connection = /var/run/openvswitch/db.sock\n", "[ovs] ovsdb_connection: "},
      {"[ovs]\novsdb_connection =\n", "[ovs] ovsdb_connection: "},
      {"[oslo_messaging_rabbit]\nssl = maybe\n", "[oslo_messaging_rabbit] ssl: "},
      {"[oslo_messaging_rabbit]\nssl_version = SSLv3\n", "[oslo_messaging_rabbit] ssl_version: "},
      {"[oslo_messaging_rabbit]\nssl_cert_file = /c.pem\n", "[oslo_messaging_rabbit] ssl_cert_file: "},
      {"[oslo_messaging_rabbit]\nheartbeat_timeout_threshold = -5\n",
       "[oslo_messaging_rabbit] heartbeat_timeout_threshold: "},
      {"[oslo_messaging_rabbit]\nheartbeat_rate = 0\n", "[oslo_messaging_rabbit] heartbeat_rate: "},
      {"[oslo_messaging_rabbit]\namqp_durable_queues = x\n", "[oslo_messaging_rabbit] amqp_durable_queues: "},
      {"[oslo_messaging_rabbit]\namqp_auto_delete = x\n", "[oslo_messaging_rabbit] amqp_auto_delete: "},
      {"[oslo_messaging_rabbit]\nrabbit_quorum_queue = x\n", "[oslo_messaging_rabbit] rabbit_quorum_queue: "},
      {"[oslo_messaging_rabbit]\nrabbit_quorum_queue = true\nrabbit_ha_queues = true\n",
       "[oslo_messaging_rabbit] rabbit_quorum_queue: "},
      {"[oslo_messaging_rabbit]\nrabbit_transient_queues_ttl = 0\n",
       "[oslo_messaging_rabbit] rabbit_transient_queues_ttl: "},
      {"[oslo_messaging_rabbit]\nrabbit_qos_prefetch_count = -1\n",
       "[oslo_messaging_rabbit] rabbit_qos_prefetch_count: "},
      {"[oslo_messaging_rabbit]\nrabbit_retry_interval = x\n",
       "[oslo_messaging_rabbit] rabbit_retry_interval: "},
      {"[oslo_messaging_rabbit]\nrabbit_retry_backoff = -1\n",
       "[oslo_messaging_rabbit] rabbit_retry_backoff: "},
      {"[oslo_messaging_rabbit]\nrabbit_interval_max = 0\n", "[oslo_messaging_rabbit] rabbit_interval_max: "},
      {"[oslo_messaging_rabbit]\nkombu_failover_strategy = random\n",
       "[oslo_messaging_rabbit] kombu_failover_strategy: "},
      {"[oslo_messaging_rabbit]\nrabbit_login_method = RABBIT-CR-DEMO\n",
       "[oslo_messaging_rabbit] rabbit_login_method: "},
      {"[oslo_messaging_rabbit]\nrabbit_login_method = EXTERNAL\n",
       "[oslo_messaging_rabbit] rabbit_login_method: "},
      {"[oslo_messaging_rabbit]\ndirect_mandatory_flag = x\n",
       "[oslo_messaging_rabbit] direct_mandatory_flag: "},
  };
  for (const auto& c : cases) {
    auto r = fromText(c.text, file);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().message.rfind(file + ": " + c.prefix, 0), 0u)
        << c.text << "\n -> " << r.error().message;
  }
}

TEST(AgentConfigTest, TransportUrlErrorsNeverShowThePassword) {
  auto r = fromText("[DEFAULT]\ntransport_url = rabbit://neutron:Sup3rS3cret@host:badport/\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("Sup3rS3cret"), std::string::npos) << r.error().message;
}

class AgentConfigFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nwg-config-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "conf.d");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(AgentConfigFilesTest, LaterFilesOverrideEarlierAndCommandLineFlagsWin) {
  const std::string neutron =
      write("neutron.conf", "[DEFAULT]\nhost = a\ndebug = false\n[AGENT]\nreport_interval = 10\n");
  const std::string agent =
      write("wireguard_agent.ini", "[DEFAULT]\nhost = b\n[wireguard]\ndry_run = false\n");
  write("conf.d/20-late.conf", "[AGENT]\npolling_interval = 7\n");
  write("conf.d/10-early.conf", "[AGENT]\npolling_interval = 3\nreport_interval = 4\n");
  write("conf.d/ignored.txt", "[AGENT]\npolling_interval = garbage\n");
  auto cl = CommandLine::parse({"--config-file", neutron, "--config-file", agent, "--config-dir",
                                (dir_ / "conf.d").string(), "--debug", "--dry-run", "--once"});
  ASSERT_TRUE(cl.ok());
  auto c = AgentConfig::load(*cl, "fallback");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "b");
  EXPECT_EQ(c->polling_interval, 7);
  EXPECT_DOUBLE_EQ(c->report_interval, 4);
  EXPECT_TRUE(c->debug);
  EXPECT_TRUE(c->dry_run);
  EXPECT_TRUE(c->once);
  ASSERT_EQ(c->config_files.size(), 4u);
  EXPECT_EQ(c->config_files[0], neutron);
  EXPECT_NE(c->config_files[2].find("10-early.conf"), std::string::npos);
}

TEST_F(AgentConfigFilesTest, MissingFileAndBadDirectoryAreErrorsNamingThem) {
  auto c = AgentConfig::load(*CommandLine::parse({"--config-file", (dir_ / "nope.ini").string()}), "h");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("nope.ini"), std::string::npos);
  auto d = AgentConfig::load(*CommandLine::parse({"--config-dir", (dir_ / "nodir").string()}), "h");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("nodir"), std::string::npos);
}

TEST_F(AgentConfigFilesTest, SyntaxErrorNamesFileAndLine) {
  const std::string bad = write("bad.ini", "[DEFAULT]\nhost = x\n[wireguard\n");
  auto c = AgentConfig::load(*CommandLine::parse({"--config-file", bad}), "h");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, bad + ":3: section header is missing its closing ']'");
}

TEST(AgentConfigSampleTest, ShippedSampleLoadsAndMatchesTheDefaults) {
  auto file = IniFile::load(NWG_SAMPLE_CONFIG);
  ASSERT_TRUE(file.ok()) << file.error().message;
  // Every option is in the sample, commented out with its default: uncommenting "#name = value" lines
  // must give exactly the built-in defaults.
  auto text = [] {
    std::ifstream in(NWG_SAMPLE_CONFIG);
    std::string all, line;
    while (std::getline(in, line)) {
      // "#name = value" (no space after '#') is a commented-out option; "# text" is prose.
      if (line.size() > 1 && line[0] == '#' && std::islower(static_cast<unsigned char>(line[1])) &&
          line.find(" =") != std::string::npos) {
        line = line.substr(1);
      }
      all += line + "\n";
    }
    return all;
  }();
  auto uncommented = IniFile::parse(text, "sample");
  ASSERT_TRUE(uncommented.ok()) << uncommented.error().message;
  ConfigSources sources;
  sources.add(std::move(uncommented).value());
  for (const auto& spec : AgentConfig::options("node-1")) {
    if (spec.name == "host") continue;  // the sample cannot know the hostname
    auto v = sources.find(spec.group, spec.name);
    ASSERT_TRUE(v.has_value()) << "the sample does not document [" << spec.group << "] " << spec.name;
    EXPECT_EQ(v->value, spec.default_value) << "[" << spec.group << "] " << spec.name;
  }
  auto c = AgentConfig::fromSources(sources, "node-1");
  ASSERT_TRUE(c.ok()) << c.error().message;
}

}  // namespace
}  // namespace nwg::config

namespace nwg::config {
namespace {

TEST(AgentConfigOvs, IntegrationBridgeAndOvsdbConnectionAreRead) {
  auto f = IniFile::parse("[ovs]\nintegration_bridge = br-tun0\novsdb_connection = tcp:127.0.0.1:6640\n",
                          "ovs.ini");
  ASSERT_TRUE(f.ok()) << f.error().message;
  ConfigSources sources;
  sources.add(std::move(f).value());
  auto c = AgentConfig::fromSources(sources, "node-1");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->integration_bridge, "br-tun0");
  EXPECT_EQ(c->ovsdb_connection, "tcp:127.0.0.1:6640");
}

}  // namespace
}  // namespace nwg::config
