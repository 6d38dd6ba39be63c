# Queries on the driver's tables. Writers run inside the ML2 transaction of the port operation
# (precommit); the agent-facing readers touch only the hubs of one host and their spokes.

from neutron.db.models import agent as agent_model
from neutron.db.models import l3 as l3_models
from neutron.db import models_v2
from neutron.plugins.ml2 import models as ml2_models
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib.db import api as db_api
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_serialization import jsonutils
import sqlalchemy as sa

from networking_wireguard import constants
from networking_wireguard.db import models
from networking_wireguard import validators

LOG = logging.getLogger(__name__)


# --- roles and peerings (maintained by the mechanism driver) ---

@db_api.CONTEXT_READER
def get_port(context, port_id):
    return context.session.query(models.WireGuardPort).filter_by(
        port_id=port_id).one_or_none()


@db_api.CONTEXT_READER
def get_role(context, port_id):
    row = context.session.query(models.WireGuardPort.role).filter_by(
        port_id=port_id).one_or_none()
    return row.role if row else None


@db_api.CONTEXT_WRITER
def add_port(context, port_id, role, **values):
    """values: host, public_key, endpoint."""
    context.session.add(models.WireGuardPort(port_id=port_id, role=role,
                                             **values))


@db_api.CONTEXT_WRITER
def update_port(context, port_id, **values):
    """values: host, public_key and/or endpoint. Returns True if one changed.

    Through the ORM, so that the port's revision_number follows (revises_on_change).
    """
    row = context.session.query(models.WireGuardPort).filter_by(
        port_id=port_id).with_for_update().one_or_none()
    if row is None:
        return False
    changed = False
    for column, value in values.items():
        if getattr(row, column) != value:
            setattr(row, column, value)
            changed = True
    return changed


@db_api.CONTEXT_WRITER
def delete_port(context, port_id):
    session = context.session
    session.query(models.WireGuardPeering).filter(
        (models.WireGuardPeering.spoke_id == port_id) |
        (models.WireGuardPeering.hub_id == port_id)).delete(
        synchronize_session=False)
    row = session.query(models.WireGuardPort).get(port_id)
    if row is not None:
        # the ORM's delete: the port's own cascade then finds nothing left to do
        session.delete(row)


@db_api.CONTEXT_READER
def get_peers(context, spoke_id):
    rows = context.session.query(models.WireGuardPeering.hub_id).filter_by(
        spoke_id=spoke_id)
    return {row.hub_id for row in rows}


def _flush(context):
    """Flush inside the driver's precommit, where a failure can still be turned into a retry.

    A hub deleted since validation read it (foreign key) or a key another spoke of the hub took
    since (the unique constraint, DBDuplicateEntry): Neutron's retry decorators run the request
    again, and its validation then refuses it with a 400 instead of a 500.
    """
    try:
        context.session.flush()
    except db_exc.DBReferenceError as e:
        raise db_exc.RetryRequest(e)


@db_api.CONTEXT_WRITER
def set_peers(context, spoke_id, hub_ids, public_key):
    """Make the peerings of spoke_id exactly hub_ids, with its key; returns the old hubs."""
    rows = {row.hub_id: row for row in context.session.query(
        models.WireGuardPeering).filter_by(spoke_id=spoke_id)}
    new = set(hub_ids)
    for hub_id, row in rows.items():
        if hub_id not in new:
            context.session.delete(row)
        elif row.public_key != public_key:
            row.public_key = public_key
            # A new key is a new WireGuard peer: what was known of the old one does not apply.
            reset_liveness(row)
    for hub_id in sorted(new - set(rows)):
        context.session.add(models.WireGuardPeering(
            spoke_id=spoke_id, hub_id=hub_id, public_key=public_key))
    _flush(context)
    return set(rows)


@db_api.CONTEXT_WRITER
def remove_hub_from_spokes(context, hub_id):
    """A hub is being deleted: drop it from the peers of every spoke that lists it.

    Returns the IDs of those spokes. The hub's port row is locked first, so that a spoke being
    peered with it concurrently either commits before (and is found here) or fails its foreign
    key after (and is retried, then refused: the hub does not exist). Spokes are never bound, so
    rewriting their profile changes nothing else; their revision_number is bumped.
    """
    session = context.session
    session.query(models_v2.Port.id).filter_by(id=hub_id).with_for_update(
        ).one_or_none()
    spoke_ids = sorted(row.spoke_id for row in session.query(
        models.WireGuardPeering.spoke_id).filter_by(
        hub_id=hub_id).with_for_update())
    if not spoke_ids:
        return []
    for binding in session.query(ml2_models.PortBinding).filter(
            ml2_models.PortBinding.port_id.in_(spoke_ids),
            ml2_models.PortBinding.status == n_const.ACTIVE).with_for_update():
        profile = jsonutils.loads(binding.profile) if binding.profile else {}
        peers = profile.get(constants.PROFILE_PEERS)
        if isinstance(peers, list) and hub_id in peers:
            profile[constants.PROFILE_PEERS] = [p for p in peers
                                                if p != hub_id]
            binding.profile = jsonutils.dumps(profile)
    return spoke_ids


