// Reports (asserts nothing): calls per second and p50/p99 latency of small sequential calls to a Python
// oslo.messaging server, made by our C++ RpcClient and by a Python oslo.messaging client, in one run.
//   NWG_TEST_TRANSPORT_URL=rabbit://guest:guest@127.0.0.1:5672/<vhost> rpc_call_bench [calls]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../tests/interop/python_peer.h"
#include "config/transport_url.h"
#include "rpc/rpc_client.h"

using namespace std::chrono;
using nwg::rpc::interop::PythonPeer;

int main(int argc, char** argv) {
  const char* url_env = std::getenv("NWG_TEST_TRANSPORT_URL");
  const std::string url = url_env ? url_env : "rabbit://guest:guest@127.0.0.1:5672/";
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  const std::string topic = "nwg-bench-" + std::to_string(::getpid());

  auto server = PythonPeer::spawn({"server", url, topic, "bench"});
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the oslo server: %s\n", server.error().message.c_str());
    return 1;
  }
  auto ready = (*server)->readLine(seconds(60));
  if (!ready.ok() || *ready != "READY") {
    std::fprintf(stderr, "the oslo server did not start\n");
    return 1;
  }

  nwg::rpc::RpcClientOptions o;
  auto parsed = nwg::config::TransportUrl::parse(url);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.error().message.c_str());
    return 1;
  }
  o.transport_url = *parsed;
  o.host = "bench";
  nwg::rpc::RpcClient client(o);
  if (auto started = client.start(); !started.ok()) {
    std::fprintf(stderr, "%s\n", started.error().message.c_str());
    return 1;
  }
  if (!client.waitConnected(seconds(30))) {
    std::fprintf(stderr, "cannot connect to %s\n", parsed->redacted().c_str());
    return 1;
  }
  const nwg::rpc::RpcTarget target(topic, "1.2");
  for (int i = 0; i < 20; ++i) (void)client.call(target, "echo", {{"value", "warm-up"}});

  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(calls));
  int failed = 0;
  const auto t0 = steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    const auto s = steady_clock::now();
    auto r = client.call(target, "echo", {{"value", i}});
    lat.push_back(duration<double, std::milli>(steady_clock::now() - s).count());
    if (!r.ok() || *r != i) ++failed;
  }
  const double total = duration<double>(steady_clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  auto pct = [&lat](double p) {
    return lat[std::min(lat.size() - 1, static_cast<size_t>(static_cast<double>(lat.size()) * p))];
  };
  client.stop();

  auto py = PythonPeer::run({"bench", url, topic, std::to_string(calls)}, seconds(600));
  (*server)->stop();

  std::printf(
      "small sequential calls (echo) to a Python oslo.messaging 14 server over RabbitMQ, %d calls each\n",
      calls);
  std::printf("%-34s %10s %10s %10s\n", "client", "calls/s", "p50 ms", "p99 ms");
  std::printf("%-34s %10.0f %10.3f %10.3f%s\n", "C++ RpcClient (rabbitmq-c)", calls / total, pct(0.50),
              pct(0.99), failed ? " (some calls failed)" : "");
  if (py.ok() && py->contains("p50_ms")) {
    std::printf("%-34s %10.0f %10.3f %10.3f\n", "Python oslo.messaging RPCClient",
                (*py)["calls"].get<double>() / (*py)["seconds"].get<double>(), (*py)["p50_ms"].get<double>(),
                (*py)["p99_ms"].get<double>());
  } else {
    std::printf("Python client failed: %s\n", py.ok() ? py->dump().c_str() : py.error().message.c_str());
  }
  return 0;
}
