// RtnetlinkLinks: the real Links, over rtnetlink. Each operation opens a NETLINK_ROUTE socket inside
// the namespace it names (through LinuxNamespaces, so setns() never touches the caller's thread).
#pragma once

#include "netlink/links.h"
#include "netlink/netlink_socket.h"
#include "netns/linux_namespaces.h"

namespace nwg {

class RtnetlinkLinks : public Links {
 public:
  // `namespaces` opens the sockets and namespace descriptors; it must outlive this object.
  explicit RtnetlinkLinks(const LinuxNamespaces& namespaces) : namespaces_(namespaces) {}

  Result<std::vector<LinkInfo>> list(const std::string& netns) override;
  Result<LinkInfo> get(const std::string& netns, const std::string& name) override;
  Status create(const std::string& netns, const std::string& name, const std::string& kind) override;
  Status remove(const std::string& netns, const std::string& name) override;
  Status moveTo(const std::string& netns, const std::string& name, const std::string& target) override;
  Status setUp(const std::string& netns, const std::string& name, bool up) override;
  Status setMtu(const std::string& netns, const std::string& name, uint32_t mtu) override;
  Result<std::vector<IpPrefix>> addresses(const std::string& netns, const std::string& name) override;
  Status replaceAddresses(const std::string& netns, const std::string& name,
                          const std::vector<IpPrefix>& wanted) override;

 private:
  Result<netlink::NetlinkSocket> socketIn(const std::string& netns) const;
  static Result<LinkInfo> lookup(netlink::NetlinkSocket& socket, const std::string& name);
  static Result<std::vector<IpPrefix>> addressesOf(netlink::NetlinkSocket& socket, int index);

  const LinuxNamespaces& namespaces_;
};

}  // namespace nwg
