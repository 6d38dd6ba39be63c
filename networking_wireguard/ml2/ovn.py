# Hubs attached to OVN routers (ML2/OVN, docs/ovn.md). There is no qrouter- namespace: the OVN
# router owns the hub's IP (its logical router port) and resolves every spoke IP to the spoke's own
# logical switch port, which is bound nowhere. So each such hub gets a plug port (a Neutron port on
# its network, one fixed IP per hub subnet, no port security) that its agent plugs into the
# integration bridge, and the router gets, per hub subnet, routes to the subnet's two halves via the
# plug's IP there: longer prefixes than the connected route, so router -> spoke traffic goes to the
# hub's namespace.
#
# Everything here runs outside ML2's transactions (router interface callbacks, port postcommit) and
# is idempotent: ensure() makes what is missing and removes what is stale, so a retried attach, a
# repair pass and a second call change nothing more.

import ipaddress

from neutron.common.ovn import constants as ovn_const
from neutron_lib.api.definitions import port_security as psec
from neutron_lib.api.definitions import portbindings
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins import constants as plugin_constants
from neutron_lib.plugins import directory
from neutron_lib.plugins import utils as plugin_utils
from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db

LOG = logging.getLogger(__name__)


def ovn_mode():
    """The server runs ML2/OVN: `ovn` among [ml2] mechanism_drivers."""
    try:
        drivers = cfg.CONF.ml2.mechanism_drivers
    except cfg.NoSuchOptError:
        return False
    return constants.OVN_MECHANISM_DRIVER in (drivers or [])


def chassis_hosts(context):
    """In OVN mode, the hosts of the alive OVN chassis (ovn-controller, as ML2/OVN lists them among
    Neutron's agents); None otherwise, or when ML2/OVN cannot list them in this process. A hub's plug
    is a port of its host's integration bridge: only a chassis can carry it."""
    if not ovn_mode():
        return None
    try:
        chassis = directory.get_plugin().get_agents(
            context, filters={'agent_type': list(ovn_const.OVN_CONTROLLER_TYPES)})
    except Exception:
        LOG.warning('Cannot list the OVN chassis; hubs are scheduled to any WireGuard agent',
                    exc_info=True)
        return None
    return {agent['host'] for agent in chassis if agent.get('alive')}


def ovn_listed_before_wireguard():
    drivers = list(cfg.CONF.ml2.mechanism_drivers or [])
    return (constants.OVN_MECHANISM_DRIVER in drivers and 'wireguard' in drivers and
            drivers.index(constants.OVN_MECHANISM_DRIVER) < drivers.index('wireguard'))


def half_routes(cidr, nexthop):
    """The two halves of cidr (prefix length + 1) via nexthop, as Neutron extraroutes."""
    network = ipaddress.ip_network(cidr)
    return [{'destination': str(half), 'nexthop': nexthop}
            for half in network.subnets(prefixlen_diff=1)]


def single_address_refusal(context, port):
    """Why the hub `port` cannot be on an OVN router, naming its subnets that have a single address
    (/32, /128: no room for a plug IP and no halves to route); None when it can."""
    subnets = wg_db.get_subnet_cidrs(context, {ip['subnet_id']
                                               for ip in port.get('fixed_ips') or []})
    single = ['subnet %s (%s)' % (subnet_id, cidr) for subnet_id, cidr in sorted(subnets.items())
              if ipaddress.ip_network(cidr).num_addresses == 1]
    if not single:
        return None
    return ('fixed_ips: %s has a single address; a hub on an OVN router needs a subnet with room '
            'for its plug port (IPv4 /31 or shorter, IPv6 /127 or shorter)' % ', '.join(single))


def _core():
    return directory.get_plugin()


def _l3():
    return directory.get_plugin(plugin_constants.L3)


def _hub_subnets(hub):
    return sorted({ip['subnet_id'] for ip in hub['fixed_ips']})


