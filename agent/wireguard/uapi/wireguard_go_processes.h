// Starting, finding and stopping wireguard-go daemons: the process side of UapiBackend.
// A daemon outlives the agent (its own session, re-parented to init); it is found again through the
// tun file descriptor it holds (/proc/PID/fdinfo says "iff: NAME"), since wireguard-go has no pidfile.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::wg::uapi {

class WireguardGoProcesses {
 public:
  struct Options {
    std::string binary;        // path of wireguard-go
    std::string memory_limit;  // GOMEMLIMIT, or "auto" (goMemoryLimitFor); "" leaves it unset
    std::string log_dir;       // "" discards the daemon's log; else it appends to <log_dir>/<ifname>.log
    std::string log_level;     // LOG_LEVEL, used only with a log_dir
    std::chrono::milliseconds start_timeout{5000};
    std::chrono::milliseconds stop_timeout{3000};
  };

  explicit WireguardGoProcesses(Options options) : options_(std::move(options)) {}

  // Runs `wireguard-go IFNAME` in daemon mode in a new session, in the calling thread's network
  // namespace, with a clean environment, and waits for its launcher to exit. Success means the tun
  // and the UAPI socket exist. A failure carries what wireguard-go printed. `expected_peers` sizes an
  // "auto" memory limit.
  Status start(const std::string& ifname, size_t expected_peers) const;

  // PIDs of the live processes holding the tun of `ifname` (normally one). With only_named = true,
  // only processes whose comm is the binary's name are examined (cheap); false scans every process.
  std::vector<pid_t> findServing(std::string_view ifname, bool only_named = true) const;

  // Stops `pid` if it still serves `ifname`: SIGTERM (wireguard-go then removes its link and socket),
  // SIGKILL after stop_timeout. A process that is already gone is success.
  Status stop(pid_t pid, std::string_view ifname) const;

 private:
  Options options_;
};

// GOMEMLIMIT syntax: digits with an optional B/KiB/MiB/GiB/TiB suffix, or "off"; or "auto".
bool isValidMemoryLimit(std::string_view limit);

// The GOMEMLIMIT for a daemon whose device starts with `expected_peers` peers. "auto" is 256 MiB plus
// 16 KiB per peer: wireguard-go's steady state is about 11 KB per peer over a few MB, so the limit
// leaves the live heap room to double, while the garbage that peer churn piles up (and that the Go
// runtime does not give back: 931 MB after 21 loads of 10,000 peers) is collected instead of kept.
// The limit is soft: a heap above it costs the daemon more collections, never an allocation.
// Any other setting is returned as it is.
std::string goMemoryLimitFor(std::string_view setting, size_t expected_peers);

}  // namespace nwg::wg::uapi
