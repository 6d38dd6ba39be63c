// An in-memory WireGuard backend for unit tests of the layers above (reconcile, daemon): the same
// semantics as the real transports (flags, masked allowed IPs that move to the peer that last claimed
// them, EADDRINUSE / ENODEV / EEXIST), plus failure injection and operation counters.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "wireguard/backend.h"

namespace nwg::wg {

class FakeBackend : public Backend {
 public:
  enum class Op { kCreate, kGet, kSet, kDestroy };

  struct Counts {
    int create = 0;
    int get = 0;
    int set = 0;
    int destroy = 0;
    // Calls that could change state (failed ones included): what "no writes happened" asserts on.
    int writes() const { return create + set + destroy; }
  };

  FakeBackend() = default;

  std::string_view kind() const override { return "fake"; }
  Status create(const std::string& ifname, const CreateOptions& options) override;
  Result<Device> get(const DeviceRef& device) override;
  Status set(const DeviceRef& device, const Device& update) override;
  Status destroy(const DeviceRef& device) override;

  // The next `times` calls of `op` fail with `error` before doing anything (counted all the same).
  void failNext(Op op, Error error, int times = 1);
  // Calls made so far, successful or not; resetCounts() starts over.
  Counts counts() const;
  void resetCounts();
  // Every update passed to set(), in order (what a test inspects to see what was sent).
  std::vector<Device> updates() const;
  // Device names that exist now, sorted.
  std::vector<std::string> devices() const;
  // Makes a device vanish without destroy() (as a killed wireguard-go or a reboot would).
  void vanish(const std::string& ifname);
  // What WireGuard itself would change: a peer's handshake, counters and the endpoint its packets
  // come from (false when there is no such device or peer).
  bool setPeerStats(const std::string& ifname, const Key& peer, const PeerStats& stats,
                    std::optional<Endpoint> endpoint = std::nullopt);

 private:
  // Peers in read-back form (every field present, no flags), in creation order as the kernel lists
  // them, indexed so that 10,000-peer tests stay fast.
  struct FakeDevice {
    FakeDevice() = default;
    FakeDevice(const FakeDevice&) = delete;  // by_key and ip_owner point into peers
    FakeDevice& operator=(const FakeDevice&) = delete;

    std::optional<Key> private_key;
    std::optional<uint16_t> listen_port;
    uint32_t fwmark = 0;
    std::list<Peer> peers;
    std::map<Key, std::list<Peer>::iterator> by_key;
    std::map<IpPrefix, Peer*> ip_owner;

    void removePeer(const Key& key);
    void clearAllowedIps(Peer& peer);
  };

  std::optional<Error> takeFailure(Op op);
  std::optional<uint16_t> freePort(uint16_t preferred) const;  // nullopt when `preferred` is taken
  static void applyPeer(FakeDevice& dev, const Peer& update);

  mutable std::mutex mu_;
  std::map<std::string, FakeDevice> devices_;
  std::map<Op, std::deque<Error>> failures_;
  Counts counts_;
  std::vector<Device> updates_;
  uint16_t next_random_port_ = 40000;
};

}  // namespace nwg::wg
