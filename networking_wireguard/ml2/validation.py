# Validation of WireGuard hub and spoke ports. Every failure is an InvalidInput (HTTP 400, nothing
# stored) whose message starts with the field at fault, e.g. "binding:profile.peers: port ... is not
# a WireGuard hub"; a non-admin's root_device is a 403.
#
# check_port() needs only the port (syntax, the endpoint rules, who may set root_device): the
# driver runs it in PORT BEFORE_CREATE / BEFORE_UPDATE, before ML2's transaction, so that a bad
# request is refused without ML2 logging a mechanism driver failure, and again in precommit as part
# of validate_port(), which adds the checks that read other ports inside the transaction.

import contextlib
import functools
import uuid

from neutron_lib.api.definitions import portbindings
from neutron_lib import exceptions as n_exc
from oslo_config import cfg

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard import validators

PROFILE = portbindings.PROFILE


class InvalidInput(n_exc.InvalidInput):
    """Neutron's InvalidInput (HTTP 400, type InvalidInput) without its "Invalid input for
    operation:" prefix, so that the message starts with the field at fault."""
    message = '%(error_message)s'


class RootDeviceNotAllowed(n_exc.NotAuthorized):
    message = ('binding:profile.root_device: only an admin may set it; it puts '
               'the hub, its addresses and routes in the root namespace of '
               'the network node')


def _invalid(field, problem):
    return InvalidInput(error_message='%s: %s' % (field, problem))


def _profile_field(key):
    return '%s.%s' % (PROFILE, key)


def _is_port_id(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def profile_of(port):
    profile = port.get(PROFILE)
    return profile if isinstance(profile, dict) else {}


@functools.lru_cache(maxsize=8)
def _parse_denied(cidrs):
    return tuple(validators.parse_networks(cidrs))


def denied_networks():
    """[wireguard] denied_endpoint_cidrs, parsed (the driver checks them when it starts)."""
    return _parse_denied(tuple(cfg.CONF.wireguard.denied_endpoint_cidrs))


# The WireGuard API (services/plugin.py) and the hub scheduler create and update hub and spoke
# ports on behalf of users. What goes only into the driver's row, not into the port, travels with
# the request's context under this attribute: 'scheduled' (the scheduler chose the hub's host, or
# will: such a hub may be created without one and waits for an agent), 'availability_zone_hints'
# and a spoke's 'persistent_keepalive'. A port request alone can never set it.
PORT_VALUES = '_wireguard_port_values'


def port_values(context):
    return getattr(context, PORT_VALUES, None) or {}


@contextlib.contextmanager
def row_values(context, **values):
    """Values for the driver's row of the port created or updated inside this block."""
    setattr(context, PORT_VALUES, values)
    try:
        yield
    finally:
        delattr(context, PORT_VALUES)


def role_of_owner(device_owner):
    """The WireGuard role a device_owner names, or None; a mistyped WireGuard one is refused."""
    if not isinstance(device_owner, str):
        return None
    role = constants.ROLE_BY_DEVICE_OWNER.get(device_owner)
    if role is None and device_owner.lower().startswith(
            constants.DEVICE_OWNER_PREFIX):
        raise _invalid('device_owner', "'%s' is not a WireGuard device_owner; "
                       "use %s or %s" % (device_owner, constants.DEVICE_OWNER_HUB,
                                         constants.DEVICE_OWNER_SPOKE))
    return role


def check_owner_change(port_id, role, device_owner):
    """A port keeps its WireGuard role for its whole life.

    Its device_owner stays the role's, except a hub's, which add_router_interface sets to a router
    interface owner (and Zed sets back when an attachment fails). The router checks refuse what
    cannot be a router interface (spokes, HA and DVR routers, root_device hubs) with a 409.
    """
    owner_role = role_of_owner(device_owner)
    if owner_role == role or device_owner in constants.ROUTER_INTERFACE_OWNERS:
        return
    if owner_role is not None:
        raise _invalid('device_owner', 'port %s is a WireGuard %s and cannot '
                       'become a %s; create a new port' % (port_id, role,
                                                           owner_role))
    raise _invalid('device_owner', "port %s is a WireGuard %s; its device_owner "
                   "cannot become '%s' (delete the port instead)"
                   % (port_id, role, device_owner))


def check_port(context, port, role, is_new, original=None):
    """What can be checked on the port alone; see the module's comment.

    is_new: the port becomes a hub or spoke now (created, or a plain port given a WireGuard
    device_owner). An existing hub's public_key and endpoint are its agent's: not checked here (the
    driver refuses a request that changes them).
    """
    raw_profile = port.get(PROFILE)
    if raw_profile is not None and not isinstance(raw_profile, dict):
        raise _invalid(PROFILE, 'must be an object, not %s'
                       % type(raw_profile).__name__)
    profile = profile_of(port)
    allowed = (constants.HUB_PROFILE_KEYS if role == constants.ROLE_HUB
               else constants.SPOKE_PROFILE_KEYS)
    unknown = sorted(set(profile) - allowed)
    if unknown:
        raise _invalid(PROFILE, 'unknown key(s) %s for a WireGuard %s; allowed: '
                       '%s' % (', '.join(unknown), role, ', '.join(sorted(allowed))))
    if is_new or role == constants.ROLE_SPOKE:
        public_key = profile.get(constants.PROFILE_PUBLIC_KEY)
        if public_key is not None:
            error = validators.validate_public_key(public_key)
            if error:
                raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                               error)
        if constants.PROFILE_ENDPOINT in profile:
            _check_endpoint(context, profile[constants.PROFILE_ENDPOINT], role)
    if role == constants.ROLE_HUB:
        _check_hub(context, port, profile, is_new, original)
    else:
        _check_spoke(port, profile)


