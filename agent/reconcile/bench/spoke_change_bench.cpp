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

#include "daemon/allocator.h"
#include "daemon/linux_host_facts.h"
#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "reconcile/bench/bench_support.h"
#include "reconcile/bench/counting_heap.h"
#include "reconcile/names.h"
#include "reconcile/reconciler.h"
#include "wireguard/uapi/uapi_backend.h"

namespace {

using namespace nwg;
using namespace nwg::reconcile;
using bench::cpuMs;
using bench::hex;
using bench::QuietLog;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A 1.6 neutron-server reduced to one hub: full entries paged by spokes_limit, get_hub_spokes pages,
// and the delta since the revision before the last change. The server's own work (the delta's text)
// is done when the bench changes a spoke, outside the measured pass: a pass pays what an agent pays,
// the reply's text parsed into JSON. The stand-in's memory is left out of the heap counted
// (bench::heap::NotCounted); the parsed answers, which the agent holds, are counted.
class DeltaServer : public ServerApi {
 public:
  explicit DeltaServer(json hub) : hub_(std::move(hub)) {}

  void put(const json& spoke) {  // a spoke created or changed
    bench::heap::NotCounted server_side;
    spokes_[spoke["id"].get<std::string>()] = spoke;
    changed(json::array({spoke}), json::array());
  }
  void remove(const std::string& id) {
    bench::heap::NotCounted server_side;
    spokes_.erase(id);
    changed(json::array(), json::array({id}));
  }
  const std::map<std::string, json>& spokes() const { return spokes_; }

  Result<json> getHubs(const HubsQuery& query) override { return json::parse(hubsText(query)); }
  Result<json> getHubSpokes(const std::string&, const std::string& marker, size_t limit,
                            std::optional<uint64_t> base) override {
    if (base) return Error("get_hub_spokes with a base revision: not served by this stand-in");
    return json::parse(spokesText(marker, limit));
  }
  Status updateHubPort(const std::string&, const std::optional<std::string>& ep,
                       const std::string& key) override {
    bench::heap::NotCounted server_side;
    hub_["public_key"] = key;
    hub_["endpoint"] = ep ? json(*ep) : json();
    bump();
    return okStatus();
  }
  Status updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>&) override {
    bench::heap::NotCounted server_side;
    if (!up.empty()) hub_["status"] = "ACTIVE";
    bump();
    return okStatus();
  }

