// Links over rtnetlink (see rtnetlink_links.h).
#include "netlink/rtnetlink_links.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "base/mac.h"
#include "netlink/rtnetlink_codec.h"

namespace nwg {

namespace {

using netlink::NetlinkSocket;
using Retry = NamespaceCache<NetlinkSocket>::Retry;

std::string where(const std::string& netns, const std::string& name) {
  return str("link ", name, " in namespace ", netns.empty() ? "(own)" : netns);
}

// Context is built only for an error: on the idle path every operation succeeds.
template <typename R, typename Context>
R withContext(R result, Context&& context) {
  if (result.ok()) return result;
  return R(std::move(result).error().context(context()));
}

// fe80::/10 belongs to the kernel (and IPv6 itself), never to our configuration.
bool isIpv6LinkLocal(const IpPrefix& p) {
  return p.address().isV6() && p.address().data()[0] == 0xfe && (p.address().data()[1] & 0xc0) == 0x80;
}

Result<NetlinkSocket> openRouteSocket(const LinuxNamespaces& namespaces, LinuxNamespaces::Pinned& ns) {
  NWG_ASSIGN_OR_RETURN(UniqueFd fd, namespaces.openSocket(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  return NetlinkSocket::adopt(std::move(fd));
}

}  // namespace

RtnetlinkLinks::RtnetlinkLinks(const LinuxNamespaces& namespaces)
    : namespaces_(namespaces),
      sockets_(
          namespaces, [&namespaces](LinuxNamespaces::Pinned& ns) { return openRouteSocket(namespaces, ns); },
          [](const NetlinkSocket& socket) { return socket.broken(); }) {}

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
  auto links = sockets_.with(netns, [](NetlinkSocket& socket) -> Result<std::vector<LinkInfo>> {
    NWG_ASSIGN_OR_RETURN(auto replies, socket.dump(netlink::rtnl::dumpLinksRequest()));
    std::vector<LinkInfo> out;
    out.reserve(replies.size());
    for (const auto& bytes : replies) {
      NWG_ASSIGN_OR_RETURN(auto message, netlink::messageOf(bytes));
      NWG_ASSIGN_OR_RETURN(LinkInfo link, netlink::rtnl::decodeLink(message));
      out.push_back(std::move(link));
    }
    return out;
  });
  return withContext(std::move(links),
                     [&] { return str("links in namespace ", netns.empty() ? "(own)" : netns); });
}

Result<LinkInfo> RtnetlinkLinks::get(const std::string& netns, const std::string& name) {
  return withContext(sockets_.with(netns, [&](NetlinkSocket& socket) { return lookup(socket, name); }),
                     [&] { return where(netns, name); });
}

Status RtnetlinkLinks::create(const std::string& netns, const std::string& name, const std::string& kind) {
  auto ctx = [&] { return where(netns, name); };
  NWG_RETURN_IF_ERROR(withContext(netlink::rtnl::validateLinkName(name), ctx));
  if (kind.empty() || kind.size() > 64) return Error(str(ctx(), ": invalid link kind '", kind, "'"), EINVAL);
  // Never retried: a create whose acknowledgement was lost may have happened.
  Status created = sockets_.with(
      netns,
      [&](NetlinkSocket& socket) {
        return withContext(socket.request(netlink::rtnl::createLinkRequest(name, kind)),
                           [&] { return str("create ", kind); });
      },
      Retry::kNever);
  return withContext(std::move(created), ctx);
}

Status RtnetlinkLinks::remove(const std::string& netns, const std::string& name) {
  Status removed = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    auto link = lookup(socket, name);
    if (!link.ok()) {
      if (link.error().code == ENODEV) return okStatus();
      return std::move(link).error();
    }
    Status deleted = socket.request(netlink::rtnl::deleteLinkRequest(link->index));
    if (!deleted.ok() && deleted.error().code == ENODEV) return okStatus();  // gone meanwhile
    return withContext(std::move(deleted), [] { return std::string("delete"); });
  });
  return withContext(std::move(removed), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::moveTo(const std::string& netns, const std::string& name, const std::string& target) {
  // Never retried: after a move whose acknowledgement was lost, the link is no longer here.
  Status moved = sockets_.with(
      netns,
      [&](NetlinkSocket& socket) -> Status {
        NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
        NWG_ASSIGN_OR_RETURN(UniqueFd target_fd, namespaces_.openNamespace(target));
        return withContext(socket.request(netlink::rtnl::moveRequest(link.index, target_fd.get())),
                           [&] { return str("move to namespace ", target.empty() ? "(own)" : target); });
      },
      Retry::kNever);
  return withContext(std::move(moved), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::setUp(const std::string& netns, const std::string& name, bool up) {
  Status set = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    return withContext(socket.request(netlink::rtnl::setUpRequest(link.index, up)),
                       [&] { return std::string(up ? "set up" : "set down"); });
  });
  return withContext(std::move(set), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::setMtu(const std::string& netns, const std::string& name, uint32_t mtu) {
  Status set = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    return withContext(socket.request(netlink::rtnl::setMtuRequest(link.index, mtu)),
                       [&] { return str("set mtu ", mtu); });
  });
  return withContext(std::move(set), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::setAlias(const std::string& netns, const std::string& name, const std::string& alias) {
  if (Status valid = netlink::rtnl::validateAlias(alias); !valid.ok()) {
    return std::move(valid).error().context(where(netns, name));
  }
  Status set = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    NWG_ASSIGN_OR_RETURN(auto request, netlink::rtnl::setAliasRequest(link.index, alias));
    return withContext(socket.request(std::move(request)), [&] {
      return alias.empty() ? std::string("clear alias") : str("set alias '", alias, "'");
    });
  });
  return withContext(std::move(set), [&] { return where(netns, name); });
}

Result<std::vector<IpPrefix>> RtnetlinkLinks::addressesOf(NetlinkSocket& socket, int index,
                                                          bool tentative_only) {
  NWG_ASSIGN_OR_RETURN(auto replies, socket.dump(netlink::rtnl::dumpAddressesRequest()));
  std::vector<IpPrefix> out;
  for (const auto& bytes : replies) {
    NWG_ASSIGN_OR_RETURN(auto message, netlink::messageOf(bytes));
    NWG_ASSIGN_OR_RETURN(auto entry, netlink::rtnl::decodeAddress(message));
    if (!entry || entry->index != index || isIpv6LinkLocal(entry->prefix)) continue;
    if (tentative_only && !(entry->prefix.address().isV6() && (entry->flags & IFA_F_TENTATIVE))) continue;
    out.push_back(entry->prefix);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<IpPrefix>> RtnetlinkLinks::addresses(const std::string& netns, const std::string& name) {
  auto found = sockets_.with(netns, [&](NetlinkSocket& socket) -> Result<std::vector<IpPrefix>> {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    return withContext(addressesOf(socket, link.index), [] { return std::string("addresses"); });
  });
  return withContext(std::move(found), [&] { return where(netns, name); });
}

Result<std::vector<IpPrefix>> RtnetlinkLinks::tentativeAddresses(const std::string& netns,
                                                                 const std::string& name) {
  auto found = sockets_.with(netns, [&](NetlinkSocket& socket) -> Result<std::vector<IpPrefix>> {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    return withContext(addressesOf(socket, link.index, /*tentative_only=*/true),
                       [] { return std::string("addresses"); });
  });
  return withContext(std::move(found), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::replaceAddresses(const std::string& netns, const std::string& name,
                                        const std::vector<IpPrefix>& wanted, AddressOptions options) {
  // IFA_F_NODAD means something for IPv6 only.
  auto flagsFor = [&](const IpPrefix& p) -> uint8_t {
    return options.no_dad && p.address().isV6() ? IFA_F_NODAD : 0;
  };
  std::vector<IpPrefix> want;
  for (const IpPrefix& p : wanted) {
    if (!isIpv6LinkLocal(p)) want.push_back(p);
  }
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  // Retrying is safe: each attempt starts from the addresses the link has then.
  Status replaced = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    NWG_ASSIGN_OR_RETURN(
        auto current, withContext(addressesOf(socket, link.index), [] { return std::string("addresses"); }));
    for (const IpPrefix& p : want) {
      if (std::binary_search(current.begin(), current.end(), p)) continue;
      NWG_RETURN_IF_ERROR(
          withContext(socket.request(netlink::rtnl::addAddressRequest(link.index, p, flagsFor(p))),
                      [&] { return str("add address ", p); }));
    }
    bool deleted = false;
    for (const IpPrefix& p : current) {
      if (std::binary_search(want.begin(), want.end(), p)) continue;
      Status removed = socket.request(netlink::rtnl::deleteAddressRequest(link.index, p));
      deleted = true;
      if (!removed.ok() && removed.error().code == EADDRNOTAVAIL) continue;  // gone with its primary
      NWG_RETURN_IF_ERROR(withContext(std::move(removed), [&] { return str("delete address ", p); }));
    }
    if (!deleted) return okStatus();
    // Deleting the primary IPv4 address of a subnet also deletes its secondaries (unless the
    // namespace promotes them), which may include wanted ones: put those back.
    NWG_ASSIGN_OR_RETURN(
        auto after, withContext(addressesOf(socket, link.index), [] { return std::string("addresses"); }));
    for (const IpPrefix& p : want) {
      if (std::binary_search(after.begin(), after.end(), p)) continue;
      NWG_RETURN_IF_ERROR(
          withContext(socket.request(netlink::rtnl::addAddressRequest(link.index, p, flagsFor(p))),
                      [&] { return str("re-add address ", p); }));
    }
    return okStatus();
  });
  return withContext(std::move(replaced), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::createVethPair(const std::string& netns, const std::string& name,
                                      const std::string& peer) {
  auto ctx = [&] { return where(netns, name); };
  NWG_RETURN_IF_ERROR(withContext(netlink::rtnl::validateLinkName(name), ctx));
  NWG_RETURN_IF_ERROR(withContext(netlink::rtnl::validateLinkName(peer), ctx));
  // Never retried: a create whose acknowledgement was lost may have happened.
  Status created = sockets_.with(
      netns,
      [&](NetlinkSocket& socket) {
        return withContext(socket.request(netlink::rtnl::createVethRequest(name, peer)),
                           [&] { return str("create veth pair with ", peer); });
      },
      Retry::kNever);
  return withContext(std::move(created), ctx);
}

Status RtnetlinkLinks::setMacAddress(const std::string& netns, const std::string& name,
                                     const std::string& mac) {
  auto bytes = parseMac(mac);
  if (!bytes) return Error(str(where(netns, name), ": '", mac, "' is not a MAC address"), EINVAL);
  Status set = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    return withContext(socket.request(netlink::rtnl::setMacRequest(link.index, *bytes)),
                       [&] { return str("set MAC address ", mac); });
  });
  return withContext(std::move(set), [&] { return where(netns, name); });
}

Result<std::vector<Route>> RtnetlinkLinks::routes(const std::string& netns, const std::string& name) {
  auto found = sockets_.with(netns, [&](NetlinkSocket& socket) -> Result<std::vector<Route>> {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    NWG_ASSIGN_OR_RETURN(auto replies, withContext(socket.dump(netlink::rtnl::dumpRoutesRequest()),
                                                   [] { return std::string("routes"); }));
    std::vector<Route> out;
    for (const auto& bytes : replies) {
      NWG_ASSIGN_OR_RETURN(auto message, netlink::messageOf(bytes));
      NWG_ASSIGN_OR_RETURN(auto entry, netlink::rtnl::decodeRoute(message));
      if (entry && entry->oif == link.index) out.push_back(entry->route);
    }
    std::sort(out.begin(), out.end());
    return out;
  });
  return withContext(std::move(found), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::replaceRoute(const std::string& netns, const std::string& name, const Route& route) {
  // Retrying is safe: a replace of what is already there changes nothing.
  Status set = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    return withContext(socket.request(netlink::rtnl::replaceRouteRequest(link.index, route)),
                       [&] { return str("add route ", describeRoute(route)); });
  });
  return withContext(std::move(set), [&] { return where(netns, name); });
}

Status RtnetlinkLinks::deleteRoute(const std::string& netns, const std::string& name, const Route& route) {
  Status deleted = sockets_.with(netns, [&](NetlinkSocket& socket) -> Status {
    NWG_ASSIGN_OR_RETURN(LinkInfo link, lookup(socket, name));
    Status s = socket.request(netlink::rtnl::deleteRouteRequest(link.index, route));
    if (!s.ok() && s.error().code == ESRCH) return okStatus();  // gone already
    return withContext(std::move(s), [&] { return str("delete route ", describeRoute(route)); });
  });
  return withContext(std::move(deleted), [&] { return where(netns, name); });
}

}  // namespace nwg
