// Links over rtnetlink (see rtnetlink_links.h).
#include "netlink/rtnetlink_links.h"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "netlink/rtnetlink_codec.h"

namespace nwg {

namespace {

using netlink::NetlinkSocket;

std::string where(const std::string& netns, const std::string& name) {
  return str("link ", name, " in namespace ", netns.empty() ? "(own)" : netns);
}

template <typename T>
Result<T> withContext(Result<T> result, const std::string& prefix) {
  if (result.ok()) return result;
  return std::move(result).error().context(prefix);
}

Status withContext(Status status, const std::string& prefix) {
  if (status.ok()) return status;
  return std::move(status).error().context(prefix);
}

// fe80::/10 belongs to the kernel (and IPv6 itself), never to our configuration.
bool isIpv6LinkLocal(const IpPrefix& p) {
  return p.address().isV6() && p.address().data()[0] == 0xfe && (p.address().data()[1] & 0xc0) == 0x80;
}

}  // namespace

Result<NetlinkSocket> RtnetlinkLinks::socketIn(const std::string& netns) const {
  NWG_ASSIGN_OR_RETURN(UniqueFd fd, namespaces_.openSocket(netns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  return NetlinkSocket::adopt(std::move(fd));
}

Result<LinkInfo> RtnetlinkLinks::lookup(NetlinkSocket& socket, const std::string& name) {
  NWG_RETURN_IF_ERROR(netlink::rtnl::validateLinkName(name));
  std::vector<std::vector<uint8_t>> replies;
  NWG_RETURN_IF_ERROR(socket.request(netlink::rtnl::getLinkRequest(name), &replies));
  for (const auto& bytes : replies) {
    NWG_ASSIGN_OR_RETURN(auto message, netlink::messageOf(bytes));
    NWG_ASSIGN_OR_RETURN(LinkInfo link, netlink::rtnl::decodeLink(message));
    if (link.name == name) return link;
  }
  return Error::fromErrno(ENODEV, "lookup");
}

Result<std::vector<LinkInfo>> RtnetlinkLinks::list(const std::string& netns) {
  const std::string ctx = str("links in namespace ", netns.empty() ? "(own)" : netns);
  auto socket = withContext(socketIn(netns), ctx);
  if (!socket.ok()) return std::move(socket).error();
  auto replies = withContext(socket->dump(netlink::rtnl::dumpLinksRequest()), ctx);
  if (!replies.ok()) return std::move(replies).error();
  std::vector<LinkInfo> links;
  for (const auto& bytes : *replies) {
    NWG_ASSIGN_OR_RETURN(auto message, withContext(netlink::messageOf(bytes), ctx));
    NWG_ASSIGN_OR_RETURN(LinkInfo link, withContext(netlink::rtnl::decodeLink(message), ctx));
    links.push_back(std::move(link));
  }
  return links;
}

Result<LinkInfo> RtnetlinkLinks::get(const std::string& netns, const std::string& name) {
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), where(netns, name)));
  return withContext(lookup(socket, name), where(netns, name));
}

Status RtnetlinkLinks::create(const std::string& netns, const std::string& name, const std::string& kind) {
  const std::string ctx = where(netns, name);
  NWG_RETURN_IF_ERROR(withContext(netlink::rtnl::validateLinkName(name), ctx));
  if (kind.empty() || kind.size() > 64) return Error(str(ctx, ": invalid link kind '", kind, "'"), EINVAL);
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), ctx));
  return withContext(socket.request(netlink::rtnl::createLinkRequest(name, kind)),
                     str(ctx, ": create ", kind));
}

Status RtnetlinkLinks::remove(const std::string& netns, const std::string& name) {
  const std::string ctx = where(netns, name);
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), ctx));
  auto link = lookup(socket, name);
  if (!link.ok()) {
    if (link.error().code == ENODEV) return okStatus();
    return std::move(link).error().context(ctx);
  }
  Status deleted = socket.request(netlink::rtnl::deleteLinkRequest(link->index));
  if (!deleted.ok() && deleted.error().code == ENODEV) return okStatus();  // gone meanwhile
  return withContext(std::move(deleted), str(ctx, ": delete"));
}

