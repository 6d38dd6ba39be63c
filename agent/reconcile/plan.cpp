#include "reconcile/plan.h"

#include "base/strings.h"

namespace nwg::reconcile {

namespace {

std::string where(const std::string& netns) {
  return netns.empty() ? "the agent's namespace" : netns;
}

std::string describePeerChange(const wg::Peer& p) {
  std::string key = p.public_key.toBase64();
  if (p.remove) return str("remove peer ", key);
  std::vector<std::string> parts;
  if (p.endpoint) parts.push_back(str("endpoint ", p.endpoint->toString()));
  if (p.persistent_keepalive) parts.push_back(str("keepalive ", *p.persistent_keepalive));
  if (p.preshared_key) parts.push_back("preshared key");
  if (p.replace_allowed_ips || !p.allowed_ips.empty()) {
    parts.push_back(str(p.replace_allowed_ips ? "allowed IPs = " : "allowed IPs += ",
                        p.allowed_ips.empty() ? std::string("(none)") : join(p.allowed_ips, ",")));
  }
  return str(p.update_only ? "update peer " : "set peer ", key, parts.empty() ? "" : ": ", join(parts, ", "));
}

}  // namespace

std::string describeDevice(const wg::DeviceRef& device) {
  return str(device.ifname, " (in ", where(device.netns), ")");
}

std::string describe(const Action& action) {
  struct Describer {
    std::string operator()(const CreateNamespace& a) const { return str("create namespace ", a.netns); }
    std::string operator()(const EnableForwarding& a) const {
      return str("enable IPv4/IPv6 forwarding (no ICMP redirects) in ", a.netns);
    }
    std::string operator()(const CreateDevice& a) const {
      return str("create WireGuard device ", a.ifname, " in the agent's namespace");
    }
    std::string operator()(const SetAlias& a) const {
      return str("set alias of ", describeDevice(a.device), " to ",
                 a.alias.empty() ? std::string("(none)") : a.alias);
    }
    std::string operator()(const DestroyDevice& a) const { return str("destroy ", describeDevice(a.device)); }
    std::string operator()(const ConfigureDevice& a) const {
      std::vector<std::string> parts;
      if (a.update.private_key) parts.push_back("private key (from the state directory)");
      if (a.update.listen_port) parts.push_back(str("listen port ", *a.update.listen_port));
      if (a.update.fwmark) parts.push_back(str("fwmark ", *a.update.fwmark));
      if (a.update.replace_peers) parts.push_back("replace all peers");
      for (const auto& p : a.update.peers) parts.push_back(describePeerChange(p));
      return str("configure ", describeDevice(a.device), ": ", join(parts, "; "));
    }
    std::string operator()(const MoveDevice& a) const {
      return str("move ", a.ifname, " from ", where(a.from), " to ", where(a.to));
    }
    std::string operator()(const SetMtu& a) const {
      return str("set MTU of ", describeDevice(a.device), " to ", a.mtu);
    }
    std::string operator()(const SetAddresses& a) const {
      return str("set addresses of ", describeDevice(a.device), " to ",
                 a.addresses.empty() ? std::string("(none)") : join(a.addresses, ","),
                 a.options.no_dad ? " (no DAD)" : "");
    }
    std::string operator()(const SetLinkUp& a) const {
      return str("set ", describeDevice(a.device), a.up ? " up" : " down");
    }
    std::string operator()(const GreetPeers& a) const {
      // A hub of 10,000 spokes would make a line of half a megabyte: the first keys say enough.
      constexpr size_t kShown = 16;
      std::vector<std::string> keys;
      for (size_t i = 0; i < a.peers.size() && i < kShown; ++i) keys.push_back(a.peers[i].toBase64());
      if (a.peers.size() > kShown) keys.push_back(str("and ", a.peers.size() - kShown, " more"));
      return str("greet ", a.peers.size(), a.peers.size() == 1 ? " peer" : " peers", " of ",
                 describeDevice(a.device),
                 " (keepalive on and off, so they handshake now): ", join(keys, ", "));
    }
    std::string operator()(const RemoveNamespace& a) const { return str("remove namespace ", a.netns); }
    std::string operator()(const CreateVethPair& a) const {
      return str("create veth pair ", a.name, " <-> ", a.peer, " in the agent's namespace");
    }
    std::string operator()(const DestroyLink& a) const {
      return str("destroy link ", describeDevice(a.link), " (a veth: both ends)");
    }
    std::string operator()(const SetMacAddress& a) const {
      return str("set MAC address of ", describeDevice(a.link), " to ", a.mac);
    }
    std::string operator()(const SetRoutes& a) const {
      std::vector<std::string> routes;
      for (const auto& r : a.routes) routes.push_back(describeRoute(r));
      return str("set routes through ", describeDevice(a.link), " to ",
                 routes.empty() ? std::string("(none)") : join(routes, ", "));
    }
    std::string operator()(const AddOvsPort& a) const {
      return str("add port ", a.port.name, " to the OVS integration bridge (iface-id ", a.port.iface_id,
                 ", attached-mac ", a.port.mac, a.port.owner.empty() ? "" : ", owner ", a.port.owner, ")");
    }
    std::string operator()(const DeleteOvsPort& a) const {
      return str("delete port ", a.name, " from the OVS integration bridge");
    }
  };
  return std::visit(Describer{}, action);
}

}  // namespace nwg::reconcile