# --- spoke liveness (update_spoke_status, docs/rpc.md) ---

LIVENESS_COLUMNS = ('active', 'latest_handshake', 'endpoint', 'rx_bytes',
                    'tx_bytes')


def reset_liveness(row):
    row.active = False
    row.latest_handshake = None
    row.endpoint = None
    row.rx_bytes = 0
    row.tx_bytes = 0
    row.reported_at = None


def _spoke_statuses(session, spoke_ids):
    """{spoke_id: (port status, status its peerings call for)} of existing spokes."""
    if not spoke_ids:
        return {}
    active = {row.spoke_id for row in session.query(
        models.WireGuardPeering.spoke_id).filter(
        models.WireGuardPeering.spoke_id.in_(spoke_ids),
        models.WireGuardPeering.active.is_(True))}
    return {row.id: (row.status, n_const.PORT_STATUS_ACTIVE if row.id in active
                     else n_const.PORT_STATUS_DOWN)
            for row in session.query(models_v2.Port.id, models_v2.Port.status).filter(
                models_v2.Port.id.in_(spoke_ids))}


@db_api.CONTEXT_WRITER
def set_spoke_liveness(context, host, reports, now):
    """Store what the agent on `host` reports about spokes of its hubs.

    reports: [{'hub_id', 'spoke_id', 'active', 'latest_handshake' (naive UTC datetime or None),
    'endpoint', 'rx_bytes', 'tx_bytes'}]. Only peerings of hubs bound to `host` are written, and
    a row only when one of its values changed (an agent's first report after a start repeats what
    the table has: no write). Returns (rows written, {spoke_id: status}) with the port status each
    spoke should now have where its port's differs: ACTIVE when any of its peerings is active, so a
    spoke of two hubs on two hosts is ACTIVE while either sees it.
    """
    session = context.session
    hub_ids = {r['hub_id'] for r in reports}
    own = {row.port_id for row in session.query(models.WireGuardPort.port_id).filter(
        models.WireGuardPort.role == constants.ROLE_HUB,
        models.WireGuardPort.host == host,
        models.WireGuardPort.port_id.in_(hub_ids))} if hub_ids else set()
    wanted = {(r['spoke_id'], r['hub_id']): r for r in reports if r['hub_id'] in own}
    if not wanted:
        return 0, {}
    written = 0
    spoke_ids = set()  # those a report is about: spokes of this host's hubs, nothing else
    for row in session.query(models.WireGuardPeering).filter(
            models.WireGuardPeering.spoke_id.in_({s for s, _ in wanted}),
            models.WireGuardPeering.hub_id.in_({h for _, h in wanted})):
        report = wanted.get((row.spoke_id, row.hub_id))
        if report is None:
            continue
        spoke_ids.add(row.spoke_id)
        changed = False
        for column in LIVENESS_COLUMNS:
            if getattr(row, column) != report[column]:
                setattr(row, column, report[column])
                changed = True
        if changed:
            row.reported_at = now
            written += 1
    session.flush()
    return written, {spoke_id: status for spoke_id, (current, status) in
                     _spoke_statuses(session, spoke_ids).items() if current != status}


@db_api.CONTEXT_READER
def get_spoke_status(context, spoke_id):
    """The port status a spoke's peerings call for (ACTIVE when any is active), or None."""
    statuses = _spoke_statuses(context.session, [spoke_id])
    return statuses[spoke_id][1] if spoke_id in statuses else None


@db_api.CONTEXT_READER
def get_spoke_liveness(context, spoke_ids):
    """{spoke_id: [WireGuardPeering, ...]} of those spokes."""
    result = {spoke_id: [] for spoke_id in spoke_ids}
    if spoke_ids:
        for row in context.session.query(models.WireGuardPeering).filter(
                models.WireGuardPeering.spoke_id.in_(spoke_ids)):
            result[row.spoke_id].append(row)
    return result


# --- the hub scheduler ---

@db_api.CONTEXT_READER
def count_hubs(context, hosts):
    """{host: number of hubs} of those hosts that have hubs."""
    rows = (context.session.query(models.WireGuardPort.host,
                                  sa.func.count(models.WireGuardPort.port_id)).
            filter(models.WireGuardPort.role == constants.ROLE_HUB,
                   models.WireGuardPort.host.in_(hosts)).
            group_by(models.WireGuardPort.host))
    return {host: count for host, count in rows}


@db_api.CONTEXT_READER
def get_hub_host(context, hub_id):
    """(whether the hub exists, its host now): a column, never a cached row."""
    row = context.session.query(models.WireGuardPort.host).filter_by(
        port_id=hub_id, role=constants.ROLE_HUB).one_or_none()
    return row is not None, row.host if row else None


