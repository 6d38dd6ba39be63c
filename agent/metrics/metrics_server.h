// The agent's HTTP endpoint for Prometheus: GET /metrics, text exposition format, served by
// cpp-httplib (Debian's libcpp-httplib) on [AGENT] metrics_bind. Off unless configured: the metrics
// name tenants' port IDs and public keys, so the endpoint belongs on a management address
// (docs/security.md).
//
// A scrape must stay cheap at 10,000 peers: the body is a list of parts the caller has rendered
// already (the per-peer part once per reading of the devices, not per request), sent as they are,
// uncompressed (gzip of ~10 MB per scrape would cost more CPU than the rest of the agent).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/ip.h"
#include "base/result.h"

namespace httplib {
class Server;
}

namespace nwg::metrics {

// What one scrape sends, in order.
using Body = std::vector<std::shared_ptr<const std::string>>;

struct MetricsServerOptions {
  IpAddress address = IpAddress::v4({127, 0, 0, 1});
  uint16_t port = 9586;  // 0: any free port (tests; see port())
  // Threads that answer requests. Prometheus scrapes one at a time; a second thread keeps a slow
  // client from holding up the next scrape.
  size_t threads = 2;
};

class MetricsServer {
 public:
  using Render = std::function<Body()>;

  MetricsServer(MetricsServerOptions options, Render render);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds (an error names the address: in use, not this host's) and starts serving on a thread.
  Status start();
  // Stops accepting and waits for the serving thread; requests in progress end first.
  void stop();

  // The port bound (the configured one, or the one the kernel chose for 0).
  uint16_t port() const { return port_; }

 private:
  MetricsServerOptions options_;
  Render render_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listening_ended_{false};
  uint16_t port_ = 0;
};

}  // namespace nwg::metrics