Status RtnetlinkLinks::moveTo(const std::string& netns, const std::string& name, const std::string& target) {
  const std::string ctx = where(netns, name);
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), ctx));
  NWG_ASSIGN_OR_RETURN(LinkInfo link, withContext(lookup(socket, name), ctx));
  NWG_ASSIGN_OR_RETURN(UniqueFd target_fd, withContext(namespaces_.openNamespace(target), ctx));
  return withContext(socket.request(netlink::rtnl::moveRequest(link.index, target_fd.get())),
                     str(ctx, ": move to namespace ", target.empty() ? "(own)" : target));
}

Status RtnetlinkLinks::setUp(const std::string& netns, const std::string& name, bool up) {
  const std::string ctx = where(netns, name);
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), ctx));
  NWG_ASSIGN_OR_RETURN(LinkInfo link, withContext(lookup(socket, name), ctx));
  return withContext(socket.request(netlink::rtnl::setUpRequest(link.index, up)),
                     str(ctx, up ? ": set up" : ": set down"));
}

Status RtnetlinkLinks::setMtu(const std::string& netns, const std::string& name, uint32_t mtu) {
  const std::string ctx = where(netns, name);
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), ctx));
  NWG_ASSIGN_OR_RETURN(LinkInfo link, withContext(lookup(socket, name), ctx));
  return withContext(socket.request(netlink::rtnl::setMtuRequest(link.index, mtu)),
                     str(ctx, ": set mtu ", mtu));
}

Result<std::vector<IpPrefix>> RtnetlinkLinks::addressesOf(NetlinkSocket& socket, int index) {
  NWG_ASSIGN_OR_RETURN(auto replies, socket.dump(netlink::rtnl::dumpAddressesRequest()));
  std::vector<IpPrefix> out;
  for (const auto& bytes : replies) {
    NWG_ASSIGN_OR_RETURN(auto message, netlink::messageOf(bytes));
    NWG_ASSIGN_OR_RETURN(auto entry, netlink::rtnl::decodeAddress(message));
    if (!entry || entry->index != index || isIpv6LinkLocal(entry->prefix)) continue;
    out.push_back(entry->prefix);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<IpPrefix>> RtnetlinkLinks::addresses(const std::string& netns, const std::string& name) {
  const std::string ctx = where(netns, name);
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), ctx));
  NWG_ASSIGN_OR_RETURN(LinkInfo link, withContext(lookup(socket, name), ctx));
  return withContext(addressesOf(socket, link.index), str(ctx, ": addresses"));
}

Status RtnetlinkLinks::replaceAddresses(const std::string& netns, const std::string& name,
                                        const std::vector<IpPrefix>& wanted) {
  const std::string ctx = where(netns, name);
  NWG_ASSIGN_OR_RETURN(auto socket, withContext(socketIn(netns), ctx));
  NWG_ASSIGN_OR_RETURN(LinkInfo link, withContext(lookup(socket, name), ctx));
  NWG_ASSIGN_OR_RETURN(auto current, withContext(addressesOf(socket, link.index), str(ctx, ": addresses")));
  std::vector<IpPrefix> want;
  for (const IpPrefix& p : wanted) {
    if (!isIpv6LinkLocal(p)) want.push_back(p);
  }
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  for (const IpPrefix& p : want) {
    if (std::binary_search(current.begin(), current.end(), p)) continue;
    NWG_RETURN_IF_ERROR(withContext(socket.request(netlink::rtnl::addAddressRequest(link.index, p)),
                                    str(ctx, ": add address ", p)));
  }
  bool deleted = false;
  for (const IpPrefix& p : current) {
    if (std::binary_search(want.begin(), want.end(), p)) continue;
    Status removed = socket.request(netlink::rtnl::deleteAddressRequest(link.index, p));
    deleted = true;
    if (!removed.ok() && removed.error().code == EADDRNOTAVAIL) continue;  // gone with its primary
    NWG_RETURN_IF_ERROR(withContext(std::move(removed), str(ctx, ": delete address ", p)));
  }
  if (!deleted) return okStatus();
  // Deleting the primary IPv4 address of a subnet also deletes its secondaries (unless the
  // namespace promotes them), which may include wanted ones: put those back.
  NWG_ASSIGN_OR_RETURN(auto after, withContext(addressesOf(socket, link.index), str(ctx, ": addresses")));
  for (const IpPrefix& p : want) {
    if (std::binary_search(after.begin(), after.end(), p)) continue;
    NWG_RETURN_IF_ERROR(withContext(socket.request(netlink::rtnl::addAddressRequest(link.index, p)),
                                    str(ctx, ": re-add address ", p)));
  }
  return okStatus();
}

}  // namespace nwg