@db_api.CONTEXT_READER
def get_waiting_hubs(context):
    """Rows of the hubs without a host (created through the WireGuard API, no agent yet)."""
    return (context.session.query(models.WireGuardPort).
            filter(models.WireGuardPort.role == constants.ROLE_HUB,
                   models.WireGuardPort.host.is_(None)).
            order_by(models.WireGuardPort.port_id).all())


@db_api.CONTEXT_READER
def get_scheduled_hubs(context, hosts):
    """Rows of the hubs on those hosts that the scheduler placed, except router interfaces
    (they follow their router's L3 agent)."""
    attached = context.session.query(l3_models.RouterPort.port_id)
    return (context.session.query(models.WireGuardPort).
            filter(models.WireGuardPort.role == constants.ROLE_HUB,
                   models.WireGuardPort.scheduled.is_(True),
                   models.WireGuardPort.host.in_(hosts),
                   ~models.WireGuardPort.port_id.in_(attached)).
            order_by(models.WireGuardPort.port_id).all())


# --- reads for validation ---

@db_api.CONTEXT_READER
def get_node_addresses(context):
    """The endpoint_address that each WireGuard agent reports (report_state configurations)."""
    addresses = set()
    rows = context.session.query(agent_model.Agent.host,
                                 agent_model.Agent.configurations).filter(
        agent_model.Agent.agent_type == constants.AGENT_TYPE_WIREGUARD)
    for row in rows:
        try:
            value = jsonutils.loads(row.configurations).get(
                constants.AGENT_ENDPOINT_ADDRESS)
        except (ValueError, TypeError, AttributeError):
            continue
        address = validators.parse_address(value)
        if address is not None:
            addresses.add(address)
        elif value:
            LOG.warning('WireGuard agent on %s reports endpoint_address %r, '
                        'which is not an IP address; ignored', row.host, value)
    return addresses


@db_api.CONTEXT_READER
def get_router(context, router_id):
    return context.session.query(l3_models.Router).filter_by(
        id=router_id).one_or_none()


@db_api.CONTEXT_READER
def get_peer_candidates(context, port_ids):
    """{port_id: {'role', 'project_id', 'public_key', 'subnet_ids'}} of the existing ports."""
    session = context.session
    rows = (session.query(models_v2.Port.id, models_v2.Port.project_id,
                          models.WireGuardPort.role,
                          models.WireGuardPort.public_key).
            outerjoin(models.WireGuardPort,
                      models.WireGuardPort.port_id == models_v2.Port.id).
            filter(models_v2.Port.id.in_(port_ids)))
    result = {row.id: {'role': row.role, 'project_id': row.project_id,
                       'public_key': row.public_key, 'subnet_ids': set()}
              for row in rows}
    if result:
        ips = session.query(models_v2.IPAllocation.port_id,
                            models_v2.IPAllocation.subnet_id).filter(
            models_v2.IPAllocation.port_id.in_(list(result)))
        for ip in ips:
            result[ip.port_id]['subnet_ids'].add(ip.subnet_id)
    return result


@db_api.CONTEXT_READER
def get_hubs_with_spoke_key(context, hub_ids, public_key, spoke_id):
    """The hubs among hub_ids that another spoke with public_key peers with."""
    rows = (context.session.query(models.WireGuardPeering.hub_id).
            join(models.WireGuardPort,
                 models.WireGuardPort.port_id ==
                 models.WireGuardPeering.spoke_id).
            filter(models.WireGuardPort.public_key == public_key,
                   models.WireGuardPort.role == constants.ROLE_SPOKE,
                   models.WireGuardPeering.spoke_id != spoke_id,
                   models.WireGuardPeering.hub_id.in_(hub_ids)))
    return sorted({row.hub_id for row in rows})


@db_api.CONTEXT_READER
def get_spoke_keys(context, hub_id):
    """{spoke_id: public_key} of the spokes that peer with hub_id."""
    rows = (context.session.query(models.WireGuardPort.port_id,
                                  models.WireGuardPort.public_key).
            join(models.WireGuardPeering,
                 models.WireGuardPeering.spoke_id ==
                 models.WireGuardPort.port_id).
            filter(models.WireGuardPeering.hub_id == hub_id))
    return {row.port_id: row.public_key for row in rows}


# --- reads for the agents: the hubs of one host and their spokes, nothing else ---

@db_api.CONTEXT_READER
def get_hub_ids(context, host, hub_ids=None):
    query = context.session.query(models.WireGuardPort.port_id).filter(
        models.WireGuardPort.host == host,
        models.WireGuardPort.role == constants.ROLE_HUB)
    if hub_ids is not None:
        query = query.filter(models.WireGuardPort.port_id.in_(hub_ids))
    return sorted(row.port_id for row in query)


