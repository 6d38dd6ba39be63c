// A host for reconcile tests: FakeLinks, FakeNamespaces and FakeBackend kept consistent with each other
// (a WireGuard device is also a link, in exactly one namespace; operations must name where it is).
#pragma once

#include <cerrno>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "netlink/fake_links.h"
#include "netns/fake_namespaces.h"
#include "reconcile/host_facts.h"
#include "wireguard/fake/fake_backend.h"

namespace nwg::reconcile {

class FakeHost : public wg::Backend {
 public:
  FakeHost() : links(&namespaces) {}

  std::string_view kind() const override { return "fake"; }
  Status create(const std::string& ifname, const wg::CreateOptions& options) override {
    if (on_create) on_create(ifname);
    expected_peers_at_create[ifname] = options.expected_peers;
    if (auto it = failing_creates.find(ifname); it != failing_creates.end() && it->second > 0) {
      --it->second;
      return Error(str("cannot create ", ifname, " (injected)"), EIO);
    }
    NWG_RETURN_IF_ERROR(wireguard.create(ifname, options));
    links.addExisting("", LinkInfo{ifname, 0, "tun", false, 1420});
    return okStatus();
  }
  Result<wg::Device> get(const wg::DeviceRef& d) override {
    NWG_RETURN_IF_ERROR(located(d));
    if (auto it = unreadable.find(d.ifname); it != unreadable.end()) return it->second;
    return wireguard.get(d);
  }
  Status set(const wg::DeviceRef& d, const wg::Device& update) override {
    NWG_RETURN_IF_ERROR(located(d));
    return wireguard.set(d, update);
  }
  Status destroy(const wg::DeviceRef& d) override {
    NWG_RETURN_IF_ERROR(links.remove(d.netns, d.ifname));
    unreadable.erase(d.ifname);  // a wedged process goes with its device
    return wireguard.destroy(d);
  }

  // A killed wireguard-go: the link and the WireGuard state are gone, nothing else changed.
  void vanish(const std::string& netns, const std::string& ifname) {
    (void)links.remove(netns, ifname);
    wireguard.vanish(ifname);
  }
  // Everything that changed the host, for "nothing was written" assertions.
  int writes() const { return wireguard.counts().writes() + links.mutations() + namespaces.mutations(); }

  // Called at the start of every create() (tests block or count there).
  std::function<void(const std::string&)> on_create;
  // Device name -> how many more create() calls of it fail.
  std::map<std::string, int> failing_creates;
  std::map<std::string, size_t> expected_peers_at_create;  // what each create was told to expect
  // Device name -> the error every get() of it fails with (a wedged wireguard-go), until erased.
  std::map<std::string, Error> unreadable;

  FakeNamespaces namespaces;
  FakeLinks links;
  wg::FakeBackend wireguard;

 private:
  // The real transports find a device only where it is (genl per namespace; a UAPI device whose link
  // went away answers nothing): insist that the caller named the right namespace.
  Status located(const wg::DeviceRef& d) {
    auto link = links.get(d.netns, d.ifname);
    if (!link) return Error(str("no WireGuard device ", d.ifname, " in '", d.netns, "'"), ENODEV);
    return okStatus();
  }
};

// The node's UDP ports and addresses, as a test sets them.
class FakeHostFacts : public HostFacts {
 public:
  std::set<uint16_t> udpPortsInUse() override { return busy_ports; }
  Result<std::set<IpAddress>> localAddresses() override {
    if (fail_addresses) return Error("getifaddrs: cannot allocate memory (injected)", ENOMEM);
    return addresses;
  }
  std::set<uint16_t> busy_ports;
  std::set<IpAddress> addresses;
  bool fail_addresses = false;
};

// A DNS for EndpointResolver: names map to addresses; a blocked name does not answer until released
// (a resolver that never answers).
class FakeDns {
 public:
  Result<IpAddress> lookup(const std::string& host) {
    std::unique_lock lock(mu_);
    ++lookups_;
    cv_.wait(lock, [&] { return !blocked_.count(host); });
    auto it = records_.find(host);
    if (it == records_.end()) return fail("Name or service not known");
    return IpAddress::parse(it->second);
  }
  void set(const std::string& host, const std::string& address) {
    std::lock_guard lock(mu_);
    records_[host] = address;
  }
  void clear() {
    std::lock_guard lock(mu_);
    records_.clear();
  }
  void block(const std::string& host) {
    std::lock_guard lock(mu_);
    blocked_.insert(host);
  }
  void releaseAll() {
    {
      std::lock_guard lock(mu_);
      blocked_.clear();
    }
    cv_.notify_all();
  }
  int lookups() {
    std::lock_guard lock(mu_);
    return lookups_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> records_;
  std::set<std::string> blocked_;
  int lookups_ = 0;
};

}  // namespace nwg::reconcile
