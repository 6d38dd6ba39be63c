// The cost of an idle full sync: N hubs × M spokes realized on this host with the real system
// interfaces (named namespaces, rtnetlink, wireguard-go), then full syncs with nothing to change.
// Reports the agent's CPU time per pass (user + system of this process, its worker threads included;
// wireguard-go's own CPU is not the agent's) and the writes per pass, which must be zero.
// The server is a canned get_hubs answer kept as JSON text and parsed every pass, as an RPC reply is.
//
//   idle_cycle_bench [hubs=100] [spokes=100] [passes=20] [projects=hubs]
// Needs root and wireguard-go. Benchmarks report; nothing here is asserted.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "daemon/linux_host_facts.h"
#include "reconcile/bench/bench_support.h"
#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "reconcile/names.h"
#include "reconcile/reconciler.h"
#include "wireguard/uapi/uapi_backend.h"

namespace {

using namespace nwg;
using namespace nwg::reconcile;
using nlohmann::json;
using bench::cpuMs;
using bench::hex;
using bench::QuietLog;

// A neutron-server reduced to its answers. Server-side work (building entries, hashing them) happens
// when its state changes, outside the measured passes; a pass pays what an agent pays: the reply's
// text parsed into JSON.
class CannedServer : public ServerApi {
 public:
  explicit CannedServer(json answer) : answer_(std::move(answer)) { prepare(); }

  // A 1.4 driver's answers (digests and stubs): the idle cycle's figures predate revisions.
  Result<json> getHubs(const HubsQuery& query) override {
    const auto* digests = query.digests.empty() ? nullptr : &query.digests;
    std::string reply = "{\"hubs\":[";
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (i) reply += ',';
      auto it = digests ? digests->find(e.id) : std::map<std::string, std::string>::const_iterator();
      if (digests && it != digests->end() && it->second == e.digest) {
        reply += "{\"id\":\"" + e.id + "\",\"digest\":\"" + e.digest + "\",\"unchanged\":true}";
      } else {
        reply += e.text;
      }
    }
    reply += "]}";
    last_reply_bytes = reply.size();
    return json::parse(reply);
  }
  Result<json> getHubSpokes(const std::string&, const std::string&, size_t, std::optional<uint64_t>) override {
    return Error("get_hub_spokes: not served by this 1.4 stand-in");
  }
  Status updateHubPort(const std::string& id, const std::optional<std::string>& ep,
                       const std::string& key) override {
    for (auto& h : answer_["hubs"]) {
      if (h["id"] == id) {
        h["public_key"] = key;
        h["endpoint"] = ep ? json(*ep) : json();
      }
    }
    prepare();
    ++writes;
    return okStatus();
  }
  Status updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>&) override {
    for (auto& h : answer_["hubs"]) {
      if (std::find(up.begin(), up.end(), h["id"].get<std::string>()) != up.end()) h["status"] = "ACTIVE";
    }
    prepare();
    ++writes;
    return okStatus();
  }
  const json& answer() const { return answer_; }
  int writes = 0;
  size_t last_reply_bytes = 0;

 private:
  struct Entry {
    std::string id;
    std::string digest;
    std::string text;  // the full entry with its digest
  };
  void prepare() {
    entries_.clear();
    for (const auto& hub : answer_["hubs"]) {
      json entry = hub;
      std::string digest = std::to_string(std::hash<std::string>{}(entry.dump()));
      entry["digest"] = digest;
      entries_.push_back({hub["id"].get<std::string>(), digest, entry.dump()});
    }
  }
  json answer_;
  std::vector<Entry> entries_;
};

}  // namespace