@db_api.CONTEXT_READER
def get_unbound_hub_ids(context, host, hub_ids=None):
    """Hubs of host whose binding is unbound or failed."""
    query = (context.session.query(models.WireGuardPort.port_id).
             join(ml2_models.PortBinding,
                  ml2_models.PortBinding.port_id ==
                  models.WireGuardPort.port_id).
             filter(models.WireGuardPort.host == host,
                    models.WireGuardPort.role == constants.ROLE_HUB,
                    ml2_models.PortBinding.status == n_const.ACTIVE,
                    ml2_models.PortBinding.vif_type.in_(
                        (portbindings.VIF_TYPE_UNBOUND,
                         portbindings.VIF_TYPE_BINDING_FAILED))))
    if hub_ids is not None:
        query = query.filter(models.WireGuardPort.port_id.in_(hub_ids))
    return sorted(row.port_id for row in query)


@db_api.CONTEXT_READER
def get_spoke_ids(context, hub_ids):
    """{hub_id: [spoke_id, ...]} (every spoke, whatever its admin state)."""
    result = {hub_id: [] for hub_id in hub_ids}
    if hub_ids:
        rows = context.session.query(models.WireGuardPeering).filter(
            models.WireGuardPeering.hub_id.in_(hub_ids))
        for row in rows:
            result[row.hub_id].append(row.spoke_id)
    return {hub_id: sorted(ids) for hub_id, ids in result.items()}


def _profiles(session, port_ids_query):
    rows = session.query(ml2_models.PortBinding.port_id,
                         ml2_models.PortBinding.profile).filter(
        ml2_models.PortBinding.port_id.in_(port_ids_query),
        ml2_models.PortBinding.status == n_const.ACTIVE)
    return {row.port_id: jsonutils.loads(row.profile) if row.profile else {}
            for row in rows}


def _fixed_ips(session, port_ids_query):
    rows = session.query(models_v2.IPAllocation.port_id,
                         models_v2.IPAllocation.ip_address,
                         models_v2.IPAllocation.subnet_id).filter(
        models_v2.IPAllocation.port_id.in_(port_ids_query))
    result = {}
    for row in rows:
        result.setdefault(row.port_id, []).append(
            {'ip_address': row.ip_address, 'subnet_id': row.subnet_id})
    for ips in result.values():
        ips.sort(key=lambda ip: (ip['subnet_id'], ip['ip_address']))
    return result


def _hub_fields(session, host, hub_ids):
    """The hubs bound to host (or those of hub_ids that are), ordered by ID: their entries without
    spokes, each with '_revision' and '_history_start' for the caller to take out."""
    hub_q = session.query(models.WireGuardPort.port_id).filter(
        models.WireGuardPort.host == host,
        models.WireGuardPort.role == constants.ROLE_HUB)
    if hub_ids is not None:
        hub_q = hub_q.filter(models.WireGuardPort.port_id.in_(hub_ids))
    Port = models_v2.Port
    hubs = session.query(Port.id, Port.project_id, Port.network_id,
                         Port.admin_state_up, Port.status,
                         models.WireGuardPort.public_key,
                         models.WireGuardPort.endpoint,
                         models.WireGuardPort.revision,
                         models.WireGuardPort.history_start).join(
        models.WireGuardPort, models.WireGuardPort.port_id == Port.id).filter(
        Port.id.in_(hub_q)).order_by(Port.id).all()
    if not hubs:
        return []
    ids = [hub.id for hub in hubs]
    profiles = _profiles(session, ids)
    fixed_ips = _fixed_ips(session, ids)
    # The router is Neutron's record of the attachment (routerports), which only
    # add_router_interface writes; device_owner and device_id are whatever a port update set.
    routers = {row.port_id: row.router_id for row in session.query(
        l3_models.RouterPort.port_id, l3_models.RouterPort.router_id).filter(
        l3_models.RouterPort.port_id.in_(ids))}
    subnet_ids = {ip['subnet_id'] for ips in fixed_ips.values() for ip in ips}
    subnets = {row.id: row for row in session.query(
        models_v2.Subnet.id, models_v2.Subnet.cidr, models_v2.Subnet.gateway_ip,
        models_v2.Subnet.ip_version).filter(
        models_v2.Subnet.id.in_(subnet_ids))} if subnet_ids else {}
    mtus = {row.id: row.mtu for row in session.query(
        models_v2.Network.id, models_v2.Network.mtu).filter(
        models_v2.Network.id.in_({hub.network_id for hub in hubs}))}
    plugs = _ovn_plugs(session, [hub_id for hub_id in ids if hub_id in routers],
                       fixed_ips)
    result = []
    for hub in hubs:
        profile = profiles.get(hub.id, {})
        hub_ips = []
        for ip in fixed_ips.get(hub.id, []):
            subnet = subnets[ip['subnet_id']]
            hub_ips.append(dict(ip, cidr=subnet.cidr,
                                gateway_ip=subnet.gateway_ip,
                                ip_version=subnet.ip_version))
        result.append({
            'id': hub.id,
            'project_id': hub.project_id,
            'network_id': hub.network_id,
            'admin_state_up': hub.admin_state_up,
            'status': hub.status,
            'public_key': hub.public_key,
            'endpoint': hub.endpoint,
            'root_device': profile.get(constants.PROFILE_ROOT_DEVICE) is True,
            'mtu': mtus.get(hub.network_id),
            'router_id': routers.get(hub.id),
            'fixed_ips': hub_ips,
            'ovn_plug': plugs.get(hub.id),
            '_revision': hub.revision,
            '_history_start': hub.history_start,
        })
    return result


