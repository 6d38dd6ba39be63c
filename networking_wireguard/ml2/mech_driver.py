# ML2 mechanism driver "wireguard": validates WireGuard hub and spoke ports, keeps their roles and
# peerings in its own tables, binds hubs to the host of an alive WireGuard agent, serves the agents'
# RPC API and tells them which hubs changed.

from neutron.common import utils as n_utils
from neutron.db import l3_dvr_db
from neutron.db import l3_hamode_db
from neutron.plugins.ml2.drivers import mech_agent
from neutron import worker
from neutron_lib.agent import constants as agent_consts
from neutron_lib.api.definitions import port as port_def
from neutron_lib.api.definitions import portbindings
from neutron_lib.api import validators as n_validators
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from neutron_lib import constants as n_const
from neutron_lib import context as n_context
from neutron_lib.db import resource_extend
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins.ml2 import api
from neutron_lib import rpc as n_rpc
from neutron_lib.utils import helpers
from oslo_config import cfg
from oslo_log import log as logging

from networking_wireguard.conf import wireguard as wg_conf
from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard.ml2 import ovn
from networking_wireguard.ml2 import validation
from networking_wireguard import rpc as wg_rpc
from networking_wireguard import scheduler

LOG = logging.getLogger(__name__)

wg_conf.register_wireguard_opts()

# Changes that must be validated again (they can break a rule).
VALIDATED_FIELDS = (portbindings.PROFILE, portbindings.HOST_ID, 'fixed_ips',
                    'device_owner')
# Changes that alter what an agent does, per role.
HUB_NOTIFY_FIELDS = (portbindings.PROFILE, portbindings.HOST_ID,
                     portbindings.VIF_TYPE, 'fixed_ips', 'admin_state_up',
                     'device_owner', 'device_id')
SPOKE_NOTIFY_FIELDS = (portbindings.PROFILE, 'fixed_ips', 'admin_state_up')
# Request attributes that make PORT BEFORE_UPDATE look at a WireGuard port, and those whose change
# makes it check the port (validation.check_port) as precommit will.
CHECKED_ATTRIBUTES = (portbindings.PROFILE, portbindings.HOST_ID,
                      'device_owner', 'device_id')
REQUEST_FIELDS = (portbindings.PROFILE, portbindings.HOST_ID, 'device_owner')
# What ML2's update_port_status(es) publishes in PORT BEFORE_UPDATE: not a request to check.
STATUS_UPDATE_ATTRIBUTES = frozenset(('id', 'status', portbindings.HOST_ID))


class PlugPortManaged(n_exc.Conflict):
    message = ('Port %(port_id)s is the OVN plug port of WireGuard hub %(hub_id)s: the '
               'WireGuard driver manages it (detach the hub from its router to remove it)')


class RouterInterfaceNotSupported(n_exc.Conflict):
    message = ('WireGuard %(role)s %(port_id)s cannot be attached to a router: '
               '%(reason)s')


def _changed(original, current, fields, role=None):
    def normalized(port, field):
        value = port.get(field)
        if field == 'fixed_ips':
            return sorted((ip['subnet_id'], ip['ip_address'])
                          for ip in value or [])
        if field == portbindings.PROFILE and role == constants.ROLE_HUB:
            # The API shows the agent's key and endpoint (from our table); ML2's own copy of
            # the profile may lack them. Neither is the user's to change.
            return {k: v for k, v in (value or {}).items()
                    if k not in constants.HUB_AGENT_KEYS}
        return value
    return any(normalized(original, f) != normalized(current, f)
               for f in fields)


def show_agent_values(port, row):
    """Put a hub's key and endpoint (its wireguard_ports row) into the port dict's binding:profile.

    Compatibility: users and scripts read them there, as the original design kept them.
    """
    if row is None or row.role != constants.ROLE_HUB:
        return
    if not isinstance(port.get(portbindings.PROFILE), dict):
        return
    profile = dict(port[portbindings.PROFILE])
    for key, value in ((constants.PROFILE_PUBLIC_KEY, row.public_key),
                       (constants.PROFILE_ENDPOINT, row.endpoint)):
        if value:
            profile[key] = value
        else:
            profile.pop(key, None)
    port[portbindings.PROFILE] = profile