int main(int argc, char** argv) {
  int hubs = argc > 1 ? std::atoi(argv[1]) : 100;
  int spokes = argc > 2 ? std::atoi(argv[2]) : 100;
  int passes = argc > 3 ? std::atoi(argv[3]) : 20;
  int projects = argc > 4 ? std::atoi(argv[4]) : hubs;
  if (geteuid() != 0 || !wg::UapiBackend::available("/usr/bin/wireguard-go")) {
    std::cerr << "idle_cycle_bench needs root and /usr/bin/wireguard-go\n";
    return 77;
  }
  if (!initCrypto().ok()) return 1;
  // IDs unique to this run: "b" + pid so that nothing collides with real hubs or other runs.
  const std::string run = hex(static_cast<unsigned>(getpid()), 6);
  json answer{{"hubs", json::array()}};
  for (int h = 0; h < hubs; ++h) {
    json hub{{"id", "b" + run + hex(static_cast<unsigned>(h), 4) + "-0000-0000-0000-000000000000"},
             {"project_id", "bench" + run + "p" + std::to_string(h % projects)},
             {"admin_state_up", true},
             {"status", "DOWN"},
             {"mtu", 1450},
             {"fixed_ips", {{{"ip_address", "10.200.0.1"}, {"cidr", "10.200.0.0/16"}}}},
             {"spokes", json::array()}};
    for (int s = 0; s < spokes; ++s) {
      int n = h * spokes + s + 2;
      hub["spokes"].push_back(
          {{"id", "c" + run + hex(static_cast<unsigned>(n), 6)},
           {"public_key", publicKeyOf(generatePrivateKey()).toBase64()},
           {"endpoint", nullptr},
           {"fixed_ips",
            {{{"ip_address", "10.201." + std::to_string(n / 256 % 256) + "." + std::to_string(n % 256)}}}}});
    }
    answer["hubs"].push_back(hub);
  }
  const std::string state = "/tmp/nwg-idle-bench-" + run;
  CannedServer server(answer);
  LinuxNamespaces namespaces;
  RtnetlinkLinks links(namespaces);
  wg::UapiBackend backend("/usr/bin/wireguard-go", "");
  QuietLog log;
  IdentityStore identities(state);
  if (!identities.load().ok()) return 1;
  Observer observer(links, namespaces, backend);
  Applier applier(links, namespaces, backend, log, false);
  ReconcilerOptions options;
  options.listen_port_first = 40000;
  options.listen_port_last = 49999;
  daemon::LinuxHostFacts facts;
  EndpointResolver resolver(daemon::resolveHostName, EndpointResolver::Options{});
  Reconciler reconciler(server, observer, applier, identities, log, options, facts, resolver);

  auto t0 = std::chrono::steady_clock::now();
  PassReport first = reconciler.syncAll();
  double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "setup: %d hubs x %d spokes in %d project namespaces realized in %.1f s (%zu realized, %zu failed%s)\n",
      hubs, spokes, projects, setup_s, first.realized.size(), first.failed.size(),
      first.complete ? "" : (", incomplete: " + first.failure).c_str());
  reconciler.syncAll();  // settles statuses reported in the first pass

  auto measure = [&](Depth depth, const char* what) {
    std::vector<double> cpu, wall;
    size_t writes = 0;
    const size_t actions_before = applier.applied();
    const int server_writes_before = server.writes;
    for (int i = 0; i < passes; ++i) {
      double c0 = cpuMs();
      auto w0 = std::chrono::steady_clock::now();
      PassReport r = reconciler.syncAll(depth);
      wall.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count());
      cpu.push_back(cpuMs() - c0);
      writes += r.actions;
    }
    std::sort(cpu.begin(), cpu.end());
    std::sort(wall.begin(), wall.end());
    auto pct = [](const std::vector<double>& v, double p) {
      return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
    };
    std::printf(
        "%-10s idle full sync, %d passes: agent CPU p50 %7.2f ms p90 %7.2f ms | wall p50 %7.1f ms p90 %7.1f "
        "ms"
        " | get_hubs reply %zu bytes | kernel writes %zu (applier %zu), server writes %d\n",
        what, passes, pct(cpu, 0.5), pct(cpu, 0.9), pct(wall, 0.5), pct(wall, 0.9), server.last_reply_bytes,
        writes, applier.applied() - actions_before, server.writes - server_writes_before);
  };
  reconciler.syncAll(Depth::kQuick);  // first quick pass: records the digests of the settled state
  measure(Depth::kDeep, "deep");
  measure(Depth::kQuick, "quick");

  // Clean up everything this run created.
  for (const auto& hub : answer["hubs"]) {
    std::string id = hub["id"];
    std::string ns = projectNamespace(hub["project_id"].get<std::string>());
    (void)backend.destroy({ns, deviceName(id)});
    (void)namespaces.remove(ns);
  }
  std::filesystem::remove_all(state);
  return 0;
}