def _ovn_plugs(session, hub_ids, hub_fixed_ips):
    """{hub_id: get_hubs' ovn_plug} of those (router-attached) hubs that have a plug port
    (docs/ovn.md): its ID, MAC and, per subnet where the hub has an IP, the plug's IP with the
    subnet's CIDR and the hub's IP there (the OVN router's address on the tunnel network)."""
    if not hub_ids:
        return {}
    Port = models_v2.Port
    rows = session.query(models.WireGuardOvnPlug.hub_id, Port.id, Port.mac_address).join(
        Port, Port.id == models.WireGuardOvnPlug.port_id).filter(
        models.WireGuardOvnPlug.hub_id.in_(hub_ids)).all()
    if not rows:
        return {}
    plug_ips = _fixed_ips(session, [row.id for row in rows])
    subnet_ids = {ip['subnet_id'] for ips in plug_ips.values() for ip in ips}
    subnets = {row.id: row for row in session.query(
        models_v2.Subnet.id, models_v2.Subnet.cidr, models_v2.Subnet.ip_version).filter(
        models_v2.Subnet.id.in_(subnet_ids))} if subnet_ids else {}
    result = {}
    for row in rows:
        router_ips = {}
        for ip in hub_fixed_ips.get(row.hub_id, []):
            router_ips.setdefault(ip['subnet_id'], ip['ip_address'])
        fixed_ips = []
        for ip in plug_ips.get(row.id, []):
            subnet = subnets.get(ip['subnet_id'])
            if subnet is None or ip['subnet_id'] not in router_ips:
                continue
            fixed_ips.append({'ip_address': ip['ip_address'], 'cidr': subnet.cidr,
                              'ip_version': subnet.ip_version,
                              'router_ip': router_ips[ip['subnet_id']]})
        result[row.hub_id] = {'port_id': row.id, 'mac_address': row.mac_address,
                              'fixed_ips': fixed_ips}
    return result


def _spoke_entries(session, spoke_ids_query):
    """{spoke_id: entry} of the spokes the query selects (key, endpoint, fixed IPs)."""
    spoke_profiles = _profiles(session, spoke_ids_query)
    spoke_ips = _fixed_ips(session, spoke_ids_query)
    return {spoke_id: {
        'id': spoke_id,
        'public_key': profile.get(constants.PROFILE_PUBLIC_KEY),
        'endpoint': profile.get(constants.PROFILE_ENDPOINT),
        'fixed_ips': spoke_ips.get(spoke_id, []),
    } for spoke_id, profile in spoke_profiles.items()}


@db_api.CONTEXT_READER
def get_hub_details(context, host, hub_ids=None):
    """Plain dicts of the hubs bound to host, with their enabled spokes (docs/rpc.md, get_hubs
    1.3 and 1.4: every spoke, however many).

    A handful of queries whose size is the hubs of this host plus their spokes; spokes are selected
    through the peering table's hub_id index, never by listing ports.
    """
    session = context.session
    hubs = _hub_fields(session, host, hub_ids)
    if not hubs:
        return []
    ids = [hub['id'] for hub in hubs]
    Port = models_v2.Port
    # Spokes: through the hub_id index of the peering table; disabled spokes are left out.
    peering_q = (session.query(models.WireGuardPeering.hub_id,
                               models.WireGuardPeering.spoke_id).
                 join(Port, Port.id == models.WireGuardPeering.spoke_id).
                 filter(models.WireGuardPeering.hub_id.in_(ids),
                        Port.admin_state_up.is_(True)))
    peerings = {}
    for row in peering_q:
        peerings.setdefault(row.hub_id, []).append(row.spoke_id)
    spokes = _spoke_entries(session, peering_q.with_entities(
        models.WireGuardPeering.spoke_id))
    for hub in hubs:
        hub.pop('_revision')
        hub.pop('_history_start')
        hub['spokes'] = [spokes[spoke_id] for spoke_id in sorted(peerings.get(hub['id'], []))
                         if spoke_id in spokes]
    return hubs


@db_api.CONTEXT_READER
def get_hub_heads(context, host, hub_ids=None):
    """The hubs of host for get_hubs 1.6: entries without spokes, with 'revision', and the
    revision below which deltas cannot be computed ('_history_start', for the caller)."""
    hubs = _hub_fields(context.session, host, hub_ids)
    for hub in hubs:
        hub['revision'] = hub.pop('_revision')
    return hubs


