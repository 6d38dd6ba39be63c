// The agent's cost of one spoke change on a hub of N spokes (issue #16), with the real system
// interfaces (a named namespace, rtnetlink, wireguard-go): a spoke added, re-keyed, re-addressed or
// removed in the server, then the pass a notification triggers (Reconciler::syncHubs of that hub):
// get_hubs with the revision the agent holds, the delta's JSON parsed, planned, written to the device.
// Compared in the same run with a raw single-peer UAPI write on the same device (what any agent must
// pay at least) and with the full device read the path avoids. Reports p50/p90 per hub size; the
// device is checked against the server's spokes at the end (a wrong path must not look fast).
//
//   spoke_change_bench [sizes=20,10000] [changes=200]
// Needs root and wireguard-go. Benchmarks report; nothing here is asserted.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
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
using Clock = std::chrono::steady_clock;

// A 1.6 neutron-server reduced to one hub: full entries paged by spokes_limit, get_hub_spokes pages,
// and the delta since the revision before the last change. The server's own work (the delta's text)
// is done when the bench changes a spoke, outside the measured pass: a pass pays what an agent pays,
// the reply's text parsed into JSON.
class DeltaServer : public ServerApi {
 public:
  explicit DeltaServer(json hub) : hub_(std::move(hub)) {}

  void put(const json& spoke) {  // a spoke created or changed
    spokes_[spoke["id"].get<std::string>()] = spoke;
    changed(json::array({spoke}), json::array());
  }
  void remove(const std::string& id) {
    spokes_.erase(id);
    changed(json::array(), json::array({id}));
  }
  const std::map<std::string, json>& spokes() const { return spokes_; }

  Result<json> getHubs(const HubsQuery& query) override {
    auto held = query.revisions.find(id());
    if (held != query.revisions.end() && held->second + 1 == revision_ && !delta_text_.empty()) {
      return json::parse(delta_text_);
    }
    if (held != query.revisions.end() && held->second == revision_) {
      json entry = hub_;
      entry["revision"] = revision_;
      entry["base_revision"] = revision_;
      entry["spokes"] = json::array();
      entry["removed_spokes"] = json::array();
      return json::parse(json{{"hubs", json::array({entry})}}.dump());
    }
    json entry = hub_;
    entry["revision"] = revision_;
    entry["digest"] = std::to_string(revision_);
    entry["spokes"] = json::array();
    for (const auto& [sid, s] : spokes_) {
      if (entry["spokes"].size() == query.spokes_limit) {
        entry["spokes_next"] = entry["spokes"].back()["id"];
        break;
      }
      entry["spokes"].push_back(s);
    }
    return json::parse(json{{"hubs", json::array({entry})}}.dump());
  }
  Result<json> getHubSpokes(const std::string&, const std::string& marker, size_t limit,
                            std::optional<uint64_t> base) override {
    if (base) return Error("get_hub_spokes with a base revision: not served by this stand-in");
    json page{{"revision", revision_}, {"spokes", json::array()}, {"removed_spokes", json::array()}};
    for (auto it = spokes_.upper_bound(marker); it != spokes_.end(); ++it) {
      if (page["spokes"].size() == limit) {
        page["spokes_next"] = page["spokes"].back()["id"];
        break;
      }
      page["spokes"].push_back(it->second);
    }
    return json::parse(page.dump());
  }
  Status updateHubPort(const std::string&, const std::optional<std::string>& ep, const std::string& key) override {
    hub_["public_key"] = key;
    hub_["endpoint"] = ep ? json(*ep) : json();
    bump();
    return okStatus();
  }
  Status updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>&) override {
    if (!up.empty()) hub_["status"] = "ACTIVE";
    bump();
    return okStatus();
  }

 private:
  std::string id() const { return hub_["id"]; }
  void bump() {
    ++revision_;
    delta_text_.clear();  // a hub field changed: the next answer is the whole entry
  }
  void changed(const json& spokes, const json& removed) {
    ++revision_;
    json entry = hub_;
    entry["revision"] = revision_;
    entry["base_revision"] = revision_ - 1;
    entry["spokes"] = spokes;
    entry["removed_spokes"] = removed;
    delta_text_ = json{{"hubs", json::array({entry})}}.dump();
  }
  json hub_;
  std::map<std::string, json> spokes_;
  uint64_t revision_ = 1;
  std::string delta_text_;
};

