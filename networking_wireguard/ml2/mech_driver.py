# ML2 mechanism driver "wireguard": validates WireGuard hub and spoke ports, keeps their roles and
# peerings in its own tables, binds hubs to the host of an alive WireGuard agent, serves the agents'
# RPC API and tells them which hubs changed.

from neutron.db import l3_dvr_db
from neutron.db import l3_hamode_db
from neutron.plugins.ml2.drivers import mech_agent
from neutron_lib.api.definitions import portbindings
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins.ml2 import api
from neutron_lib import rpc as n_rpc
from oslo_log import log as logging

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard.ml2 import validation
from networking_wireguard import rpc as wg_rpc

LOG = logging.getLogger(__name__)

# Changes that must be validated again (they can break a rule).
VALIDATED_FIELDS = (portbindings.PROFILE, portbindings.HOST_ID, 'fixed_ips',
                    'device_owner')
# Changes that alter what an agent does, per role.
HUB_NOTIFY_FIELDS = (portbindings.PROFILE, portbindings.HOST_ID,
                     portbindings.VIF_TYPE, 'fixed_ips', 'admin_state_up',
                     'device_owner', 'device_id')
SPOKE_NOTIFY_FIELDS = (portbindings.PROFILE, 'fixed_ips', 'admin_state_up')


class RouterInterfaceNotSupported(n_exc.Conflict):
    message = ('WireGuard %(role)s %(port_id)s cannot be attached to a router: '
               '%(reason)s')


def _changed(original, current, fields):
    def normalized(port, field):
        value = port.get(field)
        if field == 'fixed_ips':
            return sorted((ip['subnet_id'], ip['ip_address'])
                          for ip in value or [])
        return value
    return any(normalized(original, f) != normalized(current, f)
               for f in fields)


