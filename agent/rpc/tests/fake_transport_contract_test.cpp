// The AmqpTransport contract against FakeBroker (unit); interop/ runs it against RabbitMQ.
#include "rpc/testing/fake_broker.h"
#include "transport_contract.h"

namespace nwg::rpc::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Fake, TransportContract,
                         ::testing::Values(TransportTarget{"fake",
                                                           [] { return FakeBroker::create()->factory(); },
                                                           [] {
                                                             AmqpConnectOptions o;
                                                             o.host = "fake";
                                                             return o;
                                                           },
                                                           nullptr}),
                         transportTargetName);

}  // namespace
}  // namespace nwg::rpc::testing
