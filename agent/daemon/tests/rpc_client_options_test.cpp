// The daemon's mapping of the agent's configuration to the RPC client's options.
#include "daemon/rpc_client_options.h"

#include <gtest/gtest.h>

namespace nwg::daemon {
namespace {

TEST(RpcClientOptionsTest, TakesTheTransportTheHostAndTheRabbitOptionsFromTheConfiguration) {
  config::AgentConfig c;
  c.transport_url = *config::TransportUrl::parse("rabbit://u:p@broker-1:5671,u:p@broker-2/neutron");
  c.control_exchange = "openstack";
  c.host = "net-1";
  c.rpc_response_timeout = 42;
  c.rabbit.ssl = true;
  c.rabbit.ssl_ca_file = "/etc/ssl/rabbit-ca.pem";
  c.rabbit.rabbit_retry_backoff = 5;
  const rpc::RpcClientOptions o = rpcClientOptions(c);
  ASSERT_EQ(o.transport_url.hosts().size(), 2u);
  EXPECT_EQ(o.transport_url.hosts()[0].host, "broker-1");
  EXPECT_EQ(o.transport_url.virtualHost(), "neutron");
  EXPECT_EQ(o.control_exchange, "openstack");
  EXPECT_EQ(o.host, "net-1");
  EXPECT_EQ(o.default_timeout, std::chrono::seconds(42));
  EXPECT_TRUE(o.rabbit.ssl);
  EXPECT_EQ(o.rabbit.ssl_ca_file, "/etc/ssl/rabbit-ca.pem");
  EXPECT_TRUE(o.rabbit.ssl_verify_broker_certificate);
  EXPECT_EQ(o.rabbit.rabbit_retry_backoff, 5);
  EXPECT_EQ(o.program, "neutron-wireguard-agent");
}

}  // namespace
}  // namespace nwg::daemon
