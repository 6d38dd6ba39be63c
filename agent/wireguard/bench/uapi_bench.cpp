// Reports how fast WireGuard devices are configured through this library (diff + UapiBackend::set)
// compared with one hand-written UAPI message and with wg(8), on real wireguard-go daemons (root).
// A benchmark reports; it asserts nothing. Usage: bench_wireguard_uapi [--reps N] [--memory-limit L]
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "wireguard/bench/bench_support.h"
#include "wireguard/diff.h"
#include "wireguard/uapi/uapi_backend.h"
#include "wireguard/uapi/uapi_client.h"
#include "wireguard/uapi/uapi_codec.h"

extern char** environ;

namespace nwg::wg {
namespace {

using bench::check;
using bench::die;
using bench::Samples;

using Clock = std::chrono::steady_clock;

// Lets wireguard-go finish background work (GC after a large request) before the next timed
// operation, so no method inherits the previous one's aftermath.
void settle() {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// syncconf reads all N peers back: wireguard-go's garbage collector then runs for a while, which
// would slow whichever operation is timed next.
void afterHeavy() {
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// CPU time of the calling thread: what the library itself spends, whatever else the machine runs.
double threadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

std::string rssOf(const std::string& ifname) {
  std::string pid;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(e.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != "wireguard-go") continue;
    std::ifstream cmd(e.path() / "cmdline");
    std::string line;
    std::getline(cmd, line, '\0');
    std::getline(cmd, line, '\0');
    if (line == ifname) pid = name;
  }
  std::ifstream status("/proc/" + pid + "/status");
  for (std::string line; std::getline(status, line);) {
    if (startsWith(line, "VmRSS:")) return std::string(trim(line.substr(6)));
  }
  return "?";
}

class Bench {
 public:
  explicit Bench(UapiBackendOptions options)
      : options_(std::move(options)), client_("/var/run/wireguard", std::chrono::seconds(60)) {
    char tmpl[] = "/tmp/nwg-bench-XXXXXX";
    if (!mkdtemp(tmpl)) die("mkdtemp failed");
    dir_ = tmpl;  // mode 0700: the config files hold a private key
  }
  ~Bench() { std::filesystem::remove_all(dir_); }

  void runN(size_t n, int reps, bool single_peer);

 private:
  void raw(const std::string& text) {
    auto reply = client_.exchange(name_, text);
    if (!reply) die(reply.error().message);
    check(uapi::decodeSetReply(reply->get()), "raw set");
  }
  void clearPeers() { raw("set=1\nreplace_peers=true\n\n"); }
  void writeConf(const std::string& path, const Device& d) {
    std::ofstream out(path);
    out << "[Interface]\nPrivateKey = " << d.private_key->toBase64() << "\n";
    for (const Peer& p : d.peers) {
      out << "\n[Peer]\nPublicKey = " << p.public_key.toBase64() << "\nAllowedIPs = " << p.allowed_ips[0]
          << "\n";
    }
  }
  void report(const std::string& what, const Samples& s) {
    std::printf("  %-44s median %9.2f ms   (min %8.2f, max %8.2f, n=%zu)\n", what.c_str(), s.median(),
                s.min(), s.max(), s.ms.size());
    results_[what] = s;
  }
  void ratio(const std::string& label, const std::string& a, const std::string& b, double target) {
    double r = results_[a].median() / results_[b].median();
    std::printf("  RATIO %-38s %6.2f   (target <= %.1f: %s)\n", label.c_str(), r, target,
                r <= target ? "met" : "NOT met");
  }

  UapiBackendOptions options_;
  uapi::UapiClient client_;
  std::string dir_;
  std::string name_;
  std::map<std::string, Samples> results_;
};

Peer benchPeer(uint32_t i) {
  Peer p;
  p.public_key = publicKeyOf(generatePrivateKey());
  p.allowed_ips = {IpPrefix(IpAddress::v4({10, static_cast<uint8_t>(64 + (i >> 16)),
                                           static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}),
                            32)};
  return p;
}

void Bench::runN(size_t n, int reps, bool single_peer) {
  std::mt19937 rng(std::random_device{}());
  name_ = str("wgb-", std::to_string(getpid() % 100000), "-", n / 1000, "k");
  UapiBackend backend(options_);
  DeviceRef ref{"", name_};
  check(backend.create(name_, {}), "create");

  Device wanted;
  wanted.private_key = generatePrivateKey();
  for (uint32_t i = 0; i < n; ++i) wanted.peers.push_back(benchPeer(i));
  Device key_only;
  key_only.private_key = wanted.private_key;
  check(backend.set(ref, key_only), "set private key");

  // The hand-written message: exactly the lines needed, nothing else.
  std::string raw_full = "set=1\n";
  for (const Peer& p : wanted.peers) {
    raw_full += "public_key=" + p.public_key.toHex() + "\nallowed_ip=" + p.allowed_ips[0].toString() + "\n";
  }
  raw_full += "\n";
  std::string conf_full = dir_ + "/full.conf";
  writeConf(conf_full, wanted);

  std::printf("\nN = %zu peers (device %s, wireguard-go %s, GOMEMLIMIT %s)\n", n, name_.c_str(),
              options_.wireguard_go.c_str(),
              options_.memory_limit.empty() ? "unset" : options_.memory_limit.c_str());
  Samples lib, lib_diff, raw_s, setconf, syncconf;
  for (int rep = 0; rep < reps; ++rep) {
    // Round-robin, so that drift in the machine's load hits every method alike.
    clearPeers();
    auto current = backend.get(ref);
    if (!current) die(current.error().message);
    settle();
    auto t0 = Clock::now();
    Device update = diff(*current, wanted);
    lib_diff.ms.push_back(msSince(t0));
    check(backend.set(ref, update), "library set");
    lib.ms.push_back(msSince(t0));
    if (rep == 0) {  // once: what was configured reads back identical
      auto back = backend.get(ref);
      if (!back || back->peers.size() != n || !isEmptyUpdate(diff(*back, wanted)))
        die("library set did not converge");
    }

    clearPeers();
    settle();
    t0 = Clock::now();
    raw(raw_full);
    raw_s.ms.push_back(msSince(t0));

    clearPeers();
    settle();
    t0 = Clock::now();
    bench::run({"wg", "setconf", name_, conf_full});
    setconf.ms.push_back(msSince(t0));

    clearPeers();
    settle();
    t0 = Clock::now();
    bench::run({"wg", "syncconf", name_, conf_full});
    syncconf.ms.push_back(msSince(t0));
  }
  report(str("from scratch 0->", n, ": library (diff + set)"), lib);
  report(str("from scratch 0->", n, ":   of which diff"), lib_diff);
  report(str("from scratch 0->", n, ": raw UAPI"), raw_s);
  report(str("from scratch 0->", n, ": wg setconf"), setconf);
  report(str("from scratch 0->", n, ": wg syncconf"), syncconf);
  ratio(str("library/raw, from scratch N=", n), str("from scratch 0->", n, ": library (diff + set)"),
        str("from scratch 0->", n, ": raw UAPI"), 1.1);

  // Reading N peers back.
  Samples get_lib, get_raw;
  for (int rep = 0; rep < reps; ++rep) {
    settle();
    auto t0 = Clock::now();
    auto d = backend.get(ref);
    get_lib.ms.push_back(msSince(t0));
    if (!d || d->peers.size() != n) die("get returned the wrong peer count");
    t0 = Clock::now();
    auto reply = client_.exchange(name_, "get=1\n\n");
    get_raw.ms.push_back(msSince(t0));
    if (!reply) die(reply.error().message);
  }
  report(str("get of ", n, " peers: library (get + decode)"), get_lib);
  report(str("get of ", n, " peers: raw get=1"), get_raw);

  if (single_peer) {
    // One peer added to / removed from a device that holds N peers.
    auto current = backend.get(ref);
    if (!current || current->peers.size() != n) die("device does not hold N peers");
    Samples add_lib, add_diff, add_diff_cpu, add_set, add_raw, add_wg, add_sync, rm_lib, rm_diff, rm_diff_cpu,
        rm_raw, rm_wg, rm_sync;
    const int single_reps = reps * 3;
    Device plus = wanted;
    std::string conf_plus = dir_ + "/plus.conf";
    for (int rep = 0; rep < single_reps; ++rep) {
      Peer extra = benchPeer(static_cast<uint32_t>(n + 1 + static_cast<size_t>(rep)));
      std::string extra_hex = extra.public_key.toHex(), extra_ip = extra.allowed_ips[0].toString();
      std::string remove_extra = "set=1\npublic_key=" + extra_hex + "\nremove=true\n\n";

      // As in the agent's loop: read the device, build the wanted state, then diff and set at once
      // (the get and the building of the wanted state are not timed).
      settle();
      current = backend.get(ref);
      if (!current) die(current.error().message);
      plus.peers = wanted.peers;
      plus.peers.push_back(extra);
      auto t0 = Clock::now();
      double c0 = threadCpuMs();
      Device one = diff(*current, plus);
      add_diff_cpu.ms.push_back(threadCpuMs() - c0);
      add_diff.ms.push_back(msSince(t0));
      auto t1 = Clock::now();
      check(backend.set(ref, one), "library add");
      add_lib.ms.push_back(msSince(t0));
      add_set.ms.push_back(msSince(t1));
      if (one.peers.size() != 1) die("diff of N+1 against N is not a one-peer update");
      raw(remove_extra);

      settle();
      t0 = Clock::now();
      raw("set=1\npublic_key=" + extra_hex + "\nallowed_ip=" + extra_ip + "\n\n");
      add_raw.ms.push_back(msSince(t0));
      raw(remove_extra);

      settle();
      t0 = Clock::now();
      bench::run({"wg", "set", name_, "peer", extra.public_key.toBase64(), "allowed-ips", extra_ip});
      add_wg.ms.push_back(msSince(t0));
      raw(remove_extra);

      if (rep < reps) {  // syncconf reads and compares everything: slow, fewer runs
        writeConf(conf_plus, plus);
        settle();
        t0 = Clock::now();
        bench::run({"wg", "syncconf", name_, conf_plus});
        add_sync.ms.push_back(msSince(t0));
        raw(remove_extra);
        afterHeavy();
      }

      // Removing one of the N.
      const Peer& victim = wanted.peers[rng() % n];
      std::string victim_hex = victim.public_key.toHex(), victim_ip = victim.allowed_ips[0].toString();
      std::string readd = "set=1\npublic_key=" + victim_hex + "\nallowed_ip=" + victim_ip + "\n\n";
      settle();
      current = backend.get(ref);
      if (!current) die(current.error().message);
      Device minus = wanted;
      minus.peers.erase(std::find_if(minus.peers.begin(), minus.peers.end(),
                                     [&](const Peer& p) { return p.public_key == victim.public_key; }));
      t0 = Clock::now();
      c0 = threadCpuMs();
      Device gone = diff(*current, minus);
      rm_diff_cpu.ms.push_back(threadCpuMs() - c0);
      rm_diff.ms.push_back(msSince(t0));
      check(backend.set(ref, gone), "library remove");
      rm_lib.ms.push_back(msSince(t0));
      raw(readd);

      settle();
      t0 = Clock::now();
      raw("set=1\npublic_key=" + victim_hex + "\nremove=true\n\n");
      rm_raw.ms.push_back(msSince(t0));
      raw(readd);

      settle();
      t0 = Clock::now();
      bench::run({"wg", "set", name_, "peer", victim.public_key.toBase64(), "remove"});
      rm_wg.ms.push_back(msSince(t0));
      raw(readd);

      if (rep < reps) {
        std::string conf_minus = dir_ + "/minus.conf";
        writeConf(conf_minus, minus);
        settle();
        t0 = Clock::now();
        bench::run({"wg", "syncconf", name_, conf_minus});
        rm_sync.ms.push_back(msSince(t0));
        raw(readd);
        afterHeavy();
      }
    }
    report(str("add 1 peer at ", n, ": library (diff + set)"), add_lib);
    report(str("add 1 peer at ", n, ":   of which diff"), add_diff);
    report(str("add 1 peer at ", n, ":   diff, thread CPU"), add_diff_cpu);
    report(str("add 1 peer at ", n, ":   of which set"), add_set);
    report(str("add 1 peer at ", n, ": raw UAPI"), add_raw);
    report(str("add 1 peer at ", n, ": wg set"), add_wg);
    report(str("add 1 peer at ", n, ": wg syncconf"), add_sync);
    report(str("remove 1 peer at ", n, ": library (diff + set)"), rm_lib);
    report(str("remove 1 peer at ", n, ":   of which diff"), rm_diff);
    report(str("remove 1 peer at ", n, ":   diff, thread CPU"), rm_diff_cpu);
    report(str("remove 1 peer at ", n, ": raw UAPI"), rm_raw);
    report(str("remove 1 peer at ", n, ": wg set"), rm_wg);
    report(str("remove 1 peer at ", n, ": wg syncconf"), rm_sync);
    ratio(str("library/raw, add 1 at N=", n), str("add 1 peer at ", n, ": library (diff + set)"),
          str("add 1 peer at ", n, ": raw UAPI"), 2.0);
    ratio(str("library/raw, remove 1 at N=", n), str("remove 1 peer at ", n, ": library (diff + set)"),
          str("remove 1 peer at ", n, ": raw UAPI"), 2.0);
    std::printf(
        "  (the library timings exclude the get that precedes each diff: %.1f ms at N=%zu, which the "
        "agent's\n"
        "   reconcile loop reads once per pass for every purpose; wall times include whatever else the\n"
        "   machine runs, thread CPU is the library's own work)\n",
        results_[str("get of ", n, " peers: library (get + decode)")].median(), n);
  }
  std::printf("  wireguard-go RSS after the runs: %s\n", rssOf(name_).c_str());
  check(backend.destroy(ref), "destroy");
}

}  // namespace
}  // namespace nwg::wg

int main(int argc, char** argv) {
  using namespace nwg::wg;
  int reps = 7;
  UapiBackendOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--memory-limit" && i + 1 < argc) {
      options.memory_limit = argv[++i];
    } else if (a == "--wireguard-go" && i + 1 < argc) {
      options.wireguard_go = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--memory-limit 512MiB] [--wireguard-go PATH]\n", argv[0]);
      return 2;
    }
  }
  if (geteuid() != 0) nwg::wg::die("needs root (wireguard-go creates tun devices)");
  if (!UapiBackend::available(options.wireguard_go)) nwg::wg::die("wireguard-go is not available");
  if (!nwg::initCrypto().ok()) nwg::wg::die("libsodium failed to initialise");
  std::printf(
      "bench_wireguard_uapi: %d runs per method at N=1000, %d at N=10000 (single-peer operations: %d),"
      " medians in ms\n",
      reps * 3, reps, reps * 3);
  Bench bench(options);
  bench.runN(1000, reps * 3, /*single_peer=*/false);  // cheap: more runs, steadier medians
  bench.runN(10000, reps, /*single_peer=*/true);
  return 0;
}