@db_api.CONTEXT_READER
def get_hub_spokes(context, hub_id, marker=None, limit=None, since=None):
    """A page of a hub's spokes, ordered by ID, after `marker`: (entries, removed IDs, next marker).

    Without `since`: its enabled spokes. With `since` (a revision): only the spokes whose peering
    changed after it (a disabled one is reported removed), and, on the first page (no marker), the
    spokes removed after it. `next` is the last ID of a page that did not hold them all.
    """
    session = context.session
    Port = models_v2.Port
    query = (session.query(models.WireGuardPeering.spoke_id, Port.admin_state_up).
             join(Port, Port.id == models.WireGuardPeering.spoke_id).
             filter(models.WireGuardPeering.hub_id == hub_id))
    if since is not None:
        query = query.filter(models.WireGuardPeering.revision > since)
    else:
        query = query.filter(Port.admin_state_up.is_(True))
    if marker:
        query = query.filter(models.WireGuardPeering.spoke_id > marker)
    query = query.order_by(models.WireGuardPeering.spoke_id)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = query.all()
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    enabled = [row.spoke_id for row in rows if row.admin_state_up]
    removed = [row.spoke_id for row in rows if not row.admin_state_up]
    entries = _spoke_entries(session, enabled) if enabled else {}
    spokes = [entries[spoke_id] for spoke_id in enabled if spoke_id in entries]
    if since is not None and not marker:
        removed += [row.spoke_id for row in session.query(
            models.WireGuardPeerRemoval.spoke_id).filter(
            models.WireGuardPeerRemoval.hub_id == hub_id,
            models.WireGuardPeerRemoval.revision > since)]
    return spokes, sorted(set(removed)), rows[-1].spoke_id if more else None


@db_api.CONTEXT_READER
def count_removals(context, hub_id, since):
    return context.session.query(models.WireGuardPeerRemoval).filter(
        models.WireGuardPeerRemoval.hub_id == hub_id,
        models.WireGuardPeerRemoval.revision > since).count()


# Removals kept per hub: deltas reach back this many changes (agents hold a revision at most one
# deep-sync interval old: far fewer changes in practice). Pruned every PRUNE_EVERY revisions.
REVISION_HISTORY = 20000
PRUNE_EVERY = 512


@db_api.CONTEXT_WRITER
def record_spoke_change(context, spoke_id, hubs_before, hubs_now):
    """A spoke changed what some hubs' entries show (created, deleted, its key, endpoint, fixed IPs,
    admin state or peers): bump each of those hubs' revision, stamp the spoke's peering with it, and
    leave a removal where the spoke left a hub. Inside the port's transaction; the hub row's UPDATE
    locks it, so a hub's revisions follow the commit order of its changes.
    """
    session = context.session
    Hub = models.WireGuardPort.__table__
    Peering = models.WireGuardPeering.__table__
    Removal = models.WireGuardPeerRemoval.__table__
    now = set(hubs_now)
    for hub_id in sorted(set(hubs_before) | now):
        if not _bump_hub_revision(session, hub_id):
            continue  # not a hub (any more)
        revision = session.execute(sa.select(Hub.c.revision).where(
            Hub.c.port_id == hub_id)).scalar()
        if hub_id in now:
            session.execute(Peering.update().where(
                (Peering.c.hub_id == hub_id) & (Peering.c.spoke_id == spoke_id)).values(
                revision=revision))
            session.execute(Removal.delete().where(
                (Removal.c.hub_id == hub_id) & (Removal.c.spoke_id == spoke_id)))
        else:
            session.execute(Removal.delete().where(
                (Removal.c.hub_id == hub_id) & (Removal.c.spoke_id == spoke_id)))
            session.execute(Removal.insert().values(hub_id=hub_id, spoke_id=spoke_id,
                                                    revision=revision))
        if revision % PRUNE_EVERY == 0 and revision > REVISION_HISTORY:
            start = revision - REVISION_HISTORY
            session.execute(Removal.delete().where(
                (Removal.c.hub_id == hub_id) & (Removal.c.revision <= start)))
            session.execute(Hub.update().where(Hub.c.port_id == hub_id).values(
                history_start=start))


# --- plug ports of hubs attached to OVN routers (ml2/ovn.py, docs/ovn.md) ---

@db_api.CONTEXT_READER
def get_subnet_cidrs(context, subnet_ids):
    """{subnet_id: cidr}."""
    return _subnet_cidrs(context.session, subnet_ids)


@db_api.CONTEXT_READER
def get_ovn_plug_id(context, hub_id):
    row = context.session.query(models.WireGuardOvnPlug.port_id).filter_by(
        hub_id=hub_id).one_or_none()
    return row.port_id if row else None


@db_api.CONTEXT_READER
def get_ovn_plug_hub(context, port_id):
    """The hub whose plug port port_id is, or None."""
    row = context.session.query(models.WireGuardOvnPlug.hub_id).filter_by(
        port_id=port_id).one_or_none()
    return row.hub_id if row else None


