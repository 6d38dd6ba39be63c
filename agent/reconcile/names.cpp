#include "reconcile/names.h"

#include "base/strings.h"
#include "ovs/ovs_bridge.h"

namespace nwg::reconcile {

namespace {
constexpr std::string_view kDevicePrefix = "wg-";
constexpr std::string_view kProjectPrefix = "tun-";
constexpr std::string_view kRouterPrefix = "qrouter-";
constexpr std::string_view kOwnerPrefix = "networking-wireguard:";
constexpr std::string_view kOvnHubPrefix = "wghub-";
constexpr std::string_view kPlugRootPrefix = ovs::kPlugPortPrefix;  // the OVS side lists ports by it
constexpr std::string_view kPlugPeerPrefix = "wgp-";
constexpr size_t kPortIdChars = 11;
}  // namespace

std::string deviceName(std::string_view port_id) {
  return std::string(kDevicePrefix) + std::string(port_id.substr(0, kPortIdChars));
}

std::string projectNamespace(std::string_view project_id) {
  return std::string(kProjectPrefix) + std::string(project_id);
}

std::string routerNamespace(std::string_view router_id) {
  return std::string(kRouterPrefix) + std::string(router_id);
}

std::string ovnHubNamespace(std::string_view hub_port_id) {
  return std::string(kOvnHubPrefix) + std::string(hub_port_id);
}

std::string plugRootName(std::string_view plug_port_id) {
  return std::string(kPlugRootPrefix) + std::string(plug_port_id.substr(0, kPortIdChars));
}

std::string plugPeerName(std::string_view plug_port_id) {
  return std::string(kPlugPeerPrefix) + std::string(plug_port_id.substr(0, kPortIdChars));
}

std::string plugRootOf(std::string_view plug_link) {
  return std::string(kPlugRootPrefix) + std::string(plug_link.substr(kPlugRootPrefix.size()));
}

std::string ownerAlias(std::string_view host) {
  return std::string(kOwnerPrefix) + std::string(host);
}

std::optional<std::string_view> otherAgentsHost(std::string_view alias, std::string_view host) {
  if (!startsWith(alias, kOwnerPrefix)) return std::nullopt;
  std::string_view owner = alias.substr(kOwnerPrefix.size());
  if (owner == host) return std::nullopt;
  return owner;
}

namespace {
bool isIdDerivedName(std::string_view ifname, std::string_view prefix) {
  if (ifname.size() != prefix.size() + kPortIdChars || !startsWith(ifname, prefix)) return false;
  for (char c : ifname.substr(prefix.size())) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex && c != '-') return false;
  }
  return true;
}
}  // namespace

bool isManagedDeviceName(std::string_view ifname) {
  return isIdDerivedName(ifname, kDevicePrefix);
}

bool isPlugLinkName(std::string_view ifname) {
  return isIdDerivedName(ifname, kPlugRootPrefix) || isIdDerivedName(ifname, kPlugPeerPrefix);
}

bool isOvnHubNamespace(std::string_view netns) {
  return netns.size() > kOvnHubPrefix.size() && startsWith(netns, kOvnHubPrefix);
}

bool isProjectNamespace(std::string_view netns) {
  return netns.size() > kProjectPrefix.size() && startsWith(netns, kProjectPrefix);
}

bool isRouterNamespace(std::string_view netns) {
  return netns.size() > kRouterPrefix.size() && startsWith(netns, kRouterPrefix);
}

}  // namespace nwg::reconcile
