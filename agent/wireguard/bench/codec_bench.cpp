// The CPU cost of the library's pure steps on a 10,000-peer device, without wireguard-go: decoding a
// get reply as wireguard-go writes it, decoding keys, diffing the agent's wanted state against the
// read-back one (one peer added, one removed, nothing changed) and encoding the resulting update.
// uapi_bench.cpp measures the same operations end to end against a real daemon.
//   bench_wireguard_codec [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "wireguard/diff.h"
#include "wireguard/uapi/uapi_codec.h"

namespace nwg::wg {
namespace {

Key randomKey(std::mt19937_64& rng) {
  std::array<uint8_t, Key::kSize> b{};
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return Key(b);
}

IpPrefix hostIp(uint32_t i) {
  return IpPrefix(IpAddress::v4({10, static_cast<uint8_t>(64 + (i >> 16)), static_cast<uint8_t>(i >> 8),
                                 static_cast<uint8_t>(i)}),
                  32);
}

// What the agent wants for a hub with `n` spokes (no endpoints, no keepalive, one /32 each).
Device wantedDevice(size_t n) {
  std::mt19937_64 rng(42);
  Device d;
  d.private_key = randomKey(rng);
  d.listen_port = 51820;
  for (uint32_t i = 0; i < n; ++i) {
    Peer p;
    p.public_key = randomKey(rng);
    p.allowed_ips = {hostIp(i)};
    d.peers.push_back(std::move(p));
  }
  return d;
}

// The get=1 reply wireguard-go writes for `d` (its field order; peers in the order given): every
// peer has the read-back fields, a quarter of them an endpoint and recent traffic.
std::string getReply(const Device& d) {
  std::string out;
  out += "private_key=" + d.private_key->toHex() + "\nlisten_port=51820\n";
  uint32_t i = 0;
  for (const Peer& p : d.peers) {
    out += "public_key=" + p.public_key.toHex() + "\n";
    out += "preshared_key=" + Key().toHex() + "\n";
    out += "protocol_version=1\n";
    if (i % 4 == 0)
      out += "endpoint=198.51.100." + std::to_string(i % 250 + 1) + ":" + std::to_string(40000 + i % 20000) +
             "\n";
    out += "last_handshake_time_sec=" + std::string(i % 4 == 0 ? "1732600000" : "0") + "\n";
    out += "last_handshake_time_nsec=" + std::string(i % 4 == 0 ? "123456789" : "0") + "\n";
    out += "tx_bytes=" + std::to_string(i % 4 == 0 ? 1234567 : 0) + "\n";
    out += "rx_bytes=" + std::to_string(i % 4 == 0 ? 7654321 : 0) + "\n";
    out += "persistent_keepalive_interval=0\n";
    for (const IpPrefix& ip : p.allowed_ips) out += "allowed_ip=" + ip.toString() + "\n";
    ++i;
  }
  out += "errno=0\n\n";
  return out;
}

// The device as read back: wireguard-go lists peers in its map's (random) order.
Device currentDevice(const Device& wanted) {
  Device shuffled = wanted;
  std::mt19937_64 rng(7);
  std::shuffle(shuffled.peers.begin(), shuffled.peers.end(), rng);
  auto d = uapi::decodeGetReply(getReply(shuffled));
  if (!d.ok()) std::abort();
  return std::move(d).value();
}

void BM_DecodeGetReply(benchmark::State& state) {
  const Device wanted = wantedDevice(static_cast<size_t>(state.range(0)));
  const std::string reply = getReply(wanted);
  for (auto _ : state) {
    auto d = uapi::decodeGetReply(reply);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(reply.size()));
}
BENCHMARK(BM_DecodeGetReply)->Arg(100)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_KeyFromHex(benchmark::State& state) {
  std::mt19937_64 rng(1);
  const std::string hex = randomKey(rng).toHex();
  for (auto _ : state) {
    auto k = Key::fromHex(hex);
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_KeyFromHex);

void BM_KeyFromBase64(benchmark::State& state) {
  std::mt19937_64 rng(1);
  const std::string text = randomKey(rng).toBase64();
  for (auto _ : state) {
    auto k = Key::fromBase64(text);
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_KeyFromBase64);

// The library's one-peer operation as the agent performs it: it holds the current state from its
// observation and diffs it against the wanted one; the update is then encoded for the socket.
void BM_DiffAddOne(benchmark::State& state) {
  Device wanted = wantedDevice(static_cast<size_t>(state.range(0)) + 1);
  Device current_src = wanted;
  current_src.peers.pop_back();
  const Device current = currentDevice(current_src);
  for (auto _ : state) {
    Device update = diff(current, wanted);
    if (update.peers.size() != 1) std::abort();
    std::string text = uapi::encodeSetRequest(update);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_DiffAddOne)->Arg(100)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_DiffRemoveOne(benchmark::State& state) {
  const Device full = wantedDevice(static_cast<size_t>(state.range(0)));
  const Device current = currentDevice(full);
  Device wanted = full;
  wanted.peers.erase(wanted.peers.begin() + static_cast<long>(wanted.peers.size() / 2));
  for (auto _ : state) {
    Device update = diff(current, wanted);
    if (update.peers.size() != 1) std::abort();
    std::string text = uapi::encodeSetRequest(update);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_DiffRemoveOne)->Arg(100)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_DiffUnchanged(benchmark::State& state) {
  const Device wanted = wantedDevice(static_cast<size_t>(state.range(0)));
  const Device current = currentDevice(wanted);
  for (auto _ : state) {
    Device update = diff(current, wanted);
    if (!isEmptyUpdate(update)) std::abort();
    benchmark::DoNotOptimize(update);
  }
}
BENCHMARK(BM_DiffUnchanged)->Arg(100)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nwg::wg

int main(int argc, char** argv) {
  if (!nwg::initCrypto().ok()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