// VmRSS and VmHWM of this process (the reconciler's records of the hub, parsed answers freed).
std::string residentMemory() {
  std::ifstream status("/proc/self/status");
  std::string line, out;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0 || line.rfind("VmHWM:", 0) == 0) out += line + "  ";
  }
  return out;
}

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string addressOf(unsigned n) {  // 10.202.0.0/16 holds 65,534 spokes
  return "10.202." + std::to_string(n / 256 % 256) + "." + std::to_string(n % 256);
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

struct Figures {
  std::map<std::string, std::vector<double>> wall, cpu;  // by operation
  std::vector<double> raw_write, full_read;
  size_t actions = 0, changes = 0;
  bool consistent = false;
};

Figures measure(const std::string& run, unsigned size, int changes) {
  Figures f;
  const std::string hub_id = "d" + run + hex(size, 4) + "-0000-0000-0000-000000000000";
  json hub{{"id", hub_id},
           {"project_id", "bench" + run + "s" + std::to_string(size)},
           {"network_id", "n1"},
           {"admin_state_up", true},
           {"status", "DOWN"},
           {"public_key", nullptr},
           {"endpoint", nullptr},
           {"root_device", false},
           {"mtu", 1450},
           {"router_id", nullptr},
           {"fixed_ips", {{{"ip_address", "10.202.0.1"}, {"subnet_id", "s1"}, {"cidr", "10.202.0.0/16"}}}}};
  DeltaServer server(hub);
  unsigned next = 2;
  auto newSpoke = [&](unsigned n) {
    return json{{"id", "c" + run + hex(n, 8)},
                {"public_key", publicKeyOf(generatePrivateKey()).toBase64()},
                {"endpoint", nullptr},
                {"fixed_ips", {{{"ip_address", addressOf(n)}, {"subnet_id", "s1"}}}}};
  };
  for (unsigned i = 0; i < size; ++i) server.put(newSpoke(next++));

  const std::string state = "/tmp/nwg-spoke-change-bench-" + run + "-" + std::to_string(size);
  LinuxNamespaces namespaces;
  RtnetlinkLinks links(namespaces);
  wg::UapiBackend backend("/usr/bin/wireguard-go", "");
  QuietLog log;
  IdentityStore identities(state);
  if (!identities.load().ok()) return f;
  Observer observer(links, namespaces, backend);
  Applier applier(links, namespaces, backend, log, false);
  ReconcilerOptions options;
  options.listen_port_first = 40000;
  options.listen_port_last = 49999;
  daemon::LinuxHostFacts facts;
  EndpointResolver resolver(daemon::resolveHostName, EndpointResolver::Options{});
  Reconciler reconciler(server, observer, applier, identities, log, options, facts, resolver);

  auto t0 = Clock::now();
  PassReport first = reconciler.syncAll();
  std::printf("hub of %u spokes: realized in %.1f s (%s)\n", size, msSince(t0) / 1000,
              first.complete && first.failed.empty() ? "ok" : first.failure.c_str());
  reconciler.syncAll(Depth::kQuick);  // settles the status report; the agent now holds the revision
  std::printf("  this process after realizing it: %s\n", residentMemory().c_str());
  const wg::DeviceRef ref{projectNamespace(hub["project_id"].get<std::string>()), deviceName(hub_id)};

  const char* ops[] = {"add", "re-key", "re-address", "remove"};
  for (int i = 0; i < changes; ++i) {
    const std::string op = ops[i % 4];
    // The spoke changed: the newest one for re-key/re-address/remove, so that the hub's size stays.
    const std::string newest = server.spokes().rbegin()->first;
    if (op == "add") {
      server.put(newSpoke(next++));
    } else if (op == "re-key") {
      json s = server.spokes().at(newest);
      s["public_key"] = publicKeyOf(generatePrivateKey()).toBase64();
      server.put(s);
    } else if (op == "re-address") {
      json s = server.spokes().at(newest);
      s["fixed_ips"][0]["ip_address"] = addressOf(next++);
      server.put(s);
    } else {
      server.remove(newest);
    }
    const size_t before = applier.applied();
    const double c0 = cpuMs();
    const auto w0 = Clock::now();
    PassReport r = reconciler.syncHubs({hub_id});
    f.wall[op].push_back(msSince(w0));
    f.cpu[op].push_back(cpuMs() - c0);
    if (!r.complete || !r.failed.empty()) std::cerr << "pass failed: " << r.failure << "\n";
    f.actions += applier.applied() - before;
    ++f.changes;
  }

  // The floor: one peer written straight to the same device (set, then removed), and the full read
  // that the old path made for every change.
  const Key raw_key = publicKeyOf(generatePrivateKey());
  for (int i = 0; i < changes / 2; ++i) {
    wg::Device add;
    wg::Peer p;
    p.public_key = raw_key;
    p.allowed_ips = {*IpPrefix::parse("10.203.0.1/32")};
    add.peers.push_back(p);
    auto w0 = Clock::now();
    (void)backend.set(ref, add);
    f.raw_write.push_back(msSince(w0));
    wg::Device del;
    p.allowed_ips.clear();
    p.remove = true;
    del.peers.push_back(p);
    w0 = Clock::now();
    (void)backend.set(ref, del);
    f.raw_write.push_back(msSince(w0));
  }
  for (int i = 0; i < 10; ++i) {
    auto w0 = Clock::now();
    (void)backend.get(ref);
    f.full_read.push_back(msSince(w0));
  }

  // The device must hold exactly the server's spokes.
  auto device = backend.get(ref);
  if (device.ok()) {
    std::set<std::string> want, have;
    for (const auto& [sid, s] : server.spokes()) {
      want.insert(s["public_key"].get<std::string>() + " " + s["fixed_ips"][0]["ip_address"].get<std::string>() +
                  "/32");
    }
    for (const auto& p : device->peers) {
      std::ostringstream ips;
      for (const auto& c : p.allowed_ips) ips << c.toString();
      have.insert(p.public_key.toBase64() + " " + ips.str());
    }
    f.consistent = want == have;
  }
  (void)backend.destroy(ref);
  (void)namespaces.remove(ref.netns);
  std::filesystem::remove_all(state);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> sizes = {20, 10000};
  if (argc > 1) {
    sizes.clear();
    std::stringstream list(argv[1]);
    for (std::string s; std::getline(list, s, ',');) sizes.push_back(static_cast<unsigned>(std::stoul(s)));
  }
  const int changes = argc > 2 ? std::atoi(argv[2]) : 200;
  if (geteuid() != 0 || !wg::UapiBackend::available("/usr/bin/wireguard-go")) {
    std::cerr << "spoke_change_bench needs root and /usr/bin/wireguard-go\n";
    return 77;
  }
  if (!initCrypto().ok()) return 1;
  const std::string run = hex(static_cast<unsigned>(getpid()), 6);
  for (unsigned size : sizes) {
    Figures f = measure(run, size, changes);
    const double raw50 = pct(f.raw_write, 0.5);
    for (const char* op : {"add", "re-key", "re-address", "remove"}) {
      std::printf("  %-10s agent pass wall p50 %6.2f ms p90 %6.2f ms, CPU p50 %6.2f ms | %.1f x raw write\n", op,
                  pct(f.wall[op], 0.5), pct(f.wall[op], 0.9), pct(f.cpu[op], 0.5),
                  raw50 > 0 ? pct(f.wall[op], 0.5) / raw50 : 0);
    }
    std::printf("  raw single-peer UAPI write p50 %.2f ms p90 %.2f ms | full device read (avoided) p50 %.1f ms\n",
                raw50, pct(f.raw_write, 0.9), pct(f.full_read, 0.5));
    std::printf("  %zu changes, %zu kernel writes; device matches the server: %s\n", f.changes, f.actions,
                f.consistent ? "yes" : "NO");
  }
  return 0;
}
