// In-memory links for unit tests (see fake_links.h).
#include "netlink/fake_links.h"

#include <algorithm>
#include <cerrno>

#include "base/mac.h"
#include "netlink/rtnetlink_codec.h"

namespace nwg {

namespace {

std::string where(const std::string& netns, const std::string& name) {
  return str("link ", name, " in namespace ", netns.empty() ? "(own)" : netns);
}

bool isIpv6LinkLocal(const IpPrefix& p) {
  return p.address().isV6() && p.address().data()[0] == 0xfe && (p.address().data()[1] & 0xc0) == 0x80;
}

// A locally administered address made from the link's index, for Ethernet-like links.
std::string fakeMac(const std::string& kind, int index) {
  if (kind == "wireguard" || kind == "tun") return "";
  const uint8_t bytes[6] = {0x02, 0, 0, 0, static_cast<uint8_t>(index >> 8), static_cast<uint8_t>(index)};
  return formatMac(bytes, 6);
}

uint32_t defaultMtu(const std::string& kind) {
  return kind == "wireguard" || kind == "tun" ? 1420 : 1500;
}

}  // namespace

Status FakeLinks::injected(const std::string& op) {
  auto it = failures_.find(op);
  if (it == failures_.end()) return okStatus();
  Error e = std::move(it->second);
  failures_.erase(it);
  return e;
}

Status FakeLinks::checkNamespace(const std::string& netns) {
  if (netns.empty() || namespaces_ == nullptr) return okStatus();
  NWG_ASSIGN_OR_RETURN(bool exists, namespaces_->exists(netns));
  if (!exists) return Error(str("namespace ", netns, ": No such file or directory"), ENOENT);
  return okStatus();
}

Result<FakeLinks::Link*> FakeLinks::find(const std::string& netns, const std::string& name) {
  NWG_RETURN_IF_ERROR(netlink::rtnl::validateLinkName(name));
  NWG_RETURN_IF_ERROR(checkNamespace(netns));
  auto ns = links_.find(netns);
  if (ns != links_.end()) {
    auto it = ns->second.find(name);
    if (it != ns->second.end()) return &it->second;
  }
  return Error(str(where(netns, name), ": No such device"), ENODEV);
}

void FakeLinks::addExisting(const std::string& netns, LinkInfo link, std::vector<IpPrefix> addresses) {
  if (link.index == 0) link.index = next_index_++;
  std::sort(addresses.begin(), addresses.end());
  const std::string name = link.name;
  links_[netns][name] = Link{std::move(link), std::move(addresses)};
}

Result<std::vector<LinkInfo>> FakeLinks::list(const std::string& netns) {
  ++lists_[netns];
  NWG_RETURN_IF_ERROR(injected("list"));
  NWG_RETURN_IF_ERROR(checkNamespace(netns));
  std::vector<LinkInfo> out;
  auto ns = links_.find(netns);
  if (ns != links_.end()) {
    for (const auto& [name, link] : ns->second) out.push_back(link.info);
  }
  return out;
}

Result<LinkInfo> FakeLinks::get(const std::string& netns, const std::string& name) {
  NWG_RETURN_IF_ERROR(injected("get"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  return link->info;
}

Status FakeLinks::create(const std::string& netns, const std::string& name, const std::string& kind) {
  NWG_RETURN_IF_ERROR(netlink::rtnl::validateLinkName(name));
  NWG_RETURN_IF_ERROR(injected("create"));
  NWG_RETURN_IF_ERROR(checkNamespace(netns));
  if (!kinds_.count(kind))
    return Error(str(where(netns, name), ": create ", kind, ": Operation not supported"), EOPNOTSUPP);
  if (links_[netns].count(name)) return Error(str(where(netns, name), ": create: File exists"), EEXIST);
  ++mutations_;
  addExisting(netns, LinkInfo{name, 0, kind, false, defaultMtu(kind), "", fakeMac(kind, next_index_)});
  return okStatus();
}

Status FakeLinks::remove(const std::string& netns, const std::string& name) {
  NWG_RETURN_IF_ERROR(injected("remove"));
  auto link = find(netns, name);
  if (!link.ok()) return link.error().code == ENODEV ? okStatus() : Status(std::move(link).error());
  ++mutations_;
  if (Link* peer = peerOf(**link)) links_[(*link)->peer_netns].erase(peer->info.name);  // both ends go
  links_[netns].erase(name);
  return okStatus();
}

FakeLinks::Link* FakeLinks::peerOf(const Link& link) {
  if (link.peer_name.empty()) return nullptr;
  auto ns = links_.find(link.peer_netns);
  if (ns == links_.end()) return nullptr;
  auto it = ns->second.find(link.peer_name);
  return it == ns->second.end() ? nullptr : &it->second;
}

Status FakeLinks::moveTo(const std::string& netns, const std::string& name, const std::string& target) {
  NWG_RETURN_IF_ERROR(injected("moveTo"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  NWG_RETURN_IF_ERROR(checkNamespace(target));
  if (target == netns) return okStatus();
  if (links_[target].count(name))
    return Error(str(where(netns, name), ": move: File exists in target"), EEXIST);
  ++mutations_;
  Link moved = std::move(*link);
  links_[netns].erase(name);
  moved.info.up = false;  // as the kernel does on every namespace change
  moved.addresses.clear();
  moved.tentative.clear();
  moved.routes.clear();
  if (Link* peer = peerOf(moved)) peer->peer_netns = target;
  links_[target][name] = std::move(moved);
  return okStatus();
}

Status FakeLinks::setUp(const std::string& netns, const std::string& name, bool up) {
  NWG_RETURN_IF_ERROR(injected("setUp"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  if (link->info.up != up) ++mutations_;
  link->info.up = up;
  if (!up) link->routes.clear();  // the kernel flushes the routes through a link set down
  return okStatus();
}

Status FakeLinks::setMtu(const std::string& netns, const std::string& name, uint32_t mtu) {
  NWG_RETURN_IF_ERROR(injected("setMtu"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  // As the kernel: WireGuard has no minimum (its own limit is near INT_MAX), Ethernet-like kinds 68..65535.
  const bool ethernet_like = link->info.kind != "wireguard" && link->info.kind != "tun";
  if (mtu > 0x7fffffffu || (ethernet_like && (mtu < 68 || mtu > 65535))) {
    return Error(str(where(netns, name), ": set mtu ", mtu, ": Invalid argument"), EINVAL);
  }
  if (link->info.mtu != mtu) ++mutations_;
  link->info.mtu = mtu;
  return okStatus();
}

Status FakeLinks::setAlias(const std::string& netns, const std::string& name, const std::string& alias) {
  NWG_RETURN_IF_ERROR(injected("setAlias"));
  if (Status valid = netlink::rtnl::validateAlias(alias); !valid.ok()) {
    return std::move(valid).error().context(where(netns, name));
  }
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  if (link->info.alias != alias) ++mutations_;
  link->info.alias = alias;
  return okStatus();
}

Result<std::vector<IpPrefix>> FakeLinks::addresses(const std::string& netns, const std::string& name) {
  NWG_RETURN_IF_ERROR(injected("addresses"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  return link->addresses;
}

Result<std::vector<IpPrefix>> FakeLinks::tentativeAddresses(const std::string& netns,
                                                            const std::string& name) {
  NWG_RETURN_IF_ERROR(injected("tentativeAddresses"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  return link->tentative;
}

Status FakeLinks::replaceAddresses(const std::string& netns, const std::string& name,
                                   const std::vector<IpPrefix>& wanted, AddressOptions options) {
  NWG_RETURN_IF_ERROR(injected("replaceAddresses"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  std::vector<IpPrefix> want;
  for (const IpPrefix& p : wanted) {
    if (!isIpv6LinkLocal(p)) want.push_back(p);
  }
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  if (link->addresses != want) ++mutations_;
  // As the kernel: an IPv6 address added without IFA_F_NODAD to a link that does neighbour discovery
  // (WireGuard's are NOARP) is tentative until DAD ends; the addresses kept keep their state.
  const bool does_nd = link->info.kind != "wireguard" && link->info.kind != "tun";
  std::vector<IpPrefix> tentative;
  for (const IpPrefix& p : want) {
    const bool had = std::binary_search(link->addresses.begin(), link->addresses.end(), p);
    if (had ? std::binary_search(link->tentative.begin(), link->tentative.end(), p)
            : p.address().isV6() && does_nd && !options.no_dad) {
      tentative.push_back(p);
    }
  }
  link->addresses = std::move(want);
  link->tentative = std::move(tentative);
  return okStatus();
}

Status FakeLinks::createVethPair(const std::string& netns, const std::string& name, const std::string& peer) {
  NWG_RETURN_IF_ERROR(netlink::rtnl::validateLinkName(name));
  NWG_RETURN_IF_ERROR(netlink::rtnl::validateLinkName(peer));
  NWG_RETURN_IF_ERROR(injected("createVethPair"));
  NWG_RETURN_IF_ERROR(checkNamespace(netns));
  if (links_[netns].count(name) || links_[netns].count(peer) || name == peer) {
    return Error(str(where(netns, name), ": create veth pair: File exists"), EEXIST);
  }
  ++mutations_;
  for (const auto& [end, other] : {std::pair{name, peer}, std::pair{peer, name}}) {
    const int index = next_index_;
    addExisting(netns, LinkInfo{end, 0, "veth", false, defaultMtu("veth"), "", fakeMac("veth", index)});
    Link& made = links_[netns][end];
    made.peer_netns = netns;
    made.peer_name = other;
  }
  return okStatus();
}

Status FakeLinks::setMacAddress(const std::string& netns, const std::string& name, const std::string& mac) {
  NWG_RETURN_IF_ERROR(injected("setMacAddress"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  auto bytes = parseMac(mac);
  if (!bytes) return Error(str(where(netns, name), ": '", mac, "' is not a MAC address"), EINVAL);
  if ((*bytes)[0] & 1) {
    return Error(str(where(netns, name), ": set MAC address ", mac, ": Cannot assign requested address"),
                 EADDRNOTAVAIL);
  }
  if (link->info.mac.empty()) {
    return Error(str(where(netns, name), ": set MAC address: Operation not supported"), EOPNOTSUPP);
  }
  const std::string formatted = formatMac(bytes->data(), bytes->size());
  if (link->info.mac != formatted) ++mutations_;
  link->info.mac = formatted;
  return okStatus();
}

Result<std::vector<Route>> FakeLinks::routes(const std::string& netns, const std::string& name) {
  NWG_RETURN_IF_ERROR(injected("routes"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  return link->routes;
}

Status FakeLinks::replaceRoute(const std::string& netns, const std::string& name, const Route& route) {
  NWG_RETURN_IF_ERROR(injected("replaceRoute"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  if (!link->info.up) {
    return Error(str(where(netns, name), ": add route ", describeRoute(route), ": Network is down"),
                 ENETDOWN);
  }
  if (route.gateway) {
    // The kernel wants the gateway reachable through the link: a route or an address's subnet there.
    const IpAddress& gw = *route.gateway;
    bool reachable = std::any_of(link->routes.begin(), link->routes.end(),
                                 [&](const Route& r) { return !r.gateway && r.destination.contains(gw); }) ||
                     std::any_of(link->addresses.begin(), link->addresses.end(), [&](const IpPrefix& p) {
                       return p.length() < p.address().bits() && p.masked().contains(gw);
                     });
    if (!reachable) {
      return Error(str(where(netns, name), ": add route ", describeRoute(route), ": Network is unreachable"),
                   ENETUNREACH);
    }
  }
  Route wanted{route.destination.masked(), route.gateway};
  // The main table holds one route per destination (and metric): a replace takes its place, on any link.
  for (auto& [ns_name, ns] : links_) {
    if (ns_name != netns) continue;
    for (auto& [n, l] : ns) {
      auto it = std::find_if(l.routes.begin(), l.routes.end(),
                             [&](const Route& r) { return r.destination == wanted.destination; });
      if (it == l.routes.end()) continue;
      if (&l == link && *it == wanted) return okStatus();
      l.routes.erase(it);
    }
  }
  ++mutations_;
  link->routes.push_back(wanted);
  std::sort(link->routes.begin(), link->routes.end());
  return okStatus();
}

Status FakeLinks::deleteRoute(const std::string& netns, const std::string& name, const Route& route) {
  NWG_RETURN_IF_ERROR(injected("deleteRoute"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  Route wanted{route.destination.masked(), route.gateway};
  auto it = std::find(link->routes.begin(), link->routes.end(), wanted);
  if (it == link->routes.end()) return okStatus();
  ++mutations_;
  link->routes.erase(it);
  return okStatus();
}

}  // namespace nwg
