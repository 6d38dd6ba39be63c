// FakeBackend: the WireGuard semantics of the real transports, kept in memory (see fake_backend.h).
#include "wireguard/fake/fake_backend.h"

#include <algorithm>
#include <cerrno>

#include "wireguard/interface_name.h"

namespace nwg::wg {
namespace {

Error noDevice(const std::string& ifname) {
  return Error(str("device ", ifname, ": no such WireGuard device"), ENODEV);
}

}  // namespace

std::optional<Error> FakeBackend::takeFailure(Op op) {
  auto it = failures_.find(op);
  if (it == failures_.end() || it->second.empty()) return std::nullopt;
  Error e = std::move(it->second.front());
  it->second.pop_front();
  return e;
}

void FakeBackend::failNext(Op op, Error error, int times) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) failures_[op].push_back(error);
}

FakeBackend::Counts FakeBackend::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void FakeBackend::resetCounts() {
  std::lock_guard lock(mu_);
  counts_ = {};
  updates_.clear();
}

std::vector<Device> FakeBackend::updates() const {
  std::lock_guard lock(mu_);
  return updates_;
}

std::vector<std::string> FakeBackend::devices() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, dev] : devices_) names.push_back(name);
  return names;
}

void FakeBackend::vanish(const std::string& ifname) {
  std::lock_guard lock(mu_);
  devices_.erase(ifname);
}

bool FakeBackend::setPeerStats(const std::string& ifname, const Key& peer, const PeerStats& stats,
                               std::optional<Endpoint> endpoint) {
  std::lock_guard lock(mu_);
  auto dev = devices_.find(ifname);
  if (dev == devices_.end()) return false;
  auto it = dev->second.by_key.find(peer);
  if (it == dev->second.by_key.end()) return false;
  it->second->stats = stats;
  if (endpoint) it->second->endpoint = endpoint;
  return true;
}

std::optional<uint16_t> FakeBackend::freePort(uint16_t preferred) const {
  auto taken = [this](uint16_t port) {
    return std::any_of(devices_.begin(), devices_.end(),
                       [port](const auto& d) { return d.second.listen_port == port; });
  };
  if (preferred != 0) {
    if (taken(preferred)) return std::nullopt;
    return preferred;
  }
  // Port 0 asks for a random free port, as in both transports; a counter is random enough here.
  uint16_t port = next_random_port_;
  while (taken(port)) port = static_cast<uint16_t>(port + 1 < 65535 ? port + 1 : 40000);
  return port;
}

Status FakeBackend::create(const std::string& ifname, const CreateOptions& /*options*/) {
  std::lock_guard lock(mu_);
  ++counts_.create;
  if (auto e = takeFailure(Op::kCreate)) return *e;
  NWG_RETURN_IF_ERROR(validateInterfaceName(ifname));
  if (devices_.count(ifname)) return Error(str("device ", ifname, ": already exists"), EEXIST);
  // wireguard-go binds a random port at start (the kernel reports 0 until the link is up).
  std::optional<uint16_t> port = freePort(0);
  FakeDevice& dev = devices_[ifname];
  dev.listen_port = port;
  next_random_port_ = static_cast<uint16_t>(*port + 1 < 65535 ? *port + 1 : 40000);
  return okStatus();
}

Result<Device> FakeBackend::get(const DeviceRef& ref) {
  std::lock_guard lock(mu_);
  ++counts_.get;
  if (auto e = takeFailure(Op::kGet)) return *e;
  auto it = devices_.find(ref.ifname);
  if (it == devices_.end()) return noDevice(ref.ifname);
  const FakeDevice& dev = it->second;
  Device out;
  out.private_key = dev.private_key;
  if (dev.private_key) out.public_key = publicKeyOf(*dev.private_key);
  out.listen_port = dev.listen_port;
  out.fwmark = dev.fwmark;
  out.peers.reserve(dev.peers.size());
  for (const Peer& p : dev.peers) out.peers.push_back(p);
  return out;
}