@db_api.CONTEXT_WRITER
def add_ovn_plug(context, hub_id, port_id):
    """Raises DBDuplicateEntry when the hub has one already."""
    context.session.add(models.WireGuardOvnPlug(hub_id=hub_id, port_id=port_id))
    context.session.flush()


@db_api.CONTEXT_WRITER
def delete_ovn_plug(context, hub_id):
    context.session.query(models.WireGuardOvnPlug).filter_by(hub_id=hub_id).delete(
        synchronize_session=False)


@db_api.CONTEXT_READER
def get_router_ovn_plugs(context, router_id, subnet_id=None):
    """[(hub_id, plug port ID)] of the router's hubs with a plug (with an IP on subnet_id)."""
    query = (context.session.query(models.WireGuardOvnPlug.hub_id,
                                   models.WireGuardOvnPlug.port_id).
             join(l3_models.RouterPort,
                  l3_models.RouterPort.port_id == models.WireGuardOvnPlug.hub_id).
             filter(l3_models.RouterPort.router_id == router_id))
    if subnet_id is not None:
        query = query.filter(models.WireGuardOvnPlug.hub_id.in_(
            context.session.query(models_v2.IPAllocation.port_id).filter(
                models_v2.IPAllocation.subnet_id == subnet_id)))
    return sorted((row.hub_id, row.port_id) for row in query)


@db_api.CONTEXT_READER
def get_ovn_plug_state(context):
    """For the repair pass: ([(hub_id, router_id)] of router-attached hubs (with or without a
    plug), [(hub_id, plug_id)] of plugs whose hub is attached to no router)."""
    session = context.session
    attached = sorted((row.port_id, row.router_id) for row in session.query(
        l3_models.RouterPort.port_id, l3_models.RouterPort.router_id).join(
        models.WireGuardPort, models.WireGuardPort.port_id == l3_models.RouterPort.port_id).
        filter(models.WireGuardPort.role == constants.ROLE_HUB))
    loose = sorted((row.hub_id, row.port_id) for row in session.query(
        models.WireGuardOvnPlug.hub_id, models.WireGuardOvnPlug.port_id).filter(
        ~models.WireGuardOvnPlug.hub_id.in_(session.query(l3_models.RouterPort.port_id))))
    return attached, loose


@db_api.CONTEXT_READER
def get_routers_with_nexthops(context, addresses):
    """IDs of the routers with an extraroute via one of those addresses."""
    if not addresses:
        return []
    return sorted({row.router_id for row in context.session.query(
        l3_models.RouterRoute.router_id).filter(
        l3_models.RouterRoute.nexthop.in_(list(addresses)))})


def _bump_hub_revision(session, hub_id):
    """The hub's revision + 1; False if hub_id is not a hub (any more). A plain statement, not the
    ORM: the hub's Neutron port does not change."""
    Hub = models.WireGuardPort.__table__
    return session.execute(Hub.update().where(
        (Hub.c.port_id == hub_id) & (Hub.c.role == constants.ROLE_HUB)).values(
        revision=Hub.c.revision + 1)).rowcount > 0


@db_api.CONTEXT_WRITER
def bump_hub_revision(context, hub_id):
    """A change of the hub's own entry that 1.6 agents must not miss (its ovn_plug)."""
    _bump_hub_revision(context.session, hub_id)


# --- the agent's report of a hub's key and endpoint ---

@db_api.CONTEXT_WRITER
def set_hub_key_and_endpoint(context, port_id, public_key, endpoint):
    """Store them in the hub's row; returns True when something changed.

    Only this driver's table is written: the port's binding, vif details and status stay as they
    are (Ml2Plugin.update_port with a new binding:profile would unbind and rebind the port and
    reset it to DOWN). The port's revision_number is bumped (revises_on_change).
    """
    return update_port(context, port_id, public_key=public_key or None,
                       endpoint=endpoint or None)


# --- reads for the WireGuard API (services/plugin.py) ---

@db_api.CONTEXT_READER
def get_port_ids(context, role, project_id=None):
    """IDs of the hubs or spokes (of one project), ordered."""
    query = context.session.query(models.WireGuardPort.port_id).filter(
        models.WireGuardPort.role == role)
    if project_id is not None:
        query = query.join(models_v2.Port,
                           models_v2.Port.id == models.WireGuardPort.port_id
                           ).filter(models_v2.Port.project_id == project_id)
    return [row.port_id for row in query.order_by(models.WireGuardPort.port_id)]


@db_api.CONTEXT_READER
def get_rows(context, port_ids):
    """{port_id: WireGuardPort}."""
    if not port_ids:
        return {}
    return {row.port_id: row for row in context.session.query(
        models.WireGuardPort).filter(models.WireGuardPort.port_id.in_(port_ids))}


