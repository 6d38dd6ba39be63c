// Reports how fast kernel WireGuard devices are configured along the agent's path (the observation it
// makes, GenlBackend::get; diff; GenlBackend::set) compared with wg(8) (`setconf`, `syncconf`, `set`) on
// the same kernel. Runs as root where the kernel has WireGuard: in the qemu VM (scripts/bench kernel:
// scripts/kernel-vm with wg copied in). Under TCG everything is slow; compare only within one run.
// A benchmark reports; it asserts nothing. Usage: bench_wireguard_genl [--peers N] [--reps R]
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "wireguard/bench/bench_support.h"
#include "wireguard/diff.h"
#include "wireguard/genl/genl_backend.h"

extern char** environ;

namespace nwg::wg {
namespace {

using bench::check;
using bench::die;
using bench::Samples;

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Any 32 bytes are a public key to WireGuard; a PRNG keeps 10,000 of them cheap under emulation.
Key fastRandomKey(std::mt19937_64& rng) {
  std::array<uint8_t, 32> bytes{};
  for (size_t i = 0; i < bytes.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(bytes.data() + i, &v, 8);
  }
  return Key(bytes);
}

Peer benchPeer(std::mt19937_64& rng, uint32_t i) {
  Peer p;
  p.public_key = fastRandomKey(rng);
  p.allowed_ips = {IpPrefix(IpAddress::v4({10, static_cast<uint8_t>(64 + (i >> 16)),
                                           static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}),
                            32)};
  return p;
}

class Bench {
 public:
  Bench() : links_(namespaces_), backend_(namespaces_, links_), rng_(std::random_device{}()) {
    check(backend_.create(ref_.ifname, {}), "create the device");
  }
  ~Bench() { (void)backend_.destroy(ref_); }

  void fromScratch(size_t n, int reps, bool with_key);
  void singlePeer(size_t n, int reps);
  void processStart(int reps);

 private:
  // The agent's path: observe the device (get), diff against the wanted state, set the difference.
  struct AgentTimes {
    double get, diff, set;
    size_t update_peers;
  };
  AgentTimes agentApply(const Device& wanted) {
    auto t0 = Clock::now();
    auto current = backend_.get(ref_);
    if (!current) die(current.error().message);
    const double get = msSince(t0);
    t0 = Clock::now();
    Device update = diff(*current, wanted);
    const double d = msSince(t0);
    t0 = Clock::now();
    check(backend_.set(ref_, update), "agent set");
    return {get, d, msSince(t0), update.peers.size()};
  }
  void clearPeers() {
    Device empty;
    empty.replace_peers = true;
    check(backend_.set(ref_, empty), "clear the peers");
  }
  void writeConf(const std::string& path, const Device& d) {
    std::ofstream out(path);
    out << "[Interface]\n";
    if (d.private_key) out << "PrivateKey = " << d.private_key->toBase64() << "\n";
    for (const Peer& p : d.peers) {
      out << "\n[Peer]\nPublicKey = " << p.public_key.toBase64() << "\nAllowedIPs = " << p.allowed_ips[0]
          << "\n";
    }
  }
  void report(const std::string& what, const Samples& s) {
    std::printf("  %-50s median %9.2f ms   (min %9.2f, max %9.2f, n=%zu)\n", what.c_str(), s.median(),
                s.min(), s.max(), s.ms.size());
    std::fflush(stdout);
    results_[what] = s;
  }
  void ratio(const std::string& label, const std::string& a, const std::string& b) {
    std::printf("  RATIO %-44s %6.2f\n", label.c_str(), results_[a].median() / results_[b].median());
    std::fflush(stdout);
  }

