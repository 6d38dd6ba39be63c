# Service plugin "wireguard": the WireGuard API (extension "wireguard", docs/api-design.md).
# A hub or spoke is a port with the same ID. They are created, changed and deleted through the
# core plugin, so that everything the ML2 driver validates, stores and notifies applies to them as
# to ports made through the port API; this plugin adds what a project member needs on top:
# scheduling hubs, choosing a spoke's hub, and the spoke's WireGuard configuration.

import contextlib

from neutron import policy
from neutron import quota
from neutron_lib.api import converters
from neutron_lib.api.definitions import availability_zone as az_def
from neutron_lib.api.definitions import portbindings
from neutron_lib.api import validators
from neutron_lib.api.validators import availability_zone as az_validator
from neutron_lib.callbacks import exceptions as cb_exc
from neutron_lib import constants as n_const
from neutron_lib import context as n_context
from neutron_lib.db import utils as db_utils
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins import directory
from neutron_lib.plugins import utils as plugin_utils
from neutron_lib.services import base as service_base
from oslo_log import log as logging
from oslo_policy import policy as oslo_policy
from oslo_utils import excutils

from networking_wireguard.api.definitions import wireguard as wg_apidef
from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard import exceptions as wg_exc
# Neutron finds an out-of-tree service plugin's extensions in <top package>.extensions, which
# must be imported by then.
from networking_wireguard.extensions import wireguard as wg_ext  # noqa: F401
from networking_wireguard.ml2 import validation
from networking_wireguard import scheduler
from networking_wireguard.services import spoke_config

LOG = logging.getLogger(__name__)

PROFILE = portbindings.PROFILE
HOST_ID = portbindings.HOST_ID
PORT_FIELDS = ('id', 'name', 'description', 'project_id', 'tenant_id',
               'network_id', 'fixed_ips', 'admin_state_up')


def _is_set(attrs, key):
    return validators.is_attr_set(attrs.get(key))


def _profile(port):
    profile = port.get(PROFILE)
    return dict(profile) if isinstance(profile, dict) else {}


@contextlib.contextmanager
def _tenant_errors():
    """The driver names the port's fields (binding:profile.public_key); name the API's."""
    try:
        yield
    except (n_exc.MultipleExceptions, cb_exc.CallbackFailure,
            validation.InvalidInput) as e:
        with excutils.save_and_reraise_exception() as ctxt:
            inner = e
            while isinstance(inner, (n_exc.MultipleExceptions,
                                     cb_exc.CallbackFailure)):
                errors = getattr(inner, 'inner_exceptions', None) or getattr(
                    inner, 'errors', None) or []
                if len(errors) != 1:
                    break
                inner = getattr(errors[0], 'error', errors[0])
            if isinstance(inner, n_exc.InvalidInput):
                ctxt.reraise = False
                raise validation.InvalidInput(error_message=str(inner).replace(
                    PROFILE + '.' + constants.PROFILE_PEERS, wg_apidef.HUB_IDS
                ).replace(PROFILE + '.', ''))


