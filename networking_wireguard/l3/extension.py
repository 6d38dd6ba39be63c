# L3 agent extension "wireguard" ([agent] extensions = wireguard): the L3 agent leaves WireGuard hub
# ports alone. neutron-wireguard-agent moves the hub's device into qrouter-<router_id> and configures
# its address there; the L3 agent must neither plug a veth for the port nor unplug one.

from neutron.agent.l3 import legacy_router
from neutron_lib.agent import l3_extension
from neutron_lib.api.definitions import portbindings
from oslo_log import log as logging

from networking_wireguard import constants

LOG = logging.getLogger(__name__)


def is_wireguard_port(port):
    return port.get(portbindings.VIF_TYPE) == constants.VIF_TYPE_WIREGUARD


class WireGuardLegacyRouter(legacy_router.LegacyRouter):
    """A legacy router whose WireGuard interfaces belong to neutron-wireguard-agent."""

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