def _check_endpoint(context, endpoint, role):
    field = _profile_field(constants.PROFILE_ENDPOINT)
    host, _port, error = validators.parse_endpoint(endpoint)
    if error:
        raise _invalid(field, error)
    if role == constants.ROLE_SPOKE:
        # A spoke's endpoint is where a hub on a network node sends its packets: never that node
        # itself, its link or a network the operator keeps out of reach.
        error = validators.check_endpoint_host(
            host, denied_networks(), wg_db.get_node_addresses(context))
        if error:
            raise _invalid(field, error)


def _check_hub(context, port, profile, is_new, original):
    # A hub without a host only when the scheduler places it: created through the WireGuard API
    # (it waits for an agent), or such a hub that still waits.
    waiting = port_values(context).get('scheduled') or (
        not is_new and original is not None and
        not original.get(portbindings.HOST_ID))
    if not port.get(portbindings.HOST_ID) and not waiting:
        raise _invalid(portbindings.HOST_ID, 'a WireGuard hub needs the host of a '
                       'WireGuard agent (the host that will run its device)')
    root_device = profile.get(constants.PROFILE_ROOT_DEVICE, False)
    if not isinstance(root_device, bool):
        raise _invalid(_profile_field(constants.PROFILE_ROOT_DEVICE),
                       'must be true or false, not %r' % (root_device,))
    was = original is not None and profile_of(original).get(
        constants.PROFILE_ROOT_DEVICE) is True
    if root_device and not was and not context.is_admin:
        raise RootDeviceNotAllowed()


def _check_spoke(port, profile):
    if port.get(portbindings.HOST_ID):
        raise _invalid(portbindings.HOST_ID, 'a WireGuard spoke is a peer outside '
                       'Neutron and has no host; leave binding:host_id empty')
    if profile.get(constants.PROFILE_PUBLIC_KEY) is None:
        raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                       'required for a WireGuard spoke (the base64 public key '
                       'of the device)')
    field = _profile_field(constants.PROFILE_PEERS)
    peers = profile.get(constants.PROFILE_PEERS)
    if not isinstance(peers, list) or not peers:
        raise _invalid(field, 'must be a non-empty list of hub port IDs, not %r'
                       % (peers,))
    for peer in peers:
        if not _is_port_id(peer):
            raise _invalid(field, '%r is not a port ID' % (peer,))
    if len(set(peers)) != len(peers):
        raise _invalid(field, 'lists a hub more than once')


def check_hub_agent_values(port_id, original, profile):
    """An update of a hub may repeat its agent's key and endpoint, not change them.

    original: the port as the API shows it (with the agent's values); profile: the request's.
    """
    current = profile_of(original)
    for key in constants.HUB_AGENT_KEYS:
        if key in profile and profile[key] != current.get(key):
            raise _invalid(_profile_field(key), "hub %s: its agent reports it "
                           "(now %r); omit it or send the current value"
                           % (port_id, current.get(key)))


def validate_port(context, port, role, is_new, original=None):
    """Everything, in precommit: check_port() and the checks that read other ports."""
    check_port(context, port, role, is_new, original)
    if not port.get('fixed_ips'):
        raise _invalid('fixed_ips', 'a WireGuard %s needs at least one fixed IP '
                       '(create it on a network with a subnet)' % role)
    profile = profile_of(port)
    public_key = profile.get(constants.PROFILE_PUBLIC_KEY)
    if role == constants.ROLE_HUB:
        if is_new and public_key:
            _validate_hub_key(context, port, public_key)
    else:
        _validate_spoke(context, port, profile, public_key)


def _validate_hub_key(context, port, public_key):
    for spoke_id, spoke_key in sorted(wg_db.get_spoke_keys(
            context, port['id']).items()):
        if spoke_key == public_key:
            raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                           'equals the public key of spoke %s of this hub'
                           % spoke_id)


def _validate_spoke(context, port, profile, public_key):
    field = _profile_field(constants.PROFILE_PEERS)
    peers = profile[constants.PROFILE_PEERS]
    spoke_subnets = {ip['subnet_id'] for ip in port['fixed_ips']}
    hubs = wg_db.get_peer_candidates(context, peers)
    for peer in peers:
        hub = hubs.get(peer)
        if hub is None:
            raise _invalid(field, 'port %s does not exist' % peer)
        if hub['role'] != constants.ROLE_HUB:
            raise _invalid(field, 'port %s is not a WireGuard hub' % peer)
        if hub['project_id'] != port['project_id']:
            raise _invalid(field, 'hub %s belongs to another project' % peer)
        if not hub['subnet_ids'] & spoke_subnets:
            raise _invalid(field, 'hub %s has no fixed IP on a subnet where this '
                           'spoke has one' % peer)
        if hub['public_key'] == public_key:
            raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                           'equals the public key of hub %s' % peer)
    taken = wg_db.get_hubs_with_spoke_key(context, peers, public_key,
                                          port['id'])
    if taken:
        raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                       'another spoke of hub %s already uses this key'
                       % ', '.join(taken))