void FakeBackend::FakeDevice::clearAllowedIps(Peer& peer) {
  for (const IpPrefix& ip : peer.allowed_ips) ip_owner.erase(ip);
  peer.allowed_ips.clear();
}

void FakeBackend::FakeDevice::removePeer(const Key& key) {
  auto it = by_key.find(key);
  if (it == by_key.end()) return;
  clearAllowedIps(*it->second);
  peers.erase(it->second);
  by_key.erase(it);
}

void FakeBackend::applyPeer(FakeDevice& dev, const Peer& update) {
  // Both transports silently ignore a peer whose key is the device's own public key.
  if (dev.private_key && publicKeyOf(*dev.private_key) == update.public_key) return;
  if (update.remove) {
    dev.removePeer(update.public_key);
    return;
  }
  auto found = dev.by_key.find(update.public_key);
  if (found == dev.by_key.end()) {
    if (update.update_only) return;
    Peer fresh;
    fresh.public_key = update.public_key;
    fresh.preshared_key = Key();
    fresh.persistent_keepalive = 0;
    dev.peers.push_back(std::move(fresh));
    found = dev.by_key.emplace(update.public_key, std::prev(dev.peers.end())).first;
  }
  Peer& peer = *found->second;
  if (update.preshared_key) peer.preshared_key = update.preshared_key;
  if (update.endpoint) peer.endpoint = update.endpoint;
  if (update.persistent_keepalive) peer.persistent_keepalive = update.persistent_keepalive;
  if (update.replace_allowed_ips) dev.clearAllowedIps(peer);
  for (const IpPrefix& raw : update.allowed_ips) {
    IpPrefix ip = raw.masked();
    // An allowed IP belongs to exactly one peer: the one that claimed it last.
    auto [owner, inserted] = dev.ip_owner.emplace(ip, &peer);
    if (!inserted) {
      if (owner->second == &peer) continue;
      auto& ips = owner->second->allowed_ips;
      ips.erase(std::remove(ips.begin(), ips.end(), ip), ips.end());
      owner->second = &peer;
    }
    peer.allowed_ips.push_back(ip);
  }
}

Status FakeBackend::set(const DeviceRef& ref, const Device& update) {
  std::lock_guard lock(mu_);
  ++counts_.set;
  updates_.push_back(update);
  if (auto e = takeFailure(Op::kSet)) return *e;
  auto it = devices_.find(ref.ifname);
  if (it == devices_.end()) return noDevice(ref.ifname);
  FakeDevice& dev = it->second;
  if (update.listen_port && dev.listen_port != update.listen_port) {
    // The kernel checks the port before anything else and leaves the device as it was on failure.
    // (wireguard-go additionally loses its UDP socket; see UapiBackend.)
    std::optional<uint16_t> old = dev.listen_port;
    dev.listen_port.reset();  // so that freePort() does not see the device's own port as taken
    auto port = freePort(*update.listen_port);
    if (!port) {
      dev.listen_port = old;
      return Error(str("device ", ref.ifname, ": listen port ", *update.listen_port, " already in use"),
                   EADDRINUSE);
    }
    dev.listen_port = port;
  }
  if (update.private_key) {
    if (update.private_key->isZero()) {
      dev.private_key.reset();
    } else {
      dev.private_key = update.private_key;
      // Both transports drop a peer whose key becomes the device's own public key.
      dev.removePeer(publicKeyOf(*update.private_key));
    }
  }
  if (update.fwmark) dev.fwmark = *update.fwmark;
  if (update.replace_peers) {
    dev.ip_owner.clear();
    dev.by_key.clear();
    dev.peers.clear();
  }
  for (const Peer& p : update.peers) applyPeer(dev, p);
  return okStatus();
}

Status FakeBackend::destroy(const DeviceRef& ref) {
  std::lock_guard lock(mu_);
  ++counts_.destroy;
  if (auto e = takeFailure(Op::kDestroy)) return *e;
  devices_.erase(ref.ifname);
  return okStatus();
}

}  // namespace nwg::wg
