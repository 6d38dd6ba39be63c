// The names the agent derives from Neutron IDs (DESIGN.md §3); operators and the L3 agent rely on them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nwg::reconcile {

// "wg-" + the first 11 characters of the port ID: 14 characters, within IFNAMSIZ.
std::string deviceName(std::string_view port_id);
// "tun-<project_id>": the namespace where a project's hubs live unless attached to a router.
std::string projectNamespace(std::string_view project_id);
// "qrouter-<router_id>": the L3 agent's namespace for a legacy router.
std::string routerNamespace(std::string_view router_id);

// The ownership mark every device an agent realizes carries as its alias (IFLA_IFALIAS):
// "networking-wireguard:<host>", `host` being the agent's configured [DEFAULT] host.
std::string ownerAlias(std::string_view host);
// The other host whose agent owns a device with this alias; nullopt when the device may be this
// agent's (marked with `host`, or with no ownership mark at all: older agents, crash leftovers).
std::optional<std::string_view> otherAgentsHost(std::string_view alias, std::string_view host);

// True for a name this agent could have created: "wg-" + 11 of [0-9a-f-].
bool isManagedDeviceName(std::string_view ifname);
bool isProjectNamespace(std::string_view netns);
bool isRouterNamespace(std::string_view netns);

}  // namespace nwg::reconcile
