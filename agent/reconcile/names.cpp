#include "reconcile/names.h"

#include "base/strings.h"

namespace nwg::reconcile {

namespace {
constexpr std::string_view kDevicePrefix = "wg-";
constexpr std::string_view kProjectPrefix = "tun-";
constexpr std::string_view kRouterPrefix = "qrouter-";
constexpr std::string_view kOwnerPrefix = "networking-wireguard:";
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

std::string ownerAlias(std::string_view host) {
  return std::string(kOwnerPrefix) + std::string(host);
}

std::optional<std::string_view> otherAgentsHost(std::string_view alias, std::string_view host) {
  if (!startsWith(alias, kOwnerPrefix)) return std::nullopt;
  std::string_view owner = alias.substr(kOwnerPrefix.size());
  if (owner == host) return std::nullopt;
  return owner;
}

bool isManagedDeviceName(std::string_view ifname) {
  if (ifname.size() != kDevicePrefix.size() + kPortIdChars || !startsWith(ifname, kDevicePrefix)) {
    return false;
  }
  for (char c : ifname.substr(kDevicePrefix.size())) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex && c != '-') return false;
  }
  return true;
}

bool isProjectNamespace(std::string_view netns) {
  return netns.size() > kProjectPrefix.size() && startsWith(netns, kProjectPrefix);
}

bool isRouterNamespace(std::string_view netns) {
  return netns.size() > kRouterPrefix.size() && startsWith(netns, kRouterPrefix);
}

}  // namespace nwg::reconcile
