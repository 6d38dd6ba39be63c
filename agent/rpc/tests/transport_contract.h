// The contract every AmqpTransport keeps, as a parameterized GoogleTest suite: run against FakeBroker
// (unit) and against RabbitMQ through AmqpConnection (interop, NWG_TEST_TRANSPORT_URL). A behaviour the
// fake gets wrong fails here against the real broker. Names carry a per-test token: the broker is shared.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "rpc/amqp_transport.h"

namespace nwg::rpc::testing {

struct TransportTarget {
  std::string name;  // "fake", "rabbitmq"
  // The factory and the options to open connections with; empty `factory` means "skip" (with `why`).
  std::function<std::shared_ptr<AmqpTransportFactory>()> factory;
  std::function<AmqpConnectOptions()> options;
  std::function<std::string()> unavailable;  // non-empty: why this target cannot run here
};

class TransportContract : public ::testing::TestWithParam<TransportTarget> {
 protected:
  void SetUp() override;
  std::unique_ptr<AmqpTransport> open(size_t max_body_bytes = 64u << 20);
  // Polls `t` (sleeping in poll(2) on its fd) until an event of `kind` arrives, up to 10 s; other events
  // are kept in `seen`.
  AmqpEvent waitFor(AmqpTransport& t, AmqpEvent::Kind kind);
  std::string name(const std::string& what) const;  // unique to this test

  std::shared_ptr<AmqpTransportFactory> factory_;
  ConnectInterrupt interrupt_;  // outlives every transport of the test
  std::vector<AmqpEvent> seen_;
  std::string token_;
};

inline void PrintTo(const TransportTarget& target, std::ostream* out) {
  *out << target.name;
}

inline std::string transportTargetName(const ::testing::TestParamInfo<TransportTarget>& info) {
  return info.param.name;
}

}  // namespace nwg::rpc::testing
