// RtnetlinkLinks: the real Links, over rtnetlink. Each namespace's operations go through one
// NETLINK_ROUTE socket opened inside it on first use and kept (NamespaceCache), so an operation costs
// no thread and no setns() once the namespace's socket is open, and a namespace deleted and re-created
// under the same name gets a new socket, never the old one.
#pragma once

#include "netlink/links.h"
#include "netlink/netlink_socket.h"
#include "netns/linux_namespaces.h"
#include "netns/namespace_cache.h"

namespace nwg {

class RtnetlinkLinks : public Links {
 public:
  // `namespaces` opens the sockets and namespace descriptors; it must outlive this object.
  explicit RtnetlinkLinks(const LinuxNamespaces& namespaces);

  Result<std::vector<LinkInfo>> list(const std::string& netns) override;
  Result<LinkInfo> get(const std::string& netns, const std::string& name) override;
  Status create(const std::string& netns, const std::string& name, const std::string& kind) override;
  Status remove(const std::string& netns, const std::string& name) override;
  Status moveTo(const std::string& netns, const std::string& name, const std::string& target) override;
  Status setUp(const std::string& netns, const std::string& name, bool up) override;
  Status setMtu(const std::string& netns, const std::string& name, uint32_t mtu) override;
  Status setAlias(const std::string& netns, const std::string& name, const std::string& alias) override;
  Result<std::vector<IpPrefix>> addresses(const std::string& netns, const std::string& name) override;
  Status replaceAddresses(const std::string& netns, const std::string& name,
                          const std::vector<IpPrefix>& wanted, AddressOptions options = {}) override;
  Result<std::vector<IpPrefix>> tentativeAddresses(const std::string& netns,
                                                   const std::string& name) override;
  Status createVethPair(const std::string& netns, const std::string& name, const std::string& peer) override;
  Status setMacAddress(const std::string& netns, const std::string& name, const std::string& mac) override;
  Result<std::vector<Route>> routes(const std::string& netns, const std::string& name) override;
  Status replaceRoute(const std::string& netns, const std::string& name, const Route& route) override;
  Status deleteRoute(const std::string& netns, const std::string& name, const Route& route) override;

  // The per-namespace sockets (for tests and diagnostics).
  const NamespaceCache<netlink::NetlinkSocket>& sockets() const { return sockets_; }

 private:
  static Result<LinkInfo> lookup(netlink::NetlinkSocket& socket, const std::string& name);
  // With `tentative_only`, only the IPv6 addresses that duplicate address detection still holds.
  static Result<std::vector<IpPrefix>> addressesOf(netlink::NetlinkSocket& socket, int index,
                                                   bool tentative_only = false);

  const LinuxNamespaces& namespaces_;
  NamespaceCache<netlink::NetlinkSocket> sockets_;
};

}  // namespace nwg
