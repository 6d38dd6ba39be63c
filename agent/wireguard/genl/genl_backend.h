// GenlBackend: kernel WireGuard, configured over generic netlink (family "wireguard") with links
// created and removed over rtnetlink. Devices moved into other namespaces are reached through a
// socket opened inside that namespace (DeviceRef.netns) on first use and kept (NamespaceCache).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "netlink/links.h"
#include "netlink/netlink_socket.h"
#include "netns/linux_namespaces.h"
#include "netns/namespace_cache.h"
#include "wireguard/backend.h"
#include "wireguard/genl/device_codec.h"

namespace nwg::wg {

class GenlBackend final : public Backend {
 public:
  // `namespaces` opens sockets inside namespaces and `links` creates and deletes the links; both
  // must outlive the backend. `set_limit` bounds each WG_CMD_SET_DEVICE message (tests shrink it).
  GenlBackend(const LinuxNamespaces& namespaces, Links& links, size_t set_limit = genl::kDefaultSetLimit);

  // True when the kernel here has WireGuard (the "wireguard" family resolves): for backend = auto.
  static bool available();

  std::string_view kind() const override { return "kernel"; }

  // `ip link add IFNAME type wireguard` in the agent's own namespace, then link up: the kernel opens
  // the device's UDP socket only while the link is up, so this makes the socket (and a busy listen
  // port's EADDRINUSE at set()) behave as with wireguard-go, whose socket exists from the start.
  // Moving the link later sets it down; the agent sets it up again where it lands.
  Status create(const std::string& ifname, const CreateOptions& options) override;
  Result<Device> get(const DeviceRef& device) override;
  Status set(const DeviceRef& device, const Device& update) override;
  // Deletes the link in device.netns after checking it is a WireGuard link; absent (no such link or
  // no such namespace) is success. A link of that name that is not WireGuard is left alone: error.
  Status destroy(const DeviceRef& device) override;

  // The per-namespace generic netlink sockets (for tests and diagnostics).
  const NamespaceCache<netlink::NetlinkSocket>& sockets() const { return sockets_; }

 private:
  Result<uint16_t> family(netlink::NetlinkSocket& socket);

  NamespaceCache<netlink::NetlinkSocket> sockets_;
  Links& links_;
  size_t set_limit_;
  std::mutex mutex_;
  std::optional<uint16_t> family_;  // resolved once: the id is global to the kernel
};

}  // namespace nwg::wg