def extend_port_dict(port_res, port_db):
    """Resource extender of ports (runs after ML2's, which sets binding:profile)."""
    port_db = getattr(port_db, 'db_obj', port_db)  # a Port object or its model
    show_agent_values(port_res, getattr(port_db, 'wireguard', None))


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
        try:
            validation.denied_networks()
        except ValueError as e:
            raise cfg.Error('[wireguard] denied_endpoint_cidrs: %s' % e)
        if ovn.ovn_listed_before_wireguard():
            # ML2 offers a port to its drivers in order; ovn binds any port whose host runs
            # ovn-controller, hubs included (vif_type ovs): they would never become WireGuard
            # devices. docs/ovn.md.
            LOG.error('[ml2] mechanism_drivers lists ovn before wireguard: ML2/OVN will bind '
                      'WireGuard hubs itself. List wireguard first (wireguard,ovn).')
        self.notifier = wg_rpc.WireGuardAgentNotifyAPI()
        registry.subscribe(self._start_rpc_listeners, resources.PROCESS,
                           events.AFTER_INIT)
        registry.subscribe(self._check_port_create, resources.PORT,
                           events.BEFORE_CREATE)
        registry.subscribe(self._check_port_update, resources.PORT,
                           events.BEFORE_UPDATE)
        registry.subscribe(self._check_port_delete, resources.PORT,
                           events.BEFORE_DELETE)
        registry.subscribe(self._check_router_interface,
                           resources.ROUTER_INTERFACE, events.BEFORE_CREATE)
        registry.subscribe(self._router_interface_created,
                           resources.ROUTER_INTERFACE, events.AFTER_CREATE)
        registry.subscribe(self._router_interface_aborted,
                           resources.ROUTER_INTERFACE, events.ABORT_CREATE)
        registry.subscribe(self._router_interface_deleting,
                           resources.ROUTER_INTERFACE, events.BEFORE_DELETE)
        for event in (events.AFTER_CREATE, events.AFTER_UPDATE):
            registry.subscribe(self._agent_reported, resources.AGENT, event)
        # After ML2's own extender (registered when the plugin was made), which sets
        # binding:profile from ml2_port_bindings.
        if not any(helpers.resolve_ref(f) is extend_port_dict for f in
                   resource_extend.get_funcs(port_def.COLLECTION_NAME)):
            resource_extend.register_funcs(port_def.COLLECTION_NAME,
                                           [extend_port_dict])

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

    # --- the hub scheduler (scheduler.py) ---

    def _agent_reported(self, resource, event, trigger, payload):
        # A WireGuard agent that is new or back takes the hubs waiting for one at once. Off the
        # report_state call: binding many hubs must not delay the agent's heartbeat.
        state = payload.desired_state or {}
        if (state.get('agent_type') != constants.AGENT_TYPE_WIREGUARD or
                payload.metadata.get('status') not in (
                    agent_consts.AGENT_NEW, agent_consts.AGENT_REVIVED) or
                not state.get('admin_state_up')):
            return
        n_utils.spawn_n(self._schedule_hubs)

    def _schedule_hubs(self):
        try:
            scheduler.schedule_waiting_hubs()
        except Exception:
            LOG.exception('Scheduling the hubs that wait for a WireGuard agent '
                          'failed; retried periodically')

    def _check_hubs(self):
        # The safety net of _agent_reported (an agent enabled through the API, a failed
        # attempt), and the opt-in rescheduling of hubs of dead agents.
        try:
            scheduler.schedule_waiting_hubs()
            if cfg.CONF.wireguard.reschedule_hubs:
                scheduler.reschedule_hubs()
        except Exception:
            LOG.exception('WireGuard hub scheduling check failed')
        if ovn.ovn_mode():
            try:
                changed = ovn.repair(n_context.get_admin_context())
            except Exception:
                LOG.exception('WireGuard OVN plug check failed')
                changed = None
            if changed:
                self.notifier.hubs_changed(n_context.get_admin_context(), changed)

    def get_workers(self):
        # Every agent_down_time / 2 seconds, as Neutron's L3 rescheduling.
        interval = max(1, cfg.CONF.agent_down_time // 2)
        return [worker.PeriodicWorker(self._check_hubs, interval, interval)]

    # --- ports ---

    @staticmethod
    def _remember_hubs(context, hub_ids):
        # precommit -> postcommit of the same operation (ML2 passes the same PortContext).
        context._wireguard_hub_ids = set(hub_ids)

    @staticmethod
    def _remember_role(context, role):
        context._wireguard_role = role

    def _notify(self, context):
        hub_ids = getattr(context, '_wireguard_hub_ids', None)
        if hub_ids:
            self.notifier.hubs_changed(context._plugin_context, hub_ids)

    # Checks on the request, before ML2's transaction (validation.check_port).

    def _check_port_create(self, resource, event, trigger, payload):
        attrs = payload.states[0]
        role = validation.role_of_owner(attrs.get('device_owner'))
        if role is None:
            return
        port = {k: v for k, v in attrs.items() if n_validators.is_attr_set(v)}
        validation.check_port(payload.context, port, role, is_new=True)

    def _check_port_update(self, resource, event, trigger, payload):
        if (payload.metadata or {}).get('new_binding') is not None:
            return  # ML2 committing a binding result, not a request
        original, attrs = payload.states[0], payload.states[1]
        self._check_plug_port(payload.context, original)
        if not any(k in attrs for k in CHECKED_ATTRIBUTES):
            return
        if 'status' in attrs and set(attrs) <= STATUS_UPDATE_ATTRIBUTES:
            return  # ML2 setting a status (an agent's report), with the agent's host or none
        context, port_id = payload.context, payload.resource_id
        stored_role = wg_db.get_role(context, port_id)
        owner = attrs.get('device_owner', original['device_owner'])
        owner_role = validation.role_of_owner(owner)
        role = stored_role or owner_role
        if role is None:
            return
        if stored_role:
            validation.check_owner_change(port_id, stored_role, owner)
        port = {**original, **attrs}
        profile = attrs.get(portbindings.PROFILE)
        if stored_role == constants.ROLE_HUB and isinstance(profile, dict):
            validation.check_hub_agent_values(port_id, original, profile)
        self._check_router_port_update(context, role, original, port)
        if stored_role is None or _changed(original, port, REQUEST_FIELDS,
                                           role):
            validation.check_port(context, port, role,
                                  is_new=stored_role is None,
                                  original=original)

    @staticmethod
    def _check_plug_port(context, port):
        # An OVN plug port is the driver's (docs/ovn.md): its project may see it, not change or
        # delete it (an admin may; the periodic check then makes it what it must be again).
        if port.get('device_owner') != constants.DEVICE_OWNER_OVN_PLUG or context.is_admin:
            return
        hub_id = wg_db.get_ovn_plug_hub(context, port['id'])
        if hub_id:
            raise PlugPortManaged(port_id=port['id'], hub_id=hub_id)

    def _check_port_delete(self, resource, event, trigger, payload):
        port = (payload.metadata or {}).get('port')
        if port:
            self._check_plug_port(payload.context, port)

    def _store(self, plugin_context, port, role, is_new):
        profile = validation.profile_of(port)
        extra = validation.port_values(plugin_context)
        if role == constants.ROLE_HUB:
            values = {'host': port.get(portbindings.HOST_ID) or None}
            if is_new:
                # a key and endpoint the hub is created with, until its agent reports its own
                values.update(
                    public_key=profile.get(constants.PROFILE_PUBLIC_KEY),
                    endpoint=profile.get(constants.PROFILE_ENDPOINT),
                    scheduled=bool(extra.get('scheduled')),
                    availability_zone_hints=extra.get(
                        'availability_zone_hints'))
            else:
                row = wg_db.get_port(plugin_context, port['id'])
                if row is not None and row.host != values['host']:
                    # A new host: chosen by the scheduler or named by a request (pinned). The
                    # key and endpoint were the old host's agent's; the new one reports its own.
                    values['scheduled'] = bool(extra.get('scheduled'))
                    if row.host:
                        values.update(public_key=None, endpoint=None)
        else:
            values = {'public_key': profile[constants.PROFILE_PUBLIC_KEY]}
            if 'persistent_keepalive' in extra:
                values['persistent_keepalive'] = extra['persistent_keepalive']
        if is_new:
            wg_db.add_port(plugin_context, port['id'], role, **values)
        else:
            wg_db.update_port(plugin_context, port['id'], **values)
        if role == constants.ROLE_SPOKE:
            return wg_db.set_peers(plugin_context, port['id'],
                                   profile[constants.PROFILE_PEERS],
                                   values['public_key'])
        return set()

    def create_port_precommit(self, context):
        port = context.current
        role = validation.role_of_owner(port['device_owner'])
        if role is None:
            return
        plugin_context = context._plugin_context
        validation.validate_port(plugin_context, port, role, is_new=True)
        self._store(plugin_context, port, role, is_new=True)
        self._remember_role(context, role)
        if role == constants.ROLE_HUB:
            self._remember_hubs(context, [port['id']])
        else:
            peers = port[portbindings.PROFILE][constants.PROFILE_PEERS]
            self._remember_hubs(context, peers)
            wg_db.record_spoke_change(plugin_context, port['id'], set(), peers)
        super().create_port_precommit(context)

    def update_port_precommit(self, context):
        port, original = context.current, context.original
        plugin_context = context._plugin_context
        stored_role = wg_db.get_role(plugin_context, port['id'])
        owner_role = validation.role_of_owner(port['device_owner'])
        if stored_role is None and owner_role is None:
            return
        if stored_role:
            validation.check_owner_change(port['id'], stored_role,
                                          port['device_owner'])
        role = stored_role or owner_role
        is_new = stored_role is None
        self._remember_role(context, role)
        old_peers = None
        if is_new or _changed(original, port, VALIDATED_FIELDS, role):
            validation.validate_port(plugin_context, port, role, is_new,
                                     original)
            old_peers = self._store(plugin_context, port, role, is_new)
        if role == constants.ROLE_HUB:
            if _changed(original, port, ('fixed_ips',)):
                self._check_ovn_hub_subnets(plugin_context, port)
            if is_new or _changed(original, port, HUB_NOTIFY_FIELDS, role):
                self._remember_hubs(context, [port['id']])
        elif is_new or _changed(original, port, SPOKE_NOTIFY_FIELDS):
            new_peers = validation.profile_of(port).get(
                constants.PROFILE_PEERS) or []
            before = (old_peers if old_peers is not None
                      else wg_db.get_peers(plugin_context, port['id']))
            self._remember_hubs(context, before | set(new_peers))
            # What the hubs' agents ask for next is a delta since their revision (docs/scale.md).
            wg_db.record_spoke_change(plugin_context, port['id'], before,
                                      new_peers)
        super().update_port_precommit(context)

    def delete_port_precommit(self, context):
        port_id = context.current['id']
        plugin_context = context._plugin_context
        role = wg_db.get_role(plugin_context, port_id)
        if role is None:
            return
        if role == constants.ROLE_HUB:
            self._remember_hubs(context, [port_id])
            # its spokes no longer list it (a spoke whose last hub this was: peers [])
            wg_db.remove_hub_from_spokes(plugin_context, port_id)
            # its OVN plug port goes after the commit (a port of its own: not in this transaction)
            context._wireguard_ovn_plug = wg_db.get_ovn_plug_id(plugin_context, port_id)
            wg_db.delete_ovn_plug(plugin_context, port_id)
        else:
            peers = wg_db.get_peers(plugin_context, port_id)
            self._remember_hubs(context, peers)
            wg_db.record_spoke_change(plugin_context, port_id, peers, set())
        wg_db.delete_port(plugin_context, port_id)

    @staticmethod
    def _check_ovn_hub_subnets(plugin_context, port):
        # A hub on an OVN router needs room for its plug on each of its subnets (as at attach).
        if wg_db.get_ovn_plug_id(plugin_context, port['id']) is None:
            return
        refusal = ovn.single_address_refusal(plugin_context, port)
        if refusal:
            raise validation.InvalidInput(error_message=refusal)

    def _show_agent_values(self, context):
        # ML2 answers a create or update with the port dict of the last (binding) context, whose
        # binding:profile is ML2's copy: add the hub's key and endpoint as GET shows them.
        if getattr(context, '_wireguard_role', None) != constants.ROLE_HUB:
            return
        show_agent_values(context.current,
                          wg_db.get_port(context._plugin_context,
                                         context.current['id']))

    def create_port_postcommit(self, context):
        self._show_agent_values(context)
        self._notify(context)

    def update_port_postcommit(self, context):
        self._show_agent_values(context)
        self._restore_spoke_status(context)
        self._follow_ovn_plug(context)
        self._notify(context)

    def _follow_ovn_plug(self, context):
        # An OVN-routed hub's plug follows its host (its requested-chassis) and subnets.
        if (getattr(context, '_wireguard_role', None) != constants.ROLE_HUB or
                not _changed(context.original, context.current,
                             (portbindings.HOST_ID, 'fixed_ips'))):
            return
        plugin_context = context._plugin_context
        hub_id = context.current['id']
        if wg_db.get_ovn_plug_id(plugin_context, hub_id) is None:
            return
        router_id = wg_db.get_router_ids(plugin_context, [hub_id]).get(hub_id)
        if router_id is None or plugin_context.session.in_transaction():
            return  # the repair pass will
        try:
            ovn.ensure(plugin_context.elevated(), context.current, router_id)
        except Exception:
            LOG.exception('Hub %s: its OVN plug port or routes could not follow its change; '
                          'retried by the periodic check', hub_id)

    def _restore_spoke_status(self, context):
        # ML2 sets a port DOWN when its binding:profile changes (it unbinds it). A spoke is never
        # bound: its status is its liveness, which a profile change (a new endpoint, one hub less)
        # does not end. Its agents report only changes, so put back what its peerings say. A new
        # key resets them (wireguard_db.set_peers): that spoke stays DOWN until it handshakes.
        if (getattr(context, '_wireguard_role', None) != constants.ROLE_SPOKE or
                context.original.get('status') != n_const.PORT_STATUS_ACTIVE or
                context.current.get('status') != n_const.PORT_STATUS_DOWN):
            return
        plugin_context = context._plugin_context
        port_id = context.current['id']
        if wg_db.get_spoke_status(plugin_context, port_id) != n_const.PORT_STATUS_ACTIVE:
            return
        try:
            context._plugin.update_port_status(plugin_context, port_id,
                                               n_const.PORT_STATUS_ACTIVE)
        except Exception:
            LOG.warning('Spoke %s: could not restore its status ACTIVE after a '
                        'profile change; its agent will report it again when it '
                        'changes', port_id, exc_info=True)
            return
        context.current['status'] = n_const.PORT_STATUS_ACTIVE

    def delete_port_postcommit(self, context):
        self._notify(context)
        plug_id = getattr(context, '_wireguard_ovn_plug', None)
        if plug_id:
            hub_id = context.current['id']
            try:
                ovn.remove(context._plugin_context.elevated(), hub_id, plug_id)
            except Exception:
                # The repair pass removes plugs whose hub is gone (and their routes).
                LOG.exception('Hub %s deleted: its OVN plug port %s or its routes could not be '
                              'removed; retried by the periodic check', hub_id, plug_id)

    # --- binding ---

    def _role(self, context):
        role = constants.ROLE_BY_DEVICE_OWNER.get(context.current['device_owner'])
        # A hub added to a router has device_owner network:router_interface: ask the role table.
        return role or wg_db.get_role(context._plugin_context,
                                      context.current['id'])

    def bind_port(self, context):
        if self._role(context) != constants.ROLE_HUB:
            return  # spokes are never bound; OVN plug ports are ML2/OVN's to bind
        super().bind_port(context)
        if (context._new_bound_segment is None and context.segments_to_bind and
                ovn.ovn_mode()):
            # No alive WireGuard agent on the hub's host. ML2 would offer the hub to the next
            # driver, and ovn binds any port of a host that runs ovn-controller (vif_type ovs,
            # measured), a binding ML2 never retries. Claim it as failed instead: the hub stays
            # ours, and the agent's get_hubs (or any later binding attempt) binds it once the
            # agent is alive. docs/ovn.md.
            context.set_binding(context.segments_to_bind[0][api.ID],
                                portbindings.VIF_TYPE_BINDING_FAILED, {})

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
    HA_REASON = 'HA routers are not supported yet'

    def _router_refusal(self, context, role, port, router=None):
        """Why this port cannot be an interface of its router, or None."""
        if role == constants.ROLE_SPOKE:
            return 'a spoke is a peer outside Neutron; attach its hub instead'
        if not ovn.ovn_mode():
            # The L3 agent's HA and DVR routers; an OVN router is neither (its ports are OVN's).
            owner = port.get('device_owner')
            if owner == n_const.DEVICE_OWNER_DVR_INTERFACE:
                return self.DVR_REASON
            if owner == n_const.DEVICE_OWNER_HA_REPLICATED_INT:
                return self.HA_REASON
            if router is None and port.get('device_id'):
                router = wg_db.get_router(context, port['device_id'])
            if router is not None:
                if l3_hamode_db.is_ha_router(router):
                    return self.HA_REASON
                if l3_dvr_db.is_distributed_router(router):
                    return self.DVR_REASON
        if validation.profile_of(port).get(constants.PROFILE_ROOT_DEVICE):
            return ('its binding:profile sets root_device, which keeps the '
                    'device in the root namespace')
        return None

    def _check_router_port_update(self, context, role, original, port):
        # A port becomes a router interface through a port update: add_router_interface's own
        # (before ROUTER_INTERFACE BEFORE_CREATE; Zed also clears the binding host of a DVR
        # interface there, so a later veto could not restore the hub) or an admin's PUT of
        # device_owner and device_id. Refuse on both, while nothing has changed yet.
        if port.get('device_owner') not in constants.ROUTER_INTERFACE_OWNERS:
            return
        if not _changed(original, port, ('device_owner', 'device_id')) and not (
                validation.profile_of(port).get(constants.PROFILE_ROOT_DEVICE) and
                not validation.profile_of(original).get(
                    constants.PROFILE_ROOT_DEVICE)):
            return
        reason = self._router_refusal(context, role, port)
        if reason:
            raise RouterInterfaceNotSupported(role=role, port_id=original['id'],
                                              reason=reason)

    def _check_router_interface(self, resource, event, trigger, payload):
        port = payload.metadata['port']
        role = wg_db.get_role(payload.context, port['id'])
        if role is None:
            return
        reason = self._router_refusal(payload.context, role, port,
                                      router=payload.states[0])
        if reason:
            raise RouterInterfaceNotSupported(role=role, port_id=port['id'],
                                              reason=reason)
        if ovn.ovn_mode():
            self._plug_ovn_hub(payload.context.elevated(), port,
                               payload.resource_id)

    def _plug_ovn_hub(self, context, hub, router_id):
        # Before Neutron records the attachment: a plug port or routes that cannot be made refuse
        # it (409, and Zed restores the hub's device_owner), so an attached OVN hub always has
        # both. What another check refuses after this one is undone on ABORT_CREATE.
        refusal = ovn.single_address_refusal(context, hub)
        if refusal:
            raise RouterInterfaceNotSupported(role=constants.ROLE_HUB, port_id=hub['id'],
                                              reason=refusal)
        try:
            ovn.ensure(context, hub, router_id)
        except Exception as e:
            LOG.warning('Hub %s: OVN plug port or routes on router %s could not be made; '
                        'the attachment is refused', hub['id'], router_id, exc_info=True)
            try:
                ovn.remove(context, hub['id'])
            except Exception:
                LOG.exception('Hub %s: undoing its OVN plug failed; the periodic check '
                              'removes it', hub['id'])
            raise RouterInterfaceNotSupported(
                role=constants.ROLE_HUB, port_id=hub['id'],
                reason='its OVN plug port or the router routes to its spokes could not '
                       'be made: %s' % e)

    def _router_interface_aborted(self, resource, event, trigger, payload):
        port = (payload.metadata or {}).get('port') or {}
        if not port.get('id') or wg_db.get_ovn_plug_id(payload.context, port['id']) is None:
            return
        try:
            ovn.remove(payload.context.elevated(), port['id'])
        except Exception:
            LOG.exception('Hub %s: attachment refused, but its OVN plug port could not be '
                          'removed; the periodic check removes it', port['id'])

    def _router_interface_deleting(self, resource, event, trigger, payload):
        # Before Neutron refuses the detach because routes use the subnet ("in use by route"):
        # remove our routes via the plug's IP on that subnet. A failure here refuses the detach
        # with nothing else changed. The plug goes with the hub (Zed deletes the hub's port).
        subnet_id = (payload.metadata or {}).get('subnet_id')
        context = payload.context.elevated()
        for hub_id, plug_id in wg_db.get_router_ovn_plugs(context, payload.resource_id,
                                                          subnet_id):
            plug = ovn.get_port(context, plug_id)
            if plug is not None:
                ovn.remove_routes(context, payload.resource_id, plug['fixed_ips'],
                                  subnet_id)

    def _router_interface_created(self, resource, event, trigger, payload):
        # The routerports row (get_hubs' router_id) exists only now, after the port's updates.
        port = payload.metadata.get('port') or {}
        if wg_db.get_role(payload.context, port.get('id')) == constants.ROLE_HUB:
            self.notifier.hubs_changed(payload.context, [port['id']])