  LinuxNamespaces namespaces_;
  RtnetlinkLinks links_;
  GenlBackend backend_;
  DeviceRef ref_{"", "wgbench0"};
  std::mt19937_64 rng_;
  std::map<std::string, Samples> results_;
};

void Bench::fromScratch(size_t n, int reps, bool with_key) {
  Device wanted;
  if (with_key) wanted.private_key = generatePrivateKey();
  for (uint32_t i = 0; i < n; ++i) wanted.peers.push_back(benchPeer(rng_, i));
  const std::string conf = "/tmp/bench-full.conf";
  writeConf(conf, wanted);
  const std::string tag = str("0 -> ", n, " peers", with_key ? " (device key set)" : " (no device key)");
  std::printf("\n%s, %d run(s) per method\n", tag.c_str(), reps);
  Samples agent, get, d, set, setconf, syncconf;
  for (int rep = 0; rep < reps; ++rep) {
    // Round-robin, so that drift in the machine's load hits every method alike.
    Device reset;
    reset.replace_peers = true;
    reset.private_key = Key();  // no key: as a new device
    check(backend_.set(ref_, reset), "reset");
    auto t0 = Clock::now();
    AgentTimes a = agentApply(wanted);
    agent.ms.push_back(msSince(t0));
    get.ms.push_back(a.get);
    d.ms.push_back(a.diff);
    set.ms.push_back(a.set);
    if (rep == 0) {
      auto back = backend_.get(ref_);
      if (!back || back->peers.size() != n || !isEmptyUpdate(diff(*back, wanted)))
        die("agent path did not converge");
    }
    check(backend_.set(ref_, reset), "reset");
    t0 = Clock::now();
    bench::run({"wg", "setconf", ref_.ifname, conf}, /*show_errors=*/true);
    setconf.ms.push_back(msSince(t0));

    check(backend_.set(ref_, reset), "reset");
    t0 = Clock::now();
    bench::run({"wg", "syncconf", ref_.ifname, conf}, /*show_errors=*/true);
    syncconf.ms.push_back(msSince(t0));
  }
  report(tag + ": agent (get + diff + set)", agent);
  report(tag + ":   of which get (observation)", get);
  report(tag + ":   of which diff", d);
  report(tag + ":   of which set", set);
  report(tag + ": wg setconf", setconf);
  report(tag + ": wg syncconf", syncconf);
  ratio("agent / wg setconf, " + tag, tag + ": agent (get + diff + set)", tag + ": wg setconf");
  ratio("agent / wg syncconf, " + tag, tag + ": agent (get + diff + set)", tag + ": wg syncconf");
}

void Bench::singlePeer(size_t n, int reps) {
  Device wanted;
  wanted.private_key = generatePrivateKey();
  for (uint32_t i = 0; i < n; ++i) wanted.peers.push_back(benchPeer(rng_, i));
  {
    Device reset;
    reset.replace_peers = true;
    check(backend_.set(ref_, reset), "reset");
    check(backend_.set(ref_, wanted), "fill the device");
  }
  std::printf("\none peer added to / removed from a device with %zu peers (device key set), %d run(s)\n", n,
              reps);
  Samples add, add_get, add_diff, add_set, add_wg, add_sync, rm, rm_get, rm_diff, rm_set, rm_wg, rm_sync;
  const std::string conf_plus = "/tmp/bench-plus.conf", conf_minus = "/tmp/bench-minus.conf";
  for (int rep = 0; rep < reps; ++rep) {
    const Peer extra = benchPeer(rng_, static_cast<uint32_t>(n + 1 + static_cast<size_t>(rep)));
    Device remove_extra;
    remove_extra.peers.push_back(extra);
    remove_extra.peers.back().remove = true;
    Device plus = wanted;
    plus.peers.push_back(extra);

    auto t0 = Clock::now();
    AgentTimes a = agentApply(plus);
    add.ms.push_back(msSince(t0));
    add_get.ms.push_back(a.get);
    add_diff.ms.push_back(a.diff);
    add_set.ms.push_back(a.set);
    if (a.update_peers != 1) die("the diff of N+1 against N is not a one-peer update");
    check(backend_.set(ref_, remove_extra), "remove the extra peer");

    t0 = Clock::now();
    bench::run({"wg", "set", ref_.ifname, "peer", extra.public_key.toBase64(), "allowed-ips",
                extra.allowed_ips[0].toString()},
               /*show_errors=*/true);
    add_wg.ms.push_back(msSince(t0));
    check(backend_.set(ref_, remove_extra), "remove the extra peer");

    writeConf(conf_plus, plus);
    t0 = Clock::now();
    bench::run({"wg", "syncconf", ref_.ifname, conf_plus}, /*show_errors=*/true);
    add_sync.ms.push_back(msSince(t0));
    check(backend_.set(ref_, remove_extra), "remove the extra peer");

    // Removing one of the N.
    const size_t at = rng_() % n;
    const Peer& victim = wanted.peers[at];
    Device readd;
    readd.peers.push_back(victim);
    Device minus = wanted;
    minus.peers.erase(minus.peers.begin() + static_cast<std::ptrdiff_t>(at));
    t0 = Clock::now();
    a = agentApply(minus);
    rm.ms.push_back(msSince(t0));
    rm_get.ms.push_back(a.get);
    rm_diff.ms.push_back(a.diff);
    rm_set.ms.push_back(a.set);
    if (a.update_peers != 1) die("the diff of N-1 against N is not a one-peer update");
    check(backend_.set(ref_, readd), "re-add the peer");

    t0 = Clock::now();
    bench::run({"wg", "set", ref_.ifname, "peer", victim.public_key.toBase64(), "remove"},
               /*show_errors=*/true);
    rm_wg.ms.push_back(msSince(t0));
    check(backend_.set(ref_, readd), "re-add the peer");

    writeConf(conf_minus, minus);
    t0 = Clock::now();
    bench::run({"wg", "syncconf", ref_.ifname, conf_minus}, /*show_errors=*/true);
    rm_sync.ms.push_back(msSince(t0));
    check(backend_.set(ref_, readd), "re-add the peer");
  }
  const std::string at = str(" 1 peer at ", n);
  report("add" + at + ": agent (get + diff + set)", add);
  report("add" + at + ":   of which get (observation)", add_get);
  report("add" + at + ":   of which diff", add_diff);
  report("add" + at + ":   of which set", add_set);
  report("add" + at + ": wg set", add_wg);
  report("add" + at + ": wg syncconf", add_sync);
  report("remove" + at + ": agent (get + diff + set)", rm);
  report("remove" + at + ":   of which get (observation)", rm_get);
  report("remove" + at + ":   of which diff", rm_diff);
  report("remove" + at + ":   of which set", rm_set);
  report("remove" + at + ": wg set", rm_wg);
  report("remove" + at + ": wg syncconf", rm_sync);
  ratio("agent / wg set, add" + at, "add" + at + ": agent (get + diff + set)", "add" + at + ": wg set");
  ratio("agent set alone / wg set, add" + at, "add" + at + ":   of which set", "add" + at + ": wg set");
  ratio("agent / wg syncconf, add" + at, "add" + at + ": agent (get + diff + set)",
        "add" + at + ": wg syncconf");
  ratio("agent / wg set, remove" + at, "remove" + at + ": agent (get + diff + set)",
        "remove" + at + ": wg set");
  ratio("agent / wg syncconf, remove" + at, "remove" + at + ": agent (get + diff + set)",
        "remove" + at + ": wg syncconf");
}

// What starting wg(8) costs by itself here (fork, exec, dynamic linking), part of every wg figure.
void Bench::processStart(int reps) {
  Samples start;
  for (int rep = 0; rep < reps; ++rep) {
    auto t0 = Clock::now();
    bench::run({"wg", "--version"}, /*show_errors=*/true);
    start.ms.push_back(msSince(t0));
  }
  std::printf("\n");
  report("starting wg(8) alone (wg --version)", start);
}

}  // namespace
}  // namespace nwg::wg

int main(int argc, char** argv) {
  size_t peers = 10000;
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--peers" && i + 1 < argc) {
      peers = static_cast<size_t>(std::max(1, std::atoi(argv[++i])));
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--peers N] [--reps R]\n", argv[0]);
      return 2;
    }
  }
  if (geteuid() != 0) nwg::wg::die("needs root");
  if (!nwg::wg::GenlBackend::available())
    nwg::wg::die("no kernel WireGuard here (run it through scripts/kernel-vm)");
  if (!nwg::initCrypto().ok()) nwg::wg::die("libsodium failed to initialise");
  std::printf("bench_wireguard_genl: kernel WireGuard over generic netlink, N = %zu, medians in ms\n", peers);
  nwg::wg::Bench bench;
  bench.processStart(reps * 3);
  bench.fromScratch(peers, reps, /*with_key=*/false);
  bench.fromScratch(peers, 1, /*with_key=*/true);
  bench.singlePeer(peers, reps * 3);
  return 0;
}