 private:
  std::string hubsText(const HubsQuery& query) {
    bench::heap::NotCounted server_side;
    auto held = query.revisions.find(id());
    if (held != query.revisions.end() && held->second + 1 == revision_ && !delta_text_.empty()) {
      return delta_text_;
    }
    if (held != query.revisions.end() && held->second == revision_) {
      json entry = hub_;
      entry["revision"] = revision_;
      entry["base_revision"] = revision_;
      entry["spokes"] = json::array();
      entry["removed_spokes"] = json::array();
      return json{{"hubs", json::array({entry})}}.dump();
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
    return json{{"hubs", json::array({entry})}}.dump();
  }
  std::string spokesText(const std::string& marker, size_t limit) {
    bench::heap::NotCounted server_side;
    json page{{"revision", revision_}, {"spokes", json::array()}, {"removed_spokes", json::array()}};
    for (auto it = spokes_.upper_bound(marker); it != spokes_.end(); ++it) {
      if (page["spokes"].size() == limit) {
        page["spokes_next"] = page["spokes"].back()["id"];
        break;
      }
      page["spokes"].push_back(it->second);
    }
    return page.dump();
  }
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

// One field of /proc/self/status in KiB ("VmRSS", "VmHWM").
size_t statusKiB(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoul(line.substr(field.size() + 1));
  }
  return 0;
}

// The resident peak of `work` above the RSS before it: VmHWM restarted from the current RSS
// (clear_refs 5), as the agent's RSS would see it (pages reserved but never touched do not count).
template <typename Work>
double residentPeakMiB(Work&& work) {
  std::ofstream("/proc/self/clear_refs") << "5";
  const size_t before = statusKiB("VmRSS");
  work();
  const size_t peak = statusKiB("VmHWM");
  return peak > before ? static_cast<double>(peak - before) / 1024.0 : 0.0;
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

double mib(size_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

struct Figures {
  std::map<std::string, std::vector<double>> wall, cpu, raw;  // by operation
  std::vector<double> full_read;
  size_t records = 0;  // heap the realized hub holds (the agent's records)
  size_t deep_peak = 0, read_peak = 0, notified_peak = 0;  // transient heap above what is live
  double deep_rss = 0, read_rss = 0;                       // the same as resident memory, MiB
  std::vector<double> deep_ms;                             // a deep pass with nothing to do
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
  const size_t before_hub = bench::heap::live();
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
  f.records = bench::heap::live() - before_hub;
  std::printf("  this process after realizing it: VmRSS %zu kB, VmHWM %zu kB\n", statusKiB("VmRSS"),
              statusKiB("VmHWM"));
  const wg::DeviceRef ref{projectNamespace(hub["project_id"].get<std::string>()), deviceName(hub_id)};

  // The transient memory of a deep pass (the safety net: every spoke page by page, the whole device
  // read and diffed) and of one reading of the device (what the liveness monitor makes each interval):
  // the heap's peak above what was live before, which is what the agent's RSS must make room for.
  for (int i = 0; i < 3; ++i) {
    bench::heap::resetPeak();
    const size_t live = bench::heap::live();
    f.deep_rss = std::max(f.deep_rss, residentPeakMiB([&] {
                            const auto d0 = Clock::now();
                            PassReport deep = reconciler.syncAll();
                            f.deep_ms.push_back(msSince(d0));
                            if (!deep.complete || !deep.failed.empty())
                              std::cerr << "deep pass failed: " << deep.failure << "\n";
                          }));
    f.deep_peak = std::max(f.deep_peak, bench::heap::peak() - live);
    bench::heap::resetPeak();
    f.read_rss = std::max(f.read_rss, residentPeakMiB([&] { (void)backend.get(ref); }));
    f.read_peak = std::max(f.read_peak, bench::heap::peak() - live);
  }

  // The floor: after each pass, the same write made straight to the same device as one UAPI message
  // like the agent's, on a peer of its own (the two alternate, so both meet the same noise): a peer
  // added (its allowed IP), re-keyed (the old key removed and the new one added), re-addressed
  // (allowed IPs replaced) and removed.
  Key raw_key;
  auto rawPeer = [](const Key& k, const char* ip) {
    wg::Peer p;
    p.public_key = k;
    if (ip) p.allowed_ips = {*IpPrefix::parse(ip)};
    return p;
  };
  auto rawWrite = [&](const std::string& op) {
    wg::Device update;
    if (op == "add") {
      raw_key = publicKeyOf(generatePrivateKey());
      update.peers.push_back(rawPeer(raw_key, "10.203.0.1/32"));
      update.peers.back().replace_allowed_ips = true;
    } else if (op == "re-key") {
      update.peers.push_back(rawPeer(raw_key, nullptr));
      update.peers.back().remove = true;
      raw_key = publicKeyOf(generatePrivateKey());
      update.peers.push_back(rawPeer(raw_key, "10.203.0.1/32"));
      update.peers.back().replace_allowed_ips = true;
    } else if (op == "re-address") {
      update.peers.push_back(rawPeer(raw_key, "10.203.0.2/32"));
      update.peers.back().replace_allowed_ips = true;
    } else {
      update.peers.push_back(rawPeer(raw_key, nullptr));
      update.peers.back().remove = true;
    }
    const auto w0 = Clock::now();
    if (Status s = backend.set(ref, update); !s.ok())
      std::cerr << "raw " << op << ": " << s.error().message << "\n";
    f.raw[op].push_back(msSince(w0));
  };

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
    bench::heap::resetPeak();
    const size_t live = bench::heap::live();
    const double c0 = cpuMs();
    const auto w0 = Clock::now();
    PassReport r = reconciler.syncHubs({hub_id});
    f.wall[op].push_back(msSince(w0));
    f.cpu[op].push_back(cpuMs() - c0);
    f.notified_peak = std::max(f.notified_peak, bench::heap::peak() - live);
    if (!r.complete || !r.failed.empty()) std::cerr << "pass failed: " << r.failure << "\n";
    f.actions += applier.applied() - before;
    ++f.changes;
    rawWrite(op);
  }
  if (changes % 4 != 0) rawWrite("remove");  // the floor's own peer goes

  // The full read that the old path made for every change.
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
      want.insert(s["public_key"].get<std::string>() + " " +
                  s["fixed_ips"][0]["ip_address"].get<std::string>() + "/32");
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
  daemon::tuneAllocator();  // as the agent does: large blocks from mmap, given back when freed
  if (!initCrypto().ok()) return 1;
  const std::string run = hex(static_cast<unsigned>(getpid()), 6);
  for (unsigned size : sizes) {
    Figures f = measure(run, size, changes);
    const double raw_add = pct(f.raw["add"], 0.5);
    for (const char* op : {"add", "re-key", "re-address", "remove"}) {
      const double pass = pct(f.wall[op], 0.5), raw = pct(f.raw[op], 0.5);
      std::printf(
          "  %-10s agent pass wall p50 %6.2f ms p90 %6.2f ms, CPU p50 %5.2f ms | raw write of the same "
          "change "
          "p50 %5.2f ms: %.1f x | %.1f x a raw single-peer add\n",
          op, pass, pct(f.wall[op], 0.9), pct(f.cpu[op], 0.5), raw, raw > 0 ? pass / raw : 0,
          raw_add > 0 ? pass / raw_add : 0);
    }
    std::printf("  full device read (avoided) p50 %.1f ms | a deep pass with nothing to do p50 %.0f ms\n",
                pct(f.full_read, 0.5), pct(f.deep_ms, 0.5));
    std::printf(
        "  heap: the hub's records %.1f MiB (%.0f bytes a spoke); transient peak requested by a deep pass "
        "+%.1f MiB, by one device reading +%.1f MiB, by a notified pass +%.2f MiB\n",
        mib(f.records), size ? static_cast<double>(f.records) / size : 0, mib(f.deep_peak), mib(f.read_peak),
        mib(f.notified_peak));
    std::printf(
        "  resident: peak of a deep pass +%.1f MiB, of one device reading +%.1f MiB above the RSS before\n",
        f.deep_rss, f.read_rss);
    std::printf("  %zu changes, %zu kernel writes; device matches the server: %s\n", f.changes, f.actions,
                f.consistent ? "yes" : "NO");
  }
  return 0;
}
