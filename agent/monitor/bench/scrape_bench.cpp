// CPU per /metrics scrape and per reading of the peers, at 100 hubs x 100 spokes and at one hub of
// 10,000 spokes (scripts/bench metrics). A scrape is served from the last reading: it should cost
// about what sending the text costs. Scrapes come from curl (another process) so that the agent's
// CPU time is this process's alone. Reports, asserts nothing.
//
//   bench_metrics_scrape [scrapes per shape, default 50]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "metrics/agent_metrics.h"
#include "metrics/metrics_server.h"
#include "monitor/liveness.h"
#include "monitor/peer_metrics.h"
#include "monitor/peer_reading.h"
#include "wireguard/fake/fake_backend.h"

using namespace nwg;
using Clock = std::chrono::steady_clock;

namespace {

// Every thread of this process (the server's included), not curl's.
double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Key keyOf(int n) {
  std::array<uint8_t, 32> bytes{};
  for (int i = 0; i < 4; ++i) bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  bytes[31] = 0x40;
  return Key(bytes);
}

std::string uuid(unsigned kind, int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-1111-2222-3333-%012d", kind, n);
  return buf;
}

struct Shape {
  const char* name;
  int hubs;
  int spokes;  // per hub
};

// Realized hubs with devices in a fake backend, every other spoke handshaking with traffic.
reconcile::RealizedHubs makeHubs(const Shape& shape, wg::FakeBackend& backend) {
  reconcile::RealizedHubs hubs;
  int spoke = 0;
  for (int h = 0; h < shape.hubs; ++h) {
    auto hub = std::make_shared<reconcile::RealizedHub>();
    hub->port_id = uuid(0xc0ffee00, h);
    hub->project_id = str("9a8b7c6d5e4f40d0a1b2c3d4e5f6", 1000 + h % 10);
    hub->network_id = uuid(0x5f1c0000, h);
    hub->device = {"tun-" + hub->project_id, "wg-" + hub->port_id.substr(0, 11)};
    wg::Device update;
    std::vector<reconcile::RealizedSpoke> spokes;
    for (int s = 0; s < shape.spokes; ++s, ++spoke) {
      auto ip = IpPrefix::parse(str("10.", spoke / 65536, ".", (spoke / 256) % 256, ".", spoke % 256, "/32"));
      spokes.push_back({uuid(0x5b0e0000, spoke), keyOf(spoke), {*ip}});
      wg::Peer p;
      p.public_key = keyOf(spoke);
      p.allowed_ips = {*ip};
      update.peers.push_back(p);
    }
    hub->spokes = reconcile::RealizedSpokes::from(std::move(spokes));
    (void)backend.create(hub->device.ifname, {});
    (void)backend.set(hub->device, update);
    for (int s = 0; s < shape.spokes; s += 2) {
      wg::PeerStats st;
      st.last_handshake_sec = 1766000000 + s;
      st.rx_bytes = 123456789u + static_cast<uint64_t>(s);
      st.tx_bytes = 987654321u;
      backend.setPeerStats(hub->device.ifname, hub->spokes[static_cast<size_t>(s)].public_key, st,
                           Endpoint::parse("203.0.113.7:51820").value());
    }
    hubs.push_back(std::move(hub));
  }
  return hubs;
}

bool curlOnce(uint16_t port) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string url = str("http://127.0.0.1:", port, "/metrics");
    execlp("curl", "curl", "-sf", "-o", "/dev/null", url.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int scrapes = argc > 1 ? std::atoi(argv[1]) : 50;
  std::printf(
      "| shape | peers | exposition | reading: join + liveness + render (CPU) | scrape (agent CPU) p50 / "
      "mean |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const Shape& shape :
       {Shape{"100 hubs x 100 spokes", 100, 100}, Shape{"1 hub x 10,000 spokes", 1, 10000}}) {
    wg::FakeBackend backend;
    auto hubs = makeHubs(shape, backend);
    monitor::PeerMetricsRenderer renderer;
    monitor::LivenessTracker tracker({});
    std::shared_ptr<const std::string> text;
    // A reading as the monitor makes it (the fake's get stands in for the device's: measured
    // against real wireguard-go in the uapi benchmark, ~25-50 ms for 10,000 peers).
    std::vector<double> reading_cpu;
    for (int i = 0; i < 5; ++i) {
      const double c0 = cpuSeconds();
      auto reading = monitor::readPeers(backend, hubs, monitor::WallClock::now());
      auto decision = tracker.decide(reading, Clock::now());
      tracker.reported(decision.reports, Clock::now());
      text = renderer.render(reading);
      reading_cpu.push_back(cpuSeconds() - c0);
    }
    std::sort(reading_cpu.begin(), reading_cpu.end());

    metrics::AgentMetrics health({"bench", "userspace", "0"});
    metrics::MetricsServerOptions options;
    options.port = 0;
    metrics::MetricsServer server(options, [&] {
      auto h = std::make_shared<std::string>();
      health.write(*h, 0);
      return metrics::Body{h, text};
    });
    if (!server.start().ok()) {
      std::fprintf(stderr, "cannot start the metrics server\n");
      return 1;
    }
    curlOnce(server.port());  // warm up
    std::vector<double> cpu;
    for (int i = 0; i < scrapes; ++i) {
      const double c0 = cpuSeconds();
      if (!curlOnce(server.port())) {
        std::fprintf(stderr, "curl failed\n");
        return 1;
      }
      cpu.push_back(cpuSeconds() - c0);
    }
    server.stop();
    std::sort(cpu.begin(), cpu.end());
    double mean = 0;
    for (double c : cpu) mean += c;
    mean /= static_cast<double>(cpu.size());
    std::printf("| %s | %d | %.1f MB | %.1f ms | %.2f / %.2f ms |\n", shape.name, shape.hubs * shape.spokes,
                static_cast<double>(text->size()) / 1e6, reading_cpu[reading_cpu.size() / 2] * 1e3,
                cpu[cpu.size() / 2] * 1e3, mean * 1e3);
  }
  return 0;
}