@db_api.CONTEXT_READER
def get_router_ids(context, port_ids):
    """{port_id: router_id} of those ports that add_router_interface attached."""
    if not port_ids:
        return {}
    return {row.port_id: row.router_id for row in context.session.query(
        l3_models.RouterPort.port_id, l3_models.RouterPort.router_id).filter(
        l3_models.RouterPort.port_id.in_(port_ids))}


@db_api.CONTEXT_READER
def get_hub_states(context, hub_ids):
    """{hub_id: {'status', 'vif_type', 'public_key', 'endpoint'}} of existing hubs."""
    if not hub_ids:
        return {}
    rows = (context.session.query(models_v2.Port.id, models_v2.Port.status,
                                  ml2_models.PortBinding.vif_type,
                                  models.WireGuardPort.public_key,
                                  models.WireGuardPort.endpoint).
            join(models.WireGuardPort,
                 models.WireGuardPort.port_id == models_v2.Port.id).
            join(ml2_models.PortBinding,
                 ml2_models.PortBinding.port_id == models_v2.Port.id).
            filter(models_v2.Port.id.in_(hub_ids),
                   models.WireGuardPort.role == constants.ROLE_HUB,
                   ml2_models.PortBinding.status == n_const.ACTIVE))
    return {row.id: {'status': row.status, 'vif_type': row.vif_type,
                     'public_key': row.public_key, 'endpoint': row.endpoint}
            for row in rows}


@db_api.CONTEXT_READER
def get_project_hubs(context, project_id):
    """[{'id', 'network_id', 'subnet_ids'}] of the project's hubs, ordered by ID."""
    session = context.session
    hubs = (session.query(models_v2.Port.id, models_v2.Port.network_id).
            join(models.WireGuardPort,
                 models.WireGuardPort.port_id == models_v2.Port.id).
            filter(models_v2.Port.project_id == project_id,
                   models.WireGuardPort.role == constants.ROLE_HUB).
            order_by(models_v2.Port.id).all())
    ips = _fixed_ips(session, [hub.id for hub in hubs]) if hubs else {}
    return [{'id': hub.id, 'network_id': hub.network_id,
             'subnet_ids': {ip['subnet_id'] for ip in ips.get(hub.id, [])}}
            for hub in hubs]


def _subnet_cidrs(session, subnet_ids):
    if not subnet_ids:
        return {}
    return {row.id: row.cidr for row in session.query(
        models_v2.Subnet.id, models_v2.Subnet.cidr).filter(
        models_v2.Subnet.id.in_(subnet_ids))}


def _routed_cidrs(session, router_id, hub_id):
    """CIDRs of the subnets on the router's other interfaces (not its gateway)."""
    port_ids = session.query(l3_models.RouterPort.port_id).filter(
        l3_models.RouterPort.router_id == router_id,
        l3_models.RouterPort.port_id != hub_id,
        l3_models.RouterPort.port_type != n_const.DEVICE_OWNER_ROUTER_GW)
    subnet_ids = {row.subnet_id for row in session.query(
        models_v2.IPAllocation.subnet_id).filter(
        models_v2.IPAllocation.port_id.in_(port_ids))}
    return sorted(_subnet_cidrs(session, subnet_ids).values())


@db_api.CONTEXT_READER
def get_spoke_config_details(context, spoke_id, hub_ids):
    """What a spoke's device configuration is made of (services/spoke_config.py).

    {'addresses': [(ip, cidr)], 'mtu', 'hubs': [{'id', 'name', 'status', 'vif_type',
    'public_key', 'endpoint', 'ips', 'cidrs', 'routed'}]}, the hubs in the order of hub_ids (those
    that exist).
    """
    session = context.session
    ips = _fixed_ips(session, [spoke_id] + list(hub_ids))
    spoke = session.query(models_v2.Port.network_id).filter_by(
        id=spoke_id).one()
    mtu = session.query(models_v2.Network.mtu).filter_by(
        id=spoke.network_id).scalar()
    cidrs = _subnet_cidrs(session, {ip['subnet_id'] for port_ips in ips.values()
                                    for ip in port_ips})
    states = get_hub_states(context, hub_ids)
    names = dict(session.query(models_v2.Port.id, models_v2.Port.name).filter(
        models_v2.Port.id.in_(hub_ids))) if hub_ids else {}
    routers = get_router_ids(context, hub_ids)
    hubs = []
    for hub_id in hub_ids:
        if hub_id not in states:
            continue
        hubs.append(dict(
            states[hub_id], id=hub_id, name=names.get(hub_id, ''),
            ips=[ip['ip_address'] for ip in ips.get(hub_id, [])],
            cidrs=sorted({cidrs[ip['subnet_id']] for ip in ips.get(hub_id, [])}),
            routed=(_routed_cidrs(session, routers[hub_id], hub_id)
                    if hub_id in routers else [])))
    return {'addresses': [(ip['ip_address'], cidrs[ip['subnet_id']])
                          for ip in ips.get(spoke_id, [])],
            'mtu': mtu, 'hubs': hubs}
