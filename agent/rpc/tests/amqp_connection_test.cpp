// AmqpConnection's interruptible waits, against a loopback socket that accepts and then says nothing
// (a broker that hangs in the handshake): stop() must not wait for connect_timeout.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "base/unique_fd.h"
#include "rpc/rpc_client.h"
#include "support/log_capture.h"

namespace nwg::rpc {
namespace {

using namespace std::chrono_literals;

TEST(AmqpConnectionTest, StopEndsALoginToASilentBrokerAtOnce) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);

  testing::LogCapture capture;
  RpcClientOptions o;
  o.transport_url = *config::TransportUrl::parse(
      "rabbit://guest:guest@127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/");
  o.connect_timeout = 30s;  // what stop() must not wait for
  RpcClient client(o, capture.log());
  ASSERT_TRUE(client.start().ok());

  // Its connection arrives and sends the AMQP protocol header; then it waits for connection.start.
  pollfd p{listener.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  char header[8];
  p = pollfd{conn.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  ASSERT_EQ(::read(conn.get(), header, sizeof header), 8);
  EXPECT_EQ(std::string(header, 4), "AMQP");

  const auto t0 = std::chrono::steady_clock::now();
  client.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_FALSE(client.connected());
}

}  // namespace
}  // namespace nwg::rpc
