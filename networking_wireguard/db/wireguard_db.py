# Queries on the driver's tables. Writers run inside the ML2 transaction of the port operation
# (precommit); the agent-facing readers touch only the hubs of one host and their spokes.

from neutron.db import models_v2
from neutron.plugins.ml2 import models as ml2_models
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib.db import api as db_api
from neutron_lib import exceptions as n_exc
from oslo_serialization import jsonutils

from networking_wireguard import constants
from networking_wireguard.db import models


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
def add_port(context, port_id, role, host=None, public_key=None):
    context.session.add(models.WireGuardPort(
        port_id=port_id, role=role, host=host, public_key=public_key))


@db_api.CONTEXT_WRITER
def update_port(context, port_id, **values):
    """values: host and/or public_key."""
    (context.session.query(models.WireGuardPort).filter_by(port_id=port_id).
     update(values, synchronize_session=False))


@db_api.CONTEXT_WRITER
def delete_port(context, port_id):
    session = context.session
    session.query(models.WireGuardPeering).filter(
        (models.WireGuardPeering.spoke_id == port_id) |
        (models.WireGuardPeering.hub_id == port_id)).delete(
        synchronize_session=False)
    session.query(models.WireGuardPort).filter_by(port_id=port_id).delete(
        synchronize_session=False)


@db_api.CONTEXT_READER
def get_peers(context, spoke_id):
    rows = context.session.query(models.WireGuardPeering.hub_id).filter_by(
        spoke_id=spoke_id)
    return {row.hub_id for row in rows}


@db_api.CONTEXT_WRITER
def set_peers(context, spoke_id, hub_ids):
    """Make the peerings of spoke_id exactly hub_ids; returns the old set."""
    old = get_peers(context, spoke_id)
    new = set(hub_ids)
    if old - new:
        context.session.query(models.WireGuardPeering).filter(
            models.WireGuardPeering.spoke_id == spoke_id,
            models.WireGuardPeering.hub_id.in_(old - new)).delete(
            synchronize_session=False)
    for hub_id in sorted(new - old):
        context.session.add(models.WireGuardPeering(spoke_id=spoke_id,
                                                    hub_id=hub_id))
    return old


# --- reads for validation ---

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


def _router_id(port):
    # Zed's add_router_interface sets device_owner and device_id in the same update, before the
    # routerports row exists: device_id is the router as soon as the owner says so.
    if port.device_owner in constants.ROUTER_INTERFACE_OWNERS:
        return port.device_id or None
    return None


@db_api.CONTEXT_READER
def get_hub_details(context, host, hub_ids=None):
    """Plain dicts of the hubs bound to host, with their enabled spokes (docs/rpc.md, get_hubs).

    A handful of queries whose size is the hubs of this host plus their spokes; spokes are selected
    through the peering table's hub_id index, never by listing ports.
    """
    session = context.session
    hub_q = session.query(models.WireGuardPort.port_id).filter(
        models.WireGuardPort.host == host,
        models.WireGuardPort.role == constants.ROLE_HUB)
    if hub_ids is not None:
        hub_q = hub_q.filter(models.WireGuardPort.port_id.in_(hub_ids))
    Port = models_v2.Port
    hubs = session.query(Port.id, Port.project_id, Port.network_id,
                         Port.admin_state_up, Port.status, Port.device_owner,
                         Port.device_id).filter(Port.id.in_(hub_q)).order_by(
        Port.id).all()
    if not hubs:
        return []
    ids = [hub.id for hub in hubs]
    profiles = _profiles(session, ids)
    fixed_ips = _fixed_ips(session, ids)

    subnet_ids = {ip['subnet_id'] for ips in fixed_ips.values() for ip in ips}
    subnets = {row.id: row for row in session.query(
        models_v2.Subnet.id, models_v2.Subnet.cidr, models_v2.Subnet.gateway_ip,
        models_v2.Subnet.ip_version).filter(
        models_v2.Subnet.id.in_(subnet_ids))} if subnet_ids else {}
    mtus = {row.id: row.mtu for row in session.query(
        models_v2.Network.id, models_v2.Network.mtu).filter(
        models_v2.Network.id.in_({hub.network_id for hub in hubs}))}

    # Spokes: through the hub_id index of the peering table; disabled spokes are left out.
    peering_q = (session.query(models.WireGuardPeering.hub_id,
                               models.WireGuardPeering.spoke_id).
                 join(Port, Port.id == models.WireGuardPeering.spoke_id).
                 filter(models.WireGuardPeering.hub_id.in_(ids),
                        Port.admin_state_up.is_(True)))
    peerings = {}
    for row in peering_q:
        peerings.setdefault(row.hub_id, []).append(row.spoke_id)
    spoke_q = peering_q.with_entities(models.WireGuardPeering.spoke_id)
    spoke_profiles = _profiles(session, spoke_q)
    spoke_ips = _fixed_ips(session, spoke_q)

    result = []
    for hub in hubs:
        profile = profiles.get(hub.id, {})
        hub_ips = []
        for ip in fixed_ips.get(hub.id, []):
            subnet = subnets[ip['subnet_id']]
            hub_ips.append(dict(ip, cidr=subnet.cidr,
                                gateway_ip=subnet.gateway_ip,
                                ip_version=subnet.ip_version))
        spokes = []
        for spoke_id in sorted(peerings.get(hub.id, [])):
            spoke_profile = spoke_profiles.get(spoke_id, {})
            spokes.append({
                'id': spoke_id,
                'public_key': spoke_profile.get(constants.PROFILE_PUBLIC_KEY),
                'endpoint': spoke_profile.get(constants.PROFILE_ENDPOINT),
                'fixed_ips': spoke_ips.get(spoke_id, []),
            })
        result.append({
            'id': hub.id,
            'project_id': hub.project_id,
            'network_id': hub.network_id,
            'admin_state_up': hub.admin_state_up,
            'status': hub.status,
            'public_key': profile.get(constants.PROFILE_PUBLIC_KEY),
            'endpoint': profile.get(constants.PROFILE_ENDPOINT),
            'root_device': bool(profile.get(constants.PROFILE_ROOT_DEVICE,
                                            False)),
            'mtu': mtus.get(hub.network_id),
            'router_id': _router_id(hub),
            'fixed_ips': hub_ips,
            'spokes': spokes,
        })
    return result


# --- the agent's report of a hub's key and endpoint ---

@db_api.CONTEXT_WRITER
def set_hub_key_and_endpoint(context, port_id, public_key, endpoint):
    """Store them in the hub's binding:profile without rebinding the port.

    Returns True when something changed. Writing the binding row directly (instead of
    Ml2Plugin.update_port) keeps the binding and the port status as they are; the port's
    revision_number is still bumped (PortBinding revises its port).
    """
    binding = context.session.query(ml2_models.PortBinding).filter_by(
        port_id=port_id, status=n_const.ACTIVE).with_for_update().one_or_none()
    if binding is None:
        return False
    profile = jsonutils.loads(binding.profile) if binding.profile else {}
    wanted = dict(profile)
    for key, value in ((constants.PROFILE_PUBLIC_KEY, public_key),
                       (constants.PROFILE_ENDPOINT, endpoint)):
        if value:
            wanted[key] = value
        else:
            wanted.pop(key, None)
    if wanted == profile:
        return False
    binding.profile = jsonutils.dumps(wanted)
    if len(binding.profile) > ml2_models.BINDING_PROFILE_LEN:
        raise n_exc.InvalidInput(error_message='binding:profile value too large')
    update_port(context, port_id,
                public_key=wanted.get(constants.PROFILE_PUBLIC_KEY))
    return True
