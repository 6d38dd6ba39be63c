# L3 agent extension "wireguard" ([agent] extensions = wireguard): the L3 agent leaves WireGuard hub
# ports alone. neutron-wireguard-agent moves the hub's device into qrouter-<router_id> and configures
# its address there; the L3 agent must neither plug a veth for the port nor unplug one, and the rules it
# writes per internal port (address-scope marks, SNAT exemptions) must name that device, wg-<id>.

from neutron.agent.l3 import legacy_router
from neutron_lib import constants as lib_constants
from neutron_lib.agent import l3_extension
from neutron_lib.api.definitions import portbindings
from oslo_log import log as logging

from networking_wireguard import constants

LOG = logging.getLogger(__name__)


def is_wireguard_port(port):
    return port.get(portbindings.VIF_TYPE) == constants.VIF_TYPE_WIREGUARD


class WireGuardLegacyRouter(legacy_router.LegacyRouter):
    """A legacy router whose WireGuard interfaces belong to neutron-wireguard-agent."""

    def _is_wireguard_port_id(self, port_id):
        ports = list(self.router.get(lib_constants.INTERFACE_KEY, [])) + list(self.internal_ports)
        return any(p['id'] == port_id and is_wireguard_port(p) for p in ports)

    def get_internal_device_name(self, port_id):
        # Every per-port rule of the L3 agent (the address-scope mark on traffic coming in, the DROP of
        # unmarked traffic going out, SNAT exemptions) is written for this name: for a hub it must be
        # the WireGuard device, or forwarded tunnel traffic is dropped by the scope rules.
        if self._is_wireguard_port_id(port_id):
            return constants.device_name(port_id)
        return super().get_internal_device_name(port_id)

    def internal_network_added(self, port):
        if is_wireguard_port(port):
            LOG.debug('Router %s: WireGuard port %s is placed by '
                      'neutron-wireguard-agent, not plugged', self.router_id,
                      port['id'])
            return
        super().internal_network_added(port)

    def internal_network_removed(self, port):
        if is_wireguard_port(port):
            LOG.debug('Router %s: WireGuard port %s is removed by '
                      'neutron-wireguard-agent, not unplugged', self.router_id,
                      port['id'])
            return
        super().internal_network_removed(port)

    def internal_network_updated(self, port):
        if is_wireguard_port(port):
            return
        super().internal_network_updated(port)


class WireGuardL3AgentExtension(l3_extension.L3AgentExtension):
    """Registers WireGuardLegacyRouter for legacy routers.

    HA and DVR routers keep Neutron's classes: the server refuses to attach a hub to them.
    """

    def initialize(self, connection, driver_type):
        pass

    def consume_api(self, agent_api):
        agent_api.register_router([], WireGuardLegacyRouter)

    def add_router(self, context, data):
        pass

    def update_router(self, context, data):
        pass

    def delete_router(self, context, data):
        pass

    def ha_state_change(self, context, data):
        pass

    def update_network(self, context, data):
        pass