def _plug_request(hub):
    port = {
        'tenant_id': hub['project_id'],
        'network_id': hub['network_id'],
        'name': 'wireguard-plug-%s' % hub['id'],
        'admin_state_up': True,
        'device_owner': constants.DEVICE_OWNER_OVN_PLUG,
        'device_id': hub['id'],
        'fixed_ips': [{'subnet_id': subnet_id} for subnet_id in _hub_subnets(hub)],
        portbindings.HOST_ID: hub.get(portbindings.HOST_ID) or '',
    }
    if psec.ALIAS in _core().supported_extension_aliases:
        # It carries traffic from spokes' and VMs' addresses, like a router port.
        port[psec.PORTSECURITY] = False
        port['security_groups'] = []
    return {'port': port}


def get_port(context, port_id):
    try:
        return _core().get_port(context, port_id)
    except n_exc.PortNotFound:
        return None


def _plug_of(context, hub_id):
    """The hub's plug port dict, or None (a row whose port is gone is dropped)."""
    plug_id = wg_db.get_ovn_plug_id(context, hub_id)
    if plug_id is None:
        return None
    plug = get_port(context, plug_id)
    if plug is None:
        wg_db.delete_ovn_plug(context, hub_id)
    return plug


def _make_plug(context, hub):
    plug = plugin_utils.create_port(_core(), context, _plug_request(hub))
    try:
        wg_db.add_ovn_plug(context, hub['id'], plug['id'])
    except db_exc.DBDuplicateEntry:
        # A concurrent attempt (a retried request) made one first: keep that one.
        _delete_port(context, plug['id'])
        return _plug_of(context, hub['id']), False
    LOG.info('Hub %s: OVN plug port %s created (%s)', hub['id'], plug['id'],
             ', '.join(ip['ip_address'] for ip in plug['fixed_ips']))
    return plug, True


def _fix_plug(context, hub, plug):
    """Follow the hub's subnets and host; returns the plug and whether it changed."""
    update = {}
    wanted = set(_hub_subnets(hub))
    have = {ip['subnet_id'] for ip in plug['fixed_ips']}
    if have != wanted:
        update['fixed_ips'] = ([ip for ip in plug['fixed_ips'] if ip['subnet_id'] in wanted] +
                               [{'subnet_id': s} for s in sorted(wanted - have)])
    host = hub.get(portbindings.HOST_ID) or ''
    if (plug.get(portbindings.HOST_ID) or '') != host:
        update[portbindings.HOST_ID] = host
    if not update:
        return plug, False
    LOG.info('Hub %s: OVN plug port %s updated (%s)', hub['id'], plug['id'],
             ', '.join(sorted(update)))
    return _core().update_port(context, plug['id'], {'port': update}), True


def wanted_routes(hub, plug):
    """Per hub subnet, its two halves via the plug's IP on that subnet."""
    plug_ips = {ip['subnet_id']: ip['ip_address'] for ip in plug['fixed_ips']}
    routes = []
    for subnet_id, cidr in sorted(hub['_subnet_cidrs'].items()):
        if subnet_id in plug_ips:
            routes += half_routes(cidr, plug_ips[subnet_id])
    return routes


def _route_key(route):
    return (str(ipaddress.ip_network(route['destination'])),
            str(ipaddress.ip_address(route['nexthop'])))


def set_routes(context, router_id, nexthops, wanted):
    """Make the router's routes via nexthops exactly `wanted` (other routes untouched).

    Returns True if the router's routes changed.
    """
    l3 = _l3()
    current = l3.get_router(context, router_id).get('routes') or []
    nexthops = {str(ipaddress.ip_address(n)) for n in nexthops}
    ours = {_route_key(r) for r in current if _route_key(r)[1] in nexthops}
    want = {_route_key(r) for r in wanted}
    have = {_route_key(r) for r in current}
    stale = sorted(ours - want)
    missing = sorted(want - have)
    if stale:
        l3.remove_extraroutes(context, router_id, {'router': {'routes': [
            {'destination': d, 'nexthop': n} for d, n in stale]}})
    if missing:
        l3.add_extraroutes(context, router_id, {'router': {'routes': [
            {'destination': d, 'nexthop': n} for d, n in missing]}})
    if stale or missing:
        LOG.info('Router %s: routes via %s: %d added, %d removed', router_id,
                 ', '.join(sorted(nexthops)), len(missing), len(stale))
    return bool(stale or missing)