def _timestamp(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else None


def _connection(port, peerings):
    """A spoke's connection attributes from its peerings (one per hub) as their agents report.

    Its port's status is its liveness (ACTIVE when any hub sees a recent handshake); the latest
    handshake and its endpoint are those of the hub that saw it last; bytes are summed over hubs.
    """
    latest = max((p for p in peerings if p.latest_handshake),
                 key=lambda p: p.latest_handshake, default=None)
    updated = [p.reported_at for p in peerings if p.reported_at]
    return {
        wg_apidef.CONNECTION_STATUS: (
            n_const.PORT_STATUS_ACTIVE
            if port['status'] == n_const.PORT_STATUS_ACTIVE
            else n_const.PORT_STATUS_DOWN),
        wg_apidef.LATEST_HANDSHAKE_AT: _timestamp(latest.latest_handshake)
        if latest else None,
        wg_apidef.LAST_ENDPOINT: latest.endpoint if latest else None,
        wg_apidef.RX_BYTES: sum(p.rx_bytes or 0 for p in peerings),
        wg_apidef.TX_BYTES: sum(p.tx_bytes or 0 for p in peerings),
        wg_apidef.CONNECTION_UPDATED_AT: _timestamp(max(updated))
        if updated else None,
    }


class WireGuardPlugin(service_base.ServicePluginBase):

    supported_extension_aliases = [wg_apidef.ALIAS]
    __native_pagination_support = False
    __native_sorting_support = False
    __filter_validation_support = False

    @classmethod
    def get_plugin_type(cls):
        return wg_apidef.ALIAS

    def get_plugin_description(self):
        return 'WireGuard hubs and spokes'

    @property
    def core(self):
        return directory.get_plugin()

    # --- shared ---

    def _ports(self, context, role, filters):
        """Port dicts of the visible hubs or spokes that match the port filters."""
        project_id = None if context.is_admin else context.project_id
        ids = wg_db.get_port_ids(context, role, project_id)
        wanted = set(filters.pop('id', None) or ids)
        ids = [port_id for port_id in ids if port_id in wanted]
        if not ids:
            return []
        port_filters = {k: v for k, v in filters.items() if k in (
            'name', 'network_id', 'project_id', 'tenant_id', 'admin_state_up')}
        return self.core.get_ports(context, filters=dict(port_filters, id=ids))

    def _port(self, context, port_id, role):
        not_found = (wg_exc.WireGuardHubNotFound(hub_id=port_id)
                     if role == constants.ROLE_HUB else
                     wg_exc.WireGuardSpokeNotFound(spoke_id=port_id))
        if wg_db.get_role(context, port_id) != role:
            raise not_found
        try:
            return self.core.get_port(context, port_id)
        except n_exc.PortNotFound:
            raise not_found

    @staticmethod
    def _filtered(items, filters, fields):
        for key, values in filters.items():
            if key in ('status', wg_apidef.PUBLIC_KEY):
                items = [i for i in items if i[key] in values]
            elif key == wg_apidef.HUB_IDS:
                # each value went through the attribute's convert_to_list
                wanted = {v for value in values for v in converters.convert_to_list(
                    value)}
                items = [i for i in items if set(i[key]) & wanted]
        return [db_utils.resource_fields(i, fields) for i in items]

    def _network(self, context, network_id, project_id, role):
        network = self.core.get_network(context, network_id)  # 404 if not visible
        if network['project_id'] != project_id:
            raise wg_exc.NetworkOfAnotherProject(network_id=network_id,
                                                 role=role)
        return network

    def _create_port(self, context, port, **row_values):
        """Create through the core plugin, counting against the project's port quota."""
        reservation = quota.QUOTAS.make_reservation(
            context, port['project_id'], {'port': 1}, self.core)
        try:
            with _tenant_errors(), validation.row_values(context, **row_values):
                created = plugin_utils.create_port(self.core, context,
                                                   {'port': port})
        except Exception:
            with excutils.save_and_reraise_exception():
                if reservation:
                    quota.QUOTAS.cancel_reservation(
                        context, reservation.reservation_id)
        if reservation:
            quota.QUOTAS.commit_reservation(context, reservation.reservation_id)
        return created

    # --- hubs ---

    def _make_hubs(self, context, ports):
        admin = n_context.get_admin_context()
        ids = [port['id'] for port in ports]
        rows = wg_db.get_rows(admin, ids)
        routers = wg_db.get_router_ids(admin, ids)
        zones = {agent.host: agent.availability_zone
                 for agent in scheduler.agents(admin)}
        hubs = []
        for port in ports:
            row = rows.get(port['id'])
            if row is None:
                continue  # deleted meanwhile
            host = port.get(HOST_ID) or None
            hub = {k: port[k] for k in PORT_FIELDS}
            hub.update({
                'status': spoke_config.hub_status(
                    port['status'], port.get(portbindings.VIF_TYPE)),
                wg_apidef.PUBLIC_KEY: row.public_key,
                wg_apidef.ENDPOINT: row.endpoint,
                wg_apidef.HOST: host,
                wg_apidef.ROOT_DEVICE: _profile(port).get(
                    constants.PROFILE_ROOT_DEVICE) is True,
                az_def.AZ_HINTS: (az_validator.convert_az_string_to_list(
                    row.availability_zone_hints)
                    if row.availability_zone_hints else []),
                'availability_zones': ([zones[host]] if zones.get(host) else []),
                'router_id': routers.get(port['id']),
            })
            hubs.append(hub)
        return hubs

    def get_wireguard_hubs(self, context, filters=None, fields=None,
                           sorts=None, limit=None, marker=None,
                           page_reverse=False):
        filters = dict(filters or {})
        ports = self._ports(context, constants.ROLE_HUB, filters)
        return self._filtered(self._make_hubs(context, ports), filters, fields)

    def get_wireguard_hub(self, context, id, fields=None):
        port = self._port(context, id, constants.ROLE_HUB)
        return db_utils.resource_fields(self._make_hubs(context, [port])[0],
                                        fields)

    def create_wireguard_hub(self, context, wireguard_hub):
        attrs = wireguard_hub[wg_apidef.HUB]
        project_id = attrs['project_id']
        self._network(context, attrs['network_id'], project_id, 'hub')
        admin = n_context.get_admin_context()
        hints = attrs.get(az_def.AZ_HINTS) or []
        scheduler.validate_hints(admin, hints)
        host = attrs.get(wg_apidef.HOST) if _is_set(attrs, wg_apidef.HOST) else None
        scheduled = not host
        if scheduled:
            host = scheduler.choose_host(admin, hints)
        port = {k: attrs[k] for k in ('name', 'description', 'network_id',
                                      'admin_state_up', 'project_id')}
        port.update(device_owner=constants.DEVICE_OWNER_HUB, device_id='')
        if _is_set(attrs, 'fixed_ips'):
            port['fixed_ips'] = attrs['fixed_ips']
        if host:
            port[HOST_ID] = host
        if attrs.get(wg_apidef.ROOT_DEVICE):
            port[PROFILE] = {constants.PROFILE_ROOT_DEVICE: True}
        created = self._create_port(
            context, port, scheduled=scheduled,
            availability_zone_hints=(
                az_validator.convert_az_list_to_string(hints) if hints else None))
        LOG.info('WireGuard hub %s of project %s: %s', created['id'], project_id,
                 ('scheduled to %s' % host if host and scheduled else
                  'on %s' % host if host else
                  'waiting for a WireGuard agent'))
        return self.get_wireguard_hub(context, created['id'])

    def update_wireguard_hub(self, context, id, wireguard_hub):
        attrs = wireguard_hub[wg_apidef.HUB]
        port = self._port(context, id, constants.ROLE_HUB)
        update = {k: attrs[k] for k in ('name', 'description', 'admin_state_up')
                  if k in attrs}
        if attrs.get(wg_apidef.HOST):
            update[HOST_ID] = attrs[wg_apidef.HOST]  # pinned by an admin
        if wg_apidef.ROOT_DEVICE in attrs:
            # the port dict shows the agent's key and endpoint in the profile: not ours to write
            profile = {k: v for k, v in _profile(port).items()
                       if k not in constants.HUB_AGENT_KEYS}
            if attrs[wg_apidef.ROOT_DEVICE]:
                profile[constants.PROFILE_ROOT_DEVICE] = True
            else:
                profile.pop(constants.PROFILE_ROOT_DEVICE, None)
            if profile != {k: v for k, v in _profile(port).items()
                           if k not in constants.HUB_AGENT_KEYS}:
                update[PROFILE] = profile
        if update:
            with _tenant_errors():
                self.core.update_port(context, id, {'port': update})
        return self.get_wireguard_hub(context, id)

    def delete_wireguard_hub(self, context, id):
        self._port(context, id, constants.ROLE_HUB)
        self.core.delete_port(context, id)

    # --- spokes ---

    def _make_spokes(self, context, ports):
        admin = n_context.get_admin_context()
        ids = [port['id'] for port in ports]
        rows = wg_db.get_rows(admin, ids)
        liveness = wg_db.get_spoke_liveness(admin, ids)
        profiles = {port['id']: _profile(port) for port in ports}
        hub_ids = {hub_id for profile in profiles.values()
                   for hub_id in profile.get(constants.PROFILE_PEERS) or []}
        states = wg_db.get_hub_states(admin, sorted(hub_ids))
        spokes = []
        for port in ports:
            row = rows.get(port['id'])
            if row is None:
                continue
            profile = profiles[port['id']]
            hubs = profile.get(constants.PROFILE_PEERS) or []
            spoke = {k: port[k] for k in PORT_FIELDS}
            spoke.update({
                wg_apidef.PUBLIC_KEY: profile.get(constants.PROFILE_PUBLIC_KEY),
                wg_apidef.ENDPOINT: profile.get(constants.PROFILE_ENDPOINT),
                wg_apidef.HUB_IDS: hubs,
                wg_apidef.PERSISTENT_KEEPALIVE: (
                    row.persistent_keepalive
                    if row.persistent_keepalive is not None
                    else constants.DEFAULT_PERSISTENT_KEEPALIVE),
            })
            spoke.update(_connection(port, liveness.get(port['id'], [])))
            if not port['admin_state_up']:
                spoke['status'] = n_const.PORT_STATUS_DOWN
            elif not hubs:
                spoke['status'] = constants.SPOKE_STATUS_NO_HUB
            elif all(hub_id in states and spoke_config.hub_status(
                    states[hub_id]['status'], states[hub_id]['vif_type']) ==
                    n_const.PORT_STATUS_ACTIVE for hub_id in hubs):
                spoke['status'] = n_const.PORT_STATUS_ACTIVE
            else:
                spoke['status'] = n_const.PORT_STATUS_DOWN
            spokes.append(spoke)
        return spokes

    def get_wireguard_spokes(self, context, filters=None, fields=None,
                             sorts=None, limit=None, marker=None,
                             page_reverse=False):
        filters = dict(filters or {})
        ports = self._ports(context, constants.ROLE_SPOKE, filters)
        return self._filtered(self._make_spokes(context, ports), filters,
                              fields)

    def get_wireguard_spoke(self, context, id, fields=None):
        port = self._port(context, id, constants.ROLE_SPOKE)
        return db_utils.resource_fields(
            self._make_spokes(context, [port])[0], fields)

    def _choose_hubs(self, context, attrs, project_id):
        """The spoke's hubs: named, else the one hub of its network / subnet / project."""
        if _is_set(attrs, wg_apidef.HUB_IDS):
            hubs = [self._port(context, hub_id, constants.ROLE_HUB)
                    for hub_id in attrs[wg_apidef.HUB_IDS]]
            networks = sorted({hub['network_id'] for hub in hubs})
            if len(networks) > 1:
                raise wg_exc.SpokeHubsOnSeveralNetworks(
                    hub_ids=', '.join(attrs[wg_apidef.HUB_IDS]),
                    network_ids=', '.join(networks))
            return hubs
        subnets = set()
        if _is_set(attrs, 'subnet_id'):
            subnets.add(attrs['subnet_id'])
        if _is_set(attrs, 'fixed_ips'):
            subnets |= {ip['subnet_id'] for ip in attrs['fixed_ips']
                        if ip.get('subnet_id')}
        network_id = attrs['network_id'] if _is_set(attrs, 'network_id') else None
        candidates = [
            hub for hub in wg_db.get_project_hubs(
                n_context.get_admin_context(), project_id)
            if (network_id is None or hub['network_id'] == network_id) and
            (not subnets or hub['subnet_ids'] & subnets)]
        where = ('on subnet %s' % ', '.join(sorted(subnets)) if subnets else
                 'on network %s' % network_id if network_id else '')
        if not candidates:
            raise wg_exc.NoHubForSpoke(project_id=project_id, where=where)
        if len(candidates) > 1:
            raise wg_exc.SeveralHubsForSpoke(
                project_id=project_id, where=where,
                hub_ids=', '.join(hub['id'] for hub in candidates))
        return [self._port(context, candidates[0]['id'], constants.ROLE_HUB)]

    def create_wireguard_spoke(self, context, wireguard_spoke):
        attrs = wireguard_spoke[wg_apidef.SPOKE]
        project_id = attrs['project_id']
        if _is_set(attrs, 'network_id'):
            self._network(context, attrs['network_id'], project_id, 'spoke')
        hubs = self._choose_hubs(context, attrs, project_id)
        network_id = hubs[0]['network_id']
        if _is_set(attrs, 'network_id') and attrs['network_id'] != network_id:
            raise validation.InvalidInput(
                error_message='network_id: the hubs are on network %s' %
                network_id)
        if _is_set(attrs, 'fixed_ips'):
            fixed_ips = attrs['fixed_ips']
        elif _is_set(attrs, 'subnet_id'):
            fixed_ips = [{'subnet_id': attrs['subnet_id']}]
        else:
            # an address on every subnet of its hubs (IPv4 and IPv6 alike)
            fixed_ips = [{'subnet_id': subnet_id} for subnet_id in dict.fromkeys(
                ip['subnet_id'] for hub in hubs for ip in hub['fixed_ips'])]
        profile = {constants.PROFILE_PUBLIC_KEY: attrs[wg_apidef.PUBLIC_KEY],
                   constants.PROFILE_PEERS: [hub['id'] for hub in hubs]}
        if attrs.get(wg_apidef.ENDPOINT):
            profile[constants.PROFILE_ENDPOINT] = attrs[wg_apidef.ENDPOINT]
        port = {k: attrs[k] for k in ('name', 'description', 'admin_state_up',
                                      'project_id')}
        port.update(network_id=network_id, fixed_ips=fixed_ips,
                    device_owner=constants.DEVICE_OWNER_SPOKE, device_id='')
        port[PROFILE] = profile
        created = self._create_port(
            context, port,
            persistent_keepalive=attrs[wg_apidef.PERSISTENT_KEEPALIVE])
        return self.get_wireguard_spoke(context, created['id'])

    def update_wireguard_spoke(self, context, id, wireguard_spoke):
        attrs = wireguard_spoke[wg_apidef.SPOKE]
        port = self._port(context, id, constants.ROLE_SPOKE)
        update = {k: attrs[k] for k in ('name', 'description', 'admin_state_up')
                  if k in attrs}
        profile = _profile(port)
        if wg_apidef.PUBLIC_KEY in attrs:
            profile[constants.PROFILE_PUBLIC_KEY] = attrs[wg_apidef.PUBLIC_KEY]
        if wg_apidef.ENDPOINT in attrs:
            if attrs[wg_apidef.ENDPOINT]:
                profile[constants.PROFILE_ENDPOINT] = attrs[wg_apidef.ENDPOINT]
            else:
                profile.pop(constants.PROFILE_ENDPOINT, None)
        if wg_apidef.HUB_IDS in attrs:
            profile[constants.PROFILE_PEERS] = [
                self._port(context, hub_id, constants.ROLE_HUB)['id']
                for hub_id in attrs[wg_apidef.HUB_IDS]]
        if profile != _profile(port):
            update[PROFILE] = profile
        if update:
            with _tenant_errors():
                self.core.update_port(context, id, {'port': update})
        if wg_apidef.PERSISTENT_KEEPALIVE in attrs:
            wg_db.update_port(context, id, persistent_keepalive=attrs[
                wg_apidef.PERSISTENT_KEEPALIVE])
        return self.get_wireguard_spoke(context, id)

    def delete_wireguard_spoke(self, context, id):
        self._port(context, id, constants.ROLE_SPOKE)
        self.core.delete_port(context, id)

    def config(self, context, id):
        """GET /v2.0/wireguard_spokes/{id}/config (a member action: policies checked here)."""
        spoke = self.get_wireguard_spoke(context, id)
        for action in ('get_wireguard_spoke', 'get_wireguard_spoke_config'):
            try:
                policy.enforce(context, action, spoke,
                               pluralized=wg_apidef.SPOKES)
            except oslo_policy.PolicyNotAuthorized:
                if action == 'get_wireguard_spoke':
                    raise wg_exc.WireGuardSpokeNotFound(spoke_id=id)
                raise
        details = wg_db.get_spoke_config_details(
            n_context.get_admin_context(), id, spoke[wg_apidef.HUB_IDS])
        return {wg_apidef.CONFIG_KEY: spoke_config.make(spoke, details)}
