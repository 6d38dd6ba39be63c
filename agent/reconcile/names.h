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

// "wghub-<hub port ID>": the namespace of an OVN-routed hub (it has one of its own).
std::string ovnHubNamespace(std::string_view hub_port_id);
// An OVN plug's veth: "wgo-" + 11 characters of the plug port's ID in the agent's namespace (a port of
// the integration bridge), "wgp-" + the same 11 in the hub's namespace.
std::string plugRootName(std::string_view plug_port_id);
std::string plugPeerName(std::string_view plug_port_id);
// The root end of the veth whose namespace end is `plug_link` (either end's name), and vice versa.
std::string plugRootOf(std::string_view plug_link);

// The ownership mark every device an agent realizes carries as its alias (IFLA_IFALIAS):
// "networking-wireguard:<host>", `host` being the agent's configured [DEFAULT] host.
std::string ownerAlias(std::string_view host);
// The other host whose agent owns a device with this alias; nullopt when the device may be this
// agent's (marked with `host`, or with no ownership mark at all: older agents, crash leftovers).
std::optional<std::string_view> otherAgentsHost(std::string_view alias, std::string_view host);

// True for a name this agent could have created: "wg-" + 11 of [0-9a-f-].
bool isManagedDeviceName(std::string_view ifname);
bool isProjectNamespace(std::string_view netns);
bool isOvnHubNamespace(std::string_view netns);
// "wgo-" or "wgp-" + 11 of [0-9a-f-]: an end of an OVN plug's veth.
bool isPlugLinkName(std::string_view ifname);
bool isRouterNamespace(std::string_view netns);

}  // namespace nwg::reconcile