def ensure(context, hub, router_id):
    """Make the hub's plug port and its router's routes what they must be.

    hub: the hub's port dict. Returns (the plug's port dict, whether anything changed). Raises on
    failure (the caller decides whether that refuses the attach or is retried by the repair pass).
    """
    hub = dict(hub, _subnet_cidrs=wg_db.get_subnet_cidrs(context, set(_hub_subnets(hub))))
    plug = _plug_of(context, hub['id'])
    if plug is None:
        plug, changed = _make_plug(context, hub)
    else:
        plug, changed = _fix_plug(context, hub, plug)
    nexthops = [ip['ip_address'] for ip in plug['fixed_ips']]
    routed = set_routes(context, router_id, nexthops, wanted_routes(hub, plug))
    if changed:
        # What get_hubs shows (ovn_plug) changed: 1.6 agents see it by the revision too.
        wg_db.bump_hub_revision(context, hub['id'])
    return plug, changed or routed


def remove_routes(context, router_id, plug_ips, subnet_id=None):
    """Remove the router's routes via the plug's IPs (on subnet_id only, if given)."""
    nexthops = [ip['ip_address'] for ip in plug_ips
                if subnet_id is None or ip['subnet_id'] == subnet_id]
    if nexthops:
        set_routes(context, router_id, nexthops, [])


def _delete_port(context, port_id):
    try:
        _core().delete_port(context, port_id)
    except n_exc.PortNotFound:
        pass


def remove(context, hub_id, plug_id=None):
    """Undo ensure(): every route via the plug's IPs (on whatever router holds one), then the plug
    port and its row. Returns True if there was a plug."""
    plug_id = plug_id or wg_db.get_ovn_plug_id(context, hub_id)
    if plug_id is None:
        return False
    plug = get_port(context, plug_id)
    if plug is not None:
        ips = [ip['ip_address'] for ip in plug['fixed_ips']]
        for router_id in wg_db.get_routers_with_nexthops(context, ips):
            set_routes(context, router_id, ips, [])
        _delete_port(context, plug_id)
        LOG.info('Hub %s: OVN plug port %s deleted', hub_id, plug_id)
    wg_db.delete_ovn_plug(context, hub_id)
    return True


def repair(context):
    """The periodic safety net (the driver's PeriodicWorker): every router-attached hub gets its
    plug and routes (a route removal whose detach then failed, a plug deleted by hand, a hub whose
    host or subnets changed), and plugs of hubs no longer attached go (an attach that failed after
    its plug was made). Returns the IDs of the hubs whose plug or routes changed."""
    attached, loose = wg_db.get_ovn_plug_state(context)
    changed = []
    for hub_id, router_id in attached:
        hub = get_port(context, hub_id)
        if hub is None:
            continue
        try:
            if ensure(context, hub, router_id)[1]:
                changed.append(hub_id)
        except Exception:
            LOG.exception('Hub %s on router %s: its OVN plug port or routes could not be '
                          'repaired; retried at the next check', hub_id, router_id)
    for hub_id, plug_id in loose:
        hub = get_port(context, hub_id)
        if hub is not None and hub['device_owner'] in constants.ROUTER_INTERFACE_OWNERS:
            continue  # being attached now (the plug is made before the router records it)
        try:
            if remove(context, hub_id, plug_id):
                changed.append(hub_id)
        except Exception:
            LOG.exception('Hub %s: its stale OVN plug port %s could not be removed; retried '
                          'at the next check', hub_id, plug_id)
    return changed
