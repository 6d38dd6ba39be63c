// A host for reconcile tests: FakeLinks, FakeNamespaces and FakeBackend kept consistent with each other
// (a WireGuard device is also a link, in exactly one namespace; operations must name where it is).
#pragma once

#include <cerrno>
#include <map>

#include "netlink/fake_links.h"
#include "netns/fake_namespaces.h"
#include "wireguard/fake/fake_backend.h"

namespace nwg::reconcile {

class FakeHost : public wg::Backend {
 public:
  FakeHost() : links(&namespaces) {}

  std::string_view kind() const override { return "fake"; }
  Status create(const std::string& ifname) override {
    if (auto it = failing_creates.find(ifname); it != failing_creates.end() && it->second > 0) {
      --it->second;
      return Error(str("cannot create ", ifname, " (injected)"), EIO);
    }
    NWG_RETURN_IF_ERROR(wireguard.create(ifname));
    links.addExisting("", LinkInfo{ifname, 0, "tun", false, 1420});
    return okStatus();
  }
  Result<wg::Device> get(const wg::DeviceRef& d) override {
    NWG_RETURN_IF_ERROR(located(d));
    return wireguard.get(d);
  }
  Status set(const wg::DeviceRef& d, const wg::Device& update) override {
    NWG_RETURN_IF_ERROR(located(d));
    return wireguard.set(d, update);
  }
  Status destroy(const wg::DeviceRef& d) override {
    NWG_RETURN_IF_ERROR(links.remove(d.netns, d.ifname));
    return wireguard.destroy(d);
  }

  // A killed wireguard-go: the link and the WireGuard state are gone, nothing else changed.
  void vanish(const std::string& netns, const std::string& ifname) {
    (void)links.remove(netns, ifname);
    wireguard.vanish(ifname);
  }
  // Everything that changed the host, for "nothing was written" assertions.
  int writes() const { return wireguard.counts().writes() + links.mutations() + namespaces.mutations(); }

  // Device name -> how many more create() calls of it fail.
  std::map<std::string, int> failing_creates;

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

}  // namespace nwg::reconcile
