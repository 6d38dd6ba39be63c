// UapiBackend: WireGuard devices served by wireguard-go (userspace), one daemon per device, configured
// over the UAPI socket /var/run/wireguard/<ifname>.sock. The backend for hosts without kernel
// WireGuard (backend=userspace, or backend=auto when the kernel lacks it).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "wireguard/backend.h"
#include "wireguard/uapi/uapi_client.h"
#include "wireguard/uapi/wireguard_go_processes.h"

namespace nwg::wg {

struct UapiBackendOptions {
  std::string wireguard_go = "/usr/bin/wireguard-go";
  // GOMEMLIMIT for each daemon, e.g. "512MiB": wireguard-go's heap grows with peer churn and is not
  // returned to the OS otherwise (about 900 MB after 21 loads of 10,000 peers). "auto" sizes it by the
  // device's peers at creation (goMemoryLimitFor); "" leaves it unset.
  std::string memory_limit;
  // "" discards the daemons' logs (start-up errors are still captured and reported); otherwise each
  // daemon appends to <log_dir>/<ifname>.log at log_level (error, verbose, silent).
  std::string log_dir;
  std::string log_level = "error";
  // Where wireguard-go puts its sockets; fixed in wireguard-go itself, configurable for tests.
  std::string socket_dir = "/var/run/wireguard";
  // A request fails when the socket shows no progress for this long (a stopped or wedged daemon).
  std::chrono::milliseconds request_timeout{10000};
  // A reply larger than this is refused (EMSGSIZE) rather than read into memory without bound.
  size_t max_reply = uapi::UapiClient::kDefaultMaxReply;
  std::chrono::milliseconds start_timeout{5000};
  std::chrono::milliseconds stop_timeout{3000};
};

class UapiBackend final : public Backend {
 public:
  explicit UapiBackend(UapiBackendOptions options = {});
  // The two settings the agent's configuration provides; everything else at its default.
  UapiBackend(std::string wireguard_go_path, std::string memory_limit);

  // True when wireguard-go can be run here: the binary is executable and /dev/net/tun exists.
  static bool available(const std::string& wireguard_go_path);

  std::string_view kind() const override { return "userspace"; }

  // Spawns `wireguard-go IFNAME` as a daemon in the calling thread's network namespace (its UDP socket
  // stays there) and returns once the socket answers. EEXIST when a link of that name exists in this
  // namespace or a wireguard-go socket of that name answers (the device may have been moved); a stale
  // socket left by a killed daemon is removed first. EINVAL for a name wireguard-go cannot take.
  Status create(const std::string& ifname, const CreateOptions& options) override;

  // The UAPI socket is global to the host, so device.netns is not needed to reach the device.
  // ENODEV when there is no socket or it is stale (the message says which). wireguard-go does not
  // report the public key: it is derived from the private key, once per device and key (remembered
  // until the device's key changes or it is destroyed), not on every get.
  Result<Device> get(const DeviceRef& device) override;

  // One set=1 request on one connection. Not atomic: on an error, the peers before the failing line
  // are applied. After EADDRINUSE the device has no UDP socket at all until a listen port is set.
  Status set(const DeviceRef& device, const Device& update) override;

  // Stops the daemon that holds the device's tun, wherever the link now lives: SIGTERM makes
  // wireguard-go remove the link and the socket, and a pidfd lets us wait for it to be gone. A
  // daemon that cannot be found through /proc (another PID namespace, a renamed link) is ended by
  // removing its socket, which wireguard-go watches. A stale socket is removed. Absent is success.
  Status destroy(const DeviceRef& device) override;

  const UapiBackendOptions& options() const { return options_; }

 private:
  // The public key of `private_key`, derived at most once while device `ifname` keeps that key.
  Key publicKeyFor(const std::string& ifname, const Key& private_key);
  // How many peers the last reading of `ifname` had, with some room (0 if never read): the decoder
  // allocates the peer list once instead of doubling it (~1.5 lists at once for 10,000 peers).
  size_t expectedPeers(const std::string& ifname);
  void rememberPeers(const std::string& ifname, size_t count);

  UapiBackendOptions options_;
  uapi::UapiClient client_;
  uapi::WireguardGoProcesses processes_;
  // What the backend remembers per device, under one mutex. Each map is bounded: cleared past
  // kMaxRemembered devices (devices that went away without destroy()).
  static constexpr size_t kMaxRemembered = 4096;
  std::mutex remembered_mutex_;
  std::map<std::string, std::pair<Key, Key>> public_keys_;  // ifname -> (private key, its public key)
  std::map<std::string, size_t> peer_counts_;               // ifname -> peers at its last reading
};

}  // namespace nwg::wg
