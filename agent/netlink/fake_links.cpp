// In-memory links for unit tests (see fake_links.h).
#include "netlink/fake_links.h"

#include <algorithm>
#include <cerrno>

#include "netlink/rtnetlink_codec.h"

namespace nwg {

namespace {

std::string where(const std::string& netns, const std::string& name) {
  return str("link ", name, " in namespace ", netns.empty() ? "(own)" : netns);
}

bool isIpv6LinkLocal(const IpPrefix& p) {
  return p.address().isV6() && p.address().data()[0] == 0xfe && (p.address().data()[1] & 0xc0) == 0x80;
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
  addExisting(netns, LinkInfo{name, 0, kind, false, defaultMtu(kind)});
  return okStatus();
}

Status FakeLinks::remove(const std::string& netns, const std::string& name) {
  NWG_RETURN_IF_ERROR(injected("remove"));
  auto link = find(netns, name);
  if (!link.ok()) return link.error().code == ENODEV ? okStatus() : Status(std::move(link).error());
  ++mutations_;
  links_[netns].erase(name);
  return okStatus();
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
  links_[target][name] = std::move(moved);
  return okStatus();
}

Status FakeLinks::setUp(const std::string& netns, const std::string& name, bool up) {
  NWG_RETURN_IF_ERROR(injected("setUp"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  if (link->info.up != up) ++mutations_;
  link->info.up = up;
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

Status FakeLinks::replaceAddresses(const std::string& netns, const std::string& name,
                                   const std::vector<IpPrefix>& wanted) {
  NWG_RETURN_IF_ERROR(injected("replaceAddresses"));
  NWG_ASSIGN_OR_RETURN(Link * link, find(netns, name));
  std::vector<IpPrefix> want;
  for (const IpPrefix& p : wanted) {
    if (!isIpv6LinkLocal(p)) want.push_back(p);
  }
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  if (link->addresses != want) ++mutations_;
  link->addresses = std::move(want);
  return okStatus();
}

}  // namespace nwg