class WireGuardMechanismDriver(mech_agent.AgentMechanismDriverBase):
    """Binds WireGuard hub ports to the host of their `wireguard agent`.

    Spokes are peers outside Neutron: they have no host, so ML2 never binds them (their vif_type
    stays `unbound`) and validation refuses a binding:host_id on a spoke, which keeps every other
    driver from binding one.
    """

    def __init__(self):
        super().__init__(constants.AGENT_TYPE_WIREGUARD,
                         [portbindings.VNIC_NORMAL])
        self.notifier = None
        self._rpc_connection = None

    @property
    def connectivity(self):
        # A WireGuard device is a layer-3 tunnel; every hub has a fixed IP.
        return portbindings.CONNECTIVITY_L3

    def initialize(self):
        self.notifier = wg_rpc.WireGuardAgentNotifyAPI()
        registry.subscribe(self._start_rpc_listeners, resources.PROCESS,
                           events.AFTER_INIT)
        registry.subscribe(self._check_router_interface,
                           resources.ROUTER_INTERFACE, events.BEFORE_CREATE)
        registry.subscribe(self._check_dvr_interface, resources.PORT,
                           events.BEFORE_UPDATE)

    def _start_rpc_listeners(self, resource, event, trigger, payload=None):
        # PROCESS AFTER_INIT is published in every worker process. Serve q-wireguard in the RPC
        # workers only, as Ml2Plugin serves q-plugin: the same under neutron-server and Debian's
        # split neutron-rpc-server (which runs no API workers).
        from neutron import service  # late: heavy, and only needed in the server
        if type(getattr(trigger, '__self__', None)) is not service.RpcWorker:
            return
        self._rpc_connection = n_rpc.Connection()
        self._rpc_connection.create_consumer(
            constants.RPC_TOPIC, [wg_rpc.WireGuardRpcCallback(self.notifier)],
            fanout=False)
        self._rpc_connection.consume_in_threads()
        LOG.info('WireGuard RPC endpoint consuming topic %s',
                 constants.RPC_TOPIC)

    # --- ports ---

    @staticmethod
    def _remember_hubs(context, hub_ids):
        # precommit -> postcommit of the same operation (ML2 passes the same PortContext).
        context._wireguard_hub_ids = set(hub_ids)

    def _notify(self, context):
        hub_ids = getattr(context, '_wireguard_hub_ids', None)
        if hub_ids:
            self.notifier.hubs_changed(context._plugin_context, hub_ids)

    def _store(self, plugin_context, port, role, is_new):
        profile = port.get(portbindings.PROFILE) or {}
        values = {
            'host': (port.get(portbindings.HOST_ID) or None
                     if role == constants.ROLE_HUB else None),
            'public_key': profile.get(constants.PROFILE_PUBLIC_KEY),
        }
        if is_new:
            wg_db.add_port(plugin_context, port['id'], role, **values)
        else:
            wg_db.update_port(plugin_context, port['id'], **values)
        if role == constants.ROLE_SPOKE:
            return wg_db.set_peers(plugin_context, port['id'],
                                   profile[constants.PROFILE_PEERS])
        return set()

    def create_port_precommit(self, context):
        port = context.current
        role = constants.ROLE_BY_DEVICE_OWNER.get(port['device_owner'])
        if role is None:
            return
        plugin_context = context._plugin_context
        validation.validate_port(plugin_context, port, role)
        self._store(plugin_context, port, role, is_new=True)
        if role == constants.ROLE_HUB:
            self._remember_hubs(context, [port['id']])
        else:
            self._remember_hubs(
                context, port[portbindings.PROFILE][constants.PROFILE_PEERS])
        super().create_port_precommit(context)

    def update_port_precommit(self, context):
        port, original = context.current, context.original
        plugin_context = context._plugin_context
        stored_role = wg_db.get_role(plugin_context, port['id'])
        owner_role = constants.ROLE_BY_DEVICE_OWNER.get(port['device_owner'])
        if stored_role is None and owner_role is None:
            return
        if stored_role and owner_role and owner_role != stored_role:
            raise n_exc.InvalidInput(error_message=(
                'device_owner: port %s is a WireGuard %s and cannot become a %s; '
                'create a new port' % (port['id'], stored_role, owner_role)))
        role = stored_role or owner_role
        is_new = stored_role is None
        old_peers = set()
        if is_new or _changed(original, port, VALIDATED_FIELDS):
            validation.validate_port(plugin_context, port, role)
            old_peers = self._store(plugin_context, port, role, is_new)
        if role == constants.ROLE_HUB:
            if is_new or _changed(original, port, HUB_NOTIFY_FIELDS):
                self._remember_hubs(context, [port['id']])
        elif is_new or _changed(original, port, SPOKE_NOTIFY_FIELDS):
            new_peers = (port.get(portbindings.PROFILE) or {}).get(
                constants.PROFILE_PEERS) or []
            self._remember_hubs(context, old_peers | set(new_peers))
        super().update_port_precommit(context)

    def delete_port_precommit(self, context):
        port_id = context.current['id']
        plugin_context = context._plugin_context
        role = wg_db.get_role(plugin_context, port_id)
        if role is None:
            return
        if role == constants.ROLE_HUB:
            self._remember_hubs(context, [port_id])
        else:
            self._remember_hubs(context, wg_db.get_peers(plugin_context,
                                                         port_id))
        wg_db.delete_port(plugin_context, port_id)

    def create_port_postcommit(self, context):
        self._notify(context)

    def update_port_postcommit(self, context):
        self._notify(context)

    def delete_port_postcommit(self, context):
        self._notify(context)

    # --- binding ---

    def _role(self, context):
        role = constants.ROLE_BY_DEVICE_OWNER.get(context.current['device_owner'])
        # A hub added to a router has device_owner network:router_interface: ask the role table.
        return role or wg_db.get_role(context._plugin_context,
                                      context.current['id'])

    def bind_port(self, context):
        if self._role(context) == constants.ROLE_HUB:
            super().bind_port(context)

    def try_to_bind_segment_for_agent(self, context, segment, agent):
        # The device is a layer-3 tunnel endpoint, not plugged into the network's segment: any
        # segment type will do.
        context.set_binding(segment[api.ID], constants.VIF_TYPE_WIREGUARD, {
            portbindings.CAP_PORT_FILTER: False,
            portbindings.VIF_DETAILS_CONNECTIVITY: self.connectivity,
            constants.VIF_DETAILS_DEVICE_NAME:
                constants.device_name(context.current['id']),
        })
        return True

    # --- routers ---

    DVR_REASON = 'distributed (DVR) routers are not supported yet'

    def _check_dvr_interface(self, resource, event, trigger, payload):
        # Zed clears the binding host of a port that becomes a DVR interface before it publishes
        # ROUTER_INTERFACE BEFORE_CREATE; a veto there could then not restore the hub. Refuse
        # earlier, while nothing has changed yet.
        attrs = payload.states[1] if len(payload.states) > 1 else {}
        if attrs.get('device_owner') != n_const.DEVICE_OWNER_DVR_INTERFACE:
            return
        role = wg_db.get_role(payload.context, payload.resource_id)
        if role:
            raise RouterInterfaceNotSupported(role=role,
                                              port_id=payload.resource_id,
                                              reason=self.DVR_REASON)

    def _check_router_interface(self, resource, event, trigger, payload):
        port = payload.metadata['port']
        role = wg_db.get_role(payload.context, port['id'])
        if role is None:
            return
        router = payload.states[0]
        reason = None
        if role == constants.ROLE_SPOKE:
            reason = ('a spoke is a peer outside Neutron; attach its hub '
                      'instead')
        elif l3_hamode_db.is_ha_router(router):
            reason = 'HA routers are not supported yet'
        elif l3_dvr_db.is_distributed_router(router):
            reason = self.DVR_REASON
        elif (port.get(portbindings.PROFILE) or {}).get(
                constants.PROFILE_ROOT_DEVICE):
            reason = ('its binding:profile sets root_device, which keeps the '
                      'device in the root namespace')
        if reason:
            raise RouterInterfaceNotSupported(role=role, port_id=port['id'],
                                              reason=reason)
