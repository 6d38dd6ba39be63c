# Names shared by the driver, its RPC API and the agents. Most are fixed by the original design
# (DESIGN.md section 3) and by docs/rpc.md: changing one breaks wire compatibility.

from neutron_lib import constants as n_const

AGENT_TYPE_WIREGUARD = 'wireguard agent'
AGENT_BINARY = 'neutron-wireguard-agent'

VIF_TYPE_WIREGUARD = 'wireguard'
# vif_details key naming the WireGuard device the agent creates for a hub.
VIF_DETAILS_DEVICE_NAME = 'device_name'
DEVICE_PREFIX = 'wg-'
# 'wg-' + the first 11 characters of the port ID (14 characters, within IFNAMSIZ; the same length
# as Neutron's own 'tap' + 11).
DEVICE_PORT_ID_CHARS = 11

ROLE_HUB = 'hub'
ROLE_SPOKE = 'spoke'
DEVICE_OWNER_PREFIX = 'channel:wireguard:'
DEVICE_OWNER_HUB = DEVICE_OWNER_PREFIX + ROLE_HUB
DEVICE_OWNER_SPOKE = DEVICE_OWNER_PREFIX + ROLE_SPOKE
ROLE_BY_DEVICE_OWNER = {
    DEVICE_OWNER_HUB: ROLE_HUB,
    DEVICE_OWNER_SPOKE: ROLE_SPOKE,
}

# device_owner values Neutron gives a port it attaches to a router. Only the legacy one is accepted
# for a hub; HA and DVR routers are refused (see the mechanism driver's router checks).
ROUTER_INTERFACE_OWNERS = frozenset(n_const.ROUTER_INTERFACE_OWNERS)

# binding:profile keys.
PROFILE_PUBLIC_KEY = 'public_key'
PROFILE_ENDPOINT = 'endpoint'
PROFILE_PEERS = 'peers'
PROFILE_ROOT_DEVICE = 'root_device'
HUB_PROFILE_KEYS = frozenset((PROFILE_PUBLIC_KEY, PROFILE_ENDPOINT, PROFILE_ROOT_DEVICE))
SPOKE_PROFILE_KEYS = frozenset((PROFILE_PUBLIC_KEY, PROFILE_ENDPOINT, PROFILE_PEERS))
# A hub's public_key and endpoint are its agent's (update_hub_port), kept in wireguard_ports and
# shown in binding:profile; the API can set them only when the hub is created.
HUB_AGENT_KEYS = (PROFILE_PUBLIC_KEY, PROFILE_ENDPOINT)

# The key of report_state's configurations under which an agent reports its [wireguard] endpoint
# address (a string IP, or absent): spokes may not name it.
AGENT_ENDPOINT_ADDRESS = 'endpoint_address'

PUBLIC_KEY_BYTES = 32

# The tenant API (extension "wireguard"): hubs wait for an agent with this status; a spoke's
# device gets this keepalive unless its owner sets another (0: none).
HUB_STATUS_WAITING = 'WAITING_FOR_AGENT'
SPOKE_STATUS_NO_HUB = 'NO_HUB'
DEFAULT_PERSISTENT_KEEPALIVE = 25
# The MTU of a spoke's device: its network's, at most WireGuard's own default (1500 minus the 80
# bytes of WireGuard over IPv6), since the device's path to the hub is unknown to Neutron.
SPOKE_MAX_MTU = 1420

# RPC: agents call the server on RPC_TOPIC; the server casts to agents on NOTIFIER_TOPIC (fanout).
RPC_TOPIC = 'q-wireguard'
RPC_VERSION = '1.6'
# get_hubs 1.6 answers and pages hold at most this many spokes, whatever an agent asks for.
MAX_SPOKES_PER_ANSWER = 10000
# update_spoke_status: the most spokes one call may report (agents send at most 1,000).
MAX_SPOKE_REPORTS = 10000
NOTIFIER_TOPIC = 'q-wireguard-notifier'
NOTIFIER_VERSION = '1.0'


def device_name(port_id):
    return DEVICE_PREFIX + port_id[:DEVICE_PORT_ID_CHARS]


# ML2/OVN (docs/ovn.md). The server is in OVN mode when this driver is among [ml2]
# mechanism_drivers; a hub attached to a router then gets a plug port with this device_owner (a
# "network:" owner: Neutron and OVN treat it as infrastructure, like a router or DHCP port).
OVN_MECHANISM_DRIVER = 'ovn'
DEVICE_OWNER_OVN_PLUG = 'network:wireguard_plug'
