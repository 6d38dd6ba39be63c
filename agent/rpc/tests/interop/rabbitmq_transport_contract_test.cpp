// The AmqpTransport contract against RabbitMQ (AmqpConnection), on NWG_TEST_TRANSPORT_URL's vhost.
#include "config/transport_url.h"
#include "rpc/amqp_connection.h"
#include "testing/testing.h"
#include "transport_contract.h"

namespace nwg::rpc::testing {
namespace {

AmqpConnectOptions fromEnvironment() {
  AmqpConnectOptions o;
  auto url = config::TransportUrl::parse(nwg::testing::env("NWG_TEST_TRANSPORT_URL"));
  if (!url.ok() || url->hosts().empty()) return o;
  const auto& h = url->hosts()[0];
  o.host = h.host;
  o.port = h.portOr(5672);
  o.username = h.username;
  o.password = h.password;
  o.vhost = url->virtualHost();
  return o;
}

INSTANTIATE_TEST_SUITE_P(RabbitMQ, TransportContract,
                         ::testing::Values(TransportTarget{
                             "rabbitmq", [] { return std::make_shared<AmqpConnectionFactory>(); },
                             fromEnvironment,
                             [] {
                               return nwg::testing::env("NWG_TEST_TRANSPORT_URL").empty()
                                          ? std::string("NWG_TEST_TRANSPORT_URL (a RabbitMQ vhost URL)")
                                          : std::string();
                             }}),
                         transportTargetName);

}  // namespace
}  // namespace nwg::rpc::testing
